/**
 * One outbound call's lifecycle as a pure state machine. The campaign loop feeds it port events and timer expiries
 * and carries out the effects it returns; the machine itself never touches I/O or the clock, so the simulator and
 * the live engine share it. Its terminal states are the only places a CDR is produced, which is how "exactly one
 * CDR and one disposition per call" (ARCHITECTURE invariant 4) is kept: a call reaches a terminal state once, and
 * every later event on it is ignored.
 */
import { failureCauseOf } from '../media/invalid-number.js'
import type { AmdOutcome, EarlyMediaEvidence, EndedBy, FailureCause } from '../telephony/port.js'

export const CallStates = [
  'dialing',
  'ringing',
  'answered',
  'waiting-agent',
  'bridged',
  /** A blind transfer out: the customer talks to an outside number, no agent of ours is on the call any more. */
  'transferred-out',
  'safe-harbor',
  'completed',
  'failed',
  'machine',
  'abandoned',
] as const
export type CallState = (typeof CallStates)[number]

export const TerminalCallStates: ReadonlySet<CallState> = new Set<CallState>(['completed', 'failed', 'machine', 'abandoned'])

/** Why an abandoned call counts as abandoned: the dialer found no agent in time, or the customer left first. */
export type AbandonKind = 'no-agent' | 'customer-hangup-waiting'

export interface CallRecord {
  callId: string
  campaignId: string
  leadId: string
  state: CallState
  dialedAt: number
  ringingAt?: number
  earlyMediaAt?: number
  answeredAt?: number
  amdAt?: number
  amdOutcome?: AmdOutcome
  amdReason?: string
  waitingSince?: number
  agentId?: string
  bridgedAt?: number
  endedAt?: number
  endedBy?: EndedBy
  failureCause?: FailureCause
  sipStatus?: number
  sipReason?: string
  /** The SIT or announcement that ended the attempt before answer (an InvalidNumberReason) and its detail. */
  earlyMediaReason?: string
  earlyMediaDetail?: string
  abandonKind?: AbandonKind
  /** A human that AMD called a machine was hung up on: an abandoned live call under Ofcom-style accounting. */
  amdSaidMachine?: boolean
  /**
   * An agent-initiated call (preview dial, click-to-dial): this agent has been on it since the dial, so an answer is
   * bridged to them at once (no AMD, no routing, no wait timer) and nothing about it is an abandon: the FCC and Ofcom
   * abandoned-call rules are about calls no agent was there for (pacing-anchors §2), and the agent was there.
   */
  boundAgentId?: string
  /** Agents who had the call before a blind transfer handed it on, in order (`agentId` is the last one). */
  transferredFrom?: string[]
  /** When the customer was handed to an outside number (`agentId` stays the agent who did it). */
  transferredOutAt?: number
}

export type CallInput =
  | { type: 'ringing'; at: number }
  | { type: 'early-media'; at: number }
  | { type: 'answered'; at: number }
  | { type: 'amd-result'; at: number; outcome: AmdOutcome; reason?: string }
  | { type: 'agent-reserved'; at: number; agentId: string }
  | { type: 'bridged'; at: number; agentId: string }
  /** A blind transfer moved the bridged customer to another agent (reserved, and joined by the port already). */
  | { type: 'transferred'; at: number; toAgentId: string }
  /** A blind transfer joined the bridged customer to an outside number (the port did it already). */
  | { type: 'transferred-out'; at: number }
  | { type: 'agent-wait-expired'; at: number }
  | { type: 'failed'; at: number; cause: FailureCause; sipStatus?: number; sipReason?: string; earlyMedia?: EarlyMediaEvidence }
  | { type: 'ended'; at: number; endedBy: EndedBy; earlyMedia?: EarlyMediaEvidence }

export type CallEffect =
  /** Find an agent now; the caller answers with agent-reserved or lets the wait expire. */
  | { type: 'route-to-agent'; waitMs: number }
  | { type: 'start-agent-wait-timer'; ms: number }
  | { type: 'bridge'; agentId: string }
  | { type: 'play-safe-harbor' }
  | { type: 'hangup'; cause: string }
  /** The reserved agent is not needed any more (the customer left before the bridge). */
  | { type: 'release-agent'; agentId: string }
  /** The agent's call ended: move it to wrap-up. */
  | { type: 'agent-to-wrap'; agentId: string }
  | { type: 'finalize' }

export interface LifecycleOptions {
  /** How long an answered human may wait for an agent before the safe-harbor message: 2 s (FCC/Ofcom). */
  maxAgentWaitMs: number
  /** Whether the campaign runs AMD: then a human is routed only after AMD says so. */
  amd: boolean
}

export interface Transition {
  call: CallRecord
  effects: CallEffect[]
}

export function newCall(callId: string, campaignId: string, leadId: string, dialedAt: number): CallRecord {
  return { callId, campaignId, leadId, state: 'dialing', dialedAt }
}

export function isTerminal(call: CallRecord): boolean {
  return TerminalCallStates.has(call.state)
}

const ignore = (call: CallRecord): Transition => ({ call, effects: [] })

function toWaiting(call: CallRecord, at: number, opts: LifecycleOptions): Transition {
  return {
    call: { ...call, state: 'waiting-agent', waitingSince: at },
    effects: [
      { type: 'start-agent-wait-timer', ms: opts.maxAgentWaitMs },
      { type: 'route-to-agent', waitMs: opts.maxAgentWaitMs },
    ],
  }
}

export function step(call: CallRecord, input: CallInput, opts: LifecycleOptions): Transition {
  if (isTerminal(call)) return ignore(call)

  switch (input.type) {
    case 'ringing':
      if (call.state !== 'dialing') return ignore(call)
      return { call: { ...call, state: 'ringing', ringingAt: input.at }, effects: [] }

    case 'early-media':
      if (call.state !== 'dialing' && call.state !== 'ringing') return ignore(call)
      return { call: { ...call, state: 'ringing', ringingAt: call.ringingAt ?? input.at, earlyMediaAt: input.at }, effects: [] }

    case 'answered': {
      if (call.state !== 'dialing' && call.state !== 'ringing') return ignore(call)
      const answered: CallRecord = { ...call, state: 'answered', answeredAt: input.at }
      if (call.boundAgentId) {
        return {
          call: { ...answered, state: 'waiting-agent', waitingSince: input.at, agentId: call.boundAgentId },
          effects: [{ type: 'bridge', agentId: call.boundAgentId }],
        }
      }
      if (opts.amd) return { call: answered, effects: [] }
      return toWaiting(answered, input.at, opts)
    }

    case 'amd-result': {
      if (call.state !== 'answered') return ignore(call)
      const withAmd: CallRecord = { ...call, amdAt: input.at, amdOutcome: input.outcome, amdReason: input.reason }
      if (input.outcome === 'human' || input.outcome === 'no-speech' || input.outcome === 'timeout') {
        // Not sure is treated as human: hanging up on a possible person is worse than an agent hearing a machine.
        return toWaiting(withAmd, input.at, opts)
      }
      return {
        call: { ...withAmd, state: 'machine', endedAt: input.at, endedBy: 'system', amdSaidMachine: true },
        effects: [{ type: 'hangup', cause: `amd-${input.outcome}` }, { type: 'finalize' }],
      }
    }

    case 'agent-reserved':
      if (call.state !== 'waiting-agent' || call.agentId) return ignore(call)
      return {
        call: { ...call, agentId: input.agentId },
        effects: [{ type: 'bridge', agentId: input.agentId }],
      }

    case 'bridged':
      if (call.state !== 'waiting-agent') return ignore(call)
      return { call: { ...call, state: 'bridged', agentId: input.agentId, bridgedAt: input.at }, effects: [] }

    case 'transferred': {
      if (call.state !== 'bridged' || !call.agentId || call.agentId === input.toAgentId) return ignore(call)
      // one call, one CDR: the call goes on with the new agent; the one who handed it on wraps up now
      return {
        call: { ...call, agentId: input.toAgentId, transferredFrom: [...(call.transferredFrom ?? []), call.agentId] },
        effects: [{ type: 'agent-to-wrap', agentId: call.agentId }],
      }
    }

    case 'transferred-out':
      if (call.state !== 'bridged' || !call.agentId) return ignore(call)
      // the agent is free now; the call (and its one CDR, naming that agent) lasts until either side hangs up
      return {
        call: { ...call, state: 'transferred-out', transferredOutAt: input.at },
        effects: [{ type: 'agent-to-wrap', agentId: call.agentId }],
      }

    case 'agent-wait-expired': {
      // A bridge already under way wins: the reserved agent is joining; only an unreserved wait expires.
      if (call.state !== 'waiting-agent' || call.agentId) return ignore(call)
      return {
        call: { ...call, state: 'safe-harbor', abandonKind: 'no-agent' },
        effects: [{ type: 'play-safe-harbor' }],
      }
    }

    case 'failed':
      if (call.state !== 'dialing' && call.state !== 'ringing') return ignore(call)
      return {
        call: {
          ...call,
          state: 'failed',
          failureCause: input.cause,
          sipStatus: input.sipStatus,
          sipReason: input.sipReason,
          ...(input.earlyMedia ? { earlyMediaReason: input.earlyMedia.reason, earlyMediaDetail: input.earlyMedia.detail } : {}),
          endedAt: input.at,
          endedBy: 'system',
        },
        // the agent who dialed dispositions the attempt (no answer, busy...) like any call of theirs
        effects: call.boundAgentId ? [{ type: 'agent-to-wrap', agentId: call.boundAgentId }, { type: 'finalize' }] : [{ type: 'finalize' }],
      }

    case 'ended': {
      const ended = { ...call, endedAt: input.at, endedBy: input.endedBy }
      // the carrier "answered" with a SIT or an announcement and we hung up before any agent had it: no person was
      // there, so neither an abandon nor a short call, but a failed attempt that says why
      if (input.earlyMedia && (call.state === 'answered' || call.state === 'waiting-agent')) {
        const effects: CallEffect[] = []
        if (call.agentId) effects.push(call.boundAgentId ? { type: 'agent-to-wrap', agentId: call.agentId } : { type: 'release-agent', agentId: call.agentId })
        effects.push({ type: 'finalize' })
        return {
          call: {
            ...ended,
            state: 'failed',
            failureCause: failureCauseOf(input.earlyMedia.reason),
            earlyMediaReason: input.earlyMedia.reason,
            earlyMediaDetail: input.earlyMedia.detail,
          },
          effects,
        }
      }
      switch (call.state) {
        case 'bridged':
          return {
            call: { ...ended, state: 'completed' },
            effects: [{ type: 'agent-to-wrap', agentId: call.agentId! }, { type: 'finalize' }],
          }
        case 'transferred-out':
          return { call: { ...ended, state: 'completed' }, effects: [{ type: 'finalize' }] }
        case 'safe-harbor':
          return { call: { ...ended, state: 'abandoned' }, effects: [{ type: 'finalize' }] }
        case 'waiting-agent': {
          if (call.boundAgentId) {
            // gone before the media reached the agent who dialed: a call of theirs that ended, never an abandon
            return { call: { ...ended, state: 'completed' }, effects: [{ type: 'agent-to-wrap', agentId: call.boundAgentId }, { type: 'finalize' }] }
          }
          const effects: CallEffect[] = []
          if (call.agentId) effects.push({ type: 'release-agent', agentId: call.agentId })
          effects.push({ type: 'finalize' })
          return { call: { ...ended, state: 'abandoned', abandonKind: 'customer-hangup-waiting' }, effects }
        }
        case 'answered':
          // Hung up during AMD: a live person who left before we could decide is not counted as our abandon under
          // FCC rules (no agent was owed yet); it is recorded as a machine-less short call.
          return { call: { ...ended, state: 'failed', failureCause: 'cancelled' }, effects: [{ type: 'finalize' }] }
        default:
          // Ended before an answer (e.g. the far end gave up): a failed attempt.
          return { call: { ...ended, state: 'failed', failureCause: call.failureCause ?? 'no-answer' }, effects: [{ type: 'finalize' }] }
      }
    }
  }
}
