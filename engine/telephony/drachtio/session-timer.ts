/**
 * RFC 4028 session timers as the engine runs them for customer legs and agents' nailed-up sessions (agent-sessions.ts,
 * which asks for one in its INVITE): a 2xx carrying `Session-Expires` with
 * `refresher=uac` makes the engine the refresher, so it sends an in-dialog UPDATE every half interval; a refresh the
 * far end does not answer (481, 408, nothing) means the peer is dead and the call is ended. drachtio-srf 5 has no
 * session timer of its own for UAC dialogs.
 */

export interface SessionExpires {
  seconds: number
  refresher: 'uac' | 'uas' | undefined
}

/** RFC 4028 §4: Min-SE may not be below 90 s; a smaller value is a broken header, not a faster timer. */
export const MIN_SESSION_EXPIRES_S = 90

/** Parses `Session-Expires: 1800;refresher=uac` (also the compact `x`); undefined when absent or malformed. */
export function parseSessionExpires(header: string | undefined): SessionExpires | undefined {
  if (header === undefined) return undefined
  const m = /^\s*(\d{1,9})\s*((?:;[^;]*)*)$/.exec(header)
  if (!m) return undefined
  const seconds = Number(m[1])
  if (!(seconds >= MIN_SESSION_EXPIRES_S)) return undefined
  const r = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(m[2] ?? '')
  return { seconds, refresher: r ? (r[1]!.toLowerCase() as 'uac' | 'uas') : undefined }
}

/** When the refresher sends its refresh: half the interval (RFC 4028 §10 recommends it). */
export function refreshDelayMs(se: SessionExpires): number {
  return Math.floor((se.seconds * 1000) / 2)
}
