/**
 * The baseline of bench:sip: a bare drachtio-srf client placing the same calls through the same server with
 * srf.createUAC directly: a static SDP, no Redis, no rtpengine, no logging, and the least crank-back logic (the next
 * gateway after a 503).
 */
import { performance } from 'node:perf_hooks'
import Srf from 'drachtio-srf'
import { APP_SDP } from '../../test/doubles/drachtio/replay/target.js'
import type { CallOutcome, Caller, Carriers } from './caller.js'

export async function startBareCaller(opts: { drachtio: { host: string; port: number; secret: string }; carriers: Carriers }): Promise<Caller> {
  const srf = new Srf()
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err: Error | null) => (err ? reject(err) : resolve()))
    srf.on('error', (err: Error) => reject(err))
    void srf.connect(opts.drachtio)
  })
  let live = 0
  const c = opts.carriers
  return {
    name: 'bare drachtio-srf',
    async place(id, kind, long = false) {
      const gateways = kind === 'busy' ? [c.busy] : kind === 'crank' ? [c.failing, c.answer] : [long ? c.answerLong : c.answer]
      const t0 = performance.now()
      for (let i = 0; i < gateways.length; i++) {
        try {
          const dialog = await srf.createUAC(`sip:+4930123456@${gateways[i]}`, { localSdp: APP_SDP, headers: { 'X-Cadence-Call-Id': id } })
          const setupMs = performance.now() - t0
          live++
          await new Promise<void>((resolve) => dialog.on('destroy', () => resolve()))
          live--
          const ok = kind !== 'busy'
          return { kind, ok, detail: ok ? 'answered' : 'answered a busy call', setupMs }
        } catch (err) {
          const status = (err as { status?: number }).status
          if (status === 503 && i + 1 < gateways.length) continue
          const ok = kind === 'busy' && status === 486
          return { kind, ok, detail: ok ? 'busy' : `failed ${status ?? String(err)}` } satisfies CallOutcome
        }
      }
      return { kind, ok: false, detail: 'no gateway answered' }
    },
    live: () => live,
    async close() {
      srf.disconnect()
    },
  }
}
