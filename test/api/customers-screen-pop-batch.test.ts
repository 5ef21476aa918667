/**
 * The screen pop batched: concurrent GET /v1/customers?phone= share one statement per scope
 * (customers_by_phone_hashes), and each caller still gets exactly what a lookup of its own would give, within its own
 * scope: an agent only its own customers, a site supervisor only its site, with each number's own order and limit.
 */
import t from 'tap'
import type { Db, QueryResult } from '../../engine/store/sql/db.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'

interface Page {
  items: Array<{ id: string; name: string; phones: Array<{ number: string }> }>
}

/** The same database, counting the batched statements the app sends. */
function counting(db: Db): { db: Db; batches: number[]; nameBatches: number[] } {
  const batches: number[] = []
  const nameBatches: number[] = []
  const query = async <R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> => {
    if (sql.includes('customers_by_phone_hashes')) batches.push((params?.[0] as string[]).length)
    if (sql.includes('PARTITION BY c.name_hash')) nameBatches.push((params?.[0] as string[]).length)
    return db.query<R>(sql, params)
  }
  return { db: { ...db, query }, batches, nameBatches }
}

forEachDriver(t, async (t, raw) => {
  const { db, batches, nameBatches } = counting(raw)
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const repos = repositories(db, h.pii)
  await repos.sites.create({ id: 'north', name: 'North floor', timeZone: 'Asia/Shanghai' })
  const agentA = await repos.agents.create({ name: 'Agent A' })
  const agentB = await repos.agents.create({ name: 'Agent B' })
  const keys = {
    agentA: (await repos.apiKeys.create({ name: 'a', role: 'agent', agentId: agentA.id, siteId: 'default' })).key,
    agentB: (await repos.apiKeys.create({ name: 'b', role: 'agent', agentId: agentB.id, siteId: 'default' })).key,
    supervisor: (await repos.apiKeys.create({ name: 's', role: 'supervisor', siteId: 'default' })).key,
    north: (await repos.apiKeys.create({ name: 'n', role: 'supervisor', siteId: 'north' })).key,
    admin: h.keys.admin,
  }
  const customer = (name: string, siteId: string, owner: string | null, numbers: string[]) =>
    repos.customers.create({
      siteId,
      type: 'prospect',
      ownerAgentId: owner,
      name,
      phones: numbers.map((e164) => ({ e164, country: 'CN', type: 'mobile' })),
      createdBy: 'test',
    })
  // A shared household number (two customers of A and one pooled), one per agent, one in another site.
  await customer('Wang Fang', 'default', agentA.id, ['+8613800000001', '+8613800000009'])
  await customer('Wang Lei', 'default', agentA.id, ['+8613800000001'])
  await customer('Pool Customer', 'default', null, ['+8613800000001'])
  await customer('Li Na', 'default', agentB.id, ['+8613800000002'])
  await customer('North Customer', 'north', null, ['+8613800000002', '+8613800000003'])

  const numbers = ['13800000001', '+86 138 0000 0002', '008613800000003', '13800000009', '13800000004']
  const get = async (key: string, phone: string, limit?: number): Promise<string[]> => {
    const res = await h.app.inject({
      method: 'GET',
      url: `/v1/customers?phone=${encodeURIComponent(phone)}${limit === undefined ? '' : `&limit=${limit}`}`,
      headers: { authorization: `Bearer ${key}` },
    })
    if (res.statusCode !== 200) t.fail(`GET by phone answered ${res.statusCode}: ${res.body}`)
    return res.json<Page>().items.map((c) => c.name)
  }

  // Each caller and number asked on its own first: one request per batch.
  const asks: Array<[keyof typeof keys, string, number | undefined]> = []
  for (const who of Object.keys(keys) as Array<keyof typeof keys>) for (const n of numbers) asks.push([who, n, undefined])
  asks.push(['supervisor', '13800000001', 2], ['admin', '13800000001', 1])
  const alone: string[][] = []
  for (const [who, n, limit] of asks) alone.push(await get(keys[who], n, limit))
  t.ok(batches.every((size) => size === 1), 'sequential lookups go one by one')

  // What each scope must see, spelled out for the cases that matter.
  const at = (who: keyof typeof keys, n: string, limit?: number) => alone[asks.findIndex((a) => a[0] === who && a[1] === n && a[2] === limit)]!
  t.same([...at('agentA', '13800000001')].sort(), ['Wang Fang', 'Wang Lei'], "agent A sees its two customers, not the pool's")
  t.same(at('agentB', '13800000001'), [], 'agent B sees none of them')
  t.same(at('agentB', '+86 138 0000 0002'), ['Li Na'])
  t.same(at('north', '+86 138 0000 0002'), ['North Customer'], 'a site supervisor sees only its site')
  t.same(at('supervisor', '+86 138 0000 0002'), ['Li Na'])
  t.equal(at('admin', '+86 138 0000 0002').length, 2, 'a platform admin sees both sites')
  t.equal(at('supervisor', '13800000001').length, 3)
  t.same(at('supervisor', '13800000001', 2), at('supervisor', '13800000001').slice(0, 2), 'the limit keeps the newest first')
  t.equal(at('admin', '13800000001', 1).length, 1)
  t.same(at('supervisor', '13800000004'), [], 'an unknown number finds nobody')

  // All at once: they share statements (one per scope and limit), and each answer is the one it got alone.
  batches.length = 0
  const together = await Promise.all(asks.map(([who, n, limit]) => get(keys[who], n, limit)))
  t.same(together, alone, 'each concurrent caller gets what it got alone')
  t.ok(batches.some((size) => size > 1), `concurrent lookups shared statements (batch sizes ${batches.join(',')})`)
  t.ok(batches.length < asks.length, 'fewer statements than requests')

  // The name search batched the same way: each caller's page and total as search() gives them on its own.
  await customer('Wang Fang', 'default', agentB.id, ['+8613800000005'])
  await customer('Wang Fang', 'north', null, ['+8613800000006'])
  const scopes = { agentA: { siteId: 'default', agentId: agentA.id }, agentB: { siteId: 'default', agentId: agentB.id }, supervisor: { siteId: 'default', agentId: null }, north: { siteId: 'north', agentId: null }, admin: { siteId: null, agentId: null } } as const
  const searches: Array<[keyof typeof keys, string, string, number]> = []
  for (const who of Object.keys(keys) as Array<keyof typeof keys>) {
    for (const name of ['Wang Fang', 'wang  fang', 'Li Na', 'Nobody']) searches.push([who, name, '-updatedAt', 50])
  }
  searches.push(['supervisor', 'Wang Fang', 'createdAt', 1], ['admin', 'Wang Fang', '-createdAt', 2])
  const expected = await Promise.all(
    searches.map(async ([who, name, sort, limit]) => {
      const page = await repos.customers.search({ name }, scopes[who], { sort: sort as '-updatedAt', limit, offset: 0 })
      return { ids: page.items.map((c) => c.id), total: page.total }
    }),
  )
  t.ok(expected.some((e) => e.total > 1 && e.ids.length < e.total), 'some pages are cut by their limit')
  const viaRoute = async ([who, name, sort, limit]: (typeof searches)[number]) => {
    const res = await h.app.inject({
      method: 'GET',
      url: `/v1/customers?name=${encodeURIComponent(name)}&sort=${sort}&limit=${limit}`,
      headers: { authorization: `Bearer ${keys[who]}` },
    })
    if (res.statusCode !== 200) t.fail(`search answered ${res.statusCode}: ${res.body}`)
    const body = res.json<{ items: Array<{ id: string }>; total: number }>()
    return { ids: body.items.map((c) => c.id), total: body.total }
  }
  nameBatches.length = 0
  t.same(await Promise.all(searches.map(viaRoute)), expected, 'concurrent name searches: each page and total as search() gives it')
  t.ok(nameBatches.some((size) => size > 1), `concurrent name searches shared statements (batch sizes ${nameBatches.join(',')})`)
  const oneByOne: Array<{ ids: string[]; total: number }> = []
  for (const s of searches) oneByOne.push(await viaRoute(s))
  t.same(oneByOne, expected, 'one at a time too')
})
