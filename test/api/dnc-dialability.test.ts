import t from 'tap'
import { testPii } from '../fixtures/pii.js'
import { keyringEnv } from '../../engine/security/pii-cipher.js'
import { phoneHasher, RedisDncStore } from '../../engine/store/redis/dnc-store.js'
import { RedisInvalidNumberStore } from '../../engine/store/redis/invalid-numbers.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { forEachDriver } from '../store/sql/databases.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

const env = redisEnv('api-dnc')
const redis = env.connect()
t.teardown(() => env.cleanup())

forEachDriver(t, async (t, db) => {
  // One Redis prefix per driver run, so the two runs do not see each other's lists.
  const prefix = `${env.prefix}:${db.driver}`
  const dncStore = new RedisDncStore(redis, prefix, phoneHasher(testPii()))
  const invalidNumbers = new RedisInvalidNumberStore(redis, prefix, phoneHasher(testPii()))
  // one deployment's keys: a second API process (below) reads the numbers this one sealed
  const keys = keyringEnv()
  const h = await harness(db, { env: keys, extra: { dncStore, invalidNumbers } })
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db, h.pii)
  const campaign = await repos.campaigns.create({ name: 'Renewals', settings: settings({ dialMode: 'progressive' }) })
  const otherCampaign = await repos.campaigns.create({ name: 'Other', settings: settings() })
  const post = (payload: object, role: 'admin' | 'supervisor' | 'qa' | 'agent' = 'supervisor') =>
    app.inject({ method: 'POST', url: '/v1/dnc', headers: auth(role), payload })

  await t.test('add numbers and prefixes: durable in PostgreSQL, mirrored on Redis, idempotent', async (t) => {
    const a = await post({ number: '138 1234 5678', region: 'CN', reason: 'complaint' })
    t.equal(a.statusCode, 201, a.body)
    const entry = a.json()
    t.match(entry, { kind: 'number', number: '+8613812345678', scope: 'global', reason: 'complaint' })
    t.equal(a.headers['location'], `/v1/dnc/${entry.id}`)
    const again = await post({ number: '+86 13812345678' })
    t.equal(again.statusCode, 200, 'already listed: the existing entry')
    t.equal(again.json().id, entry.id)

    const p = await post({ prefix: '1201XXXXXXX', campaignId: campaign.id })
    t.equal(p.statusCode, 201, p.body)
    t.match(p.json(), { kind: 'prefix', number: '+1201', scope: 'campaign', campaignId: campaign.id })

    const snap = await dncStore.snapshot(campaign.id, ['+8613812345678', '+12015550100'])
    t.ok(snap.isGlobal('+8613812345678'), 'the engine sees the number')
    t.same(snap.prefixMatch(campaign.id, '+12015550100'), { prefix: '+1201', scope: 'campaign' })
    const other = await dncStore.snapshot(otherCampaign.id, ['+12015550100'])
    t.equal(other.prefixMatch(otherCampaign.id, '+12015550100'), undefined, "a campaign's prefix stays in its campaign")
    t.equal((await repos.dnc.list({ scope: 'all' }, { limit: 10, offset: 0 })).total, 2)
  })

  await t.test('list is paged and filtered; remove takes an entry off both stores', async (t) => {
    await post({ number: '+8613900000001', campaignId: otherCampaign.id })
    const all = await app.inject({ method: 'GET', url: '/v1/dnc?limit=2', headers: auth('qa') })
    t.equal(all.statusCode, 200)
    t.equal(all.json().total, 3)
    t.equal(all.json().items.length, 2)
    const second = await app.inject({ method: 'GET', url: '/v1/dnc?limit=2&offset=2', headers: auth('qa') })
    t.equal(second.json().items.length, 1)
    const global = await app.inject({ method: 'GET', url: '/v1/dnc?scope=global', headers: auth('admin') })
    t.same(global.json().items.map((e: { number: string }) => e.number), ['+8613812345678'])
    const mine = await app.inject({ method: 'GET', url: `/v1/dnc?campaignId=${otherCampaign.id}`, headers: auth('admin') })
    t.same(mine.json().items.map((e: { number: string }) => e.number), ['+8613900000001'])
    const byNumber = await app.inject({ method: 'GET', url: '/v1/dnc?number=13900000001&region=CN', headers: auth('admin') })
    t.equal(byNumber.json().total, 1)

    const id = mine.json().items[0].id
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/dnc/${id}`, headers: auth('admin') })).statusCode, 204)
    const snap = await dncStore.snapshot(otherCampaign.id, ['+8613900000001'])
    t.notOk(snap.isCampaign(otherCampaign.id, '+8613900000001'), 'gone from Redis')
    t.equal(await repos.dnc.get(id), undefined, 'gone from PostgreSQL')
    problem(t, await app.inject({ method: 'DELETE', url: `/v1/dnc/${id}`, headers: auth('admin') }), 404)
  })

  await t.test('bulk import: good rows land on both stores, bad rows reported by line', async (t) => {
    const csv = ['number,prefix,reason', '+8613700000001,,opt-out', 'garbage,,', ',+1 646,area', ',,', '13700000002,,', '+8613700000001,,twice', ',0,bad prefix'].join('\n')
    const res = await app.inject({
      method: 'POST',
      url: `/v1/dnc/imports?campaignId=${campaign.id}&region=CN`,
      headers: { ...auth('admin'), 'content-type': 'text/csv' },
      payload: csv,
    })
    t.equal(res.statusCode, 200, res.body)
    const r = res.json()
    t.match(r, { rowsRead: 7, added: 3, alreadyListed: 1, bad: 3 })
    t.same(r.badRows.map((b: { line: number }) => b.line), [3, 5, 8])
    t.match(r.badRows[0].reason, /^number: invalid/)
    t.match(r.badRows[1].reason, /neither a number nor a prefix/)
    t.match(r.badRows[2].reason, /^prefix: /)
    const snap = await dncStore.snapshot(campaign.id, ['+8613700000001', '+8613700000002', '+16465550100'])
    t.ok(snap.isCampaign(campaign.id, '+8613700000001'))
    t.ok(snap.isCampaign(campaign.id, '+8613700000002'))
    t.same(snap.prefixMatch(campaign.id, '+16465550100'), { prefix: '+1646', scope: 'campaign' })
    problem(t, await app.inject({ method: 'POST', url: '/v1/dnc/imports', headers: { ...auth('admin'), 'content-type': 'text/csv' }, payload: 'name\nx\n' }), 422)
    problem(t, await app.inject({ method: 'POST', url: '/v1/dnc/imports', headers: auth('admin'), payload: { number: '1' } }), 415)
    problem(t, await app.inject({ method: 'POST', url: '/v1/dnc/imports?campaignId=nope', headers: { ...auth('admin'), 'content-type': 'text/csv' }, payload: 'number\n+8613700000003\n' }), 404)
  })

  await t.test('sync rebuilds the Redis lists from PostgreSQL after Redis lost them', async (t) => {
    const before = await dncStore.count({})
    await redis.del(`${prefix}:dnc:global`, `${prefix}:dnc:prefix:campaign:${campaign.id}`, `${prefix}:dnc:campaign:${campaign.id}`)
    t.same(await dncStore.count({}), { numbers: 0, prefixes: 0 }, 'Redis lost the global list')
    problem(t, await app.inject({ method: 'POST', url: '/v1/dnc/sync', headers: auth('supervisor') }), 403)
    const res = await app.inject({ method: 'POST', url: '/v1/dnc/sync', headers: auth('admin') })
    t.equal(res.statusCode, 200, res.body)
    t.equal(res.json().entries, (await repos.dnc.list({ scope: 'all' }, { limit: 1, offset: 0 })).total)
    t.same(await dncStore.count({}), before, 'the global list is back')
    const snap = await dncStore.snapshot(campaign.id, ['+8613700000002', '+12015550100'])
    t.ok(snap.isCampaign(campaign.id, '+8613700000002'))
    t.same(snap.prefixMatch(campaign.id, '+12015550100'), { prefix: '+1201', scope: 'campaign' })
  })

  await t.test('malformed DNC requests are 4xx problem details naming the field', async (t) => {
    const cases: Array<[object, string]> = [
      [{}, 'body.number'],
      [{ number: '+8613812345678', prefix: '+1' }, 'body.prefix'],
      [{ number: 'hello' }, 'body.number'],
      [{ prefix: '0' }, 'body.prefix'],
      [{ number: '+8613812345678', campaignId: 'a b' }, 'body.campaignId'],
      [{ number: '+8613812345678', colour: 'red' }, 'body.colour'],
      [{ number: 12 }, 'body.number'],
    ]
    for (const [payload, field] of cases) t.equal(problem(t, await post(payload), 400).errors?.[0]?.field, field)
    problem(t, await post({ number: '+8613812345678', campaignId: 'no-such' }), 404)
    t.equal(problem(t, await app.inject({ method: 'GET', url: '/v1/dnc?limit=0', headers: auth('admin') }), 400).errors?.[0]?.field, 'querystring.limit')
    t.equal(problem(t, await app.inject({ method: 'GET', url: '/v1/dnc?scope=campaign', headers: auth('admin') }), 400).errors?.[0]?.field, 'querystring.campaignId')
    t.equal(problem(t, await app.inject({ method: 'GET', url: '/v1/dnc?number=zz', headers: auth('admin') }), 400).errors?.[0]?.field, 'querystring.number')
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/dnc/a%20b', headers: auth('admin') }), 400)
  })

  await t.test('roles: agents may not see or change DNC; qa reads only', async (t) => {
    problem(t, await post({ number: '+8613812345679' }, 'agent'), 403)
    problem(t, await post({ number: '+8613812345679' }, 'qa'), 403)
    problem(t, await app.inject({ method: 'GET', url: '/v1/dnc', headers: auth('agent') }), 403)
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/dnc/x', headers: auth('agent') }), 403)
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/dnc/x', headers: auth('qa') }), 403)
    for (const role of ['agent', 'qa'] as const) {
      problem(t, await app.inject({ method: 'POST', url: '/v1/dnc/imports', headers: { ...auth(role), 'content-type': 'text/csv' }, payload: 'number\n+8613812345679\n' }), 403)
    }
  })

  await t.test('a Redis failure changes nothing: 503, and PostgreSQL rolled back', async (t) => {
    const broken = {
      ...dncStore,
      snapshot: dncStore.snapshot.bind(dncStore),
      addNumbers: () => Promise.reject(new Error('connection lost')),
      addPrefixes: () => Promise.reject(new Error('connection lost')),
      removeNumbers: () => Promise.reject(new Error('connection lost')),
      removePrefixes: () => Promise.reject(new Error('connection lost')),
    }
    const h2 = await harness(db, { migrated: true, env: keys, extra: { dncStore: broken } })
    t.teardown(() => h2.app.close())
    const res = await h2.app.inject({ method: 'POST', url: '/v1/dnc', headers: h2.auth('admin'), payload: { number: '+8613812349999' } })
    t.equal(problem(t, res, 503).type, '/problems/not-ready')
    t.equal(await repos.dnc.find(undefined, 'number', '+8613812349999'), undefined, 'not left in PostgreSQL')
    const some = (await repos.dnc.list({ scope: 'all' }, { limit: 1, offset: 0 })).items[0]!
    problem(t, await h2.app.inject({ method: 'DELETE', url: `/v1/dnc/${some.id}`, headers: h2.auth('admin') }), 503)
    t.ok(await repos.dnc.get(some.id), 'still listed in PostgreSQL as on Redis')
  })

  await t.test('dialability: every reason, with retry times, as the dial loop would decide', async (t) => {
    // 03:00 UTC = 11:00 in Shanghai, a Monday: inside the campaign's 09:00-21:00 Monday-Saturday hours.
    const at = '2026-11-23T03:00:00.000Z'
    const { insertedIds } = await repos.leads.insertMany(campaign.id, [
      { phone: '13811112222', region: 'CN' },
      { phone: '+8613812345678' }, // on the global DNC list
      { phone: '13833334444', region: 'CN' },
    ])
    const [fine, listed, recent] = insertedIds as [string, string, string]
    await repos.leads.recordAttempt(recent, { at: Date.parse(at) - 10 * 60_000, status: 'no-answer' })
    const ask = (id: string, query = `?at=${at}`, role: 'admin' | 'qa' | 'agent' = 'qa') =>
      app.inject({ method: 'GET', url: `/v1/leads/${id}/dialability${query}`, headers: auth(role) })

    const stopped = (await ask(fine)).json()
    t.same(stopped.rejections.map((r: { code: string }) => r.code), ['campaign-not-running'])
    t.equal(stopped.dialable, false)
    await repos.campaigns.setState(campaign.id, 'running')

    const ok = await ask(fine)
    t.equal(ok.statusCode, 200, ok.body)
    t.match(ok.json(), { dialable: true, e164: '+8613811112222', timeZone: 'Asia/Shanghai', localTime: '2026-11-23 11:00', rejections: [] })
    t.type(ok.json().nextAttemptAt, 'string')

    const dnc = (await ask(listed)).json()
    t.equal(dnc.dialable, false)
    t.same(dnc.rejections, [{ code: 'dnc-global', detail: 'number is on the global DNC list' }], 'no retryAt: only a human clears it')
    t.notOk('retryAt' in dnc)

    const gap = (await ask(recent)).json()
    t.same(gap.rejections.map((r: { code: string }) => r.code), ['recall-gap'])
    t.equal(gap.rejections[0].retryAt, '2026-11-23T03:50:00.000Z', '60 minutes after the last attempt')
    t.equal(gap.retryAt, '2026-11-23T03:50:00.000Z')

    // 14:00 UTC = 22:00 in Shanghai: outside hours until 09:00 the next day (01:00 UTC).
    const night = (await ask(fine, '?at=2026-11-23T14:00:00Z')).json()
    t.equal(night.rejections[0].code, 'outside-hours')
    t.equal(night.rejections[0].retryAt, '2026-11-24T01:00:00.000Z')

    await repos.leads.setStatus(fine, 'done')
    t.same((await ask(fine)).json().rejections.map((r: { code: string }) => r.code), ['lead-closed'])

    problem(t, await ask('no-such-lead'), 404)
    t.equal(problem(t, await ask(fine, '?at=yesterday'), 400).errors?.[0]?.field, 'querystring.at')
    problem(t, await ask('bad id'), 400)
    problem(t, await ask(fine, '', 'agent'), 403)
  })
})
