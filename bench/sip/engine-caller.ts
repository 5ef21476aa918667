/**
 * The engine as bench:sip's caller: DrachtioTelephony over the engine's DrachtioConnection, trunk caps in the real
 * Redis (the Lua step runs for every call, as in production), media anchored on a real rtpengine through the ng
 * pool, logging at info to /dev/null (its cost is part of the engine's). Each call settles on the port's events.
 */
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import pino from 'pino'
import { RealClock } from '../../engine/clock.js'
import { CadenceKeys } from '../../engine/store/redis/keys.js'
import { TrunkCaps } from '../../engine/store/redis/trunk-caps.js'
import { AgentSessionEvents, AgentSessions } from '../../engine/telephony/drachtio/agent-sessions.js'
import { RegistrationStore } from '../../engine/telephony/registrar/registration-store.js'
import { GatewayBreaker } from '../../engine/telephony/carriers/gateway-breaker.js'
import type { TrunkConfig } from '../../engine/telephony/carriers/trunk.js'
import { DrachtioConnection } from '../../engine/telephony/drachtio/connection.js'
import { DrachtioTelephony } from '../../engine/telephony/drachtio/drachtio-telephony.js'
import { StaticSdp } from '../../engine/telephony/drachtio/media-anchor.js'
import { TelephonyRefused } from '../../engine/telephony/drachtio/telephony-refused.js'
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
  rtpengineSessions(): Promise<number>
  /** Logs `count` agents in; resolves with how many nailed-up sessions came up (bounded wait). */
  loginAgents(count: number, phone: string): Promise<number>
  /** While on, every answered call is bridged to a free agent (if any) and the time from answer to bridged kept. */
  setBridging(on: boolean): void
  /** Answer-to-bridged times (ms) since the last call, bridges that failed or found no free agent, and bridges that
   * were refused at first because the answer had not reached rtpengine yet. */
  takeBridgeStats(): { latenciesMs: number[]; failed: string[]; noAgent: number; refusedFirst: number }
  logoutAgents(): Promise<void>
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
  // filled in once the agent sessions exist (they and the port need each other)
  const agentLookup: { sessionId(agentId: string): string | undefined } = { sessionId: () => undefined }
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
    agents: agentLookup,
  })
  const pending = new Map<string, Pending>()
  let live = 0
  // agents: nailed-up sessions to a sipp phone, registered straight into the registration store
  const registrations = new RegistrationStore(redis, opts.redisPrefix, clock)
  const sessions = new AgentSessions({ connection: conn, registrations, media: anchor, clock, logger })
  agentLookup.sessionId = (agentId) => sessions.sessionId(agentId)
  const agentIds: string[] = []
  const freeAgents: string[] = []
  const busyAgents = new Map<string, string>()
  let bridging = false
  let bridgeStats = { latenciesMs: [] as number[], failed: [] as string[], noAgent: 0, refusedFirst: 0 }
  const freeAgentOf = (callId: string): void => {
    const agent = busyAgents.get(callId)
    if (agent === undefined) return
    busyAgents.delete(callId)
    freeAgents.push(agent)
  }
  port.on(CallEvents.Answered, ({ callId }) => {
    const p = pending.get(callId)
    if (!p) return
    p.answeredAt = performance.now()
    live++
    if (!bridging) return
    const agent = freeAgents.shift()
    if (agent === undefined) {
      bridgeStats.noAgent++
      return
    }
    busyAgents.set(callId, agent)
    const t0 = performance.now()
    // The answered event comes before the carrier's SDP has reached rtpengine (DrachtioTelephony answers the anchor
    // without awaiting it), so a bridge at once is refused "not answered through this anchor". Retried every 2 ms
    // (the time counts) and the refusals reported: an ACD routing at once would hit the same race.
    const attempt = (tries: number): void => {
      port.bridge(callId, agent).then(
        () => {
          bridgeStats.latenciesMs.push(performance.now() - t0)
          if (tries > 0) bridgeStats.refusedFirst++
        },
        (err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err)
          if (/not answered through this anchor/.test(msg) && tries < 500 && pending.has(callId)) setTimeout(() => attempt(tries + 1), 2)
          else bridgeStats.failed.push(msg)
        },
      )
    }
    attempt(0)
  })
  port.on(CallEvents.Ended, ({ callId, endedBy }) => {
    const p = pending.get(callId)
    if (!p) return
    pending.delete(callId)
    live--
    freeAgentOf(callId)
    const ok = p.kind !== 'busy' && endedBy === 'customer'
    p.settle({ kind: p.kind, ok, detail: ok ? 'answered' : `ended by ${endedBy}`, setupMs: p.answeredAt! - p.t0 })
  })
  port.on(CallEvents.Failed, ({ callId, cause, sipStatus }) => {
    const p = pending.get(callId)
    if (!p) return
    pending.delete(callId)
    freeAgentOf(callId)
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
    async rtpengineSessions() {
      const reply = await pool.command(engine, 'list', { limit: 100_000 })
      return (reply.calls ?? []).length
    },
    async loginAgents(count, phone) {
      const [host, portText] = phone.split(':')
      const up = new Set<string>()
      const onUp = ({ agentId }: { agentId: string }): void => void up.add(agentId)
      sessions.on(AgentSessionEvents.Up, onUp)
      for (let i = 1; i <= count; i++) {
        const agentId = `bench-agent-${i}`
        agentIds.push(agentId)
        await registrations.apply(agentId, { callId: `bench-reg-${i}`, cseq: 1 }, [{ uri: `sip:${agentId}@${phone}`, expires: 3600 }], {
          receivedHost: host!,
          receivedPort: Number(portText),
          transport: 'udp',
        })
        sessions.login(agentId)
      }
      for (let i = 0; i < 200 && up.size < count; i++) await new Promise((r) => setTimeout(r, 100))
      sessions.off(AgentSessionEvents.Up, onUp)
      freeAgents.push(...agentIds.filter((a) => up.has(a)))
      return up.size
    },
    setBridging(on) {
      bridging = on
    },
    takeBridgeStats() {
      const taken = bridgeStats
      bridgeStats = { latenciesMs: [], failed: [], noAgent: 0, refusedFirst: 0 }
      return taken
    },
    async logoutAgents() {
      await sessions.close()
      if (agentIds.length > 0) await redis.del(...agentIds.flatMap((a) => Object.values(new CadenceKeys(opts.redisPrefix).registrations(a))))
    },
    async close() {
      await sessions.close()
      await conn.stop()
      pool.close()
      await redis.del(...trunks.flatMap((t) => Object.values(caps.keys(t.id))))
      redis.disconnect()
    },
  }
}
