/**
 * A real /metrics scrape of Cadence as `npm start` assembles it: the process registry, the engine runtime dialing a
 * simulated campaign over real Redis and PostgreSQL (its upkeep sets the campaign gauges), a metered gateway breaker
 * fed gateway results, a drachtio connection to the protocol double, a media worker pool, and the API app built on
 * the same registry, scraped over HTTP (inject). What the dashboards and alert rules query is checked against this.
 */
import pino from 'pino'
import type { Registry } from 'prom-client'
import { buildApp } from '../../api/app.js'
import { loadConfig } from '../../config/config.js'
import { VirtualClock } from '../../engine/clock.js'
import { createEngineMetrics, createProcessRegistry } from '../../engine/campaign/metrics.js'
import { createSimulatedEngine } from '../../engine/campaign/simulated-engine.js'
import type { EngineRuntime } from '../../engine/campaign/runtime.js'
import { keyringEnv } from '../../engine/security/pii-cipher.js'
import type { CampaignSettings } from '../../engine/store/sql/campaigns.js'
import { MeteredGatewayBreaker } from '../../engine/telephony/carriers/metered-gateway-breaker.js'
import { DrachtioConnection } from '../../engine/telephony/drachtio/connection.js'
import { parseScenario } from '../../engine/telephony/sim/scenario.js'
import { MediaWorkerPool } from '../../workers/pool.js'
import { engineTestEnv } from '../campaign/fixtures/engine-env.js'
import { startDrachtioDouble } from '../doubles/drachtio/server.js'
import { parseExposition, type Exposition } from './exposition.js'

/** Tuesday 2026-11-24 10:00 in Shanghai: inside the leads' calling hours. */
const START = Date.parse('2026-11-24T02:00:00Z')
const AGENTS = 4
export const CAMPAIGN_ID = 'camp-observability'
export const TRUNKS = [
  { id: 'trunk-a', gateways: [{ address: 'gw-a1.example:5060' }, { address: 'gw-a2.example:5060' }] },
  { id: 'trunk-b', gateways: [{ address: 'gw-b1.example:5060' }] },
]

function settings(): CampaignSettings {
  return {
    dialMode: 'predictive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: 3,
      safeHarborSeconds: 2,
      amd: true,
    },
    screening: {
      callingHours: { start: '09:00', end: '21:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
      minRecallGapMinutes: 30,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 3, maxAttemptsPer24h: 2, maxAttemptsPer7d: 3, maxLines: 1000, callsPerSecond: 20 },
  }
}

export interface EngineScrape {
  /** The parsed exposition of GET /metrics. */
  exposition: Exposition
  /** The raw text, for messages. */
  text: string
  /** The registry the app served (to compare with what it registers). */
  registry: Registry
  /** The metered breaker, opened for gw-a1 by three failures. */
  breaker: MeteredGatewayBreaker
  /** The engine's CDRs by outcome in PostgreSQL at scrape time. */
  cdrOutcomes: Record<string, number>
  /** The drachtio connection the scrape watched (connected). */
  connection: DrachtioConnection
  /** The engine runtime, still running the campaign. */
  runtime: EngineRuntime
  /** Scrape /metrics again. */
  rescrape(): Promise<Exposition>
  dispose(): Promise<void>
}

export async function scrapeEngine(): Promise<EngineScrape> {
  const env = await engineTestEnv('observability')
  const disposers: Array<() => Promise<void>> = [() => env.dispose()]
  const dispose = async (): Promise<void> => {
    for (const d of disposers.reverse()) await d()
  }
  try {
    const clock = new VirtualClock(START)
    const logger = pino({ level: 'silent' })
    const registry = createProcessRegistry()
    const metrics = createEngineMetrics(registry)

    // A few simulated minutes of predictive dialing: calls finish (outcomes, waits, talk), and upkeep sets the
    // campaign gauges (lines, abandon ratios and ceilings, agents, hopper, dialing).
    const { repos } = env
    await repos.campaigns.create({ name: 'observability', settings: settings(), id: CAMPAIGN_ID })
    const agentIds = Array.from({ length: AGENTS }, (_, i) => `obs-agent-${i + 1}`)
    for (const id of agentIds) await repos.agents.create({ id, name: `Agent ${id}` })
    const leads = Array.from({ length: 400 }, (_, i) => ({ phone: `+86139${String(20_000_000 + i)}`, timezone: 'Asia/Shanghai' }))
    await repos.leads.insertMany(CAMPAIGN_ID, leads)
    const { runtime, desk } = createSimulatedEngine({
      clock,
      redis: env.redis,
      keys: env.keys,
      repos,
      metrics,
      logger,
      scenario: parseScenario({ agents: AGENTS }),
      seed: 11,
      instanceId: 'obs-engine',
      shiftStartMs: START,
    })
    disposers.push(async () => {
      desk.stop()
      await runtime.shutdown()
    })
    await desk.loginAll(agentIds)
    await runtime.start(CAMPAIGN_ID)
    await env.run(clock, START + 10 * 60_000)
    // Ten minutes under a 3% ceiling rarely drop anyone: one customer who hung up waiting stands for the abandons, so
    // the abandoned side of the queue-wait histogram is in the scrape too.
    metrics.callFinished({
      callId: 'obs-abandoned-1',
      campaignId: CAMPAIGN_ID,
      leadId: 'obs-lead-abandoned',
      outcome: 'abandoned',
      disposition: 'system:abandoned',
      dialedAt: clock.now() - 20_000,
      answeredAt: clock.now() - 2_500,
      endedAt: clock.now(),
      talkSeconds: 0,
      waitSeconds: 2.5,
      abandoned: true,
      abandonKind: 'customer-hangup-waiting',
      endedBy: 'customer',
    })

    // Carrier gateways: gw-a1 fails three times (its breaker opens), gw-a2 and gw-b1 work.
    const breaker = new MeteredGatewayBreaker(clock, metrics, TRUNKS)
    disposers.push(async () => breaker.unwatch())
    for (let i = 0; i < 3; i++) breaker.record('gw-a1.example:5060', false)
    breaker.record('gw-a2.example:5060', true)
    breaker.record('gw-b1.example:5060', true)

    // drachtio: a real connection to the protocol double.
    const double = await startDrachtioDouble({ secret: 'obs-secret' })
    disposers.push(() => double.stop())
    const connection = new DrachtioConnection({ host: '127.0.0.1', port: double.adminPort, secret: 'obs-secret', logger })
    disposers.push(() => connection.stop())
    await connection.start()
    const unwatchDrachtio = metrics.watchDrachtio(`127.0.0.1:${double.adminPort}`, connection)
    disposers.push(async () => unwatchDrachtio())

    // The media worker pool (no thread is started until a task comes).
    const pool = new MediaWorkerPool({ threads: 1, maxQueue: 16 })
    disposers.push(() => pool.close())
    const unwatchPool = metrics.watchWorkerPool('media', pool)
    disposers.push(async () => unwatchPool())

    // The API on the same registry, with the engine runtime as its control: requests fill the latency histogram, the
    // scrape probes PostgreSQL and Redis.
    const app = await buildApp({
      config: loadConfig({ env: { DATABASE_URL: 'memory', ...keyringEnv() } }),
      db: env.db,
      control: runtime,
      logger,
      metricsRegistry: registry,
      redis: env.redis,
    })
    disposers.push(() => app.close())
    const { key } = await repos.apiKeys.create({ name: 'obs-admin', role: 'admin' })
    const authorization = `Bearer ${key}`
    await app.inject({ method: 'GET', url: `/v1/campaigns/${CAMPAIGN_ID}/figures`, headers: { authorization } })
    await app.inject({ method: 'GET', url: '/v1/campaigns/no-such-campaign/figures', headers: { authorization } })
    await app.inject({ method: 'GET', url: '/ready' })
    const scrape = async (): Promise<string> => {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization } })
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
      return res.body
    }
    const text = await scrape()
    const counts = await repos.cdrs.countByOutcome(CAMPAIGN_ID, { from: 0, to: clock.now() + 1 })
    const cdrOutcomes = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)]))
    return {
      exposition: parseExposition(text),
      text,
      registry,
      breaker,
      cdrOutcomes,
      connection,
      runtime,
      rescrape: async () => parseExposition(await scrape()),
      dispose,
    }
  } catch (err) {
    await dispose()
    throw err
  }
}
