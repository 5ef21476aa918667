/**
 * Credential caches across API processes, on real PostgreSQL and Redis: two apps over one database and one Redis
 * (two processes as far as caches go), caches set to keep entries for an hour so only a revocation message can drop
 * them. A logout, a revoked API key and a disabled user on one are refused by the other on its next requests; while
 * the revocation feed is down the caches are bypassed; when it is back they start empty.
 */
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import t from 'tap'
import { RedisAuthRevocations, type Revocation, type RevocationFeed, type RevocationListener } from '../../api/auth-revocations.js'
import { ApiKeyCache } from '../../api/plugins/api-key-cache.js'
import { TokenCache } from '../../api/plugins/token-cache.js'
import { ApiKeyRepository } from '../../engine/store/sql/api-keys.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { UserTokenRepository } from '../../engine/store/sql/user-tokens.js'
import { migrate } from '../../engine/store/sql/migrate.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { harness } from './harness.js'

const Hour = 3_600_000

/** Polls until `ok` holds; fails with `what` after `ms`. */
async function eventually(t: Tap, what: string, ok: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > until) {
      t.fail(`${what}: not within ${ms} ms`)
      return
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  t.pass(what)
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

t.test('a revocation on one API process is refused by another', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const env = redisEnv('auth-revocations')
  t.teardown(() => env.cleanup())
  const extra = (redis = env.connect()) => ({ apiKeyCacheTtlMs: Hour, authRevocations: { redis, keys: env.keys, tokenCacheTtlMs: Hour } })
  const a = await harness(test.db, { extra: extra() })
  t.teardown(() => a.app.close())
  const b = await harness(test.db, { migrated: true, extra: extra() })
  t.teardown(() => b.app.close())
  const repos = repositories(test.db)
  await repos.users.create({ name: 'Wang', email: 'wang@example.cn', role: 'supervisor', password: 'correct horse 1', siteId: 'default' })
  const zhao = await repos.users.create({ name: 'Zhao', email: 'zhao@example.cn', role: 'qa', password: 'correct horse 2', siteId: 'default' })
  const login = async (email: string, password: string): Promise<string> => {
    const res = await a.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })
    t.equal(res.statusCode, 200, res.body)
    return res.json<{ token: string }>().token
  }
  const me = async (app: typeof a.app, secret: string): Promise<number> =>
    (await app.inject({ method: 'GET', url: '/v1/auth/me', headers: { authorization: `Bearer ${secret}` } })).statusCode

  await t.test('login tokens are cached: a revocation behind the API is not seen until the cache forgets', async (t) => {
    const token = await login('wang@example.cn', 'correct horse 1')
    t.equal(await me(b.app, token), 200)
    await test.db.query('UPDATE user_tokens SET revoked_at = now()')
    t.equal(await me(b.app, token), 200, 'B answers from its cache (what the revocation message is for)')
    t.equal(await me(a.app, token), 401, 'A never cached it: the database says revoked')
  })

  await t.test('a logout on A: B refuses the token', async (t) => {
    const token = await login('wang@example.cn', 'correct horse 1')
    t.equal(await me(b.app, token), 200, 'B has it cached')
    t.equal((await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: `Bearer ${token}` } })).statusCode, 204)
    t.equal(await me(a.app, token), 401, 'A refuses it on the next request')
    await eventually(t, 'B refuses it once the message arrives', async () => (await me(b.app, token)) === 401)
  })

  await t.test('an API key revoked on A: B refuses it', async (t) => {
    const { key, apiKey } = await repos.apiKeys.create({ name: 'integration', role: 'supervisor' })
    t.equal(await me(b.app, key), 200)
    t.equal(await me(a.app, key), 200)
    const res = await a.app.inject({ method: 'DELETE', url: `/v1/api-keys/${apiKey.id}`, headers: a.auth('admin') })
    t.equal(res.statusCode, 204, res.body)
    t.equal(await me(a.app, key), 401)
    await eventually(t, 'B refuses the key', async () => (await me(b.app, key)) === 401)
  })

  await t.test('a user disabled on A: B refuses every token of theirs', async (t) => {
    const first = await login('zhao@example.cn', 'correct horse 2')
    const second = await login('zhao@example.cn', 'correct horse 2')
    t.equal(await me(b.app, first), 200)
    t.equal(await me(b.app, second), 200)
    const res = await a.app.inject({ method: 'POST', url: `/v1/users/${zhao.id}/disable`, headers: a.auth('admin') })
    t.equal(res.statusCode, 200, res.body)
    await eventually(t, "B refuses both of the user's tokens", async () => (await me(b.app, first)) === 401 && (await me(b.app, second)) === 401)
  })

  await t.test('nothing secret in the log', async (t) => {
    t.notOk([...a.logLines, ...b.logLines].some((l) => /cat_|cad_/.test(l)), 'no token or key in any log line')
  })
})

t.test('RedisAuthRevocations: live only while subscribed; after a lost connection the caches start over', async (t) => {
  const env = redisEnv('auth-feed')
  t.teardown(() => env.cleanup())
  const log = pino({ level: 'silent' })
  const name = `cadence-test-auth-${randomBytes(4).toString('hex')}`
  const here = new RedisAuthRevocations({ redis: env.connect(), channel: env.keys.authRevocations(), log, connectionName: name })
  const there = new RedisAuthRevocations({ redis: env.connect(), channel: env.keys.authRevocations(), log, connectionName: `${name}-other` })
  t.teardown(() => Promise.all([here.close(), there.close()]))
  t.notOk(here.live, 'not live before subscribing')
  await Promise.all([here.ready(), there.ready()])
  t.ok(here.live)
  const heard: Array<Revocation | 'reset'> = []
  here.listen({ revoked: (r) => heard.push(r), reset: () => heard.push('reset') })
  const told: Revocation[] = []
  there.listen({ revoked: (r) => told.push(r), reset: () => undefined })
  const publishing = there.revoked({ kind: 'api-key', id: 'k1' })
  t.same(told, [{ kind: 'api-key', id: 'k1' }], 'the revoking process tells its own listeners before publishing')
  await publishing
  await eventually(t, 'the other process hears it', async () => heard.length === 1)
  t.same(heard, [{ kind: 'api-key', id: 'k1' }])

  // A malformed message (another version, a typo in a script) is ignored, not obeyed nor fatal.
  await env.connect().publish(env.keys.authRevocations(), '{"kind":"api-key"}')

  // Kill exactly this subscriber's connection: ioredis reconnects and subscribes again.
  const admin = env.connect()
  const list = (await admin.client('LIST')) as string
  const id = /id=(\d+) .*name=(\S+)/g
  let killed = false
  for (const m of list.matchAll(id)) {
    if (m[2] === name) {
      await admin.client('KILL', 'ID', m[1]!)
      killed = true
    }
  }
  t.ok(killed, 'found the subscriber connection')
  await eventually(t, 'not live once the connection is lost', async () => !here.live || heard.includes('reset'))
  await eventually(t, 'live again, and told to reset', async () => here.live && heard.includes('reset'))
  await there.revoked({ kind: 'user', id: 'u1' })
  await eventually(t, 'hears revocations again', async () => heard.some((h) => h !== 'reset' && h.kind === 'user'))
  t.equal(heard.filter((h) => h !== 'reset' && h.kind === 'api-key').length, 1, 'the malformed message was not taken for a revocation')
})

/** A feed whose liveness the test sets: what the caches do when Redis is down. */
class Feed implements RevocationFeed {
  live = true
  private readonly ls = new Set<RevocationListener>()
  listen(l: RevocationListener): () => void {
    this.ls.add(l)
    return () => this.ls.delete(l)
  }
  tell(r: Revocation | 'reset'): void {
    for (const l of this.ls) if (r === 'reset') l.reset()
    else l.revoked(r)
  }
}

t.test('caches bypass their entries while the feed is not live, and forget them on reset', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  await migrate(test.db)
  const repos = repositories(test.db)
  const feed = new Feed()
  const keyRepo = new ApiKeyRepository(test.db)
  const keys = new ApiKeyCache(keyRepo, { ttlMs: Hour, revocations: feed })
  const tokenRepo = new UserTokenRepository(test.db)
  const tokens = new TokenCache(tokenRepo, feed, { ttlMs: Hour })
  t.teardown(() => {
    keys.close()
    tokens.close()
  })
  const user = await repos.users.create({ name: 'Li', email: 'li@example.cn', role: 'qa', password: 'correct horse 3', siteId: 'default' })
  const { token } = await tokenRepo.issue(user.id, 3600)
  const { key, apiKey } = await repos.apiKeys.create({ name: 'k', role: 'qa' })
  t.ok(await keys.findActiveByKey(key))
  t.ok(await tokens.findActive(token))
  t.equal(keys.size, 1)
  t.equal(tokens.size, 1)

  // Revoked behind the caches' back while the feed is down: the database answers.
  feed.live = false
  await test.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [apiKey.id])
  await tokenRepo.revoke(token)
  t.equal(await keys.findActiveByKey(key), undefined, 'key: the database is asked while the feed is down')
  t.equal(await tokens.findActive(token), undefined, 'token: the database is asked while the feed is down')
  feed.live = true
  feed.tell('reset')
  t.equal(keys.size, 0, 'reset empties the key cache')
  t.equal(tokens.size, 0, 'reset empties the token cache')
  t.equal(await keys.findActiveByKey(key), undefined)
  t.equal(await tokens.findActive(token), undefined)

  // A token's entry never outlives the token.
  const short = await tokenRepo.issue(user.id, 3600)
  let now = Date.now()
  const clocked = new TokenCache(tokenRepo, feed, { ttlMs: Hour, now: () => now })
  t.teardown(() => clocked.close())
  const owner = await clocked.findActive(short.token)
  t.ok(owner)
  await test.db.query('UPDATE user_tokens SET expires_at = now() - interval \'1 second\'')
  now = owner!.expiresAt - 1
  t.ok(await clocked.findActive(short.token), 'cached until its expiry')
  now = owner!.expiresAt + 1
  t.equal(await clocked.findActive(short.token), undefined, 'past its expiry the database is asked, and says no')
})
