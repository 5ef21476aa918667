/** The port through which the drachtio adapter has a call's audio heard (engine/media/call-listener.ts implements it). */
import type { AmdDecision, AmdThresholds } from '../../media/amd.js'
import type { InvalidNumberEvent } from '../../media/invalid-number.js'

/** A call as media analysis hears it. */
export interface ListenedCall {
  callId: string
  campaignId: string
  number: string
  /** The address the call's audio comes from (MediaAnchor.engineFacing). */
  from: { host: string; port: number }
  /** Epoch ms the analysis starts from (stream time 0). */
  startedAt: number
  /** The campaign's AMD thresholds (OriginateRequest.amdThresholds). */
  amdThresholds?: Partial<AmdThresholds>
}

export interface Listening {
  /** Stops listening; idempotent. */
  close(): void
  /** Stream time by which the first decision is due (AMD's totalAnalysisMs); past it, with no audio, we decide. */
  decideWithinMs: number
  /** What reached the analysis so far (RTP packets), for logs and tests. */
  readonly stats?: { readonly packets: number }
}

/**
 * Hears calls' audio where the anchor relays it to the engine (engine/media/call-listener.ts): early media screened
 * for SIT tones and carrier announcements, the first seconds after answer for AMD.
 */
export interface CallMediaListener {
  screen(call: ListenedCall, onEvidence: (e: InvalidNumberEvent) => void): Listening
  /** AMD, and the same audio screened for a SIT or an announcement played in place of a person (`onEvidence`). */
  amd(call: ListenedCall, onDecision: (d: AmdDecision) => void, onEvidence?: (e: InvalidNumberEvent) => void): Listening
}
