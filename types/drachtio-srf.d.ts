/**
 * drachtio-srf's admin-socket layer, which its own typings do not cover. Only what the engine's wire guard touches
 * (engine/telephony/drachtio/wire-guard.ts); see node_modules/drachtio-srf/lib/wire-protocol.js.
 */
declare module 'drachtio-srf/lib/wire-protocol.js' {
  import type { EventEmitter } from 'node:events'
  import type { Socket } from 'node:net'

  class WireProtocol extends EventEmitter {
    /** Reassembles `<len>#<payload>` frames from one socket; throws on a bad length prefix (client side). */
    _onData(socket: Socket, msg: Buffer): void
  }
  export = WireProtocol
}
