/**
 * Every route × every role, and malformed input on every route, walked from the routes the app itself declares
 * (routeTable, which the OpenAPI document is also checked against), so a route added tomorrow is covered without touching this file:
 * - no credentials: 401 on every non-public route;
 * - a role the route does not declare: 403, whatever the request holds (authorization comes before validation);
 * - a role it declares: never 401/403 for a well-formed probe of a missing record, never a 5xx;
 * - malformed bodies, query strings and path parameters: 4xx problem details, never a 5xx, never a stack.
 * Site and ownership scoping (another site's or another agent's record answering 404) are tested per resource
 * beside its routes (campaign-sites, identity, customers...).
 */
import t from 'tap'
import { testPii } from '../fixtures/pii.js'
import type { LightMyRequestResponse } from 'fastify'
import type { UserRole } from '../../engine/store/sql/api-keys.js'
import { UserRoles } from '../../engine/store/sql/api-keys.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { routeTable } from '../../api/plugins/openapi.js'
import { phoneHasher, RedisDncStore } from '../../engine/store/redis/dnc-store.js'
import { RedisInvalidNumberStore } from '../../engine/store/redis/invalid-numbers.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import type { InjectOptions } from 'light-my-request'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
const Methods: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

// Streams answer for as long as the client listens; their auth is covered here, their content by their own tests.
const isStream = (url: string): boolean => /\/(events|stream)(\/|$)/.test(url)

function fill(url: string, value: string): string {
  return url.replace(/:[A-Za-z]+/g, value).replace(/\*$/, value)
}

t.test('authorization matrix and malformed input over every declared route', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const env = redisEnv('api-matrix')
  const redis = env.connect()
  t.teardown(() => env.cleanup())
  const h = await harness(test.db, {
    extra: { dncStore: new RedisDncStore(redis, env.prefix, phoneHasher(testPii())), invalidNumbers: new RedisInvalidNumberStore(redis, env.prefix, phoneHasher(testPii())), redis },
  })
  t.teardown(() => h.app.close())
  const repos = repositories(test.db)
  const agent = await repos.agents.create({ name: 'Matrix Agent' })
  const keys: Record<UserRole, string> = { ...h.keys }
  keys.agent = (await repos.apiKeys.create({ name: 'matrix-agent', role: 'agent', agentId: agent.id })).key
  const as = (role: UserRole) => ({ authorization: `Bearer ${keys[role]}` })

  const routes = routeTable(h.app).filter((r) => Methods.includes(r.method) && !r.url.startsWith('/docs'))
  t.ok(routes.length >= 20, `the app declares ${routes.length} routes`)
  const seen = new Set<string>()
  const unique = routes.filter((r) => {
    const k = `${r.method} ${r.url}`
    return seen.has(k) ? false : (seen.add(k), true)
  })

  const noServerError = (tt: typeof t, res: LightMyRequestResponse, what: string): void => {
    tt.ok(res.statusCode < 500, `${what}: no 5xx (got ${res.statusCode} ${res.body.slice(0, 200)})`)
    if (res.statusCode >= 400) {
      tt.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: problem details`)
      tt.notMatch(res.body, /\bat .+\.(ts|js):\d+/, `${what}: no stack trace`)
    }
  }

  const agentAllowed = unique.filter((r) => r.auth !== 'public' && r.auth?.roles.includes('agent') && /dnc|lead-lists|imports/.test(r.url))
  t.same(agentAllowed, [], 'agents reach no DNC, lead-list or import route')

  for (const route of unique) {
    const method = route.method as Method
    const url = fill(route.url, 'matrix-probe-missing')
    const name = `${method} ${route.url}`
    const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH'
    await t.test(name, async (tt) => {
      if (route.auth === undefined) {
        tt.fail(`${name} declares no auth`)
        return
      }
      if (route.auth === 'public') {
        if (!isStream(route.url)) noServerError(tt, await h.app.inject({ method, url }), `${name} anonymous`)
        return
      }
      const allowed = route.auth.roles
      const anonymous = await h.app.inject({ method, url, ...(hasBody ? { payload: {} } : {}) })
      tt.equal(anonymous.statusCode, 401, `${name}: 401 without credentials`)

      for (const role of UserRoles) {
        const permitted = allowed.includes(role)
        if (!permitted) {
          const res = await h.app.inject({ method, url, headers: as(role), ...(hasBody ? { payload: { junk: true } } : {}) })
          tt.equal(res.statusCode, 403, `${name}: ${role} is refused (allowed: ${allowed.join(', ')})`)
          continue
        }
        if (isStream(route.url)) continue
        const res = await h.app.inject({ method, url, headers: as(role), ...(hasBody ? { payload: {} } : {}) })
        tt.not(res.statusCode, 401, `${name}: ${role} authenticates`)
        tt.not(res.statusCode, 403, `${name}: ${role} is allowed`)
        noServerError(tt, res, `${name} as ${role}`)
      }

      if (isStream(route.url)) return
      const role = allowed[0]!
      const probes: Array<{ what: string; req: InjectOptions }> = [
        { what: 'junk query', req: { method, url: `${url}?limit=-5&offset=abc&zzz=%FF&phone[]=1`, headers: as(role) } },
        { what: 'very long id', req: { method, url: fill(route.url, 'x'.repeat(5000)), headers: as(role) } },
        { what: 'odd id', req: { method, url: fill(route.url, '%00%2F..%2F'), headers: as(role) } },
      ]
      if (hasBody) {
        probes.push(
          { what: 'invalid JSON', req: { method, url, headers: { ...as(role), 'content-type': 'application/json' }, payload: '{"a":' } },
          { what: 'JSON string body', req: { method, url, headers: { ...as(role), 'content-type': 'application/json' }, payload: '"x"' } },
          { what: 'JSON array body', req: { method, url, headers: { ...as(role), 'content-type': 'application/json' }, payload: '[1,2,3]' } },
          { what: 'unknown fields', req: { method, url, headers: as(role), payload: { unexpected: { deep: [1, 2] }, name: 42 } } },
          { what: 'wrong types', req: { method, url, headers: as(role), payload: { name: { $ne: 1 }, email: [], phone: true, settings: 'fast' } } },
          { what: 'xml body', req: { method, url, headers: { ...as(role), 'content-type': 'application/xml' }, payload: '<a/>' } },
        )
      }
      for (const p of probes) {
        const res = await h.app.inject(p.req)
        noServerError(tt, res, `${name} ${p.what}`)
      }
    })
  }
})
