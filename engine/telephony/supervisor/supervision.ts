/**
 * What a supervisor may do to a live call (issue 5 §7), as the API sees it: listen (both parties' audio to the
 * supervisor's phone, nobody hears the supervisor), and where a conference server is configured whisper (the agent
 * hears the supervisor, the customer does not) and barge (everyone hears everyone). The SIP engine implements it
 * (engine/telephony/drachtio/supervisor-listen.ts); api/ depends only on this file.
 */

/** The supervisor's phone: a SIP URI to call, or the phone registered under an id of the registrar. */
export type SupervisorPhone = { kind: 'uri'; uri: string } | { kind: 'registered'; id: string }

export const SupervisionModes = ['listen', 'whisper', 'barge'] as const
export type SupervisionMode = (typeof SupervisionModes)[number]

export type SupervisionState = 'ringing' | 'up' | 'ended'

export type SupervisionEndReason = 'stopped' | 'supervisor-hung-up' | 'call-ended' | 'phone-failed' | 'media-failed'

export interface SupervisionView {
  supervisionId: string
  callId: string
  mode: SupervisionMode
  state: SupervisionState
  /** When the supervisor's phone answered (epoch ms). */
  since?: number
}

export interface SupervisionEnded {
  supervisionId: string
  callId: string
  reason: SupervisionEndReason
  sipStatus?: number
}

export const SupervisionEvents = {
  /** The supervisor's phone answered: it receives the call's audio. */
  Up: 'supervision-up',
  /** A supervision ended (any reason), its media and dialog released. */
  Ended: 'supervision-ended',
} as const

export interface Supervision {
  /** The campaign of a live call this engine carries, else undefined (the API scopes by the campaign's site). */
  campaignOf(callId: string): string | undefined
  /** Calls the supervisor's phone and, once it answers, gives it the call's audio; resolves with it up. */
  start(callId: string, mode: SupervisionMode, phone: SupervisorPhone): Promise<SupervisionView>
  get(supervisionId: string): SupervisionView | undefined
  /** The call's supervisions not ended yet, ringing ones included (so a ringing one can be found and stopped). */
  ofCall(callId: string): SupervisionView[]
  /** Hangs the supervisor's phone up and releases the media; idempotent. */
  stop(supervisionId: string): Promise<void>
}

/** The call, the mode or the phone does not allow it now (not answered, not configured, phone busy): the API answers 409. */
export class SupervisionRefused extends Error {
  override name = 'SupervisionRefused'
  constructor(
    message: string,
    /** The supervisor phone's SIP answer when it refused or did not answer. */
    readonly sipStatus?: number,
  ) {
    super(message)
  }
}

/** No such live call or supervision on this engine: the API answers 404. */
export class SupervisionNotFound extends Error {
  override name = 'SupervisionNotFound'
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${JSON.stringify(id)} is not live on this engine`)
  }
}
