/** ReadingCache: readings reused up to their age, shared while in flight, never kept when failed, missing or invalidated. */
import t from 'tap'
import { ReadingCache } from '../../api/reading-cache.js'

function source() {
  let n = 0
  const gates: Array<() => void> = []
  return {
    reads: () => n,
    /** Each reading answers `v<count>`, or undefined for key 'missing', or fails for key 'broken'. */
    read: async (key: string): Promise<string | undefined> => {
      n++
      const mine = n
      if (key === 'slow') await new Promise<void>((resolve) => gates.push(resolve))
      if (key === 'broken') throw new Error('engine unreachable')
      return key === 'missing' ? undefined : `v${mine}`
    },
    open: () => gates.splice(0).forEach((g) => g()),
    waiting: () => gates.length,
  }
}

t.test('a reading is reused until it is older than maxAgeMs, then read afresh', async (t) => {
  let now = 1_000
  const s = source()
  const cache = new ReadingCache(s.read, { maxAgeMs: 500, now: () => now })
  t.same(await cache.get('c1'), { value: 'v1', readAt: 1_000 })
  now = 1_500
  t.same(await cache.get('c1'), { value: 'v1', readAt: 1_000 }, 'at exactly maxAgeMs it is still used')
  t.equal(s.reads(), 1)
  now = 1_501
  t.same(await cache.get('c1'), { value: 'v2', readAt: 1_501 }, 'older: read again')
  t.same(await cache.get('c2'), { value: 'v3', readAt: 1_501 }, 'keys are apart')
})

t.test('callers arriving during a reading share it', async (t) => {
  const s = source()
  const cache = new ReadingCache(s.read, { maxAgeMs: 1000, now: () => 0 })
  const a = cache.get('slow')
  const b = cache.get('slow')
  await new Promise((r) => setImmediate(r))
  t.equal(s.waiting(), 1, 'one reading in flight')
  s.open()
  t.same(await Promise.all([a, b]), [{ value: 'v1', readAt: 0 }, { value: 'v1', readAt: 0 }])
})

t.test('failures and missing values are not kept', async (t) => {
  const s = source()
  const cache = new ReadingCache(s.read, { maxAgeMs: 1000, now: () => 0 })
  await t.rejects(cache.get('broken'), /engine unreachable/)
  await t.rejects(cache.get('broken'), /engine unreachable/)
  t.equal(s.reads(), 2, 'a failed reading is tried again')
  t.equal((await cache.get('missing')).value, undefined)
  t.equal((await cache.get('missing')).value, undefined)
  t.equal(s.reads(), 4, 'a missing value is asked again')
})

t.test('invalidate: the next caller reads afresh, even over a reading in flight', async (t) => {
  const s = source()
  const cache = new ReadingCache(s.read, { maxAgeMs: 60_000, now: () => 0 })
  t.equal((await cache.get('c1')).value, 'v1')
  cache.invalidate('c1')
  t.equal((await cache.get('c1')).value, 'v2')
  const before = cache.get('slow')
  await new Promise((r) => setImmediate(r))
  cache.invalidate('slow')
  const after = cache.get('slow')
  await new Promise((r) => setImmediate(r))
  t.equal(s.waiting(), 2, 'a second reading started after the invalidation')
  s.open()
  t.equal((await before).value, 'v3', 'who asked before the change gets the reading it joined')
  t.equal((await after).value, 'v4')
  t.equal((await cache.get('slow')).value, 'v4', 'the newer reading is the one kept')
})

t.test('maxAgeMs 0 reads every time; entries are bounded', async (t) => {
  const s = source()
  const off = new ReadingCache(s.read, { maxAgeMs: 0 })
  await off.get('c1')
  await off.get('c1')
  t.equal(s.reads(), 2)
  const s2 = source()
  const small = new ReadingCache(s2.read, { maxAgeMs: 60_000, maxEntries: 2, now: () => 0 })
  await small.get('a')
  await small.get('b')
  await small.get('c')
  await small.get('b')
  t.equal(s2.reads(), 3, 'b still kept')
  await small.get('a')
  t.equal(s2.reads(), 4, 'a, the oldest, was dropped for c')
})
