import t from 'tap'
import { BatchedLookup } from '../../../engine/store/sql/batched-lookup.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { forEachDriver } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

t.test('loads made together share one fetch; each gets its own answer', async (t) => {
  const calls: string[][] = []
  const lookup = new BatchedLookup(async (keys: string[]) => {
    calls.push(keys)
    return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `v-${k}`]))
  })
  const got = await Promise.all(['a', 'b', 'a', 'missing'].map((k) => lookup.load(k)))
  t.same(got, ['v-a', 'v-b', 'v-a', undefined])
  t.same(calls, [['a', 'b', 'missing']], 'one fetch, each key once')
  t.equal(await lookup.load('c'), 'v-c')
  t.equal(calls.length, 2, 'a load after the batch went out starts a new one')
})

t.test('a failed fetch fails every load in its batch, and the next batch tries again', async (t) => {
  let fail = true
  const lookup = new BatchedLookup(async (keys: number[]) => {
    if (fail) throw new Error('database down')
    return new Map(keys.map((k) => [k, k * 2]))
  })
  const results = await Promise.allSettled([lookup.load(1), lookup.load(2)])
  t.same(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  )
  fail = false
  t.equal(await lookup.load(2), 4)
})

t.test('a batch never exceeds maxBatch keys', async (t) => {
  const sizes: number[] = []
  const lookup = new BatchedLookup(async (keys: number[]) => {
    sizes.push(keys.length)
    return new Map(keys.map((k) => [k, k]))
  }, 3)
  const got = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => lookup.load(k)))
  t.same(got, [1, 2, 3, 4, 5, 6, 7])
  t.same(sizes, [3, 3, 1])
})

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const repos = repositories(db, testPii())
  const a = await repos.campaigns.create({ name: 'A', settings: settings() })
  const b = await repos.campaigns.create({ name: 'B', settings: settings() })
  const { insertedIds } = await repos.leads.insertMany(a.id, [{ phone: '13800000001', e164: '+8613800000001' }])
  const campaigns = await repos.campaigns.getMany([a.id, b.id, 'no-such'])
  t.same([...campaigns.keys()].sort(), [a.id, b.id].sort(), 'unknown ids are absent')
  t.same(campaigns.get(a.id), await repos.campaigns.get(a.id), 'the same campaign get() reads')
  const leads = await repos.leads.getMany([insertedIds[0]!, 'no-such'])
  t.same([...leads.values()], [await repos.leads.get(insertedIds[0]!)])

  // A lead's campaign by the lead's id (dialability reads both at once); an archived campaign is as absent as get() says.
  const { insertedIds: bLeads } = await repos.leads.insertMany(b.id, [{ phone: '13800000002', e164: '+8613800000002' }])
  const byLead = await repos.campaigns.getManyByLead([insertedIds[0]!, bLeads[0]!, 'no-such'])
  t.same([...byLead.keys()].sort(), [insertedIds[0]!, bLeads[0]!].sort())
  t.same(byLead.get(insertedIds[0]!), await repos.campaigns.get(a.id), "the lead's own campaign, as get() reads it")
  t.same(byLead.get(bLeads[0]!), await repos.campaigns.get(b.id))
  t.ok(await repos.campaigns.archive(b.id))
  t.same([...(await repos.campaigns.getManyByLead([bLeads[0]!])).keys()], [], 'an archived campaign is not answered')
})
