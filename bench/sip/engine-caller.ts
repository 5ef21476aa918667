/**
 * The engine as bench:sip's caller: DrachtioTelephony over the engine's DrachtioConnection, trunk caps in the real
 * Redis (the Lua step runs for every call, as in production), media anchored on a real rtpengine through the ng
 * pool, logging at info to /dev/null (its cost is part of the engine's). Each call settles on the port's events.
 */
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import pino from 'pino'
import { RealClock } from '../../engine/clock.js'
import { TrunkCaps } from '../../engine/store/redis/trunk-caps.js'
import { GatewayBreaker } from '../../engine/telephony/carriers/gateway-breaker.js'
import type { TrunkConfig } from '../../engine/telephony/carriers/trunk.js'
import { DrachtioConnection } from '../../engine/telephony/drachtio/connection.js'
import { DrachtioTelephony, StaticSdp, TelephonyRefused } from '../../engine/telephony/drachtio/drachtio-telephony.js'
import { CallEvents } from '../../engine/telephony/port.js'
import { NgPool } from '../../engine/telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { APP_SDP } from '../../test/doubles/drachtio/replay/target.js'
import type { CallKind, CallOutcome, Caller, Carriers } from './caller.js'

interface Pending {
  kind: CallKind
  t0: number
  answeredAt?: number
  settle(o: CallOutcome): void
}

/** Caps high enough never to refuse, so every call still runs the shared-caps Lua step. */
const CAPS = { maxChannels: 100_000, maxCps: 100_000 }

export interface EngineCaller extends Caller {
  /** What would be left behind: the port's calls, the anchor's offers, trunk channels held in Redis. */
  leftovers(): Promise<{ calls: number; anchored: number; channels: number }>
  /** The adapter's answer when asked to bridge an answered call to an agent. */
  tryBridge(callId: string): Promise<string>
  rtpengineSessions(): Promise<number>
}

export async function startEngineCaller(opts: {
  drachtio: { host: string; port: number; secret: string }
  rtpengine: { host: string; port: number }
  carriers: Carriers
  redisPrefix: string
  logLevel: string
  /** Where the adapter's log goes (default /dev/null: written, not kept). */
  logFile?: string
  /** false: a static SDP instead of rtpengine (to see what anchoring costs). */
  anchorMedia?: boolean
}): Promise<EngineCaller> {
  const logger = pino({ level: opts.logLevel }, pino.destination({ dest: opts.logFile ?? '/dev/null', sync: false }))
  const clock = new RealClock()
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 })
  const caps = new TrunkCaps(redis, opts.redisPrefix, clock)
  const conn = new DrachtioConnection({ ...opts.drachtio, logger })
  await conn.start()
  const engine = { host: opts.rtpengine.host, port: opts.rtpengine.port }
  const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
  await pool.checkHealth()
  const anchor = new RtpengineAnchor(pool, () => APP_SDP, logger)
  const media = opts.anchorMedia === false ? new StaticSdp(APP_SDP) : anchor
  const gw = (address: string) => ({ address })
  const c = opts.carriers
  const trunks: TrunkConfig[] = [
    { id: 'answer', gateways: [gw(c.answer)], ...CAPS },
    { id: 'answer-long', gateways: [gw(c.answerLong)], ...CAPS },
    { id: 'busy', gateways: [gw(c.busy)], ...CAPS },
    { id: 'crank', gateways: [gw(c.failing), gw(c.answer)], ...CAPS },
  ]
  const port = new DrachtioTelephony({
    connection: conn,
    trunks,
    media,
    logger,
    clock,
    caps,
    // never opens: the failing gateway is tried on every crank call, as the bare client does
    breaker: new GatewayBreaker(clock, Number.MAX_SAFE_INTEGER),
  })
  const pending = new Map<string, Pending>()
  let live = 0
  port.on(CallEvents.Answered, ({ callId }) => {
    const p = pending.get(callId)
    if (!p) return
    p.answeredAt = performance.now()
    live++
  })
  port.on(CallEvents.Ended, ({ callId, endedBy }) => {
    const p = pending.get(callId)
    if (!p) return
    pending.delete(callId)
    live--
    const ok = p.kind !== 'busy' && endedBy === 'customer'
    p.settle({ kind: p.kind, ok, detail: ok ? 'answered' : `ended by ${endedBy}`, setupMs: p.answeredAt! - p.t0 })
  })
  port.on(CallEvents.Failed, ({ callId, cause, sipStatus }) => {
    const p = pending.get(callId)
    if (!p) return
    pending.delete(callId)
    if (p.answeredAt !== undefined) live--
    const ok = p.kind === 'busy' && cause === 'busy'
    p.settle({ kind: p.kind, ok, detail: ok ? 'busy' : `failed ${cause} ${sipStatus ?? ''}`.trim() })
  })

  return {
    name: opts.anchorMedia === false ? 'engine (no media)' : 'engine',
    place(id, kind, long = false) {
      return new Promise<CallOutcome>((settle) => {
        const t0 = performance.now()
        pending.set(id, { kind, t0, settle })
        const trunkId = kind === 'answer' ? (long ? 'answer-long' : 'answer') : kind
        port
          .originate({ callId: id, campaignId: 'bench', leadId: id, number: '+4930123456', ringTimeoutMs: 25_000, amd: false, trunkId })
          .catch((err: unknown) => {
            pending.delete(id)
            settle({ kind, ok: false, detail: err instanceof TelephonyRefused ? `refused: ${err.message}` : `originate threw: ${String(err)}` })
          })
      })
    },
    live: () => live,
    async leftovers() {
      let channels = 0
      for (const t of trunks) channels += await caps.inUse(t.id)
      return { calls: port.activeCalls(), anchored: anchor.anchored(), channels }
    },
    async tryBridge(callId) {
      try {
        await port.bridge(callId, 'bench-agent')
        return 'bridged'
      } catch (err) {
        return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      }
    },
    async rtpengineSessions() {
      const reply = await pool.command(engine, 'list', { limit: 100_000 })
      return (reply.calls ?? []).length
    },
    async close() {
      await conn.stop()
      pool.close()
      await redis.del(...trunks.flatMap((t) => Object.values(caps.keys(t.id))))
      redis.disconnect()
    },
  }
}
