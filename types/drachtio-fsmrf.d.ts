// The part of drachtio-fsmrf 4.1 (FreeSWITCH through drachtio-modesl 1.x) engine/telephony/fsmrf uses; it ships no
// types. Signatures as lib/mrf.js, lib/mediaserver.js, lib/endpoint.js and lib/conference.js behave at runtime.
declare module 'drachtio-fsmrf' {
  import type { EventEmitter } from 'node:events'
  import type Srf from 'drachtio-srf'

  namespace Mrf {
    interface ConnectOptions {
      address: string
      port?: number
      secret?: string
      /** Where FreeSWITCH's outbound event socket connects back to us. */
      listenAddress?: string
      listenPort?: number
      advertisedAddress?: string
      advertisedPort?: number
      profile?: string
    }
    interface Endpoint extends EventEmitter {
      uuid: string
      local: { sdp: string; mediaIp?: string; mediaPort?: string }
      remote: { sdp: string }
      conf: { memberId?: number; name?: string; uuid?: string }
      connected: boolean
      join(conference: string | Conference, opts?: { flags?: Record<string, boolean> }): Promise<{ memberId: number; confUuid: string }>
      modify(sdp: string): Promise<unknown>
      destroy(): Promise<void>
    }
    interface Conference extends EventEmitter {
      name: string
      uuid: string
      endpoint: Endpoint
      destroy(): Promise<void>
    }
    interface MediaServer extends EventEmitter {
      address: string
      api(command: string): Promise<string>
      createEndpoint(opts?: { remoteSdp?: string; headers?: Record<string, string>; codecs?: string[] }): Promise<Endpoint>
      createConference(name: string, opts?: { flags?: Record<string, boolean> }): Promise<Conference>
      disconnect(): void
    }
  }

  class Mrf extends EventEmitter {
    constructor(srf: Srf, opts?: { customEvents?: string[] })
    connect(opts: Mrf.ConnectOptions): Promise<Mrf.MediaServer>
  }
  export = Mrf
}
