import t from 'tap'
import { testPii } from '../../fixtures/pii.js'
import { phoneHasher } from '../../../engine/store/redis/dnc-store.js'
import { redisEnv } from './fixtures/redis-env.js'
import { RedisInvalidNumberStore } from '../../../engine/store/redis/invalid-numbers.js'
import { learnFromFailure } from '../../../engine/screening/invalid-numbers.js'
import { screen } from '../../../engine/screening/screen.js'
import { resolveScreeningPolicy } from '../../../engine/screening/policy.js'
import { MemoryDncList } from '../../../engine/screening/dnc.js'

const env = redisEnv('invalid')
const redis = env.connect()
const store = new RedisInvalidNumberStore(redis, env.prefix, phoneHasher(testPii()))
t.teardown(() => env.cleanup())

const DAY = 86_400_000
const at = Date.parse('2026-06-01T02:00:00Z') // 10:00 Beijing

t.test('learned entries round-trip and block screening until they expire', async (t) => {
  const entry = learnFromFailure('+8613812345678', { sipStatus: 404 }, at - DAY)!
  t.equal(entry.reason, 'unallocated')
  t.ok(await store.learn(entry))
  t.same(await store.get('+8613812345678'), entry)
  t.equal(await store.get('+8613800000000'), undefined)
  const snap = await store.snapshot(['+8613812345678', '+8613800000000'])
  const policy = resolveScreeningPolicy()
  const lead = { campaignId: 'c', phone: '13812345678', region: 'CN', attemptTimes: [] }
  const r = screen(lead, { dnc: new MemoryDncList(), invalidNumbers: snap }, policy, at)
  t.same(r.ok ? [] : r.rejections.map((x) => x.code), ['learned-invalid'])
  t.equal(!r.ok && r.retryAt, entry.expiresAt)
  t.ok(screen(lead, { dnc: new MemoryDncList(), invalidNumbers: snap }, policy, entry.expiresAt!).ok, 'dialable once expired')
})

t.test('a shorter entry never replaces one that blocks longer; a longer one does', async (t) => {
  const n = '+8613912345678'
  const long = learnFromFailure(n, { q850Cause: 1 }, at)! // 90 days
  const short = learnFromFailure(n, { announcement: '您拨打的电话暂时无法接通' }, at + 1000)! // 1 day
  t.equal(short.reason, 'unreachable')
  t.ok(await store.learn(long))
  t.notOk(await store.learn(short), 'kept the 90-day entry')
  t.equal((await store.get(n))?.reason, 'unallocated')
  const forever = { e164: n, reason: 'barred' as const, source: 'manual' as const, learnedAt: at }
  t.ok(await store.learn(forever), 'no expiry blocks longest')
  t.notOk(await store.learn({ ...long, learnedAt: at + 5000 }))
  t.equal((await store.get(n))?.expiresAt, undefined)
  t.equal(await redis.zscore(`${env.prefix}:{invalid}:expiry`, n), null, 'no expiry index for a permanent entry')
  await store.forget(n)
  t.equal(await store.get(n), undefined)
})

t.test('purgeExpired sweeps by the engine clock, not Redis TTLs', async (t) => {
  const a = learnFromFailure('+8613500000001', { sit: 'ineffective-other' }, at)! // 1 day
  const b = learnFromFailure('+8613500000002', { sipStatus: 604 }, at)! // 90 days
  await store.learn(a)
  await store.learn(b)
  t.equal(await store.purgeExpired(at + DAY - 1), 0)
  t.equal(await store.purgeExpired(at + DAY), 1)
  t.equal(await store.get(a.e164), undefined)
  t.ok(await store.get(b.e164))
  await t.rejects(store.learn({ ...a, e164: 'not-e164' }), /not E.164/)
})

t.test('Redis names learned numbers by their hash only; entries an earlier version keyed in the clear are moved, keeping the longer block', async (t) => {
  const penv = redisEnv('invalid-at-rest')
  t.teardown(() => penv.cleanup())
  const r = penv.connect()
  const s = new RedisInvalidNumberStore(r, penv.prefix, phoneHasher(testPii()))
  const n = '+8613722223333'
  t.ok(await s.learn(learnFromFailure(n, { sipStatus: 404 }, at)!))
  const keys = await r.keys(`${penv.prefix}*`)
  t.ok(keys.length >= 2)
  t.notOk(keys.some((k) => k.includes('13722223333')), 'no key names the number')
  t.notOk((await r.zrange(`${penv.prefix}:{invalid}:expiry`, 0, -1)).some((m) => m.includes('13722223333')), 'nor does a member of the expiry set')
  // what an earlier version wrote: the number in the key and the expiry set, a 90-day block
  const old = '+8613722224444'
  await r.hset(`${penv.prefix}:{invalid}:n:${old}`, { reason: 'unallocated', source: 'sip', learnedAt: String(at), expiresAt: String(at + 90 * DAY), detail: '' })
  await r.zadd(`${penv.prefix}:{invalid}:expiry`, at + 90 * DAY, old)
  t.equal(await s.get(old), undefined, 'not found by its hash before the move')
  t.equal(await s.rehashClearEntries(), 1)
  t.equal(await s.rehashClearEntries(), 0, 'nothing left the second time')
  t.match(await s.get(old), { e164: old, reason: 'unallocated', expiresAt: at + 90 * DAY }, 'the entry lives on under its hash')
  t.notOk((await r.keys(`${penv.prefix}*`)).some((k) => k.includes('1372222')), 'no key names a number any more')
  t.equal(await s.purgeExpired(at + 91 * DAY), 2, 'both expire through the hashed expiry set')
  t.equal(await s.get(old), undefined)
})
