/**
 * drachtio-srf's createUAC as it behaves at runtime, typed by us: its shipped typings declare `cbRequest(req)`,
 * but lib/srf.js calls `cbRequest(err, req)` (anchors report §2.1, hazard 1), and the Dialog's `destroy` event
 * carries the parsed Reason as a second argument. Everything the adapter touches of a dialog goes through here.
 */
import type Srf from 'drachtio-srf'

export interface UacRequest {
  /** Sends CANCEL for the INVITE; the callback reports a CANCEL that could not be sent (e.g. already answered). */
  cancel(callback?: (err: unknown) => void): void
}

export interface UacProvisional {
  status: number
  reason: string
  body?: string
  getParsedHeader(name: 'To'): { params?: { tag?: string } } | undefined
}

export interface UacDialog {
  id: string
  sip: { callId: string; localTag: string; remoteTag: string }
  remote: { sdp?: string }
  /** The final response that set the dialog up (drachtio-srf keeps it on UAC dialogs). */
  res?: { get(name: string): string | undefined; has(name: string): boolean }
  destroy(opts?: { headers?: Record<string, string> }, callback?: (err: unknown) => void): void
  on(event: 'destroy', listener: (msg: unknown, reason?: string) => void): void
  removeAllListeners(event?: string): void
}

export interface UacOptions {
  localSdp: string
  headers?: Record<string, string>
  callingNumber?: string
  auth?: { username: string; password: string }
  /** Send the INVITE to this address (`sip:host:port`) whatever the Request-URI says (a phone behind NAT). */
  proxy?: string
}

/** The rejection drachtio-srf gives for a final non-2xx (its SipError). */
export interface UacFailure {
  status: number
  reason: string
}

export function isUacFailure(err: unknown): err is UacFailure {
  return typeof err === 'object' && err !== null && typeof (err as { status?: unknown }).status === 'number'
}

type RuntimeCreateUac = (
  uri: string,
  opts: UacOptions,
  progress: { cbRequest: (err: unknown, req: UacRequest) => void; cbProvisional: (res: UacProvisional) => void },
) => Promise<UacDialog>

export function createUac(
  srf: Srf,
  uri: string,
  opts: UacOptions,
  onRequest: (req: UacRequest) => void,
  onProvisional: (res: UacProvisional) => void,
): Promise<UacDialog> {
  const create = (srf as unknown as { createUAC: RuntimeCreateUac }).createUAC.bind(srf)
  return create(uri, opts, {
    cbRequest: (err, req) => {
      if (!err) onRequest(req)
    },
    cbProvisional: onProvisional,
  })
}
