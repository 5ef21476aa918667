/**
 * Contains a garbled drachtio admin stream. drachtio-srf's frame parser throws ("invalid message, missing length
 * specifier") from its socket 'data' handler when a length prefix is not a number, which is an uncaught exception
 * that kills the process; a real drachtio-server under load produced such a stream (issue 5, upstream
 * drachtio-server PR #361). Once installed, the guard catches that throw, reports it, and destroys the socket: the
 * stream cannot be resynchronised, and drachtio-srf's own reconnect logic takes over on the socket's close.
 *
 * It wraps WireProtocol.prototype._onData, which every drachtio-srf connection in the process binds when its socket
 * is set up, so it must be installed before connecting.
 */
import type { Socket } from 'node:net'
import WireProtocol from 'drachtio-srf/lib/wire-protocol.js'

export interface GarbledStream {
  error: Error
  /** Where the connection went (remote address:port), for the log line. */
  peer: string
}

type Listener = (event: GarbledStream) => void

const listeners = new Set<Listener>()
let installed = false

export function installWireGuard(): void {
  if (installed) return
  installed = true
  const original = WireProtocol.prototype._onData
  WireProtocol.prototype._onData = function guardedOnData(this: WireProtocol, socket: Socket, msg: Buffer): void {
    try {
      original.call(this, socket, msg)
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      const event = { error, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` }
      for (const l of listeners) l(event)
      // the rest of this stream cannot be framed again: drop it and let drachtio-srf reconnect
      socket.destroy()
    }
  }
}

/** Subscribes to contained errors; returns the unsubscribe function. */
export function onGarbledStream(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
