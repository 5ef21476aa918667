import t from 'tap'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'


forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h

  await t.test('authorization: 401 without or with a bad key, 403 for a role the route does not allow', async (t) => {
    const none = await app.inject({ method: 'GET', url: '/v1/campaigns' })
    const p = problem(t, none, 401)
    t.equal(p.type, '/problems/unauthenticated')
    t.equal(none.headers['www-authenticate'], 'Bearer')

    problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns', headers: { authorization: 'Basic abc' } }), 401)
    problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns', headers: { authorization: 'Bearer nope' } }), 401)

    const agent = await app.inject({ method: 'GET', url: '/v1/campaigns', headers: auth('agent') })
    t.match(problem(t, agent, 403).detail, /role agent may not GET/)
    const qaCreate = await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('qa'), payload: { name: 'x' } })
    problem(t, qaCreate, 403)
    t.equal((await app.inject({ method: 'GET', url: '/v1/campaigns', headers: auth('qa') })).statusCode, 200)

    // Authentication comes before validation: an anonymous malformed request learns nothing about the schema.
    problem(t, await app.inject({ method: 'POST', url: '/v1/campaigns', payload: { nonsense: 1 } }), 401)

    const repos = repositories(db)
    const { key, apiKey } = await repos.apiKeys.create({ name: 'temp', role: 'admin' })
    const withKey = { authorization: `Bearer ${key}` }
    t.equal((await app.inject({ method: 'GET', url: '/v1/campaigns', headers: withKey })).statusCode, 200)
    await repos.apiKeys.revoke(apiKey.id)
    problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns', headers: withKey }), 401)
  })

  await t.test('create a campaign: defaults filled, location, audit entry', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: auth('supervisor'),
      payload: { name: 'Car insurance renewals', settings: { dialMode: 'predictive', pacing: { abandonCeiling: 0.02 } } },
    })
    t.equal(res.statusCode, 201)
    const c = res.json()
    t.equal(res.headers['location'], `/v1/campaigns/${c.id}`)
    t.equal(c.name, 'Car insurance renewals')
    t.equal(c.state, 'stopped')
    t.equal(c.settings.dialMode, 'predictive')
    t.equal(c.settings.pacing.abandonCeiling, 0.02)
    t.equal(c.settings.pacing.maxLinesPerAgent, 3, 'unspecified settings take their defaults')
    t.same(c.settings.screening.callingHours, { start: '09:00', end: '21:00', weekdays: [1, 2, 3, 4, 5, 6, 7] })
    t.equal(c.settings.caps.maxAttemptsPer24h, 2)
    t.match(c.createdAt, /^\d{4}-\d\d-\d\dT/)

    const got = await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}`, headers: auth('qa') })
    t.same(got.json(), c, 'what was created reads back the same')

    const audit = await repositories(db).audit.list({ entity: 'campaign', entityId: c.id, limit: 5 })
    t.equal(audit.length, 1)
    t.match(audit[0]!.actor, /^api-key:/)
    t.equal(audit[0]!.action, 'create')

    const minimal = await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('admin'), payload: { name: 'm' } })
    t.equal(minimal.statusCode, 201)
    t.same(minimal.json().settings, defaultCampaignSettings(), 'schema defaults = the engine-side defaults')
  })

  await t.test('validation errors are 400 problem details naming the field', async (t) => {
    const post = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('admin'), payload: payload as object })

    const cases: Array<[unknown, string, RegExp]> = [
      [{}, 'body.name', /is required/],
      [{ name: '' }, 'body.name', /fewer than 1|at least|must NOT have fewer/],
      [{ name: 'x', settings: { dialMode: 'turbo' } }, 'body.settings.dialMode', /must be one of "preview", "progressive", "predictive"/],
      [{ name: 'x', settings: { pacing: { abandonCeiling: 0.5 } } }, 'body.settings.pacing.abandonCeiling', /<= 0.2/],
      [{ name: 'x', settings: { pacing: { turbo: true } } }, 'body.settings.pacing.turbo', /not a known property/],
      [
        { name: 'x', settings: { screening: { callingHours: { start: '9am' } } } },
        'body.settings.screening.callingHours.start',
        /pattern/,
      ],
      [
        { name: 'x', settings: { screening: { callingHours: { start: '21:00', end: '09:00' } } } },
        'body.settings.screening.callingHours.end',
        /must be after start/,
      ],
      [{ name: 'x', color: 'red' }, 'body.color', /not a known property/],
    ]
    for (const [payload, field, message] of cases) {
      const p = problem(t, await post(payload), 400)
      t.equal(p.type, '/problems/invalid-request')
      t.equal(p.errors?.[0]?.field, field, `names ${field}`)
      t.match(p.errors?.[0]?.message, message)
      t.match(p.detail, new RegExp(`^${field.replaceAll('.', '\\.')}: `))
    }

    const q = problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns?limit=0', headers: auth('admin') }), 400)
    t.equal(q.errors?.[0]?.field, 'querystring.limit')
    const q2 = problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns?limit=abc', headers: auth('admin') }), 400)
    t.equal(q2.errors?.[0]?.field, 'querystring.limit')

    const badId = problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns/a%20b', headers: auth('admin') }), 400)
    t.equal(badId.errors?.[0]?.field, 'params.id')

    const badJson = await app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { ...auth('admin'), 'content-type': 'application/json' },
      payload: '{"name":',
    })
    problem(t, badJson, 400)
    const wrongType = await app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { ...auth('admin'), 'content-type': 'text/plain' },
      payload: 'name=x',
    })
    problem(t, wrongType, 415)
  })

  await t.test('unknown ids and routes are 404 problem details', async (t) => {
    const p = problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns/no-such-id', headers: auth('admin') }), 404)
    t.equal(p.type, '/problems/not-found')
    t.equal(p.instance, '/v1/campaigns/no-such-id')
    t.type(p.requestId, 'string')
    problem(t, await app.inject({ method: 'POST', url: '/v1/campaigns/no-such-id/start', headers: auth('admin') }), 404)
    problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns/no-such-id/figures', headers: auth('admin') }), 404)
    t.equal(h.control.calls.length, 0, 'the engine is not asked about campaigns that do not exist')
    problem(t, await app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404)
  })

  await t.test('start, pause, stop go through CampaignControl and persist the state', async (t) => {
    const c = (
      await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('admin'), payload: { name: 'Run me' } })
    ).json()
    const act = (action: string, role: 'admin' | 'supervisor' | 'qa' = 'supervisor') =>
      app.inject({ method: 'POST', url: `/v1/campaigns/${c.id}/${action}`, headers: auth(role) })

    const noFigures = problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}/figures`, headers: auth('qa') }), 404)
    t.match(noFigures.detail, /not loaded on any engine/)

    t.match(problem(t, await act('pause'), 409).detail, /cannot pause .* it is stopped/)
    problem(t, await act('start', 'qa'), 403)
    t.same(h.control.calls, [], 'refused actions never reach the engine')

    const started = await act('start')
    t.equal(started.statusCode, 200)
    t.equal(started.json().state, 'running')
    t.same(h.control.calls, [{ action: 'start', campaignId: c.id }])
    t.equal((await repositories(db).campaigns.get(c.id))?.state, 'running', 'persisted for a restart to resume')

    h.control.addAgent({ agentId: 'a1', name: 'Li Na', state: 'ready', since: Date.UTC(2026, 10, 23, 9) }, [c.id])
    h.control.addAgent({ agentId: 'a2', name: 'Wang Fang', state: 'on-call', since: Date.UTC(2026, 10, 23, 9, 5), callId: 'call-9' }, [c.id])
    h.control.addAgent({ agentId: 'a3', name: 'Elsewhere', state: 'paused', since: 0, pauseReason: 'lunch' }, ['other'])
    const figures = await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}/figures`, headers: auth('qa') })
    t.equal(figures.statusCode, 200)
    const f = figures.json()
    t.equal(f.campaignId, c.id)
    t.equal(f.state, 'running')
    t.same(f.agents, { 'logged-out': 0, ready: 1, reserved: 0, 'on-call': 1, 'wrap-up': 0, paused: 0 })
    t.equal(f.abandonRatio.denominator, 'live-answers')
    t.equal(f.hopperSize, 42)

    t.equal((await act('pause')).json().state, 'paused')
    t.equal((await act('start')).json().state, 'running')
    t.equal((await act('stop', 'admin')).json().state, 'stopped')
    t.same(
      h.control.calls.map((x) => x.action),
      ['start', 'pause', 'start', 'stop'],
    )
    const audit = await repositories(db).audit.list({ entity: 'campaign', entityId: c.id, limit: 10 })
    t.same(
      audit.map((a) => a.action),
      ['stop', 'start', 'pause', 'start', 'create'],
      'every change audited, newest first',
    )

    // The engine failing: a 500 problem that leaks nothing, and the stored state stays what it was.
    h.control.failNext = new Error('redis connection lost at 10.0.0.7:6379')
    const failed = problem(t, await act('start'), 500)
    t.notMatch(failed.detail, /10\.0\.0\.7|redis/)
    t.match(failed.detail, /request id/)
    t.equal((await repositories(db).campaigns.get(c.id))?.state, 'stopped')
    t.ok(h.logLines.some((l) => l.includes('redis connection lost')), 'the cause is in the log, for the operator')
  })

  await t.test('list campaigns with paging', async (t) => {
    const all = await app.inject({ method: 'GET', url: '/v1/campaigns?limit=500', headers: auth('qa') })
    const body = all.json()
    t.equal(body.items.length, body.total)
    t.ok(body.total >= 3)
    const page = (await app.inject({ method: 'GET', url: '/v1/campaigns?limit=1&offset=1', headers: auth('qa') })).json()
    t.equal(page.items.length, 1)
    t.equal(page.items[0].id, body.items[1].id)
    t.equal(page.limit, 1)
    t.equal(page.offset, 1)
  })

  await t.test('agents with their live state', async (t) => {
    problem(t, await app.inject({ method: 'GET', url: '/v1/agents', headers: auth('agent') }), 403)
    const res = await app.inject({ method: 'GET', url: '/v1/agents', headers: auth('supervisor') })
    t.equal(res.statusCode, 200)
    const items = res.json().items
    t.equal(items.length, 3)
    t.same(items[1], {
      agentId: 'a2',
      name: 'Wang Fang',
      state: 'on-call',
      since: '2026-11-23T09:05:00.000Z',
      callId: 'call-9',
    })
    const only = (await app.inject({ method: 'GET', url: '/v1/agents?campaignId=other', headers: auth('qa') })).json()
    t.same(only.items.map((a: { agentId: string }) => a.agentId), ['a3'])
    t.equal(only.items[0].pauseReason, 'lunch')
  })

  await t.test('metrics: open by default, with the HTTP latency histogram by route pattern', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain/)
    t.match(res.body, /# TYPE cadence_http_request_duration_seconds histogram/)
    t.match(res.body, /cadence_http_request_duration_seconds_count\{method="GET",route="\/v1\/campaigns\/:id",status_code="200"\} \d+/)
    t.match(res.body, /route="\/v1\/campaigns\/:id",status_code="404"/)
    t.notMatch(res.body, /no-such-id/, 'raw URLs never become labels')
  })
})

t.test('private metrics, bootstrap admin key never logged, routes must declare auth', async (t) => {
  const { createPgTestDb } = await import('../store/sql/databases.js')
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const adminKey = 'boot-admin-key-abcdefghijklmnopqrstuvwxyz'
  const h = await harness(test.db, { env: { CADENCE_METRICS_PUBLIC: 'false', CADENCE_ADMIN_API_KEY: adminKey } })
  t.teardown(() => h.app.close())

  t.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401)
  t.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: h.auth('qa') })).statusCode, 403)
  t.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: h.auth('supervisor') })).statusCode, 200)
  t.equal((await h.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, '/health stays open')

  const asBoot = await h.app.inject({
    method: 'POST',
    url: '/v1/campaigns',
    headers: { authorization: `Bearer ${adminKey}` },
    payload: { name: 'first' },
  })
  t.equal(asBoot.statusCode, 201, 'the bootstrap key is an admin key')
  t.ok(h.logLines.some((l) => l.includes('bootstrap admin API key stored')))
  t.notOk(h.logLines.some((l) => l.includes(adminKey)), 'the key itself is never logged')
  t.notOk(h.logLines.some((l) => l.includes(h.keys.admin)), 'nor any other key')

  // A second start with the same key finds it present.
  const again = await harness(test.db, { migrated: true, env: { CADENCE_ADMIN_API_KEY: adminKey } })
  t.teardown(() => again.app.close())
  t.ok(again.logLines.some((l) => l.includes('bootstrap admin API key present')))

  const { default: Fastify } = await import('fastify')
  const { authPlugin } = await import('../../api/plugins/auth.js')
  const { ApiKeyRepository } = await import('../../engine/store/sql/api-keys.js')
  const bare = Fastify()
  const { UserTokenRepository } = await import('../../engine/store/sql/user-tokens.js')
  await bare.register(authPlugin, { apiKeys: new ApiKeyRepository(test.db), tokens: new UserTokenRepository(test.db) })
  t.throws(() => bare.get('/open-by-mistake', async () => 'x'), /declares no auth/)
  await bare.close()
})
