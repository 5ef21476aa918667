import t from 'tap'
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { framesOf } from '../../engine/media/frames.js'
import { enrol } from '../../engine/media/template-matcher.js'
import { say } from '../workers/speech.js'
import { concat, mix, noise, silence } from './signals.js'

// Two announcements with the same opening: the shorter one can match while the longer one is still playing.
const SUSPENDED = 'The number you have dialed has been suspended.'
const EMPTY = 'The number you have dialed does not exist. Please check the number and try again.'
const templates = [
  enrol('announcement-suspended', 'en-us+m1 suspended', framesOf(concat(silence(200), say('en-us+m1', SUSPENDED), silence(200)))),
  enrol('announcement-empty-number', 'en-us+m1 empty', framesOf(concat(silence(200), say('en-us+m1', EMPTY), silence(200)))),
]
const played = (() => {
  const s = concat(silence(500), say('en-us+m1', EMPTY), silence(4000))
  return mix(s, noise(s.length / 8, 60, 9))
})()

t.test('the announcement playing wins over a shorter one with the same opening, reported after the hold', async (t) => {
  const screen = new EarlyMediaScreen({ templates, startedAt: 10_000 })
  const events = framesOf(played).flatMap((f) => screen.push(f))
  t.equal(events.length, 1, JSON.stringify(events))
  t.equal(events[0]!.reason, 'announcement-empty-number')
  t.ok(events[0]!.at > 10_000, 'stream time from the start the shell gave')
})

t.test('a match still held when the stream ends is reported by flush()', async (t) => {
  const screen = new EarlyMediaScreen({ templates, holdMs: 60_000 })
  const during = framesOf(played).flatMap((f) => screen.push(f))
  t.same(during, [], 'nothing before the hold is over')
  const end = screen.flush()
  t.equal(end.length, 1)
  t.equal(end[0]!.reason, 'announcement-empty-number')
  t.same(screen.flush(), [], 'reported once')
})
