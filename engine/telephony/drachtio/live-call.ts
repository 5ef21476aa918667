/** One outbound call as the drachtio adapter carries it, from the INVITE to its end (state owned by DrachtioTelephony). */
import type { DialogWatch } from './dialog-watch.js'
import type { Logger } from 'pino'
import type { TimerHandle } from '../../clock.js'
import type { EarlyMediaEvidence, OriginateRequest } from '../port.js'
import type { TrunkConfig } from '../carriers/trunk.js'
import type { Listening } from './call-media-listener.js'
import type { RecordingState } from './call-recording.js'
import type { OurCancel } from './sip-causes.js'
import type { UacDialog, UacRequest } from './uac.js'

export interface LiveCall {
  request: OriginateRequest
  trunk: TrunkConfig
  log: Logger
  state: 'trying' | 'answered' | 'done'
  /** A trunk channel is held in the shared caps and must be given back. */
  holdsChannel: boolean
  /** Set when our CANCEL is in flight (or wanted before the INVITE was sent), and why. */
  cancel: OurCancel
  invite?: UacRequest
  dialog?: UacDialog
  timer?: TimerHandle
  rang: boolean
  earlyMedia: boolean
  /** A provisional above 100 came from the current gateway (so the timeout means the callee did not answer). */
  progressed: boolean
  /** The agent session the customer's media is joined to. */
  bridgedTo?: { agentId: string; sessionId: string }
  /** An attended transfer under way: the bridged agent's session is joined to this agent's while the customer holds. */
  consult?: { agentId: string; sessionId: string }
  /** A transfer to an outside number: ringing (customer on hold, agent still there), or joined (agent gone). */
  outside?: OutsideLeg
  /** Settles once the media anchor has the far end's answer (false: it refused it). */
  mediaAnswered?: Promise<boolean>
  /** When the carrier's 200 OK came (the 2-second rule runs from here, even though `answered` waits for media). */
  answeredAt?: number
  /** `answered` was emitted. */
  announced?: boolean
  /** Ends the call at the maximum call length. */
  maxTimer?: TimerHandle
  recording?: RecordingState
  /** Media analysis under way (the early-media screen, then AMD). */
  listening?: Listening
  /** What the early media said, when it ended the attempt. */
  heard?: EarlyMediaEvidence
  /** AMD has given its first decision (or was given up on). */
  amdDecided?: boolean
  /** Decides `timeout` when AMD hears nothing. */
  amdTimer?: TimerHandle
  /**
   * Kept across a reconnect: its dialog is orphaned in drachtio-server (the far end's BYE no longer reaches us), so it
   * is ended by a BYE on the new connection and probed now and then.
   */
  orphaned?: boolean
  orphanWatch?: DialogWatch
  /** RFC 4028: the engine refreshes the session (the carrier's 2xx named us the refresher). */
  refreshWatch?: DialogWatch
}

/** The outside leg of a customer call's transfer out: another call of the adapter, whose events only its customer call hears. */
export interface OutsideLeg {
  legId: string
  /** The number, masked (for logs). */
  to: string
  /** The customer is joined to it: from now on its end is the call's end. */
  joined: boolean
  /** It ended (the outside party hung up, or we did). */
  ended?: boolean
  /** The agent's session ended while the number rang: a failed transfer cannot hand the customer back. */
  agentGone?: boolean
}
