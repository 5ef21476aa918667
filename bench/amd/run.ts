/**
 * bench:amd: answering-machine detection and call-progress screening on the generated corpus (held-out split by
 * default), our detector (with the energy VAD and with the WebRTC VAD) beside the Asterisk AMD() baseline in the
 * same run. Prints a table; with --json only JSON.
 *
 *   npm run bench:amd [-- --json] [-- --split tune|heldout|all]
 *
 * Routing view, the one that matters to a dialer: a call is "sent to an agent" on human or timeout (Asterisk:
 * HUMAN or NOTSURE, as VICIdial does) and "treated as a machine" on machine, beep, end-of-greeting or no-speech.
 * accuracy = share routed the way the label says; human-as-machine = humans treated as machines (abandoned live
 * people); machine-as-human = machines sent to agents.
 */
import { pathToFileURL } from 'node:url'
import { AmdDetector, type AmdThresholds } from '../../engine/media/amd.js'
import { AsteriskAmd } from '../../engine/media/asterisk-amd.js'
import { framesOf } from '../../engine/media/frames.js'
import type { Vad } from '../../engine/media/vad.js'
import { EnergyVad } from '../../engine/media/vad.js'
import { WebRtcVad } from '../../engine/media/webrtc-vad.js'
import type { AmdOutcome } from '../../engine/telephony/port.js'
import { loadCorpus, readCorpusAudio, type CorpusItem } from '../../test/fixtures/corpus.js'
import { screenEarlyMedia } from './screening.js'

const args = process.argv.slice(2)
const json = args.includes('--json')
const splitArg = args[args.indexOf('--split') + 1]
const split = args.includes('--split') ? splitArg : 'heldout'

const AGENT: ReadonlySet<AmdOutcome> = new Set(['human', 'timeout'])

interface Verdict {
  item: CorpusItem
  outcome: AmdOutcome
  reason: string
  /** Stream ms of the first decision. */
  at: number
}

export interface AmdScore {
  detector: string
  n: number
  accuracy: number
  humanAsMachine: number
  machineAsHuman: number
  /** First decision, ms after answer. */
  decisionP50: number
  decisionP95: number
  /** Humans: first decision, ms after the greeting ended. */
  humanAfterGreetingP50: number
  humanAfterGreetingP95: number
  msPerCallSecond: number
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

function score(detector: string, verdicts: Verdict[], cpuMs: number, audioMs: number): AmdScore {
  const humans = verdicts.filter((v) => v.item.label === 'human')
  const machines = verdicts.filter((v) => v.item.label === 'machine')
  const hm = humans.filter((v) => !AGENT.has(v.outcome)).length
  const mh = machines.filter((v) => AGENT.has(v.outcome)).length
  return {
    detector,
    n: verdicts.length,
    accuracy: (verdicts.length - hm - mh) / verdicts.length,
    humanAsMachine: hm / humans.length,
    machineAsHuman: mh / machines.length,
    decisionP50: pct(verdicts.map((v) => v.at), 50),
    decisionP95: pct(verdicts.map((v) => v.at), 95),
    humanAfterGreetingP50: pct(humans.map((v) => v.at - (v.item.speechEndMs ?? 0)), 50),
    humanAfterGreetingP95: pct(humans.map((v) => v.at - (v.item.speechEndMs ?? 0)), 95),
    msPerCallSecond: cpuMs / (audioMs / 1000),
  }
}

type Runner = (frames: Int16Array[]) => Promise<{ outcome: AmdOutcome; reason: string; at: number }>

function ours(makeVad: () => Promise<Vad & { dispose?: () => void }>, thresholds?: Partial<AmdThresholds>): Runner {
  return async (frames) => {
    const vad = await makeVad()
    const amd = new AmdDetector({ vad, ...(thresholds ? { thresholds } : {}) })
    try {
      for (const f of frames) {
        const d = amd.push(f)[0]
        if (d) return { outcome: d.outcome, reason: d.reason, at: d.at }
      }
      return { outcome: 'timeout', reason: 'end of audio', at: frames.length * 20 }
    } finally {
      vad.dispose?.()
    }
  }
}

const asterisk: Runner = async (frames) => {
  const amd = new AsteriskAmd()
  for (const f of frames) {
    const r = amd.push(f)
    if (r) return { outcome: r.outcome, reason: r.cause, at: r.at }
  }
  return { outcome: 'timeout', reason: 'end of audio', at: frames.length * 20 }
}

export async function benchAmd(items: CorpusItem[]): Promise<{ scores: AmdScore[]; errors: Record<string, Verdict[]> }> {
  const amdItems = items.filter((i) => i.label === 'human' || i.label === 'machine')
  const audio = amdItems.map((i) => framesOf(readCorpusAudio(i)))
  const audioMs = audio.reduce((n, f) => n + f.length * 20, 0)
  const runners: Array<[string, Runner]> = [
    ['cadence (energy VAD)', ours(async () => new EnergyVad())],
    ['cadence (WebRTC VAD mode 3)', ours(() => WebRtcVad.create(3))],
    ['cadence (WebRTC VAD mode 1)', ours(() => WebRtcVad.create(1))],
    ['asterisk AMD() defaults', asterisk],
  ]
  const scores: AmdScore[] = []
  const errors: Record<string, Verdict[]> = {}
  for (const [name, run] of runners) {
    const verdicts: Verdict[] = []
    const t0 = process.cpuUsage()
    for (let i = 0; i < amdItems.length; i++) verdicts.push({ item: amdItems[i]!, ...(await run(audio[i]!)) })
    const cpu = process.cpuUsage(t0)
    scores.push(score(name, verdicts, (cpu.user + cpu.system) / 1000, audioMs))
    errors[name] = verdicts.filter((v) => (v.item.label === 'human') !== AGENT.has(v.outcome))
  }
  return { scores, errors }
}

async function main(): Promise<void> {
  const all = loadCorpus()
  const items = split === 'all' ? all : all.filter((i) => i.split === split)
  const { scores, errors } = await benchAmd(items)
  const screening = screenEarlyMedia(all, split === 'all' ? undefined : split)
  if (json) {
    process.stdout.write(JSON.stringify({ split, amd: scores, screening }, null, 2) + '\n')
    return
  }
  const f = (x: number) => (x * 100).toFixed(1) + '%'
  console.log(`AMD on the ${split} corpus (${scores[0]?.n} calls)\n`)
  console.table(
    scores.map((s) => ({
      detector: s.detector,
      accuracy: f(s.accuracy),
      'human→machine': f(s.humanAsMachine),
      'machine→human': f(s.machineAsHuman),
      'decision p50 ms': s.decisionP50,
      'p95 ms': s.decisionP95,
      'human after greeting p50 ms': s.humanAfterGreetingP50,
      p95: s.humanAfterGreetingP95,
      'cpu ms per call-s': s.msPerCallSecond.toFixed(2),
    })),
  )
  if (args.includes('--errors')) {
    for (const [name, errs] of Object.entries(errors)) {
      console.log(`\n${name}: ${errs.length} misrouted`)
      for (const e of errs.slice(0, 40)) console.log(`  ${e.item.file} ${e.item.label} → ${e.outcome} (${e.reason}) ${e.item.detail.slice(0, 90)}`)
    }
  }
  console.log(`\nEarly-media screening (SIT tones and carrier announcements)\n`)
  console.table(screening.table)
}

// Run only as a script: the tests import benchAmd from here.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
