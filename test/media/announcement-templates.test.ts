/**
 * A site's announcement recordings enrolled at start-up (engine/media/announcement-templates.ts): one folder per
 * reason, WAV or raw G.711; every bad file named; the templates found by the early-media screen in another recording
 * of the same announcement (held-out corpus: other noise, level and a ringback lead-in), and not in speech.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { AnnouncementTemplateError, loadAnnouncementTemplates } from '../../engine/media/announcement-templates.js'
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { framesOf } from '../../engine/media/frames.js'
import { pcmWav } from '../../workers/wav.js'
import { announcementsDir, carrierRecordings, spoken } from '../fixtures/announcements.js'
import { loadCorpus, readCorpusAudio, type CorpusItem } from '../fixtures/corpus.js'

const corpus = loadCorpus()

t.test('a directory of carrier recordings becomes templates labelled by their folder', async (t) => {
  const dir = announcementsDir(corpus, t)
  const templates = loadAnnouncementTemplates(dir)
  t.equal(templates.length, carrierRecordings(corpus).length, 'one template per recording, the WAV too')
  t.strictSame(new Set(templates.map((x) => x.label)), new Set(['announcement-empty-number', 'announcement-suspended', 'announcement-unreachable']))
  t.ok(templates.every((x) => x.name.startsWith(`${x.label}/`)), 'named by their file')

  // what a live call's screen does with them: another recording of 空号, after China's ringback, is found; a person is not
  const heard = (item: CorpusItem) => {
    const screen = new EarlyMediaScreen({ templates })
    const events = framesOf(readCorpusAudio(item)).flatMap((f) => screen.push(f))
    return [...events, ...screen.flush()].map((e) => e.reason)
  }
  const emptyNumber = corpus.find((c) => c.split === 'heldout' && c.file.startsWith('c') && c.label === 'announcement-empty-number' && c.lang === 'zh')!
  t.equal(heard(emptyNumber)[0], 'announcement-empty-number', `${emptyNumber.file}: ${emptyNumber.detail.slice(0, 60)}`)
  const person = corpus.find((c) => c.split === 'heldout' && c.label === 'human' && c.lang === 'zh')!
  t.strictSame(heard(person), [], 'nothing in a person answering')
})

t.test('every bad file or folder is named, and nothing is half-loaded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-announcements-bad-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const good = spoken(carrierRecordings(corpus).find((c) => c.label === 'announcement-suspended')!)
  mkdirSync(join(dir, 'announcement-suspended'))
  writeFileSync(join(dir, 'announcement-suspended', 'ok.ul'), good)
  writeFileSync(join(dir, 'announcement-suspended', 'notes.txt'), 'recorded 2026-11-20')
  writeFileSync(join(dir, 'announcement-suspended', 'short.ul'), good.subarray(0, 800))
  writeFileSync(join(dir, 'announcement-suspended', 'wideband.wav'), pcmWav({ sampleRate: 16000, channels: 1, samples: new Int16Array(16000) }))
  mkdirSync(join(dir, 'number-gone'))
  writeFileSync(join(dir, 'stray.ul'), good)
  const err = t.throws(() => loadAnnouncementTemplates(dir)) as AnnouncementTemplateError
  t.type(err, AnnouncementTemplateError)
  const all = err.problems.join('\n')
  t.match(all, /notes\.txt: expected a \.wav, \.ul \(raw µ-law\) or \.al \(raw A-law\) recording/)
  t.match(all, /short\.ul: template .*under 200 ms of speech/)
  t.match(all, /wideband\.wav: expected 8 kHz mono, got 16000 Hz/)
  t.match(all, /number-gone: unknown announcement reason "number-gone"/)
  t.match(all, /stray\.ul: expected a folder named for its reason/)
  t.notMatch(all, /ok\.ul/, 'the good recording is not blamed')
  t.equal(err.problems.length, 5)

  t.throws(() => loadAnnouncementTemplates(join(dir, 'missing')), /cannot read the directory \(ENOENT\)/)
  const empty = mkdtempSync(join(tmpdir(), 'cadence-announcements-empty-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  t.throws(() => loadAnnouncementTemplates(empty), /no recordings/)
})
