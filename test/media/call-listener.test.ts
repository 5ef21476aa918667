/**
 * CallListener keeps template matching (the costly part of live analysis) to `maxAnnouncementScreens` calls at once:
 * beyond it a call is screened for SIT tones only, counted and logged; a slot comes back when its call's screen closes,
 * also when opening it failed; AMD's own screen after the answer is SIT-only and never takes a slot.
 */
import pino from 'pino'
import t from 'tap'
import { CallListener } from '../../engine/media/call-listener.js'
import { RtpSocket } from '../../engine/media/rtp-socket.js'
import { enrol } from '../../engine/media/template-matcher.js'
import { tone, concat, silence } from './signals.js'
import { framesOf } from '../../engine/media/frames.js'

// any template will do: only whether a screen gets templates is under test here
const speechy = concat(tone([300, 700, 1100], 600), silence(100), tone([500, 900], 600))
const templates = [enrol('announcement-empty-number', 't', framesOf(speechy))]

t.test('template matching is limited; a call over the limit hears SIT tones only; slots come back', async (t) => {
  const socket = new RtpSocket()
  await socket.bind()
  t.teardown(() => socket.close())
  const lines: string[] = []
  const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) })
  const listener = new CallListener({ socket, templates, maxAnnouncementScreens: 2, logger })
  const call = (n: number) => ({ callId: `c${n}`, campaignId: 'k', number: '+8613800000000', from: { host: '127.0.0.1', port: 30000 + n }, startedAt: 0 })
  const a = listener.screen(call(1), () => {})
  const b = listener.screen(call(2), () => {})
  t.equal(listener.announcementScreens, 2)
  const c = listener.screen(call(3), () => {})
  t.equal(listener.announcementScreens, 2, 'the third is not template-matched')
  t.equal(listener.announcementScreensSkipped, 1)
  t.equal(lines.length, 1, 'and the log says so')
  t.match(lines[0], /"callId":"c3"/)
  a.close()
  a.close()
  t.equal(listener.announcementScreens, 1, 'closing gives the slot back once')
  const d = listener.screen(call(4), () => {})
  t.equal(listener.announcementScreens, 2, 'the next call gets it')
  // a screen that takes a free slot and then cannot open (its source is taken) gives the slot back
  b.close()
  t.equal(listener.announcementScreens, 1)
  t.throws(() => listener.screen(call(4), () => {}), /already registered/)
  t.equal(listener.announcementScreens, 1, 'not lost')
  // AMD after the answer screens for SIT tones without a slot
  const amd = listener.amd(call(5), () => {}, () => {})
  t.equal(listener.announcementScreens, 1)
  for (const l of [c, d, amd]) l.close()
  t.equal(listener.announcementScreens, 0)
})
