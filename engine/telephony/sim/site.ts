import type { AgentState } from '../../acd/agent-state.js'
import { VirtualClock, type TimerHandle } from '../../clock.js'
import { AbandonLedger, HOUR_MS } from '../../pacing/abandon.js'
import { PacingEstimators, defaultEstimatorOptions } from '../../pacing/estimators.js'
import { callsToPlace, type AgentView, type CallView, type PacingPolicy, type PacingSnapshot } from '../../pacing/policy.js'
import { sample } from '../../random/distribution.js'
import { Rng } from '../../random/rng.js'
import { SimAgents } from './agents.js'
import { SimCarrier, type DialFate } from './carrier.js'
import { trueModel, type Scenario } from './scenario.js'

/**
 * The simulated site as a discrete-event simulation: a campaign loop (decide every `decisionIntervalS`, dial,
 * route answers FIFO to free agents, drop answers that wait past the threshold) over the simulated carrier,
 * customers and agents, under a Clock (a VirtualClock runs an 8-hour shift of 100 agents in seconds).
 * It feeds the same estimators and abandon ledger the live engine uses, and measures what the bench reports.
 */

interface SimAgent {
  id: string
  state: AgentState
  since: number
  /** Bridged call: kind and when it ends. */
  callKind?: 'human' | 'machine'
  callEndAt?: number
  amdSaidHuman?: boolean
  breakDueAt?: number
  readySince?: number
}

interface SimCall {
  id: string
  dialedAt: number
  phase: 'ringing' | 'amd' | 'waiting'
  answeredAt?: number
  queuedAt?: number
  fate: DialFate
  latencyMs?: number
  timers: TimerHandle[]
}

export interface ShiftMetrics {
  agents: number
  dials: number
  liveAnswers: number
  liveConnects: number
  drops: number
  amdFalsePositives: number
  /** live talk / (live talk + idle + agent time on machines) */
  utilization: number
  /** (live talk + machine time + wrap) / (that + idle) */
  occupancy: number
  abandonDay: number
  /** Worst calendar day when several days run. */
  abandonWorstDay: number
  abandon30Days: number
  ofcomDay: number
  worstHour: number
  liveConnectsPerAgentHour: number
  idleGapP95S: number
  customerWaitP99S: number
  dialsPerConnect: number
  peakLines: number
}

export interface SimulationOptions {
  scenario: Scenario
  seed: number
  policy: PacingPolicy
  /** Give the policy the true model and agents' exact remaining talk (the oracle). */
  clairvoyant?: boolean
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))
  return s[i]!
}

export class SimSite {
  readonly clock: VirtualClock
  readonly ledger: AbandonLedger
  readonly estimators: PacingEstimators
  private readonly sc: Scenario
  private readonly carrier: SimCarrier
  private readonly behaviour: SimAgents
  private readonly rngRouting: Rng
  private readonly agents: SimAgent[] = []
  private readonly calls = new Map<string, SimCall>()
  private readonly queue: SimCall[] = []
  private readonly recentDials: number[] = []
  private nextCallId = 1
  private shiftStart = 0
  private shiftEnd = 0
  private open = false
  // Metrics.
  private talkMs = 0
  private idleMs = 0
  private machineMs = 0
  private wrapMs = 0
  private idleGaps: number[] = []
  private waits: number[] = []
  private dials = 0
  private liveAnswers = 0
  private liveConnects = 0
  private drops = 0
  private fps = 0
  private peakLines = 0
  private agentHours = 0
  private dayRates: number[] = []
  private windows: { from: number; to: number }[] = []

  constructor(private readonly options: SimulationOptions) {
    this.sc = options.scenario
    const spec = this.sc.spec
    const rng = new Rng(options.seed)
    this.clock = new VirtualClock(0)
    this.carrier = new SimCarrier(this.sc, rng.fork('carrier'), 0)
    this.behaviour = new SimAgents(this.sc, rng.fork('agents'))
    this.rngRouting = rng.fork('routing')
    this.ledger = new AbandonLedger({ utcOffsetMinutes: spec.utcOffsetMinutes, minHourAnswers: 1 })
    this.estimators = new PacingEstimators({
      ...defaultEstimatorOptions,
      ringTimeoutS: spec.carrier.ringTimeoutS,
      dropAfterS: spec.abandon.dropAfterS,
      amdEnabled: spec.amd.enabled,
      amdFalsePositive: spec.amd.falsePositive,
    })
    for (let i = 0; i < spec.agents; i++) this.agents.push({ id: `agent-${i + 1}`, state: 'logged-out', since: 0 })
  }

  /** Run every day of the scenario and return the metrics. */
  run(): ShiftMetrics {
    const spec = this.sc.spec
    for (let d = 0; d < spec.days; d++) {
      const start = d * 86_400_000 + spec.startHour * HOUR_MS - spec.utcOffsetMinutes * 60_000
      this.clock.advanceTo(start)
      this.runShift(start, start + spec.shiftHours * HOUR_MS)
    }
    return this.metrics()
  }

  private runShift(start: number, end: number): void {
    const clock = this.clock
    this.shiftStart = start
    this.shiftEnd = end
    this.carrier.shiftStartMs = start
    this.open = true
    this.windows.push({ from: start, to: end })
    for (const a of this.agents) {
      a.state = 'ready'
      a.since = start
      a.readySince = start
      const b = this.behaviour.nextBreakInMs()
      a.breakDueAt = b === undefined ? undefined : start + b
      if (a.breakDueAt !== undefined) this.scheduleBreakCheck(a)
    }
    this.agentHours += (this.agents.length * (end - start)) / HOUR_MS
    const dayFrom = this.ledger.counts(0, start)
    const step = this.sc.spec.decisionIntervalS * 1000
    const tick = (): void => {
      if (clock.now() >= end) return
      this.decide()
      clock.setTimeout(tick, step)
    }
    clock.setTimeout(tick, 0)
    clock.advanceTo(end)
    // Close the books for the shift: account every agent's current state up to the end.
    this.open = false
    for (const a of this.agents) {
      this.account(a, end)
      a.since = end
    }
    // Let calls still up finish (their agents log out when done); nothing after `end` is counted.
    clock.runUntilIdle(end + 3 * HOUR_MS)
    for (const a of this.agents) {
      a.state = 'logged-out'
      a.since = clock.now()
    }
    const day = this.ledger.counts(0, end)
    const live = day.live - dayFrom.live
    this.dayRates.push(live > 0 ? (day.drops - dayFrom.drops) / live : 0)
  }

  private snapshot(): PacingSnapshot {
    const now = this.clock.now()
    const spec = this.sc.spec
    const clair = this.options.clairvoyant === true
    const agents: AgentView[] = this.agents.map((a) => {
      const v: AgentView = { id: a.id, state: a.state, sinceMs: a.since }
      if (clair && a.state === 'on-call' && a.callEndAt !== undefined) v.remainingTalkMs = Math.max(0, a.callEndAt - now)
      return v
    })
    const calls: CallView[] = []
    for (const c of this.calls.values()) {
      const v: CallView = { id: c.id, dialedAt: c.dialedAt, phase: c.phase }
      if (c.answeredAt !== undefined) v.answeredAt = c.answeredAt
      calls.push(v)
    }
    while (this.recentDials.length > 0 && this.recentDials[0]! <= now - 1000) this.recentDials.shift()
    return {
      now,
      agents,
      calls,
      linesInUse: this.linesInUse(),
      dialsLastSecond: this.recentDials.length,
      model: clair ? trueModel(this.sc, (now - this.shiftStart) / 1000) : this.estimators.model(),
      abandon: this.ledger.status(now),
      abandonCeiling: spec.abandon.ceiling,
      hourCeiling: spec.abandon.hourCeiling,
      caps: spec.caps,
    }
  }

  private linesInUse(): number {
    let n = this.calls.size
    for (const a of this.agents) if (a.state === 'on-call' || a.state === 'reserved') n++
    return n
  }

  private decide(): void {
    const n = callsToPlace(this.options.policy, this.snapshot())
    for (let i = 0; i < n; i++) this.dial()
    this.peakLines = Math.max(this.peakLines, this.linesInUse())
  }

  private dial(): void {
    const now = this.clock.now()
    const fate = this.carrier.dial(now)
    const call: SimCall = { id: `call-${this.nextCallId++}`, dialedAt: now, phase: 'ringing', fate, timers: [] }
    this.calls.set(call.id, call)
    this.recentDials.push(now)
    this.dials++
    call.timers.push(this.clock.setTimeout(() => this.onAnswerOrFail(call), fate.afterMs))
  }

  private onAnswerOrFail(call: SimCall): void {
    const now = this.clock.now()
    const f = call.fate
    const afterS = f.afterMs / 1000
    if (f.outcome === 'busy' || f.outcome === 'invalid' || f.outcome === 'no-answer') {
      this.calls.delete(call.id)
      this.estimators.onDialOutcome(now, f.outcome === 'no-answer' ? 'noAnswer' : f.outcome, afterS)
      return
    }
    call.answeredAt = now
    if (f.amd) {
      call.phase = 'amd'
      const amd = f.amd
      call.timers.push(
        this.clock.setTimeout(() => {
          const t = this.clock.now()
          this.estimators.onAmdDecision(t, amd.saysHuman, amd.delayMs / 1000)
          this.estimators.onDialOutcome(t, amd.saysHuman ? 'human' : 'machine', afterS)
          if (!amd.saysHuman) {
            // Hung up as a machine; a person among them is an AMD false positive.
            this.calls.delete(call.id)
            if (f.outcome === 'human') this.fps++
            return
          }
          this.enqueue(call)
        }, amd.delayMs),
      )
    } else {
      this.estimators.onDialOutcome(now, f.outcome, afterS)
      this.enqueue(call)
    }
  }

  private enqueue(call: SimCall): void {
    const now = this.clock.now()
    call.phase = 'waiting'
    call.queuedAt = now
    call.latencyMs = sample(this.sc.routingLatency, this.rngRouting) * 1000
    if (call.fate.outcome === 'human') this.liveAnswers++
    this.queue.push(call)
    const deadline = Math.max(0, this.sc.spec.abandon.dropAfterS * 1000 - call.latencyMs)
    call.timers.push(this.clock.setTimeout(() => this.abandon(call), deadline))
    if (call.fate.outcome === 'human' && call.fate.patienceMs !== undefined && call.fate.patienceMs < deadline) {
      call.timers.push(this.clock.setTimeout(() => this.abandon(call), call.fate.patienceMs))
    }
    this.route()
  }

  /** No agent in time (or the person hung up first): safe-harbor message, and an abandoned live call. */
  private abandon(call: SimCall): void {
    const i = this.queue.indexOf(call)
    if (i < 0) return
    this.queue.splice(i, 1)
    this.calls.delete(call.id)
    for (const t of call.timers) this.clock.clearTimeout(t)
    const now = this.clock.now()
    if (call.fate.outcome === 'human') {
      this.drops++
      this.waits.push((now - call.queuedAt!) / 1000 + (call.latencyMs ?? 0) / 1000)
      this.ledger.record(now, true)
    }
  }

  private route(): void {
    while (this.queue.length > 0) {
      let agent: SimAgent | undefined
      let best = Number.POSITIVE_INFINITY
      // Longest-idle agent first.
      for (const a of this.agents) if (a.state === 'ready' && a.since < best) ((best = a.since), (agent = a))
      if (!agent) return
      const call = this.queue.shift()!
      for (const t of call.timers) this.clock.clearTimeout(t)
      this.calls.delete(call.id)
      this.connect(agent, call)
    }
  }

  private connect(agent: SimAgent, call: SimCall): void {
    const now = this.clock.now()
    const kind = call.fate.outcome === 'human' ? 'human' : 'machine'
    if (agent.readySince !== undefined) this.idleGaps.push((now - agent.readySince) / 1000)
    agent.readySince = undefined
    this.setState(agent, 'reserved')
    const latency = call.latencyMs ?? 0
    if (kind === 'human') {
      this.liveConnects++
      this.waits.push((now - call.queuedAt! + latency) / 1000)
      this.ledger.record(now, false)
    }
    this.clock.setTimeout(() => {
      const dur = this.behaviour.callDurationMs(kind)
      agent.callKind = kind
      agent.amdSaidHuman = call.fate.amd?.saysHuman
      agent.callEndAt = this.clock.now() + dur
      this.setState(agent, 'on-call')
      this.clock.setTimeout(() => this.endCall(agent, dur), dur)
    }, latency)
  }

  private endCall(agent: SimAgent, durMs: number): void {
    const now = this.clock.now()
    const kind = agent.callKind ?? 'human'
    this.estimators.onTalkEnded(now, durMs / 1000, kind === 'machine')
    if (agent.amdSaidHuman !== undefined) this.estimators.onAgentVerdict(now, kind === 'machine')
    agent.callEndAt = undefined
    const wrap = this.behaviour.wrapUpMs(kind)
    this.setState(agent, 'wrap-up')
    this.clock.setTimeout(() => {
      if (wrap > 0) this.estimators.onWrapEnded(this.clock.now(), wrap / 1000)
      this.becomeFree(agent)
    }, wrap)
  }

  private becomeFree(agent: SimAgent): void {
    const now = this.clock.now()
    if (!this.open || now >= this.shiftEnd) {
      this.setState(agent, 'logged-out')
      return
    }
    if (agent.breakDueAt !== undefined && agent.breakDueAt <= now) {
      this.startBreak(agent)
      return
    }
    this.setState(agent, 'ready')
    agent.readySince = now
    this.route()
    if (agent.state === 'ready' && this.sc.spec.decideOnAgentFree) this.decide()
  }

  private scheduleBreakCheck(agent: SimAgent): void {
    const due = agent.breakDueAt!
    this.clock.setTimeout(() => {
      if (agent.breakDueAt !== due || !this.open) return
      if (agent.state === 'ready') this.startBreak(agent)
      // Otherwise the break starts when the agent next frees up (becomeFree).
    }, Math.max(0, due - this.clock.now()))
  }

  private startBreak(agent: SimAgent): void {
    agent.readySince = undefined
    this.setState(agent, 'paused')
    const dur = this.behaviour.breakDurationMs()
    this.clock.setTimeout(() => {
      const next = this.behaviour.nextBreakInMs()
      agent.breakDueAt = next === undefined ? undefined : this.clock.now() + dur + next
      if (!this.open || this.clock.now() >= this.shiftEnd) {
        this.setState(agent, 'logged-out')
        return
      }
      if (agent.breakDueAt !== undefined) this.scheduleBreakCheck(agent)
      this.setState(agent, 'ready')
      agent.readySince = this.clock.now()
      this.route()
    }, dur)
  }

  private setState(agent: SimAgent, state: AgentState): void {
    const now = this.clock.now()
    this.account(agent, now)
    agent.state = state
    agent.since = now
  }

  /** Add the time since `agent.since` (clipped to the shift) to the bucket of the agent's current state. */
  private account(agent: SimAgent, now: number): void {
    const from = Math.max(agent.since, this.shiftStart)
    const to = Math.min(now, this.shiftEnd)
    const ms = to - from
    if (ms <= 0) return
    switch (agent.state) {
      case 'ready':
      case 'reserved':
        this.idleMs += ms
        break
      case 'on-call':
        if (agent.callKind === 'machine') this.machineMs += ms
        else this.talkMs += ms
        break
      case 'wrap-up':
        this.wrapMs += ms
        break
      default:
        break
    }
  }

  metrics(): ShiftMetrics {
    const all = this.ledger.counts(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)
    let worstHour = 0
    for (const w of this.windows) worstHour = Math.max(worstHour, this.ledger.worstWindowRate(HOUR_MS, w.from, w.to, 1))
    const fp = this.sc.spec.amd.enabled ? this.sc.spec.amd.falsePositive : 0
    const fpEst = fp > 0 ? (fp / (1 - fp)) * all.live : 0
    const denomU = this.talkMs + this.idleMs + this.machineMs
    return {
      agents: this.agents.length,
      dials: this.dials,
      liveAnswers: this.liveAnswers,
      liveConnects: this.liveConnects,
      drops: this.drops,
      amdFalsePositives: this.fps,
      utilization: denomU > 0 ? this.talkMs / denomU : 0,
      occupancy: denomU + this.wrapMs > 0 ? (this.talkMs + this.machineMs + this.wrapMs) / (denomU + this.wrapMs) : 0,
      abandonDay: this.dayRates[this.dayRates.length - 1] ?? 0,
      abandonWorstDay: Math.max(0, ...this.dayRates),
      abandon30Days: all.live > 0 ? all.drops / all.live : 0,
      ofcomDay: all.live > 0 ? (all.drops + fpEst) / all.live : 0,
      worstHour,
      liveConnectsPerAgentHour: this.agentHours > 0 ? this.liveConnects / this.agentHours : 0,
      idleGapP95S: percentile(this.idleGaps, 0.95),
      customerWaitP99S: percentile(this.waits, 0.99),
      dialsPerConnect: this.liveConnects > 0 ? this.dials / this.liveConnects : 0,
      peakLines: this.peakLines,
    }
  }
}

/** Simulate the scenario once under `policy` with `seed`. */
export function simulate(options: SimulationOptions): ShiftMetrics {
  return new SimSite(options).run()
}

