/**
 * What live media analysis costs the engine's event loop (engine/media/call-listener.ts runs it beside SIP): µs per
 * 20 ms frame for AMD, the SIT-only screen and the screen with the corpus's announcement templates (tune split), over
 * held-out recordings, and the streams one core could carry at that cost. `npx tsx bench/amd/live-cost.ts`.
 */
import { AmdDetector } from '../../engine/media/amd.js'
import { EarlyMediaScreen } from '../../engine/media/early-media-screen.js'
import { framesOf } from '../../engine/media/frames.js'
import { loadCorpus, readCorpusAudio } from '../../test/fixtures/corpus.js'
import { enrolAnnouncements } from './screening.js'

const corpus = loadCorpus()
const templates = enrolAnnouncements(corpus)
const frames = corpus.filter((x) => x.split === 'heldout').slice(0, 120).flatMap((x) => framesOf(readCorpusAudio(x)))

function measure(name: string, make: () => { push(f: Int16Array): unknown }): void {
  // a fresh analyser every 10 s of audio, as calls come and go
  let d = make()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < frames.length; i++) {
    d.push(frames[i]!)
    if (i % 500 === 499) d = make()
  }
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / frames.length
  console.log(`${name.padEnd(40)} ${us.toFixed(1).padStart(7)} µs/frame  ${Math.floor(20_000 / us).toString().padStart(6)} streams per core`)
}

console.log(`${frames.length} frames of held-out audio`)
measure('AMD (energy VAD)', () => new AmdDetector())
measure('early-media screen, SIT only', () => new EarlyMediaScreen())
measure(`early-media screen, ${templates.length} templates`, () => new EarlyMediaScreen({ templates }))
