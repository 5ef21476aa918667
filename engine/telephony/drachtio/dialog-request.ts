/**
 * Sends a request inside an existing dialog on the connection as it is now (srf.request with `stackDialogId`; the
 * server fills in the dialog's route, tags and CSeq). A dialog set up on an admin connection that has since dropped
 * is orphaned in drachtio-server (PROTOCOL.md §1): its drachtio-srf Dialog still writes to the dead socket, so after a
 * reconnect this is the only way to reach its far end (an OPTIONS to see whether it is still there, a BYE to end it).
 */
import type { DrachtioConnection } from './connection.js'
import type { DialogProbe } from './live-call-reconcile.js'

interface SentRequest {
  on(event: 'response', listener: (res: { status: number; reason: string }) => void): void
}
type InDialogRequest = (
  uri: string,
  opts: { method: string; stackDialogId: string; headers?: Record<string, string> },
  callback: (err: Error | null, req: SentRequest) => void,
) => unknown

/**
 * Sends `method` in the dialog and reports the final response. Over UDP the server's stack answers 408 by itself after
 * 64*T1 with no answer; `limitMs` bounds the wait beyond that (the connection dropped again mid-request).
 */
export function requestInDialog(
  connection: DrachtioConnection,
  dialogId: string,
  method: 'OPTIONS' | 'BYE' | 'UPDATE' | 'INFO',
  limitMs = 40_000,
  headers: Record<string, string> = {},
): Promise<DialogProbe> {
  if (!connection.connected) return Promise.resolve({ kind: 'not-sent', detail: 'not connected to drachtio' })
  const request = (connection.srf as unknown as { request: InDialogRequest }).request.bind(connection.srf)
  return new Promise<DialogProbe>((resolve) => {
    let settled = false
    const settle = (r: DialogProbe): void => {
      if (settled) return
      settled = true
      clearTimeout(limit)
      resolve(r)
    }
    const limit = setTimeout(() => settle({ kind: 'no-response' }), limitMs)
    try {
      // the request URI is a placeholder: with a stackDialogId the server takes the dialog's remote target
      request('sip:dialog.invalid', { method, stackDialogId: dialogId, headers: { 'User-Agent': 'cadence', ...headers } }, (err, req) => {
        if (err) return settle({ kind: 'not-sent', detail: err.message })
        req.on('response', (res) => {
          if (res.status >= 200) settle({ kind: 'response', status: res.status })
        })
      })
    } catch (err) {
      // drachtio-srf asserts when it has no socket (the connection dropped between the check and the send)
      settle({ kind: 'not-sent', detail: err instanceof Error ? err.message : String(err) })
    }
  })
}

/** A dialog's id in drachtio-server's stack: drachtio-srf's Dialog has it (`get id()` in lib/dialog.js), its typings do not. */
export function stackDialogId(dialog: object): string {
  const id: unknown = Reflect.get(dialog, 'id')
  if (typeof id !== 'string' || id === '') throw new Error('drachtio-srf dialog without a stack dialog id')
  return id
}
