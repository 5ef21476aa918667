/**
 * Sends one OPTIONS to a carrier gateway through drachtio-server (srf.request) and reports its final response. Over
 * UDP the server's stack retransmits the OPTIONS and, after 64*T1 (32 s) without an answer, reports a 408 it made up
 * itself (bytes 0, no address; PROTOCOL.md §9). `limitMs` bounds the wait beyond that, in case the server never
 * reports anything (e.g. the admin connection dropped mid-ping).
 */
import type Srf from 'drachtio-srf'
import type { GatewayProber, ProbeResult } from '../carriers/gateway-health.js'
import type { TrunkGateway } from '../carriers/trunk.js'
import type { DrachtioConnection } from './connection.js'

/** drachtio-srf's out-of-dialog request as it behaves at runtime (callback with the request as sent). */
interface SentRequest {
  on(event: 'response', listener: (res: { status: number; reason: string }) => void): void
}
type RuntimeRequest = (
  uri: string,
  opts: { method: string; headers?: Record<string, string> },
  callback: (err: Error | null, req: SentRequest) => void,
) => unknown

export function optionsUri(gateway: TrunkGateway): string {
  return `sip:${gateway.address}${gateway.transport === 'tcp' ? ';transport=tcp' : ''}`
}

export class DrachtioOptionsProber implements GatewayProber {
  constructor(
    private readonly connection: DrachtioConnection,
    /** Longer than the server's own 32 s transaction timeout, so its 408 normally decides. */
    private readonly limitMs = 40_000,
  ) {}

  probe(gateway: TrunkGateway): Promise<ProbeResult> {
    if (!this.connection.connected) return Promise.resolve({ kind: 'not-sent', detail: 'not connected to drachtio' })
    const srf = this.connection.srf as unknown as { request: RuntimeRequest } & Srf
    return new Promise<ProbeResult>((resolve) => {
      let settled = false
      const settle = (r: ProbeResult): void => {
        if (settled) return
        settled = true
        clearTimeout(limit)
        resolve(r)
      }
      const limit = setTimeout(() => settle({ kind: 'no-response' }), this.limitMs)
      try {
        srf.request(optionsUri(gateway), { method: 'OPTIONS', headers: { 'User-Agent': 'cadence-health' } }, (err, req) => {
          if (err) return settle({ kind: 'not-sent', detail: err.message })
          req.on('response', (res) => {
            if (res.status >= 200) settle({ kind: 'response', status: res.status, reason: res.reason })
          })
        })
      } catch (err) {
        // drachtio-srf asserts when it has no socket (the connection dropped between the check and the send)
        settle({ kind: 'not-sent', detail: err instanceof Error ? err.message : String(err) })
      }
    })
  }
}
