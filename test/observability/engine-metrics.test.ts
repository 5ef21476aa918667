/**
 * What the engine's metrics say after real work: a simulated campaign dialed over real Redis and PostgreSQL, gateway
 * results through the metered breaker, a drachtio connection to the protocol double, a worker pool, API requests. The
 * figures must agree with the engine's own records (CDRs, settings, agents), not merely exist.
 */
import t from 'tap'
import pino from 'pino'
import { Redis } from 'ioredis'
import { EngineMetricNames as E, ProcessMetricNames as P } from '../../engine/campaign/metrics.js'
import { ApiMetricNames as A } from '../../api/plugins/metrics.js'
import { harness } from '../api/harness.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { CAMPAIGN_ID, scrapeEngine } from './engine-exposition.js'
import { parseExposition, type Exposition } from './exposition.js'

/** The value of the one sample of `name` whose labels include `labels`. */
function value(x: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = x.familyOf(name)
  const matching = (f?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} samples`)
  return matching[0]?.value
}

t.test('a real engine run exported through the API', async (t) => {
  const scrape = await scrapeEngine()
  t.teardown(() => scrape.dispose())
  const x = scrape.exposition
  const c = { campaign: CAMPAIGN_ID }

  t.test('calls by outcome agree with the CDRs in PostgreSQL', async (t) => {
    const calls = x.familyOf(E.calls)!.samples.filter((s) => s.labels['campaign'] === CAMPAIGN_ID)
    const exported = Object.fromEntries(calls.map((s) => [s.labels['outcome'], s.value]))
    // the scrape adds one abandoned call of its own to the engine's (engine-exposition.ts)
    const expected: Record<string, number> = { ...scrape.cdrOutcomes }
    expected['abandoned'] = (expected['abandoned'] ?? 0) + 1
    t.same(exported, expected)
    t.ok((scrape.cdrOutcomes['connected'] ?? 0) > 0, 'customers reached agents in the run')
    t.equal(value(x, `${E.queueWait}_count`, { ...c, outcome: 'connected' }), scrape.cdrOutcomes['connected'], 'every connected call has its wait observed')
    t.equal(value(x, `${E.queueWait}_count`, { ...c, outcome: 'abandoned' }), expected['abandoned'], 'and every abandoned one')
    t.ok((value(x, E.talkSeconds, c) ?? 0) > 0, 'talk time counted')
  })

  t.test('campaign gauges set by upkeep', async (t) => {
    t.equal(value(x, E.abandonCeiling, { ...c, window: '30d' }), 0.03, 'the campaign ceiling')
    t.equal(value(x, E.abandonCeiling, { ...c, window: 'day' }), 0.03)
    t.equal(value(x, E.abandonCeiling, { ...c, window: 'worst-rolling-hour' }), 0.04, 'the rolling-hour ceiling')
    for (const window of ['day', '30d', 'worst-rolling-hour']) {
      const r = value(x, E.abandonRatio, { ...c, window })
      t.ok(r !== undefined && r >= 0 && r <= 1, `abandon ratio ${window} is a ratio (${r})`)
    }
    t.equal(value(x, E.campaignDialing, c), 1, 'the campaign is dialing')
    const hopper = value(x, E.hopperLeads, c) ?? -1
    t.ok(hopper > 0 && hopper <= 400, `leads wait in the hopper (${hopper} of 400)`)
    const agents = x.familyOf(E.agents)!.samples.filter((s) => s.labels['campaign'] === CAMPAIGN_ID)
    t.equal(agents.reduce((a, s) => a + s.value, 0), 4, 'the four agents, each in one state')
    // (lines in flight + new) / working agents at the last tick: below 1 whenever few calls are up, so only its presence
    // and range are certain here
    const ratio = value(x, E.dialRatio, c)
    t.ok(ratio !== undefined && Number.isFinite(ratio) && ratio >= 0, `a dial ratio (${ratio})`)
    t.ok(value(x, E.linesInFlight, c) !== undefined, 'lines in flight exported')
  })

  t.test('gateways, drachtio and workers', async (t) => {
    const a1 = { trunk: 'trunk-a', gateway: 'gw-a1.example:5060' }
    t.equal(value(x, E.gatewayAttempts, { ...a1, result: 'failed' }), 3)
    t.equal(value(x, E.gatewayAttempts, { ...a1, result: 'ok' }), undefined, 'no success on gw-a1')
    t.equal(value(x, E.gatewayAttempts, { trunk: 'trunk-b', gateway: 'gw-b1.example:5060', result: 'ok' }), 1)
    t.equal(value(x, E.gatewayBreakerOpen, a1), 1, 'gw-a1 breaker open after three failures')
    t.equal(value(x, E.gatewayBreakerOpen, { trunk: 'trunk-a', gateway: 'gw-a2.example:5060' }), 0)
    t.equal(value(x, E.gatewayBreakerOpen, { trunk: 'trunk-b', gateway: 'gw-b1.example:5060' }), 0)
    t.equal(x.familyOf(E.drachtioConnected)?.samples[0]?.value, 1, 'drachtio connected')
    t.equal(value(x, E.workerQueueCapacity, { pool: 'media' }), 16)
    t.equal(value(x, E.workerQueued, { pool: 'media' }), 0)

    scrape.breaker.record('gw-a1.example:5060', true)
    await scrape.connection.stop()
    const after = await scrape.rescrape()
    t.equal(value(after, E.gatewayBreakerOpen, a1), 0, 'a success closes the breaker, and the next scrape says so')
    t.equal(value(after, E.gatewayAttempts, { ...a1, result: 'ok' }), 1)
    t.equal(after.familyOf(E.drachtioConnected)?.samples[0]?.value, 0, 'drachtio down after the connection stops')
  })

  t.test('a stopped campaign leaves no gauge behind, its counters stay', async (t) => {
    await scrape.runtime.stop(CAMPAIGN_ID)
    const after = await scrape.rescrape()
    for (const name of [E.linesInFlight, E.dialRatio, E.hopperLeads, E.campaignDialing, E.abandonRatio, E.abandonCeiling, E.agents]) {
      const left = after.familyOf(name)!.samples.filter((s) => s.labels['campaign'] === CAMPAIGN_ID)
      t.same(left, [], `${name} has no series for the stopped campaign`)
    }
    t.equal(
      after.familyOf(E.calls)!.samples.filter((s) => s.labels['campaign'] === CAMPAIGN_ID).reduce((a, s) => a + s.value, 0),
      Object.values(scrape.cdrOutcomes).reduce((a, n) => a + n, 0) + 1,
      'calls_total kept',
    )
  })

  t.test('API and process', async (t) => {
    const figures = { method: 'GET', route: '/v1/campaigns/:id/figures' }
    t.equal(value(x, `${A.httpDuration}_count`, { ...figures, status_code: '200' }), 1)
    t.equal(value(x, `${A.httpDuration}_count`, { ...figures, status_code: '404' }), 1)
    t.equal(value(x, A.dependencyUp, { dependency: 'postgres' }), 1)
    t.equal(value(x, A.dependencyUp, { dependency: 'redis' }), 1)
    for (const name of Object.values(P)) t.ok(x.familyOf(name), `${name} exported`)
    for (const name of Object.values(E)) t.ok(x.familyOf(name), `${name} exported`)
  })
})

t.test('a dependency that does not answer reads 0, one not configured has no series', async (t) => {
  const pg = await createPgTestDb()
  t.teardown(() => pg.dispose())
  const db = pg.db
  // Nothing listens on port 1: the probe fails at once with ECONNREFUSED.
  const deadRedis = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  deadRedis.on('error', () => undefined)
  t.teardown(() => deadRedis.disconnect())
  const h = await harness(db, { extra: { redis: deadRedis, readinessTimeoutMs: 1000, logger: pino({ level: 'silent' }) } })
  t.teardown(() => h.app.close())
  const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: h.auth('admin') })
  t.equal(res.statusCode, 200)
  const x = parseExposition(res.body)
  t.equal(value(x, A.dependencyUp, { dependency: 'redis' }), 0, 'Redis down')
  t.equal(value(x, A.dependencyUp, { dependency: 'postgres' }), 1, 'PostgreSQL up')

  const noRedis = await harness(db, { migrated: true, extra: { logger: pino({ level: 'silent' }) } })
  t.teardown(() => noRedis.app.close())
  const plain = parseExposition((await noRedis.app.inject({ method: 'GET', url: '/metrics', headers: noRedis.auth('admin') })).body)
  t.equal(value(plain, A.dependencyUp, { dependency: 'redis' }), undefined, 'no Redis configured: no series')
  t.equal(value(plain, A.dependencyUp, { dependency: 'postgres' }), 1)
})
