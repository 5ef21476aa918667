/**
 * The campaign loop's Pacer over engine/pacing: it keeps the estimators and the abandon ledger fed from call
 * events, builds the policy's snapshot each tick, and asks the policy through callsToPlace() so the caps always
 * apply. The same policies run in the simulator and the bench.
 */
import type { AgentView, CallView, PacingCaps, PacingPolicy, PacingSnapshot } from '../pacing/policy.js'
import { callsToPlace } from '../pacing/policy.js'
import { PacingEstimators, type DialOutcome } from '../pacing/estimators.js'
import { AbandonLedger, fccRate } from '../pacing/abandon.js'
import type { AbandonStatus } from '../pacing/abandon.js'
import type { Pacer, PacingInput, PacingObservation } from './dialer.js'

export interface PolicyPacerOptions {
  policy: PacingPolicy
  estimators: PacingEstimators
  ledger: AbandonLedger
  caps: PacingCaps
  abandonCeiling: number
  hourCeiling: number
}

const FAILURE_OUTCOME: Record<string, DialOutcome | undefined> = {
  busy: 'busy',
  'invalid-number': 'invalid',
  'no-answer': 'noAnswer',
  rejected: 'noAnswer',
}

export class PolicyPacer implements Pacer {
  private readonly answeredAt = new Map<string, { at: number; ringS: number }>()
  private dialTimes: number[] = []
  private lastLedgerAt = Number.NEGATIVE_INFINITY
  private lastRatio = 0

  constructor(private readonly o: PolicyPacerOptions) {}

  get policyName(): string {
    return this.o.policy.name
  }

  abandonStatus(now: number): AbandonStatus {
    return this.o.ledger.status(now)
  }

  decide(input: PacingInput): number {
    const now = input.now
    this.dialTimes = this.dialTimes.filter((t) => now - t < 1000)
    const agents: AgentView[] = input.agents.map((a) => ({ id: a.agentId, state: a.state, sinceMs: a.since }))
    const calls: CallView[] = []
    for (const c of input.calls) {
      if (c.state === 'dialing' || c.state === 'ringing') calls.push({ id: c.callId, dialedAt: c.dialedAt, phase: 'ringing' })
      else if (c.state === 'answered') calls.push({ id: c.callId, dialedAt: c.dialedAt, phase: 'amd', answeredAt: c.answeredAt })
      else if (c.state === 'waiting-agent') calls.push({ id: c.callId, dialedAt: c.dialedAt, phase: 'waiting', answeredAt: c.answeredAt })
    }
    const snapshot: PacingSnapshot = {
      now,
      agents,
      calls,
      linesInUse: input.calls.length,
      dialsLastSecond: this.dialTimes.length,
      model: this.o.estimators.model(),
      abandon: this.o.ledger.status(now),
      abandonCeiling: this.o.abandonCeiling,
      hourCeiling: this.o.hourCeiling,
      caps: this.o.caps,
    }
    const n = callsToPlace(this.o.policy, snapshot)
    const working = agents.filter((a) => a.state !== 'logged-out' && a.state !== 'paused').length
    this.lastRatio = working > 0 ? (input.calls.length + n) / working : 0
    return n
  }

  observe(o: PacingObservation): void {
    const est = this.o.estimators
    switch (o.type) {
      case 'dialed':
        this.dialTimes.push(o.at)
        break
      case 'answered':
        this.answeredAt.set(o.callId, { at: o.at, ringS: o.ringMs / 1000 })
        if (!est.options.amdEnabled) est.onDialOutcome(o.at, 'human', o.ringMs / 1000)
        break
      case 'human':
      case 'machine': {
        const a = this.answeredAt.get(o.callId)
        if (!a) break
        est.onDialOutcome(o.at, o.type, a.ringS)
        est.onAmdDecision(o.at, o.type === 'human', (o.at - a.at) / 1000)
        break
      }
      case 'failed': {
        this.answeredAt.delete(o.callId)
        const outcome = FAILURE_OUTCOME[o.cause]
        if (outcome) est.onDialOutcome(o.at, outcome, o.afterMs / 1000)
        break
      }
      case 'connected':
        this.record(o.at, false)
        break
      case 'abandoned':
        this.answeredAt.delete(o.callId)
        this.record(o.at, true)
        break
      case 'talk-ended':
        this.answeredAt.delete(o.callId)
        est.onTalkEnded(o.at, o.talkMs / 1000)
        break
      case 'wrap-ended':
        est.onWrapEnded(o.at, o.wrapMs / 1000)
        break
    }
  }

  ratio(): number {
    return this.lastRatio
  }

  /** FCC-style ratios for the live figures. */
  ratios(now: number): { day: number; rolling30d: number; worstRollingHour: number } {
    const s = this.o.ledger.status(now)
    return { day: fccRate(s.day), rolling30d: fccRate(s.thirtyDays), worstRollingHour: s.worstHourRate }
  }

  /** The ledger needs time order; call events can arrive a hair out of order across async steps. */
  private record(at: number, dropped: boolean): void {
    const t = Math.max(at, this.lastLedgerAt)
    this.lastLedgerAt = t
    this.o.ledger.record(t, dropped)
  }
}
