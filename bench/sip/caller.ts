/**
 * What bench:sip drives: a Caller places one call of a kind and settles with its outcome. The engine's
 * DrachtioTelephony and a bare drachtio-srf client implement it, so both place the same calls through the same server.
 */

/** answer: the callee answers and hangs up after a hold; busy: 486 after ringing; crank: the first gateway fails
 * 503 and the second answers (crank-back). */
export type CallKind = 'answer' | 'busy' | 'crank'

export interface CallOutcome {
  kind: CallKind
  /** The outcome the carrier scripted: answered then ended by the callee, or busy. */
  ok: boolean
  /** Why not ok (for the report), or the outcome. */
  detail: string
  /** From placing the call to the 200 OK reaching the caller (answered calls). */
  setupMs?: number
}

export interface Caller {
  readonly name: string
  /** Settles when the call is over, never rejects. `long` selects the carrier with the long hold (concurrency). */
  place(id: string, kind: CallKind, long?: boolean): Promise<CallOutcome>
  /** Answered calls not yet ended. */
  live(): number
  close(): Promise<void>
}

/** The mix of a run: 8 in 10 answered, 1 busy, 1 cranked back. */
export function kindOf(i: number): CallKind {
  const r = i % 10
  return r === 0 ? 'busy' : r === 5 ? 'crank' : 'answer'
}

/** The gateways (host:port of sipp carriers) every caller dials. */
export interface Carriers {
  answer: string
  answerLong: string
  busy: string
  failing: string
}
