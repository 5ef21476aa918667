/**
 * `npm start`: one Cadence process with the roles the configuration names (engine, api, or both). On embedded
 * defaults it runs a demo predictive campaign on the simulated site, stores everything in embedded PGlite and the
 * local Redis, and serves the API and /metrics. With DRACHTIO_ADDRESS set it dials a real site instead
 * (campaign/sip-engine.ts: drachtio, rtpengine, the trunks file), no demo. Its log says what happens and where to look.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Redis } from 'ioredis'
import pino, { type Logger } from 'pino'
import { buildApp } from '../api/app.js'
import { syncDncMirror } from '../api/routes/dnc.js'
import { ConfigError, describeConfig, loadConfig, type Config } from '../config/config.js'
import { loadTrunksFile, type TrunksFile } from '../config/trunks.js'
import { RealClock, ScaledClock } from './clock.js'
import { createEngineMetrics, createProcessRegistry } from './campaign/metrics.js'
import { createSimulatedEngine } from './campaign/simulated-engine.js'
import { createSipEngine } from './campaign/sip-engine.js'
import { validateInboundNumbers, type InboundNumber } from './telephony/inbound/ivr.js'
import { AnnouncementTemplateError, loadAnnouncementTemplates } from './media/announcement-templates.js'
import type { Template } from './media/template-matcher.js'
import { CampaignControlRefused, type CampaignControl } from './campaign/control.js'
import { DEMO_CAMPAIGN_ID, demoAgentIds, ensureDemo } from './demo.js'
import { CadenceKeys } from './store/redis/keys.js'
import { phoneHasher, RedisDncStore } from './store/redis/dnc-store.js'
import { RedisInvalidNumberStore } from './store/redis/invalid-numbers.js'
import { openMigratedDb } from './store/sql/open.js'
import { repositories } from './store/sql/repositories.js'
import { parseScenario } from './telephony/sim/scenario.js'
import { embeddedKeyring } from './security/embedded-keyring.js'
import { AgentStateSampler } from './reports/agent-state-sampler.js'
import { RedisEventStream } from './store/redis/event-stream.js'
import { AgentStateSampleRepository } from './store/sql/agent-state-samples.js'
import { createRecordingService } from './recordings/recording-service.js'
import { PiiCipher } from './security/pii-cipher.js'
import { sealLeadNumbers } from './security/seal-lead-numbers.js'
import { sealDncNumbers } from './security/seal-dnc-numbers.js'

/** Where the demo keeps the admin API key it made (readable by this user only): never in the log. */
const DEMO_KEY_FILE = resolve('.cadence/admin-api-key')

function demoAdminKey(config: Config, log: Logger): Config {
  if (config.api.adminKey !== undefined) return config
  mkdirSync(dirname(DEMO_KEY_FILE), { recursive: true })
  let key: string
  if (existsSync(DEMO_KEY_FILE)) key = readFileSync(DEMO_KEY_FILE, 'utf8').trim()
  else {
    key = `cad_${randomBytes(24).toString('base64url')}`
    writeFileSync(DEMO_KEY_FILE, `${key}\n`, { mode: 0o600 })
  }
  chmodSync(DEMO_KEY_FILE, 0o600)
  log.info({ file: DEMO_KEY_FILE }, 'demo: an admin API key is in this file (set CADENCE_ADMIN_API_KEY to choose your own)')
  return { ...config, api: { ...config.api, adminKey: key } }
}

/** Where the embedded default keeps its personal-data keys when CADENCE_PII_KEYS is unset. */
const PII_KEY_FILE = resolve('.cadence/pii-keys.json')

function embeddedPiiKeys(config: Config, log: Logger): Config {
  if (config.pii !== undefined) return config
  const { ring, created } = embeddedKeyring(PII_KEY_FILE)
  log.info(
    { file: PII_KEY_FILE, created },
    'personal data is encrypted with keys kept in this file (set CADENCE_PII_KEYS and CADENCE_PII_LOOKUP_KEY at a real site)',
  )
  return { ...config, pii: ring }
}

/** A control for an API-only process: it reads figures nobody runs here and refuses to drive campaigns. */
function remoteOnlyControl(): CampaignControl {
  const refuse = async (): Promise<void> => {
    throw new Error('this process runs the API role only: start campaigns on an engine instance')
  }
  return { start: refuse, pause: refuse, stop: refuse, figures: async () => undefined, agents: async () => [] }
}

/** The announcement recordings, or a ConfigError naming each bad file (start-up exits 2). */
function announcementTemplatesFrom(dir: string): Template[] {
  try {
    return loadAnnouncementTemplates(dir)
  } catch (err) {
    if (err instanceof AnnouncementTemplateError) throw new ConfigError(err.problems.map((p) => `CADENCE_ANNOUNCEMENTS_DIR: ${p}`))
    throw err
  }
}

/** The inbound numbers file, or a ConfigError naming each problem (start-up exits 2). */
function inboundNumbersFrom(file: string): InboundNumber[] {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ConfigError([`CADENCE_INBOUND_FILE: ${file}: ${err instanceof Error ? err.message : String(err)}`])
  }
  try {
    return validateInboundNumbers(raw)
  } catch (err) {
    throw new ConfigError((err instanceof Error ? err.message : String(err)).split('; ').map((p) => `CADENCE_INBOUND_FILE: ${p}`))
  }
}

async function main(): Promise<void> {
  let config: Config
  let inbound: InboundNumber[] | undefined
  let trunks: TrunksFile | undefined
  let announcements: Template[] | undefined
  try {
    config = loadConfig()
    // a real site's trunks are checked before anything starts: a typo in a gateway must not surface at the first dial
    if (config.telephony.drachtio !== undefined && config.telephony.trunksFile !== undefined) {
      trunks = loadTrunksFile(config.telephony.trunksFile)
    }
    // so are the announcements it listens for: a site that thinks it screens them must not run without them
    if (config.telephony.drachtio !== undefined && config.telephony.announcementsDir !== undefined) {
      announcements = announcementTemplatesFrom(config.telephony.announcementsDir)
    }
    if (config.telephony.drachtio !== undefined && config.telephony.inboundFile !== undefined) {
      inbound = inboundNumbersFrom(config.telephony.inboundFile)
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const log = pino({ level: config.log.level, base: { service: 'cadence' } })
  log.info({ config: describeConfig(config) }, 'Cadence starting')

  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 3, lazyConnect: true })
  try {
    await redis.connect()
    await redis.ping()
  } catch (err) {
    log.fatal(
      { err: String(err), redis: config.redis.url.replace(/\/\/[^@]*@/, '//***@') },
      'Redis is unreachable: start it (e.g. `bash .ci/setup`) or point REDIS_URL at one',
    )
    process.exit(1)
  }
  redis.on('error', (err) => log.error({ err: String(err) }, 'Redis connection error'))

  const { db, applied, schemaVersion } = await openMigratedDb(config.database)
  log.info({ driver: db.driver, schemaVersion, applied }, 'database ready')
  const piiRing = embeddedPiiKeys(config, log).pii!
  const pii = new PiiCipher(piiRing)
  // Before anything dials or imports: leads an older version stored in the clear are sealed (schema 0017).
  const sealed = await sealLeadNumbers(db, pii)
  if (sealed > 0) log.info({ sealed }, 'lead numbers stored in the clear by an earlier version are now encrypted')
  const dncSealed = await sealDncNumbers(db, pii)
  if (dncSealed.sealed + dncSealed.duplicates > 0) log.info(dncSealed, 'DNC numbers stored in the clear by an earlier version are now encrypted')
  const repos = repositories(db, pii)

  const registry = createProcessRegistry()
  const metrics = createEngineMetrics(registry)

  const instanceId = `engine-${randomUUID().slice(0, 8)}`
  const keys = new CadenceKeys(config.redis.keyPrefix.replace(/:+$/, ''))
  const dncStore = new RedisDncStore(redis, keys.prefix, phoneHasher(pii))
  const invalidNumbers = new RedisInvalidNumberStore(redis, keys.prefix, phoneHasher(pii))
  // PostgreSQL holds the DNC lists durably; Redis (which keeps nothing on disk here) is refilled from it at start.
  const mirrored = await syncDncMirror(db, pii, dncStore)
  log.info({ entries: mirrored.entries }, 'DNC lists loaded into Redis from the database')
  // an earlier version kept listed numbers in the clear in Redis; they are hashed now (and were just mirrored so)
  const purged = await dncStore.purgeClearNumbers()
  if (purged > 0) log.info({ purged }, 'DNC numbers an earlier version kept in the clear in Redis removed')
  const rehashed = await invalidNumbers.rehashClearEntries()
  if (rehashed > 0) log.info({ rehashed }, 'learned-invalid numbers an earlier version kept in the clear in Redis now keyed by hash')
  let control: CampaignControl = remoteOnlyControl()
  const stoppers: Array<() => Promise<void>> = []

  if (config.roles.includes('engine')) {
    const telephony = config.telephony
    if (telephony.drachtio !== undefined && trunks !== undefined) {
      const drachtio = telephony.drachtio
      const clock = new RealClock()
      // recordings: registered in the database as calls end, processed on the media workers (README "Media analysis")
      const recording = config.recording.enabled
        ? createRecordingService({
            config: config.recording,
            db,
            pii,
            clock,
            logger: log,
            owner: instanceId,
            maxCallMs: telephony.maxCallMs,
            metrics,
          })
        : undefined
      const sip = createSipEngine({
        clock,
        redis,
        keys,
        repos,
        metrics,
        logger: log,
        instanceId,
        telephony: { ...telephony, drachtio },
        trunks,
        db,
        ...(announcements ? { announcements } : {}),
        ...(inbound ? { inbound } : {}),
        ...(recording ? { recording: recording.policy } : {}),
        overrides: { events: new RedisEventStream(redis, keys) },
      })
      control = sip.runtime
      recording?.start()
      // the API and metrics come up even while drachtio is unreachable; dialing starts once it accepts us
      void sip.connect().catch((err: unknown) => log.error({ err }, 'SIP engine failed to start its media endpoint or drachtio connection'))
      // campaigns set running through the API (or left running by an engine that died) are paced by this instance
      sip.runtime.startAdoption(15_000)
      const sampler = new AgentStateSampler({ source: sip.acd, sink: new AgentStateSampleRepository(db), clock, log })
      sampler.start()
      stoppers.push(async () => {
        sampler.stop()
        await sip.stop()
        // after the calls: the last recordings are registered before the processor stops
        await recording?.stop()
      })
    } else if (!config.demo.enabled) {
      log.warn('the engine has no site to dial: set DRACHTIO_ADDRESS (with DRACHTIO_SECRET and CADENCE_TRUNKS_FILE), or CADENCE_DEMO=true for the simulated site')
    } else {
      const clock = new ScaledClock(config.sim.speed)
      const { runtime, desk, acd } = createSimulatedEngine({
        clock,
        redis,
        keys,
        repos,
        metrics,
        logger: log,
        scenario: parseScenario({ agents: demoAgentIds().length }),
        seed: Date.now() % 1_000_000,
        instanceId,
        overrides: { events: new RedisEventStream(redis, keys) },
      })
      control = runtime
      const demo = await ensureDemo(repos)
      if (demo.created) log.info({ campaignId: DEMO_CAMPAIGN_ID, leads: demo.leads }, 'demo: campaign, agents and leads created')
      await desk.loginAll(demoAgentIds())
      try {
        await runtime.start(DEMO_CAMPAIGN_ID)
      } catch (err) {
        if (!(err instanceof CampaignControlRefused)) throw err
        log.warn(
          { campaignId: DEMO_CAMPAIGN_ID, reason: err.message },
          'demo: another instance paces the campaign (or a killed run still holds its lease); this one takes over when that lease runs out',
        )
      }
      await repos.campaigns.setState(DEMO_CAMPAIGN_ID, 'running')
      // Campaigns left running by an engine that died are taken over by this one.
      runtime.startAdoption(15_000)
      log.info(
        { campaignId: DEMO_CAMPAIGN_ID, agents: demoAgentIds().length, speed: config.sim.speed },
        'demo: predictive campaign dialing the simulated carrier (CADENCE_SIM_SPEED=60 runs a minute per second)',
      )
      const status = setInterval(() => {
        void runtime
          .figures(DEMO_CAMPAIGN_ID)
          .then((f) => {
            if (!f) return
            log.info(
              {
                lines: f.linesInFlight,
                agents: f.agents,
                dialsToday: f.dialsToday,
                liveAnswersToday: f.liveAnswersToday,
                abandonDay: Number((f.abandonRatio.day * 100).toFixed(2)),
                hopper: f.hopperSize,
              },
              'demo: campaign status (abandonDay in %, live answers as denominator)',
            )
          })
          .catch((err: unknown) => log.warn({ err }, 'could not read the demo figures'))
      }, 15_000)
      // Time per agent state for reports: the ACD's counters sampled every minute of the site's clock.
      const sampler = new AgentStateSampler({ source: acd, sink: new AgentStateSampleRepository(db), clock, log })
      sampler.start()
      stoppers.push(async () => {
        clearInterval(status)
        sampler.stop()
        desk.stop()
        await runtime.shutdown()
      })
    }
  }

  if (config.roles.includes('api')) {
    const withKey = { ...(config.demo.enabled ? demoAdminKey(config, log) : config), pii: piiRing }
    const app = await buildApp({
      config: withKey,
      db,
      control,
      logger: log,
      metricsRegistry: registry,
      redis,
      dncStore,
      invalidNumbers,
      events: { redis, stream: new RedisEventStream(redis, keys) },
      authRevocations: { redis, keys },
    })
    const address = await app.listen({ host: config.api.host, port: config.api.port })
    log.info(
      { address },
      `API ready: ${address}/v1/campaigns/${DEMO_CAMPAIGN_ID}/figures (header "authorization: Bearer <key>"), ` +
        `${address}/metrics, ${address}/health`,
    )
    stoppers.unshift(() => app.close())
  }

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'Cadence stopping: no new calls; closing the API, Redis and the database')
    void (async () => {
      for (const s of stoppers) await s().catch((err: unknown) => log.error({ err }, 'error while stopping'))
      await redis.quit().catch(() => undefined)
      await db.close().catch(() => undefined)
      process.exit(0)
    })()
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  process.stderr.write(`Cadence failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
