/**
 * The call detail record: produced once, from a call in a terminal state. Its `outcome` is the system's view of the
 * attempt (what the carrier and AMD said); `disposition` starts as the system disposition and is replaced by the
 * agent's own when the agent disposes a connected call.
 */
import type { LeadStatus } from '../leads/lead.js'
import { isTerminal, type CallRecord } from './lifecycle.js'

export const CallOutcomes = [
  'connected',
  'no-answer',
  'busy',
  'invalid-number',
  'rejected',
  'congestion',
  'machine',
  'abandoned',
  'cancelled',
  'trunk-unavailable',
  /** The engine placing the call died; the next instance closed it from the journal (true outcome unknown). */
  'engine-lost',
] as const
export type CallOutcome = (typeof CallOutcomes)[number]

export interface Cdr {
  callId: string
  campaignId: string
  /** The lead dialed; an inbound call's is `inbound:<call id>` (no lead was dialed). */
  leadId: string
  /** Default outbound; inbound calls come through an IVR (reports count their lost calls and waits). */
  direction?: 'outbound' | 'inbound'
  agentId?: string
  outcome: CallOutcome
  disposition: string
  dialedAt: number
  answeredAt?: number
  bridgedAt?: number
  endedAt: number
  /** Seconds the customer talked with an agent. */
  talkSeconds: number
  /** Seconds an answered human waited for an agent (or for the safe-harbor message). */
  waitSeconds?: number
  abandoned: boolean
  abandonKind?: string
  amdOutcome?: string
  amdReason?: string
  sipStatus?: number
  sipReason?: string
  /** The SIT or carrier announcement heard in early media that ended the attempt (an InvalidNumberReason). */
  earlyMediaReason?: string
  earlyMediaDetail?: string
  endedBy?: string
}

export function outcomeOf(call: CallRecord): CallOutcome {
  switch (call.state) {
    case 'completed':
      return 'connected'
    case 'machine':
      return 'machine'
    case 'abandoned':
      return 'abandoned'
    case 'failed':
      return call.failureCause ?? 'no-answer'
    default:
      throw new Error(`call ${call.callId} is not finished (state ${call.state})`)
  }
}

/** The lead status an outcome leaves behind; recycling rules key on it. */
export function leadStatusFor(outcome: CallOutcome): LeadStatus {
  switch (outcome) {
    case 'connected':
      return 'contacted'
    case 'no-answer':
    case 'cancelled':
    case 'engine-lost':
    case 'congestion':
    case 'trunk-unavailable':
      return 'no-answer'
    case 'busy':
      return 'busy'
    case 'invalid-number':
      return 'invalid'
    case 'rejected':
      return 'no-answer'
    case 'machine':
      return 'machine'
    case 'abandoned':
      return 'abandoned'
  }
}

export function toCdr(call: CallRecord): Cdr {
  if (!isTerminal(call) || call.endedAt === undefined) {
    throw new Error(`call ${call.callId} has no CDR yet (state ${call.state})`)
  }
  const outcome = outcomeOf(call)
  const talkSeconds = call.bridgedAt !== undefined ? Math.max(0, (call.endedAt - call.bridgedAt) / 1000) : 0
  const waitEnd = call.bridgedAt ?? (call.state === 'abandoned' ? call.endedAt : undefined)
  return {
    callId: call.callId,
    campaignId: call.campaignId,
    leadId: call.leadId,
    // an agent-initiated attempt that failed is still that agent's to disposition
    agentId: call.state === 'completed' ? call.agentId : call.boundAgentId,
    outcome,
    disposition: `system:${outcome}`,
    dialedAt: call.dialedAt,
    answeredAt: call.answeredAt,
    bridgedAt: call.bridgedAt,
    endedAt: call.endedAt,
    talkSeconds,
    waitSeconds:
      call.waitingSince !== undefined && waitEnd !== undefined ? Math.max(0, (waitEnd - call.waitingSince) / 1000) : undefined,
    abandoned: outcome === 'abandoned',
    abandonKind: call.abandonKind,
    amdOutcome: call.amdOutcome,
    amdReason: call.amdReason,
    sipStatus: call.sipStatus,
    sipReason: call.sipReason,
    ...(call.earlyMediaReason !== undefined ? { earlyMediaReason: call.earlyMediaReason, earlyMediaDetail: call.earlyMediaDetail } : {}),
    endedBy: call.endedBy,
  }
}
