/**
 * bench:sip: the engine's drachtio adapter placing calls through the drachtio double (its own process) to sipp
 * carriers (answering, busy, failing with 503 then cranked back), media anchored on a real rtpengine, beside a bare
 * drachtio-srf client placing the same calls through the same server in the same run.
 *
 *   npm run bench:sip -- [--rates 50,100,200,300,400,500,600,800] [--seconds 4] [--hold-ms 1000]
 *                        [--concurrent 2000] [--concurrent-rate 100] [--agents 30] [--bridge-rate 20]
 *                        [--log info] [--log-file /dev/null] [--no-media] [--json]
 *
 * Steps of rising calls per second, bare client then engine at each rate; a caller stops at its first failed step
 * (its figure is the rate below it), the run when both have stopped. A rate is
 * sustained when every call got its scripted outcome (answered and hung up by the callee, or busy), none was left
 * unsettled, the setup time p99 stayed under 1 s, and the double held none of the step's dialogs afterwards. Then the engine holds --concurrent calls up at once, and the
 * run ends by checking what was left behind: the adapter's calls, the anchor's offers, trunk channels in Redis,
 * rtpengine's own session list and the double's dialogs. Targets (issue 5): engine >= 80% of the bare client's
 * calls per second; 2,000 concurrent calls without an error; nothing left behind; answer-to-agent p99 <= 300 ms.
 * Answer-to-agent: --agents nailed-up sessions to a sipp phone, then calls at --bridge-rate with every answered call
 * bridged to a free agent (DrachtioTelephony.bridge: the customer joined to the session through rtpengine); the time
 * from the answered event to bridge() resolving is the telephony share of the 2-second rule (the ACD's choice of agent
 * is not in it). --no-media gives the engine a static SDP instead of rtpengine, to see what anchoring costs (no
 * bridging then).
 */
import { startBareCaller } from './bare-caller.js'
import type { Caller, Carriers } from './caller.js'
import { startEngineCaller } from './engine-caller.js'
import { percentile, runStep, type StepResult } from './load.js'
import { startCarrier, startDouble, startRtpengine, type Carrier } from './processes.js'

const args = process.argv.slice(2)
function opt(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback
}
function num(name: string, fallback: number, min = 0): number {
  const v = Number(opt(name, String(fallback)))
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} expects a number >= ${min}`)
  return v
}
const rates = opt('rates', '50,100,200,300,400,500,600,800').split(',').map(Number)
if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('--rates expects positive numbers, e.g. 50,100,200')
const seconds = num('seconds', 4, 1)
const holdMs = num('hold-ms', 1000, 0)
const concurrent = num('concurrent', 2000, 0)
const concurrentRate = num('concurrent-rate', 100, 1)
const logLevel = opt('log', 'info')
const logFile = opt('log-file', '/dev/null')
const json = args.includes('--json')
const anchorMedia = !args.includes('--no-media')
const agents = num('agents', 30, 0)
const bridgeRate = num('bridge-rate', 20, 1)
const SETUP_P99_LIMIT_MS = 1000

const say = (line: string): void => {
  if (!json) process.stderr.write(`${line}\n`)
}

type Step = StepResult & { dialogsLeft?: number }

/** Dialogs the double still holds, after giving BYEs in flight up to 5 s to bring them down to `floor`. */
async function dialogsAfter(double: { dialogs(): Promise<number> }, floor: number): Promise<number> {
  let n = await double.dialogs()
  for (let i = 0; i < 25 && n > floor; i++) {
    await new Promise((r) => setTimeout(r, 200))
    n = await double.dialogs()
  }
  return n
}

const sustained = (r: StepResult): boolean => r.failed === 0 && r.unsettled === 0 && r.setupP99Ms <= SETUP_P99_LIMIT_MS

async function main(): Promise<void> {
  // stdout carries the report only: rtpengine-client console.logs replies that arrive after their timeout
  console.log = (...a: unknown[]) => console.error(...a)
  const secret = `bench-${process.pid}`
  const started: Array<{ stop(): Promise<void> }> = []
  const callers: Caller[] = []
  try {
    const double = await startDouble(secret)
    started.push(double)
    // ~4 ports per anchored call (RTP+RTCP on both sides): room for the concurrency phase and then some
    const rtpe = await startRtpengine(20000, 35999)
    started.push(rtpe)
    const longHoldMs = Math.ceil((concurrent / concurrentRate) * 1000) + 5000
    const carrier = async (file: string, fill: Record<string, string>): Promise<Carrier> => {
      const c = await startCarrier(file, fill)
      started.push(c)
      return c
    }
    const ringing = `<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`
    const carriers: Carriers = {
      answer: (await carrier('answer-hold-bye.xml', { hold: String(holdMs) })).address,
      answerLong: (await carrier('answer-hold-bye.xml', { hold: String(longHoldMs) })).address,
      busy: (await carrier('ring-reject.xml', { ringing, status: '486', reason: 'Busy Here' })).address,
      failing: (await carrier('ring-reject.xml', { ringing: '', status: '503', reason: 'Service Unavailable' })).address,
    }
    const drachtio = { host: double.host, port: double.adminPort, secret }
    const bare = await startBareCaller({ drachtio, carriers })
    callers.push(bare)
    const engine = await startEngineCaller({
      drachtio,
      rtpengine: { host: rtpe.host, port: rtpe.ngPort },
      carriers,
      redisPrefix: `cadence-bench-sip-${process.pid}`,
      logLevel,
      logFile,
      anchorMedia,
    })
    callers.push(engine)
    const settleLimitMs = holdMs + 40_000

    say(`bench:sip: warming up (100 calls each at 50/s)`)
    for (const c of [bare, engine]) await runStep({ caller: c, rate: 50, calls: 100, doublePid: double.pid, rtpenginePid: rtpe.pid, settleLimitMs })

    const steps: Step[] = []
    // the highest rate each caller sustained with every lower rate sustained too; a caller that failed a step stops
    const best: Record<string, number> = { bare: 0, engine: 0 }
    const stopped: Record<string, boolean> = { bare: false, engine: false }
    for (const rate of rates) {
      const calls = Math.round(rate * seconds)
      for (const [key, c] of [['bare', bare], ['engine', engine]] as const) {
        if (stopped[key]) continue
        say(`bench:sip: ${c.name} at ${rate} calls/s (${calls} calls)`)
        const before = await double.dialogs()
        const r = await runStep({ caller: c, rate, calls, doublePid: double.pid, rtpenginePid: rtpe.pid, settleLimitMs })
        // dialogs the double gained over the step and still holds once the calls settled are this caller's leftovers
        const dialogsLeft = Math.max(0, (await dialogsAfter(double, before)) - before)
        steps.push({ ...r, dialogsLeft })
        if (sustained(r) && dialogsLeft === 0) best[key] = rate
        else stopped[key] = true
      }
      if (stopped.bare && stopped.engine) break
    }

    let concurrency: Step | undefined
    if (concurrent > 0) {
      const before = await double.dialogs()
      say(`bench:sip: engine holding ${concurrent} calls (${concurrentRate}/s, each up ${longHoldMs} ms)`)
      concurrency = await runStep({
        caller: engine,
        rate: concurrentRate,
        calls: concurrent,
        doublePid: double.pid, rtpenginePid: rtpe.pid,
        long: true,
        settleLimitMs: longHoldMs + 40_000,
      })
      concurrency = { ...concurrency, dialogsLeft: Math.max(0, (await dialogsAfter(double, before)) - before) }
    }

    let answerToAgent: { measured: true; agents: number; loggedIn: number; bridged: number; p50Ms: number; p99Ms: number; failed: string[]; noAgent: number; refusedFirst: number; step: StepResult } | { measured: false; note: string }
    if (agents > 0 && anchorMedia) {
      const phone = await carrier('phone-answer-wait-bye.xml', {})
      say(`bench:sip: logging ${agents} agents in (nailed-up sessions to a sipp phone)`)
      const loggedIn = await engine.loginAgents(agents, phone.address)
      engine.setBridging(true)
      say(`bench:sip: engine at ${bridgeRate} calls/s, answered calls bridged to agents`)
      const step = await runStep({ caller: engine, rate: bridgeRate, calls: Math.round(bridgeRate * seconds * 2), doublePid: double.pid, rtpenginePid: rtpe.pid, settleLimitMs })
      engine.setBridging(false)
      const stats = engine.takeBridgeStats()
      const sorted = [...stats.latenciesMs].sort((a, b) => a - b)
      answerToAgent = { measured: true, agents, loggedIn, bridged: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), failed: stats.failed.slice(0, 5), noAgent: stats.noAgent, refusedFirst: stats.refusedFirst, step }
      await engine.logoutAgents()
    } else {
      answerToAgent = { measured: false, note: anchorMedia ? 'skipped (--agents 0)' : 'needs rtpengine (not with --no-media)' }
    }

    // what was left behind: give deletes and BYEs in flight a bounded moment
    let left = await engine.leftovers()
    let sessions = await engine.rtpengineSessions()
    let dialogs = await double.dialogs()
    for (let i = 0; i < 50 && (left.calls + left.anchored + left.channels + sessions + dialogs > 0); i++) {
      await new Promise((r) => setTimeout(r, 200))
      left = await engine.leftovers()
      sessions = await engine.rtpengineSessions()
      dialogs = await double.dialogs()
    }

    const dialogsOf = (name: string): number =>
      [...steps, ...(concurrency ? [concurrency] : [])].filter((s) => s.caller === name).reduce((n, s) => n + (s.dialogsLeft ?? 0), 0)
    const engineDialogs = dialogsOf(engine.name)
    const bareDialogs = dialogsOf(bare.name)
    const lowest = (name: string): StepResult | undefined => steps.find((s) => s.caller === name && s.rate === rates[0])
    const bareLow = lowest(bare.name)
    const engineLow = lowest(engine.name)
    // CPU per call where both ran loaded but sustained (at the lowest rate idle timers weigh in)
    const commonRate = Math.min(best.bare!, best.engine!) || rates[0]!
    const at = (name: string): StepResult | undefined => steps.find((s) => s.caller === name && s.rate === commonRate)
    const engineAt = at(engine.name)
    const bareAt = at(bare.name)
    const ratio = best.bare! > 0 ? best.engine! / best.bare! : NaN
    const topRate = rates[rates.length - 1]!
    const summary = {
      maxSustainedCps: { engine: best.engine, bare: best.bare, ratio, target: 0.8, meetsTarget: ratio >= 0.8 },
      ratioIsLowerBound: best.bare === topRate && best.engine === topRate,
      setupAddedMs:
        bareLow && engineLow
          ? { atRate: rates[0], p50: engineLow.setupP50Ms - bareLow.setupP50Ms, p99: engineLow.setupP99Ms - bareLow.setupP99Ms }
          : undefined,
      cpuMsPerCall: engineAt && bareAt ? { atRate: commonRate, engine: engineAt.cpuMsPerCall, bare: bareAt.cpuMsPerCall } : undefined,
      concurrency: concurrency
        ? {
            calls: concurrency.calls,
            peakConcurrent: concurrency.peakLive,
            failed: concurrency.failed,
            unsettled: concurrency.unsettled,
            failures: concurrency.failures,
            setupP99Ms: concurrency.setupP99Ms,
            meetsTarget: concurrency.peakLive >= 2000 && concurrency.failed === 0 && concurrency.unsettled === 0,
          }
        : undefined,
      answerToAgent,
      leftovers: {
        adapterCalls: left.calls,
        anchorOffers: left.anchored,
        trunkChannels: left.channels,
        rtpengineSessions: sessions,
        engineDialogs,
        bareDialogs,
        doubleDialogsAtEnd: dialogs,
      },
      zeroLeftovers: left.calls + left.anchored + left.channels + sessions + engineDialogs === 0,
    }
    if (json) {
      process.stdout.write(`${JSON.stringify({ options: { rates, seconds, holdMs, concurrent, concurrentRate, agents, bridgeRate, logLevel, anchorMedia }, steps, concurrency, summary }, null, 2)}\n`)
    } else {
      printTable(steps, [
        ...(concurrency ? [{ label: 'concurrency', step: concurrency }] : []),
        ...(answerToAgent.measured ? [{ label: 'bridging', step: answerToAgent.step }] : []),
      ])
      const f = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(d))
      const lines = [
        '',
        `max sustained calls/s: engine ${best.engine}, bare drachtio-srf ${best.bare} -> ${f(ratio * 100, 0)}% (target >= 80%)${summary.ratioIsLowerBound ? ' [both sustained the highest rate tried: raise --rates]' : ''}`,
        `setup time the engine adds at ${rates[0]}/s: p50 ${f(summary.setupAddedMs?.p50)} ms, p99 ${f(summary.setupAddedMs?.p99)} ms (Redis caps step + rtpengine offer + the adapter)`,
        `CPU per call at ${commonRate}/s: engine ${f(summary.cpuMsPerCall?.engine, 2)} ms, bare client ${f(summary.cpuMsPerCall?.bare, 2)} ms (caller process only; the double's is in its column)`,
        concurrency
          ? `concurrency: ${concurrency.peakLive} calls up at once, ${concurrency.failed} failed, ${concurrency.unsettled} unsettled (target 2,000 without error)${concurrency.failures.length ? `: ${concurrency.failures.join('; ')}` : ''}`
          : 'concurrency: skipped (--concurrent 0)',
        answerToAgent.measured
          ? `answer-to-agent (answered event -> bridge() resolved, rtpengine join; ACD choice not included): p50 ${f(answerToAgent.p50Ms)} ms, p99 ${f(answerToAgent.p99Ms)} ms over ${answerToAgent.bridged} bridges at ${bridgeRate}/s, ${answerToAgent.loggedIn}/${answerToAgent.agents} agents up, ${answerToAgent.failed.length} failed${answerToAgent.failed.length ? ` (${answerToAgent.failed.join('; ')})` : ''}, ${answerToAgent.noAgent} found no free agent; ${answerToAgent.refusedFirst} refused at first (answered before rtpengine had the answer) and retried every 2 ms (target p99 <= 300 ms)`
          : `answer-to-agent: ${answerToAgent.note}`,
        `left behind by the engine: ${left.calls} adapter calls, ${left.anchored} anchor offers, ${left.channels} trunk channels, ${sessions} rtpengine sessions (its own list), ${engineDialogs} dialogs in the double (target: all 0)`,
        `left behind by the bare client: ${bareDialogs} dialogs in the double; the double holds ${dialogs} at the end`,
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
  } finally {
    for (const c of callers.reverse()) await c.close().catch(() => undefined)
    for (const s of started.reverse()) await s.stop().catch(() => undefined)
  }
}

function printTable(steps: Step[], extra: Array<{ label: string; step: Step }>): void {
  const all = [...steps.map((step) => ({ label: '', step })), ...extra]
  const rows = all.map(({ label, step: r }) => ({
    caller: label ? `${r.caller} (${label})` : r.caller,
    'calls/s': String(r.rate),
    placed: r.placedRate.toFixed(0),
    calls: String(r.calls),
    ok: String(r.ok),
    failed: String(r.failed + r.unsettled),
    'setup p50': `${r.setupP50Ms.toFixed(1)} ms`,
    'setup p99': `${r.setupP99Ms.toFixed(1)} ms`,
    'peak up': String(r.peakLive),
    'cpu/call': `${r.cpuMsPerCall.toFixed(2)} ms`,
    'double cpu/call': `${r.doubleCpuMsPerCall.toFixed(2)} ms`,
    'rtpengine cpu/call': `${r.rtpengineCpuMsPerCall.toFixed(2)} ms`,
    'loop delay p99': `${r.loopDelayP99Ms.toFixed(0)} ms`,
    'dialogs left': String(r.dialogsLeft ?? '-'),
    sustained: label ? '-' : sustained(r) && r.dialogsLeft === 0 ? 'yes' : 'no',
  }))
  const cols = Object.keys(rows[0] ?? {}) as Array<keyof (typeof rows)[number]>
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  process.stdout.write(`bench:sip, ${seconds} s per step, callee hangs up after ${holdMs} ms; 8/10 answered, 1/10 busy, 1/10 503 then cranked back\n`)
  process.stdout.write(`${line(cols)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`)
  for (const r of rows) process.stdout.write(`${line(cols.map((c) => r[c]))}\n`)
  const failing = all.map((a) => a.step).filter((r) => r.failures.length > 0)
  for (const r of failing) process.stdout.write(`  ${r.caller} at ${r.rate}/s, first failures: ${r.failures.join('; ')}\n`)
  process.stdout.write(`sustained = every call got its scripted outcome, setup p99 <= ${SETUP_P99_LIMIT_MS} ms, and the double held no dialog of the step afterwards\n`)
}

await main()
