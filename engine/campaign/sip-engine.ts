/**
 * The engine wired to a real site (issue 5): drachtio-server for SIP (DrachtioTelephony over one DrachtioConnection),
 * rtpengine anchoring every call's media (NgPool + RtpengineAnchor), the carrier trunks of the trunks file with their
 * caps shared in Redis, agents' nailed-up sessions for bridging, and the same EngineRuntime the simulated site runs
 * (simulated-engine.ts is its sibling). While drachtio is down the adapter refuses to originate, so the dialer places
 * nothing until it is back; this module says so in the log.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import type { TelephonyConfig } from '../../config/config.js'
import type { TrunksFile } from '../../config/trunks.js'
import { CallListener } from '../media/call-listener.js'
import { RtpSocket } from '../media/rtp-socket.js'
import type { Template } from '../media/template-matcher.js'
import { RedisAcd } from '../store/redis/redis-acd.js'
import { RedisDncStore } from '../store/redis/dnc-store.js'
import { RedisInvalidNumberStore } from '../store/redis/invalid-numbers.js'
import type { CadenceKeys } from '../store/redis/keys.js'
import { TrunkCaps } from '../store/redis/trunk-caps.js'
import type { Repositories } from '../store/sql/repositories.js'
import { GatewayBreaker } from '../telephony/carriers/gateway-breaker.js'
import { GatewayHealth } from '../telephony/carriers/gateway-health.js'
import { AgentSessionEvents, AgentSessions, type AgentSessionDown, type AgentSessionUp } from '../telephony/drachtio/agent-sessions.js'
import { DrachtioOptionsProber } from '../telephony/drachtio/options-prober.js'
import { ConnectionEvents, DrachtioConnection, type ConnectionDown, type ConnectionUp } from '../telephony/drachtio/connection.js'
import { DrachtioTelephony } from '../telephony/drachtio/drachtio-telephony.js'
import { PromptLibrary } from '../telephony/prompts/prompt-library.js'
import { InboundCalls } from '../telephony/drachtio/inbound-calls.js'
import { AcdInboundQueue } from '../telephony/inbound/acd-inbound-queue.js'
import type { InboundNumber } from '../telephony/inbound/ivr.js'
import { parsePhone } from '../screening/number.js'
import type { CallRecordingPolicy } from '../telephony/drachtio/call-recording.js'
import { RedisQueuePositions } from '../store/redis/inbound-queue-positions.js'
import { DrachtioSupervision, type SupervisorConference } from '../telephony/drachtio/supervisor-listen.js'
import { DrachtioRegistrar } from '../telephony/registrar/drachtio-registrar.js'
import { DEFAULT_POLICY } from '../telephony/registrar/registration.js'
import { RegistrationStore } from '../telephony/registrar/registration-store.js'
import { SqlSipCredentials } from '../telephony/registrar/sql-credentials.js'
import type { Queryable } from '../store/sql/db.js'
import { NgPool } from '../telephony/rtpengine/ng-pool.js'
import { RtpengineAnchor } from '../telephony/rtpengine/rtpengine-anchor.js'
import type { EngineMetrics } from './metrics.js'
import { defaultPolicy, EngineRuntime, type EngineRuntimeOptions } from './runtime.js'
import { WhileConnectedPolicy } from './while-connected-policy.js'

export interface SipEngineOptions {
  clock: Clock
  redis: Redis
  keys: CadenceKeys
  repos: Repositories
  metrics: EngineMetrics
  logger: Logger
  instanceId: string
  /** config.telephony with drachtio set. */
  telephony: TelephonyConfig & { drachtio: NonNullable<TelephonyConfig['drachtio']> }
  trunks: TrunksFile
  /**
   * Where the engine's own side of a call's media goes while the call is with nobody: media analysis's RtpSocket.
   * Defaults to `telephony.mediaAddress` (CADENCE_MEDIA_ADDRESS), itself 127.0.0.1.
   */
  mediaHost?: string
  /** The carriers' announcements early media is screened for (loaded from `announcementsDir` at start-up). */
  announcements?: readonly Template[]
  /** Records bridged calls (engine/recordings/recording-service.ts); without it no call is recorded. */
  recording?: CallRecordingPolicy
  overrides?: Partial<EngineRuntimeOptions>
  /** The database the registrar reads agents' SIP credentials from (with `telephony.registrar` set). */
  db?: Queryable
  /** Our numbers and their IVR (CADENCE_INBOUND_FILE); without them INVITEs are not routed to this engine. */
  inbound?: readonly InboundNumber[]
}

export interface SipEngine {
  runtime: EngineRuntime
  telephony: DrachtioTelephony
  /** Inbound calls through the IVR, when numbers are configured. */
  inbound: InboundCalls | undefined
  connection: DrachtioConnection
  pool: NgPool
  anchor: RtpengineAnchor
  sessions: AgentSessions
  supervision: DrachtioSupervision
  /** OPTIONS every 30 s to every gateway; a dead one is skipped by the dialer through the shared breaker. */
  health: GatewayHealth
  acd: RedisAcd
  /** The agents' digest registrar (config `registrar.*`); undefined when off or without a database. */
  registrar: DrachtioRegistrar | undefined
  /** Binds the media endpoint and connects to drachtio; resolves on the first authenticated connection. */
  connect(): Promise<ConnectionUp>
  /** Stops the runtime first (no new calls), then drachtio, rtpengine and the media endpoint. */
  stop(): Promise<void>
}

/** Channel leases outlive the longest call allowed, so a live call never loses its channel to the lease. */
function channelLeaseMs(t: TelephonyConfig): number {
  return t.maxCallMs > 0 ? Math.max(t.maxCallMs + 5 * t.ringTimeoutMs + 60_000, 600_000) : 4 * 3600_000
}

export function createSipEngine(o: SipEngineOptions): SipEngine {
  const log = o.logger.child({ component: 'sip-engine' })
  const t = o.telephony
  const connection = new DrachtioConnection({ host: t.drachtio.host, port: t.drachtio.port, secret: t.drachtio.secret, logger: o.logger })
  const pool = new NgPool({
    engines: t.rtpengine.engines,
    logger: o.logger,
    timeoutMs: t.rtpengine.timeoutMs,
    ...(t.rtpengine.recvBufferBytes !== undefined ? { recvBufferBytes: t.rtpengine.recvBufferBytes } : {}),
  })
  // The engine's side of a call before an agent has it is media analysis's socket: early media is screened for SIT
  // tones and announcements, the first seconds after answer go to AMD; audio nobody listens to is counted and dropped.
  const mediaHost = o.mediaHost ?? t.mediaAddress ?? '127.0.0.1'
  const rtp = new RtpSocket({
    host: mediaHost,
    onError: (err, context) => log.error({ err: err.message, ...context }, 'media analysis socket error'),
  })
  let mediaPort = 0
  const localSdp = (callId: string): string => {
    const port = mediaPort
    return [
      'v=0',
      `o=cadence ${Math.abs(hash(callId))} 1 IN IP4 ${mediaHost}`,
      's=cadence',
      `c=IN IP4 ${mediaHost}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 0 8 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=sendrecv',
      '',
    ].join('\r\n')
  }
  const anchor = new RtpengineAnchor(pool, localSdp, o.logger)
  // one store: the registrar writes the bindings agent sessions call
  const registrations = new RegistrationStore(o.redis, o.keys.prefix, o.clock)
  const r = t.registrar
  const registrar =
    r && o.db
      ? new DrachtioRegistrar({
          srf: connection.srf,
          credentials: new SqlSipCredentials(o.db),
          store: registrations,
          policy: {
            ...DEFAULT_POLICY,
            realm: r.realm,
            // unset: nonces are only good at this instance (another one answers them as stale and challenges again)
            nonceSecret: r.nonceSecret ?? randomBytes(24).toString('base64'),
            minExpiresS: r.minExpiresS,
            maxExpiresS: r.maxExpiresS,
            defaultExpiresS: r.maxExpiresS,
          },
          clock: o.clock,
          logger: o.logger,
        })
      : undefined
  if (r && !o.db) log.warn('registrar configured but no database given: phones cannot register with this engine')
  const sessions = new AgentSessions({
    connection,
    registrations,
    media: anchor,
    clock: o.clock,
    logger: o.logger,
  })
  const caps = new TrunkCaps(o.redis, o.keys.prefix, o.clock, channelLeaseMs(t))
  const breaker = new GatewayBreaker(o.clock)
  const health = new GatewayHealth({
    trunks: o.trunks.trunks,
    breaker,
    prober: new DrachtioOptionsProber(connection),
    clock: o.clock,
    logger: o.logger,
    canProbe: () => connection.connected,
  })
  const telephony = new DrachtioTelephony({
    connection,
    trunks: o.trunks.trunks,
    defaultTrunkId: o.trunks.defaultTrunk,
    media: anchor,
    logger: o.logger,
    clock: o.clock,
    caps,
    agents: sessions,
    breaker,
    maxCallMs: t.maxCallMs,
    ...(t.promptsDir !== undefined ? { prompts: new PromptLibrary(t.promptsDir) } : {}),
    ...(o.recording ? { recording: o.recording } : {}),
    listener: new CallListener({
      socket: rtp,
      logger: o.logger.child({ component: 'media-analysis' }),
      ...(o.announcements?.length ? { templates: o.announcements } : {}),
    }),
  })
  // supervisors listen through rtpengine subscriptions of the same anchor; their phones are registered like agents'.
  // Whisper and barge need FreeSWITCH: drachtio-fsmrf is loaded only when one is configured.
  const fsConfig = t.freeswitch
  const fsmrf = fsConfig
    ? import('../telephony/fsmrf/fsmrf-conference.js').then(
        (m) =>
          new m.FsmrfConference({
            connection,
            media: anchor,
            sessionOf: (callId) => {
              const agentId = telephony.liveCall(callId)?.agentId
              return agentId ? sessions.sessionId(agentId) : undefined
            },
            freeswitch: {
              address: fsConfig.host,
              port: fsConfig.port,
              secret: fsConfig.secret,
              ...(fsConfig.listen ? { listenAddress: fsConfig.listen.host, listenPort: fsConfig.listen.port } : {}),
            },
            logger: o.logger,
          }),
      )
    : undefined
  const conference: SupervisorConference | undefined = fsmrf ? { start: async (...args) => (await fsmrf).start(...args) } : undefined
  const supervision = new DrachtioSupervision({
    connection,
    calls: telephony,
    media: anchor,
    clock: o.clock,
    logger: o.logger,
    registrations,
    ...(conference ? { conference } : {}),
  })
  connection.on(ConnectionEvents.Down, (down: ConnectionDown) =>
    log.warn({ reason: down.reason, drachtio: `${t.drachtio.host}:${t.drachtio.port}` }, 'drachtio is down: pacing places no calls until it is back (calls being set up fail; answered calls live on in drachtio)'),
  )
  connection.on(ConnectionEvents.Up, (up: ConnectionUp) => {
    if (up.generation > 1) log.info({ generation: up.generation, sip: up.hostports }, 'drachtio is back: dialing resumes')
  })
  const acd = new RedisAcd({ redis: o.redis, keys: o.keys })
  const inbound = o.inbound?.length
    ? new InboundCalls({
        connection,
        media: anchor,
        rtp,
        numbers: [...o.inbound],
        agents: sessions,
        acd: new AcdInboundQueue(acd),
        cdrs: o.repos.cdrs,
        // the caller's owning agent (CRM) is tried first
        ownerOf: async (caller) => {
          const parsed = parsePhone(caller, 'CN')
          if (!parsed.ok) return undefined
          const found = await o.repos.customers.findByPhone(parsed.phone.e164, { siteId: null, agentId: null }, 1)
          return found[0]?.ownerAgentId ?? undefined
        },
        // a caller who waited past the maximum becomes a lead of the number's campaign: dialed back like any lead,
        // through screening (hours, DNC, caps)
        requestCallback: async (r) => {
          const parsed = parsePhone(r.callerNumber, 'CN')
          if (!parsed.ok) return void log.warn({ callId: r.callId }, 'callback not filed: the caller\'s number does not parse')
          await o.repos.leads.insertMany(r.campaignId, [{ phone: parsed.phone.e164, e164: parsed.phone.e164 }])
        },
        ...(o.recording ? { recording: o.recording } : {}),
        // callers hear their place among every engine's callers in the queue
        positions: new RedisQueuePositions(o.redis, o.keys),
        ...(t.promptsDir !== undefined ? { prompts: new PromptLibrary(t.promptsDir) } : {}),
        clock: o.clock,
        logger: o.logger,
      })
    : undefined
  // A customer is bridged only to an agent whose phone session is up: an agent whose phone dropped is paused
  // ('phone-down') so the ACD routes nobody to them (their call would be abandoned), and made ready again when the
  // session is back.
  sessions.on(AgentSessionEvents.Down, (down: AgentSessionDown) => {
    if (down.reason === 'logged-out') return
    void (async () => {
      const agent = await acd.get(down.agentId)
      if (agent?.state !== 'ready') return
      const r = await acd.apply(down.agentId, { type: 'pause', at: o.clock.now(), reason: 'phone-down' })
      if (r.ok) log.warn({ agentId: down.agentId, reason: down.reason }, 'agent phone session down: agent paused (phone-down) until it is back')
    })().catch((err: unknown) => log.error({ err, agentId: down.agentId }, 'could not pause an agent whose phone went down'))
  })
  sessions.on(AgentSessionEvents.Up, (up: AgentSessionUp) => {
    void (async () => {
      const agent = await acd.get(up.agentId)
      if (agent?.state !== 'paused' || agent.pauseReason !== 'phone-down') return
      const r = await acd.apply(up.agentId, { type: 'ready', at: o.clock.now() })
      if (r.ok) {
        log.info({ agentId: up.agentId }, 'agent phone session back: agent ready again')
        await runtime.agentReady(up.agentId)
      }
    })().catch((err: unknown) => log.error({ err, agentId: up.agentId }, 'could not make an agent ready after its phone came back'))
  })
  const main = o.trunks.trunks.find((x) => x.id === o.trunks.defaultTrunk)!
  const runtime = new EngineRuntime({
    clock: o.clock,
    port: telephony,
    redis: o.redis,
    keys: o.keys,
    repos: o.repos,
    acd,
    dnc: new RedisDncStore(o.redis, o.keys.prefix, (n) => o.repos.dnc.numberHash(n)),
    invalidNumbers: new RedisInvalidNumberStore(o.redis, o.keys.prefix, (n) => o.repos.dnc.numberHash(n)),
    metrics: o.metrics,
    logger: o.logger,
    instanceId: o.instanceId,
    // pacing's own ceiling follows the default trunk's contract; the caps in Redis enforce it across instances
    trunk: { channels: main.maxChannels || 500, cps: main.maxCps || 50 },
    ringTimeoutMs: t.ringTimeoutMs,
    tickMs: 1000,
    upkeepMs: 5000,
    safeHarborPrompt: 'safe-harbor',
    routing: 'longest-idle',
    agentPhones: { login: (id) => sessions.login(id), logout: (id) => sessions.logout(id), isUp: (id) => sessions.state(id) === 'up' },
    // a crashed engine's calls: their channels back now (the trunk is not journaled, so every trunk; a release of a
    // channel not held is a no-op) and their rtpengine sessions deleted ("Unknown call-id": already gone)
    onLostCall: async (c) => {
      for (const trunk of o.trunks.trunks) await caps.release(trunk.id, c.callId)
      for (const engine of t.rtpengine.engines) {
        await pool.command(engine, 'delete', { 'call-id': c.callId, 'delete delay': 0 }).catch((err: unknown) => {
          if (!/unknown call/i.test(err instanceof Error ? err.message : String(err))) throw err
        })
      }
    },
    supervision,
    ...o.overrides,
    // no lead leaves the hopper while drachtio is down (the adapter would refuse every dial anyway)
    policyFor: (settings) => new WhileConnectedPolicy((o.overrides?.policyFor ?? defaultPolicy)(settings), () => connection.connected),
  })
  return {
    runtime,
    telephony,
    inbound,
    connection,
    pool,
    anchor,
    sessions,
    supervision,
    health,
    acd,
    registrar,
    async connect() {
      mediaPort = (await rtp.bind()).port
      const healthy = await pool.checkHealth()
      const engines = t.rtpengine.engines.map((e) => `${e.host}:${e.port}`)
      if (healthy === 0) log.error({ rtpengine: engines }, 'no rtpengine answers ping: every call will fail as congestion until one does')
      else log.info({ rtpengine: engines, healthy }, 'rtpengine reachable')
      log.info(
        {
          drachtio: `${t.drachtio.host}:${t.drachtio.port}`,
          trunks: o.trunks.trunks.map((x) => ({ id: x.id, gateways: x.gateways.map((g) => g.address), maxChannels: x.maxChannels ?? 0, maxCps: x.maxCps ?? 0 })),
          defaultTrunk: o.trunks.defaultTrunk,
          ringTimeoutSeconds: t.ringTimeoutMs / 1000,
          maxCallSeconds: t.maxCallMs / 1000,
          // early media is always screened for SIT tones; these are the carrier announcements it also listens for
          announcementTemplates: o.announcements?.length ?? 0,
        },
        'connecting to drachtio (no calls until it accepts the secret)',
      )
      // REGISTER is routed to this app from its first connection on
      if (registrar) {
        registrar.start()
        log.info({ realm: r!.realm, expiresSeconds: `${r!.minExpiresS}-${r!.maxExpiresS}` }, 'registrar on: agents\' phones register here')
      } else log.info('registrar off: no REGISTER is handled by this engine')
      if (inbound) {
        inbound.start()
        log.info({ numbers: o.inbound?.map((n) => ({ number: n.number, queues: Object.values(n.menu.options).map((x) => x.queue) })) }, 'inbound numbers served through the IVR')
      }
      const up = await connection.start()
      log.info({ sip: up.hostports }, 'drachtio connected: the engine dials real trunks')
      health.start()
      if (fsmrf && fsConfig) {
        // listen works without it; whisper and barge are refused until FreeSWITCH answers
        await (await fsmrf).connect().catch((err: unknown) =>
          log.error({ err: err instanceof Error ? err.message : String(err), freeswitch: `${fsConfig.host}:${fsConfig.port}` }, 'FreeSWITCH not reached: supervisors can listen, not whisper or barge'),
        )
      }
      return up
    },
    async stop() {
      await runtime.shutdown()
      await supervision.close().catch((err: unknown) => log.warn({ err }, 'supervisions not ended'))
      await inbound?.close().catch((err: unknown) => log.warn({ err }, 'inbound calls not closed'))
      if (fsmrf) (await fsmrf).close()
      health.stop()
      await sessions.close().catch((err: unknown) => log.warn({ err }, 'agent sessions not closed'))
      await connection.stop()
      pool.close()
      await rtp.close()
    },
  }
}

/** A stable number for the SDP origin of a call (any value is valid; stable keeps re-offers consistent). */
function hash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0
  return h
}
