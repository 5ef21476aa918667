/**
 * One load step of bench:sip: `calls` calls placed at `rate` per second by one caller (a call is due every 1/rate s;
 * late ones go out at once, so a stalled event loop shows up as setup time, not as a lower rate), then every call
 * awaited (bounded). Reports outcomes, setup-time percentiles, peak concurrent answered calls and CPU per call.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { kindOf, type CallOutcome, type Caller } from './caller.js'
import { cpuSecondsOf } from './processes.js'

export interface StepResult {
  caller: string
  rate: number
  calls: number
  ok: number
  failed: number
  /** Calls with no outcome when the bound ran out. */
  unsettled: number
  /** The first few failures, for the report. */
  failures: string[]
  /** Calls actually placed per second (first to last placement). */
  placedRate: number
  setupP50Ms: number
  setupP99Ms: number
  peakLive: number
  /** CPU of the caller's process (ms per call), and of the drachtio double's and rtpengine's. */
  cpuMsPerCall: number
  doubleCpuMsPerCall: number
  rtpengineCpuMsPerCall: number
  /** p99 event-loop delay of the caller's process: how far behind its own timers and sockets it ran. */
  loopDelayP99Ms: number
  wallSeconds: number
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

let seq = 0

export async function runStep(opts: {
  caller: Caller
  rate: number
  calls: number
  doublePid: number
  rtpenginePid: number
  /** Every call to the long-hold answering carrier (the concurrency phase) instead of the usual mix. */
  long?: boolean
  /** How long to wait for the last outcomes after the last call was placed. */
  settleLimitMs: number
}): Promise<StepResult> {
  const { caller, rate, calls } = opts
  const outcomes: CallOutcome[] = []
  const running: Array<Promise<void>> = []
  let peakLive = 0
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const cpu0 = process.cpuUsage()
  const dcpu0 = cpuSecondsOf(opts.doublePid)
  const rcpu0 = cpuSecondsOf(opts.rtpenginePid)
  const t0 = performance.now()
  let firstPlaced = 0
  let lastPlaced = 0
  const watch = setInterval(() => (peakLive = Math.max(peakLive, opts.caller.live())), 20)
  for (let i = 0; i < calls; i++) {
    const due = t0 + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    const id = `bench-${process.pid}-${++seq}`
    if (i === 0) firstPlaced = performance.now()
    lastPlaced = performance.now()
    running.push(
      caller.place(id, opts.long ? 'answer' : kindOf(i), opts.long).then((o) => {
        outcomes.push(o)
      }),
    )
  }
  const settled = Promise.all(running)
  let limit: NodeJS.Timeout | undefined
  await Promise.race([settled, new Promise((r) => (limit = setTimeout(r, opts.settleLimitMs)))])
  clearTimeout(limit)
  clearInterval(watch)
  loop.disable()
  const wallSeconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const doubleCpu = cpuSecondsOf(opts.doublePid) - dcpu0
  const rtpengineCpu = cpuSecondsOf(opts.rtpenginePid) - rcpu0
  const setups = outcomes.filter((o) => o.setupMs !== undefined).map((o) => o.setupMs!).sort((a, b) => a - b)
  const bad = outcomes.filter((o) => !o.ok)
  return {
    caller: caller.name,
    rate,
    calls,
    ok: outcomes.length - bad.length,
    failed: bad.length,
    unsettled: calls - outcomes.length,
    failures: bad.slice(0, 5).map((o) => `${o.kind}: ${o.detail}`),
    placedRate: calls > 1 ? (calls - 1) / ((lastPlaced - firstPlaced) / 1000) : rate,
    setupP50Ms: percentile(setups, 50),
    setupP99Ms: percentile(setups, 99),
    peakLive,
    cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls,
    doubleCpuMsPerCall: (doubleCpu * 1000) / calls,
    rtpengineCpuMsPerCall: (rtpengineCpu * 1000) / calls,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    wallSeconds,
  }
}
