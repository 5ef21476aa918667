/**
 * Logins and tenants: a user logs in for a short-lived token that works until logout or expiry; site admins manage
 * only their own site's users and keys, and another site's records look missing (404), never forbidden.
 */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db)
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  await repos.sites.create({ id: 'shenzhen', name: 'Shenzhen floor', timeZone: 'Asia/Shanghai' })
  const agentSz = await repos.agents.create({ name: 'Li Na', siteId: 'shenzhen' })

  await t.test('login answers a token that authenticates; wrong password and unknown email look the same', async (t) => {
    await repos.users.create({ name: 'Wang', email: 'Wang@Example.cn', role: 'supervisor', password: 'correct horse 1', siteId: 'shenzhen' })
    const ok = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'wang@example.cn', password: 'correct horse 1' } })
    t.equal(ok.statusCode, 200, ok.body)
    const { token, user } = ok.json<{ token: string; expiresAt: string; user: { siteId: string; role: string } }>()
    t.match(token, /^cat_/)
    t.equal(user.siteId, 'shenzhen')
    const me = await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) })
    t.same(me.json(), { kind: 'user', id: me.json<{ id: string }>().id, name: 'Wang', role: 'supervisor', siteId: 'shenzhen', agentId: null })

    const wrong = problem(t, await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'wang@example.cn', password: 'nope nope nope' } }), 401)
    const unknown = problem(t, await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'who@example.cn', password: 'nope nope nope' } }), 401)
    t.equal(wrong.detail, unknown.detail)
    t.notOk(h.logLines.some((l) => l.includes('correct horse') || l.includes(token)), 'neither password nor token logged')

    t.equal((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(token) })).statusCode, 204)
    problem(t, await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) }), 401)
  })

  await t.test('an expired token and a disabled user are refused', async (t) => {
    const u = await repos.users.create({ name: 'Zhao', email: 'zhao@example.cn', role: 'qa', password: 'long enough pw', siteId: 'shenzhen' })
    const { token } = await repos.userTokens.issue(u.id, 60)
    t.equal((await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) })).statusCode, 200)
    await db.query(`UPDATE user_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [u.id])
    problem(t, await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) }), 401)

    const { token: t2 } = await repos.userTokens.issue(u.id, 60)
    const disabled = await app.inject({ method: 'POST', url: `/v1/users/${u.id}/disable`, headers: auth('admin') })
    t.equal(disabled.statusCode, 200, disabled.body)
    problem(t, await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(t2) }), 401)
    problem(t, await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'zhao@example.cn', password: 'long enough pw' } }), 401)
  })

  await t.test('a site admin manages only its own site; other sites look missing', async (t) => {
    const szAdmin = (await repos.apiKeys.create({ name: 'sz-admin', role: 'admin', siteId: 'shenzhen' })).key
    const created = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(szAdmin),
      payload: { name: 'Li Na', email: 'lina@example.cn', role: 'agent', password: 'agent password', agentId: agentSz.id },
    })
    t.equal(created.statusCode, 201, created.body)
    t.equal(created.json<{ siteId: string }>().siteId, 'shenzhen', 'placed in the admin’s own site')

    const elsewhere = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(szAdmin),
      payload: { name: 'X', email: 'x@example.cn', role: 'qa', password: 'qa password!', siteId: 'default' },
    })
    problem(t, elsewhere, 403)
    problem(t, await app.inject({ method: 'POST', url: '/v1/sites', headers: bearer(szAdmin), payload: { id: 'x', name: 'X' } }), 403)

    const listed = (await app.inject({ method: 'GET', url: '/v1/users', headers: bearer(szAdmin) })).json<{ items: Array<{ siteId: string }> }>()
    t.ok(listed.items.length >= 1 && listed.items.every((u) => u.siteId === 'shenzhen'))

    // A default-site key: the shenzhen admin cannot see it, and revoking it answers 404 like a missing key.
    const other = await repos.apiKeys.create({ name: 'default-qa', role: 'qa' })
    const keys = (await app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(szAdmin) })).json<{ items: Array<{ id: string }> }>()
    t.notOk(keys.items.some((k) => k.id === other.apiKey.id))
    const foreign = problem(t, await app.inject({ method: 'DELETE', url: `/v1/api-keys/${other.apiKey.id}`, headers: bearer(szAdmin) }), 404)
    const missing = problem(t, await app.inject({ method: 'DELETE', url: '/v1/api-keys/no-such-key', headers: bearer(szAdmin) }), 404)
    t.equal(foreign.type, missing.type)

    const sites = (await app.inject({ method: 'GET', url: '/v1/sites', headers: bearer(szAdmin) })).json<{ items: Array<{ id: string }> }>()
    t.same(sites.items.map((s) => s.id), ['shenzhen'])
  })

  await t.test('an agent user must name an agent of its site; keys answer their secret once', async (t) => {
    problem(t, await app.inject({
      method: 'POST', url: '/v1/users', headers: auth('admin'),
      payload: { name: 'A', email: 'a@example.cn', role: 'agent', password: 'agent password', siteId: 'default' },
    }), 400)
    problem(t, await app.inject({
      method: 'POST', url: '/v1/users', headers: auth('admin'),
      payload: { name: 'A', email: 'a@example.cn', role: 'agent', password: 'agent password', siteId: 'default', agentId: agentSz.id },
    }), 400)
    problem(t, await app.inject({
      method: 'POST', url: '/v1/users', headers: auth('admin'),
      payload: { name: 'Q', email: 'q@example.cn', role: 'qa', password: 'qa password!', siteId: null },
    }), 400)
    const key = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: auth('admin'), payload: { name: 'crm', role: 'supervisor', siteId: 'shenzhen' } })
    t.equal(key.statusCode, 201, key.body)
    const { key: secret, apiKey } = key.json<{ key: string; apiKey: { id: string; siteId: string } }>()
    t.equal(apiKey.siteId, 'shenzhen')
    const me = (await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(secret) })).json<{ siteId: string }>()
    t.equal(me.siteId, 'shenzhen')
    const again = (await app.inject({ method: 'GET', url: '/v1/api-keys', headers: auth('admin') })).body
    t.notOk(again.includes(secret), 'the secret is never listed')
  })
})
