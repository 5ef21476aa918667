/**
 * A site's carrier announcements, enrolled at start-up for the early-media screen: a directory with one folder per
 * announcement reason, each holding that carrier's recordings of it (the wording varies by carrier and language, so
 * enrol each carrier's own, in several voices where it has them):
 *
 *   announcements/announcement-empty-number/chinamobile-zh.wav
 *   announcements/announcement-suspended/chinaunicom-zh.ul
 *   announcements/announcement-unreachable/...
 *
 * Files: WAV (8 kHz mono, 16-bit PCM, µ-law or A-law), or raw 8 kHz G.711 as `.ul` (µ-law) / `.al` (A-law). Only the
 * spoken part is enrolled (silence at the ends would match any silence). Every problem is named by its file, and one
 * bad file stops start-up: a site that thinks it screens announcements must not run without them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { parseWav } from '../../workers/wav.js'
import { framesOf } from './frames.js'
import { decodeG711 } from './g711.js'
import { InvalidNumberReasons } from './invalid-number.js'
import { enrol, type Template } from './template-matcher.js'

const ANNOUNCEMENT_REASONS = InvalidNumberReasons.filter((r) => r.startsWith('announcement-'))

export class AnnouncementTemplateError extends Error {
  override name = 'AnnouncementTemplateError'
  constructor(readonly problems: readonly string[]) {
    super(`announcement templates not loaded:\n  ${problems.join('\n  ')}`)
  }
}

export function loadAnnouncementTemplates(dir: string): Template[] {
  const problems: string[] = []
  const templates: Template[] = []
  let entries: string[]
  try {
    entries = readdirSync(dir).sort()
  } catch (err) {
    throw new AnnouncementTemplateError([`${dir}: cannot read the directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`])
  }
  for (const reason of entries) {
    const folder = join(dir, reason)
    if (!statSync(folder).isDirectory()) {
      problems.push(`${folder}: expected a folder named for its reason (${ANNOUNCEMENT_REASONS.join(', ')})`)
      continue
    }
    if (!(ANNOUNCEMENT_REASONS as readonly string[]).includes(reason)) {
      problems.push(`${folder}: unknown announcement reason ${JSON.stringify(reason)}; expected one of ${ANNOUNCEMENT_REASONS.join(', ')}`)
      continue
    }
    for (const file of readdirSync(folder).sort()) {
      const path = join(folder, file)
      try {
        templates.push(enrol(reason, `${reason}/${file}`, framesOf(readAudio(path))))
      } catch (err) {
        problems.push(`${path}: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
  if (problems.length > 0) throw new AnnouncementTemplateError(problems)
  if (templates.length === 0) throw new AnnouncementTemplateError([`${dir}: no recordings (one folder per reason: ${ANNOUNCEMENT_REASONS.join(', ')})`])
  return templates
}

function readAudio(path: string): Int16Array {
  const bytes = new Uint8Array(readFileSync(path))
  switch (extname(path).toLowerCase()) {
    case '.ul':
      return decodeG711(bytes, 'mulaw')
    case '.al':
      return decodeG711(bytes, 'alaw')
    case '.wav': {
      const wav = parseWav(bytes)
      if (wav.sampleRate !== 8000 || wav.channels !== 1) throw new Error(`expected 8 kHz mono, got ${wav.sampleRate} Hz with ${wav.channels} channels`)
      return wav.samples
    }
    default:
      throw new Error('expected a .wav, .ul (raw µ-law) or .al (raw A-law) recording')
  }
}
