import t from 'tap'
import { testPii } from '../fixtures/pii.js'
import { CampaignControlRefused } from '../../engine/campaign/control.js'
import type { ApiKey } from '../../engine/store/sql/api-keys.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { ApiKeyCache } from '../../api/plugins/api-key-cache.js'
import { routeTable } from '../../api/plugins/openapi.js'
import { createTestDb } from '../store/sql/databases.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness } from './harness.js'
import { phoneHasher, RedisDncStore } from '../../engine/store/redis/dnc-store.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { problem } from './problem-assert.js'

// HTTP-level behaviour that does not depend on the driver: one (fast) PostgreSQL database for the whole file.
const test = await createTestDb('pg')
t.teardown(() => test.dispose())
const db = test.db
const env = redisEnv('api-matrix')
t.teardown(() => env.cleanup())
const h = await harness(db, { extra: { dncStore: new RedisDncStore(env.connect(), env.prefix, phoneHasher(testPii())) } })
t.teardown(() => h.app.close())
const { app, auth } = h

t.test('the OpenAPI document lists every route, with its security and roles', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200, 'public')
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { security?: unknown[]; description?: string }>> }>()
  t.match(doc.openapi, /^3\./)
  const routes = routeTable(app).filter((r) => r.method !== 'HEAD' && !r.url.startsWith('/docs'))
  t.ok(routes.length >= 20, `${routes.length} routes`)
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const op = doc.paths[path]?.[r.method.toLowerCase()]
    t.ok(op, `${r.method} ${r.url} is in the document`)
  }
  const dnc = doc.paths['/v1/dnc']!['post']!
  t.same(dnc.security, [{ apiKey: [] }])
  t.match(dnc.description, /Roles: admin, supervisor\./)
  t.same(doc.paths['/health']!['get']!.security, [], 'open routes say so')
  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200, 'the UI is served')
  t.match(ui.headers['content-type'], /html/)
})

t.test('an engine refusal is a 409 problem with its reason, and nothing changes', async (t) => {
  const c = await repositories(db).campaigns.create({ name: 'Refused', settings: settings() })
  h.control.failNext = new CampaignControlRefused(`cannot start campaign ${c.id}: no agent is logged in`)
  const p = problem(t, await app.inject({ method: 'POST', url: `/v1/campaigns/${c.id}/start`, headers: auth('admin') }), 409)
  t.equal(p.type, '/problems/campaign-refused')
  t.match(p.detail, /no agent is logged in/)
  t.equal((await repositories(db).campaigns.get(c.id))!.state, 'stopped')
  // Anything else the engine throws is still a 500 that reveals nothing.
  h.control.failNext = new Error('redis at 10.0.0.7 down')
  const five = problem(t, await app.inject({ method: 'POST', url: `/v1/campaigns/${c.id}/start`, headers: auth('admin') }), 500)
  t.notMatch(five.detail, /10\.0\.0\.7/)
})

t.test('API-key cache: reads within the TTL do not reach the database; revocation is honoured at once', async (t) => {
  const repo = repositories(db).apiKeys
  let lookups = 0
  const counting = { findActiveByKey: (k: string): Promise<ApiKey | undefined> => (lookups++, repo.findActiveByKey(k)) }
  let now = 1_000_000
  const cache = new ApiKeyCache(counting, { ttlMs: 5000, now: () => now })
  t.teardown(() => cache.close())
  const { key, apiKey } = await repo.create({ name: 'cached', role: 'qa' })
  t.equal((await cache.findActiveByKey(key))?.id, apiKey.id)
  t.equal((await cache.findActiveByKey(key))?.id, apiKey.id)
  t.equal(lookups, 1, 'second read from the cache')
  now += 5001
  await cache.findActiveByKey(key)
  t.equal(lookups, 2, 'after the TTL it asks again')
  t.equal(await cache.findActiveByKey('cad_unknown'), undefined)
  t.equal(await cache.findActiveByKey('cad_unknown'), undefined)
  t.equal(lookups, 4, 'unknown keys are not cached')
  await repositories(db).apiKeys.revoke(apiKey.id)
  t.equal(await cache.findActiveByKey(key), undefined, 'revoked through another repository: gone at once')

  // Through the app: a revoked key is refused on the next request even though it was just cached.
  const { key: k2, apiKey: a2 } = await repo.create({ name: 'app-cached', role: 'admin' })
  const headers = { authorization: `Bearer ${k2}` }
  t.equal((await app.inject({ method: 'GET', url: '/v1/campaigns', headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/v1/campaigns', headers })).statusCode, 200)
  await repo.revoke(a2.id)
  problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns', headers }), 401)
})
