/**
 * The telephony port: the engine sees calls, not SIP. Both adapters (drachtio for real carriers, sim for the
 * simulated site) implement it and emit the same events with the same causes, so pacing and ACD cannot tell them
 * apart. Every event name is a constant here; adapters must not invent their own.
 */
import type { AmdThresholds } from '../media/amd.js'
import type { InvalidNumberReason } from '../media/invalid-number.js'

export const CallEvents = {
  Ringing: 'ringing',
  EarlyMedia: 'early-media',
  Answered: 'answered',
  AmdResult: 'amd-result',
  Bridged: 'bridged',
  Failed: 'failed',
  Ended: 'ended',
  ConsultEnded: 'consult-ended',
} as const
export type CallEventName = (typeof CallEvents)[keyof typeof CallEvents]

/** Why a call never reached an answer. The drachtio adapter maps SIP statuses onto these (see its cause map). */
export const FailureCauses = [
  'busy',
  'no-answer',
  'invalid-number',
  'congestion',
  'rejected',
  'cancelled',
  'trunk-unavailable',
] as const
export type FailureCause = (typeof FailureCauses)[number]

export const AmdOutcomes = ['human', 'machine', 'machine-end-of-greeting', 'beep', 'no-speech', 'timeout'] as const
export type AmdOutcome = (typeof AmdOutcomes)[number]

/** Who ended an established call. */
export type EndedBy = 'customer' | 'agent' | 'system'

export interface OriginateRequest {
  callId: string
  campaignId: string
  leadId: string
  /** E.164, already screened. */
  number: string
  trunkId?: string
  callerId?: string
  /** Never below 15 s (FCC/Ofcom minimum ring time); the engine enforces it before calling the port. */
  ringTimeoutMs: number
  /** Run answering-machine detection after answer. */
  amd: boolean
  /** The campaign's AMD thresholds (ms) over the defaults; an adapter whose AMD is simulated ignores them. */
  amdThresholds?: Partial<AmdThresholds>
}

export interface RingingEvent {
  callId: string
  at: number
}
export interface EarlyMediaEvent {
  callId: string
  at: number
}
export interface AnsweredEvent {
  callId: string
  at: number
}
export interface AmdResultEvent {
  callId: string
  at: number
  outcome: AmdOutcome
  /** Free-form detail for the CDR and logs (e.g. "long greeting 3200ms"). */
  reason?: string
}
export interface BridgedEvent {
  callId: string
  agentId: string
  at: number
}
/**
 * The consulted agent left an attended transfer by themselves (their phone hung up): the consultation is over and the
 * customer is back with the agent who had the call, as after cancelConsult.
 */
export interface ConsultEndedEvent {
  callId: string
  at: number
  /** The consulted agent. */
  agentId: string
}
export interface FailedEvent {
  callId: string
  at: number
  cause: FailureCause
  /** Raw protocol detail kept on the CDR, e.g. SIP status and reason. */
  sipStatus?: number
  sipReason?: string
  /** What the early media said (a SIT, a carrier announcement) when that is why we ended the attempt. */
  earlyMedia?: EarlyMediaEvidence
}

/** A SIT or carrier announcement heard before answer (engine/media/early-media-screen.ts), for screening and the CDR. */
export interface EarlyMediaEvidence {
  reason: InvalidNumberReason
  /** e.g. "SIT IC LL/SSL" or "template zh/... cost 1.21". */
  detail: string
}
export interface EndedEvent {
  callId: string
  at: number
  endedBy: EndedBy
  /**
   * A SIT or carrier announcement played in place of a person after the 200 OK, when that is why we hung up (before
   * any agent had the call): the attempt counts as failed, as if it had come in early media.
   */
  earlyMedia?: EarlyMediaEvidence
}

export interface CallEventMap {
  ringing: RingingEvent
  'early-media': EarlyMediaEvent
  answered: AnsweredEvent
  'amd-result': AmdResultEvent
  bridged: BridgedEvent
  failed: FailedEvent
  ended: EndedEvent
  'consult-ended': ConsultEndedEvent
}

export type CallEventListener<E extends CallEventName> = (event: CallEventMap[E]) => void

/** What the agent receiving a transferred call is told with it. */
export interface TransferContext {
  customerId?: string
  leadId?: string
  campaignId?: string
  /** The agent who handed the call on. */
  fromAgentId?: string
}

/** Where a transfer out goes: an outside number (E.164, checked by the caller) through a trunk. */
export interface OutsideTransfer {
  number: string
  /** How long the number may ring before the transfer fails as no-answer (never below 15 s, as for any call). */
  ringTimeoutMs: number
  trunkId?: string
  callerId?: string
}

export interface TelephonyPort {
  /** Start an outbound call. Resolves once the attempt is accepted by the adapter; outcomes arrive as events. */
  originate(request: OriginateRequest): Promise<void>
  /** Join an answered call to an agent's (nailed-up) session. */
  bridge(callId: string, agentId: string): Promise<void>
  /** Play a prompt (e.g. the safe-harbor message) to the customer leg. */
  play(callId: string, prompt: string): Promise<void>
  record(callId: string, on: boolean): Promise<void>
  hold(callId: string, on: boolean): Promise<void>
  /**
   * Blind transfer: the bridged customer goes to another agent's session; the target's phone is told who the customer
   * is (`context`) where the adapter can (SIP: an INFO with X-Cadence-* headers on the agent's session).
   */
  transfer(callId: string, toAgentId: string, context?: TransferContext): Promise<void>
  /**
   * Blind transfer to an outside number: the customer holds (music) while the number rings through a trunk (its caps
   * and gateways as for any call). Answered, the customer is joined to it and the agent's session is free; not answered
   * (busy, no answer, invalid, no channel) the customer is back with the agent and this rejects with
   * OutsideTransferFailed. The call then lasts until either side hangs up; the outside party hanging up ends it with
   * endedBy `agent` (the side the customer was talking to).
   */
  transferOut(callId: string, to: OutsideTransfer, context?: TransferContext): Promise<void>
  /**
   * Attended transfer, first step: the customer goes on hold and the agent who has the call talks to `toAgentId`.
   * Then completeConsult (the customer goes to that agent, the first drops out) or cancelConsult (back as before).
   */
  consult(callId: string, toAgentId: string): Promise<void>
  completeConsult(callId: string, context?: TransferContext): Promise<void>
  cancelConsult(callId: string): Promise<void>
  hangup(callId: string, cause: string): Promise<void>
  on<E extends CallEventName>(event: E, listener: CallEventListener<E>): void
  off<E extends CallEventName>(event: E, listener: CallEventListener<E>): void
}
