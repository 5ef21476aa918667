import t from 'tap'
import { testPii } from '../../fixtures/pii.js'
import fc from 'fast-check'
import { redisEnv } from './fixtures/redis-env.js'
import { phoneHasher, RedisDncStore } from '../../../engine/store/redis/dnc-store.js'
import { MemoryDncList } from '../../../engine/screening/dnc.js'
import { screen } from '../../../engine/screening/screen.js'
import { resolveScreeningPolicy } from '../../../engine/screening/policy.js'

const env = redisEnv('dnc')
const redis = env.connect()
const store = new RedisDncStore(redis, env.prefix, phoneHasher(testPii()))
t.teardown(() => env.cleanup())

t.test('numbers: good rows land, bad rows are reported by position', async (t) => {
  const res = await store.addNumbers({}, ['+8613812345678', '139 1234 5678', 'nonsense', '+1 212 555 0123', '12345'], 'CN')
  t.equal(res.changed, 3)
  t.same(
    res.rejected.map((r) => r.index),
    [2, 4],
  )
  t.match(res.rejected[0]!.reason, /invalid-format/)
  const again = await store.addNumbers({}, ['+8613812345678'])
  t.equal(again.changed, 0, 'already listed')
  t.same(await store.count({}), { numbers: 3, prefixes: 0 })
})

t.test('snapshot answers global, campaign and prefix lookups for the numbers asked', async (t) => {
  await store.addNumbers({ campaignId: 'c1' }, ['+8613700000001'])
  const p = await store.addPrefixes({}, ['+86 1065', '1201XXXXXXX', '+1', 'x'])
  t.equal(p.changed, 2)
  t.same(
    p.rejected.map((r) => r.value),
    ['+1', 'x'],
  )
  await store.addPrefixes({ campaignId: 'c1' }, ['+86137000000'])
  const nums = ['+8613812345678', '+8613700000001', '+861065529988', '+12015550123', '+8613700000099', '+8613600000000']
  const snap = await store.snapshot('c1', nums)
  t.ok(snap.isGlobal('+8613812345678'))
  t.notOk(snap.isGlobal('+8613700000001'))
  t.ok(snap.isCampaign('c1', '+8613700000001'))
  t.same(snap.prefixMatch('c1', '+861065529988'), { prefix: '+861065', scope: 'global' })
  t.same(snap.prefixMatch('c1', '+12015550123'), { prefix: '+1201', scope: 'global' })
  t.same(snap.prefixMatch('c1', '+8613700000099'), { prefix: '+86137000000', scope: 'campaign' })
  t.equal(snap.prefixMatch('c1', '+8613600000000'), undefined)
  const other = await store.snapshot('c2', nums)
  t.notOk(other.isCampaign('c2', '+8613700000001'), "another campaign does not see c1's list")
  t.equal(other.prefixMatch('c2', '+8613700000099'), undefined)
  t.same((await store.snapshot('c1', [])) instanceof MemoryDncList, true)
})

t.test('screen() with a Redis snapshot refuses listed numbers and dials the rest', async (t) => {
  const policy = resolveScreeningPolicy()
  const at = Date.parse('2026-06-01T02:00:00Z') // 10:00 Beijing
  const leads = ['13812345678', '010 6552 9988', '13700000001', '13500000000'].map((phone, i) => ({
    id: `l${i}`,
    campaignId: 'c1',
    phone,
    region: 'CN',
    attemptTimes: [],
  }))
  const snap = await store.snapshot('c1', ['+8613812345678', '+861065529988', '+8613700000001', '+8613500000000'])
  const codes = leads.map((l) => {
    const r = screen(l, { dnc: snap }, policy, at)
    return r.ok ? 'ok' : r.rejections.map((x) => x.code).join('+')
  })
  t.same(codes, ['dnc-global', 'dnc-prefix', 'dnc-campaign+dnc-prefix', 'ok'])
})

t.test('removal and dropping a campaign', async (t) => {
  const r = await store.removeNumbers({}, ['+8613812345678', '+8613999999999'])
  t.equal(r.changed, 1)
  await store.removePrefixes({}, ['+861065'])
  const snap = await store.snapshot('c1', ['+8613812345678', '+861065529988'])
  t.notOk(snap.isGlobal('+8613812345678'))
  t.equal(snap.prefixMatch('c1', '+861065529988'), undefined)
  await store.dropCampaign('c1')
  t.same(await store.count({ campaignId: 'c1' }), { numbers: 0, prefixes: 0 })
  await t.rejects(store.snapshot('bad}id', ['+8613812345678']), /invalid campaign id/)
})

t.test('the Redis snapshot agrees with an in-memory list built from the same entries', async () => {
  // Allocated mainland mobile ranges, so every number is valid and the adapter stores it.
  const digits = fc
    .tuple(fc.constantFrom('138', '139', '135', '186', '150', '177', '199'), fc.stringMatching(/^\d{8}$/))
    .map(([a, b]) => a + b)
  await fc.assert(
    fc.asyncProperty(
      fc.array(digits, { minLength: 1, maxLength: 8 }),
      fc.array(fc.tuple(fc.nat(7), fc.integer({ min: 2, max: 9 }), fc.boolean()), { maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(7), fc.constantFrom('global', 'campaign')), { maxLength: 4 }),
      async (nums, prefixPicks, listPicks) => {
        const e164s = nums.map((d) => `+86${d}`)
        const mem = new MemoryDncList()
        await redis.del(
          `${env.prefix}:dnc:global`,
          `${env.prefix}:dnc:campaign:p1`,
          `${env.prefix}:dnc:prefix:global`,
          `${env.prefix}:dnc:prefix:campaign:p1`,
        )
        for (const [i, scope] of listPicks) {
          const n = e164s[i % e164s.length]!
          if (scope === 'global') (mem.addGlobal(n), await store.addNumbers({}, [n]))
          else (mem.addCampaign('p1', n), await store.addNumbers({ campaignId: 'p1' }, [n]))
        }
        for (const [i, len, own] of prefixPicks) {
          const p = e164s[i % e164s.length]!.slice(0, 1 + len)
          mem.addPrefix(p, own ? 'p1' : undefined)
          await store.addPrefixes(own ? { campaignId: 'p1' } : {}, [p])
        }
        const snap = await store.snapshot('p1', e164s)
        for (const n of e164s) {
          if (snap.isGlobal(n) !== mem.isGlobal(n)) throw new Error(`global differs for ${n}`)
          if (snap.isCampaign('p1', n) !== mem.isCampaign('p1', n)) throw new Error(`campaign differs for ${n}`)
          const a = snap.prefixMatch('p1', n)
          const b = mem.prefixMatch('p1', n)
          if (a?.prefix !== b?.prefix) throw new Error(`prefix differs for ${n}: ${a?.prefix} vs ${b?.prefix}`)
        }
      },
    ),
    { numRuns: 60 },
  )
})

t.test('Redis holds listed numbers as hashes only; clear members an earlier version left are purged, lookups unchanged', async (t) => {
  const penv = redisEnv('dnc-at-rest')
  t.teardown(() => penv.cleanup())
  const r = penv.connect()
  const s = new RedisDncStore(r, penv.prefix, phoneHasher(testPii()))
  await s.addNumbers({}, ['+8613811112222'])
  await s.addNumbers({ campaignId: 'c9' }, ['+8613811113333'])
  const members = [...(await r.smembers(`${penv.prefix}:dnc:global`)), ...(await r.smembers(`${penv.prefix}:dnc:campaign:c9`))]
  t.equal(members.length, 2)
  t.notOk(members.some((m) => /1381111/.test(m)), 'no member holds a number')
  // what an earlier version wrote: numbers as E.164 members
  await r.sadd(`${penv.prefix}:dnc:global`, '+8613811114444')
  await r.sadd(`${penv.prefix}:dnc:campaign:c9`, '+8613811115555')
  await s.addPrefixes({}, ['+861065'])
  t.equal(await s.purgeClearNumbers(), 2, 'the two clear members go')
  t.equal(await s.purgeClearNumbers(), 0)
  t.same(await r.smembers(`${penv.prefix}:dnc:prefix:global`), ['+861065'], 'prefixes are not touched')
  const snap = await s.snapshot('c9', ['+8613811112222', '+8613811113333', '+8613811114444'])
  t.ok(snap.isGlobal('+8613811112222'))
  t.ok(snap.isCampaign('c9', '+8613811113333'))
  t.notOk(snap.isGlobal('+8613811114444'), 'a purged clear member no longer blocks (the start-up mirror re-adds what PostgreSQL lists)')
})
