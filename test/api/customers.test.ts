/**
 * The CRM on both drivers: customers with several numbers found from any format of any of them, personal data
 * encrypted in the rows, agents limited to their own customers and sites to their own (404 like a missing record),
 * QA read-only, every change in the audit log, bad input as problem details.
 */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { SearchCountCap } from '../../engine/store/sql/customers.js'
import { problem } from './problem-assert.js'

interface PhoneBody {
  id: string
  number: string
  label: string | null
  country: string | null
  type: string | null
}
interface CustomerBody {
  id: string
  siteId: string
  type: string
  ownerAgentId: string | null
  name: string
  profile: Record<string, unknown>
  tags: string[]
  phones: PhoneBody[]
  createdAt: string
  updatedAt: string
}
interface Page {
  items: CustomerBody[]
  total: number
  totalCapped?: boolean
}

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db)
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

  const agentA = await repos.agents.create({ name: 'Agent A' })
  const agentB = await repos.agents.create({ name: 'Agent B' })
  const keyA = (await repos.apiKeys.create({ name: 'a', role: 'agent', agentId: agentA.id })).key
  const keyB = (await repos.apiKeys.create({ name: 'b', role: 'agent', agentId: agentB.id })).key
  await repos.sites.create({ id: 'shenzhen', name: 'Shenzhen floor', timeZone: 'Asia/Shanghai' })
  const szSupervisor = (await repos.apiKeys.create({ name: 'sz', role: 'supervisor', siteId: 'shenzhen' })).key

  const create = async (headers: Record<string, string>, payload: Record<string, unknown>): Promise<CustomerBody> => {
    const res = await app.inject({ method: 'POST', url: '/v1/customers', headers, payload })
    t.equal(res.statusCode, 201, res.statusCode === 201 ? 'customer created' : res.body)
    return res.json<CustomerBody>()
  }
  const byPhone = async (headers: Record<string, string>, phone: string): Promise<Page> => {
    const res = await app.inject({ method: 'GET', url: `/v1/customers?phone=${encodeURIComponent(phone)}`, headers })
    t.equal(res.statusCode, 200, res.body)
    return res.json<Page>()
  }

  await t.test('create, read, update and delete a customer; every change is audited', async (t) => {
    const c = await create(auth('supervisor'), {
      name: '王 小明',
      type: 'prospect',
      ownerAgentId: agentA.id,
      tags: ['high-intent', '老客户'],
      profile: { age: 52, address: '深圳市南山区', occupation: 'teacher', interests: ['tea'] },
      phones: [
        { number: '+86 138 1234 5678', label: 'mobile' },
        { number: '010 6552 9988', label: 'home' },
      ],
    })
    t.equal(c.siteId, 'default')
    t.equal(c.ownerAgentId, agentA.id)
    t.same(c.phones.map((p) => [p.number, p.label, p.country, p.type]), [
      ['+8613812345678', 'mobile', 'CN', 'mobile'],
      ['+861065529988', 'home', 'CN', 'fixed-line'],
    ])
    t.same(c.profile, { age: 52, address: '深圳市南山区', occupation: 'teacher', interests: ['tea'] })

    const read = await app.inject({ method: 'GET', url: `/v1/customers/${c.id}`, headers: auth('qa') })
    t.equal(read.statusCode, 200, read.body)
    t.same(read.json(), c, 'QA reads it as created')

    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/customers/${c.id}`,
      headers: bearer(keyA),
      payload: { type: 'follow-up', tags: ['high-intent'], profile: { age: 53 } },
    })
    t.equal(patched.statusCode, 200, patched.body)
    const after = patched.json<CustomerBody>()
    t.equal(after.type, 'follow-up')
    t.same(after.tags, ['high-intent'])
    t.same(after.profile, { age: 53 }, 'the profile is replaced whole')
    t.equal(after.name, '王 小明')
    t.ok(Date.parse(after.updatedAt) >= Date.parse(c.updatedAt))

    problem(t, await app.inject({ method: 'DELETE', url: `/v1/customers/${c.id}`, headers: bearer(keyA) }), 403)
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/customers/${c.id}`, headers: auth('supervisor') })).statusCode, 204)
    problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${c.id}`, headers: auth('supervisor') }), 404)
    t.same((await byPhone(auth('supervisor'), '13812345678')).items, [], 'its numbers went with it')

    const audit = await repos.audit.list({ entity: 'customer', entityId: c.id, limit: 10 })
    t.same(audit.map((e) => e.action).reverse(), ['create', 'update', 'delete'])
    t.notOk(JSON.stringify(audit).includes('13812345678') || JSON.stringify(audit).includes('王'), 'no personal data in the audit log')
  })

  await t.test('a customer is found from any format of any of its numbers; phones are added and removed', async (t) => {
    const c = await create(auth('supervisor'), { name: 'Li Lei', phones: [{ number: '13912345678' }] })
    for (const format of ['+86 139 1234 5678', '13912345678', '008613912345678', '0086 139-1234-5678', '+8613912345678']) {
      const found = await byPhone(auth('supervisor'), format)
      t.same(found.items.map((x) => x.id), [c.id], format)
    }
    const added = await app.inject({ method: 'POST', url: `/v1/customers/${c.id}/phones`, headers: auth('supervisor'), payload: { number: '0755 8888 1234', label: 'office' } })
    t.equal(added.statusCode, 201, added.body)
    const phone = added.json<PhoneBody>()
    t.equal(phone.number, '+8675588881234')
    t.same((await byPhone(auth('supervisor'), '+86 755 8888 1234')).items.map((x) => x.phones.length), [2])
    problem(t, await app.inject({ method: 'POST', url: `/v1/customers/${c.id}/phones`, headers: auth('supervisor'), payload: { number: '075588881234' } }), 409)

    t.equal((await app.inject({ method: 'DELETE', url: `/v1/customers/${c.id}/phones/${phone.id}`, headers: auth('supervisor') })).statusCode, 204)
    t.same((await byPhone(auth('supervisor'), '075588881234')).items, [])
    problem(t, await app.inject({ method: 'DELETE', url: `/v1/customers/${c.id}/phones/${phone.id}`, headers: auth('supervisor') }), 404)

    // Two customers sharing a number (a family landline) are both answered.
    const other = await create(auth('supervisor'), { name: 'Han Meimei', phones: [{ number: '+86 139 1234 5678' }] })
    t.same((await byPhone(auth('supervisor'), '13912345678')).items.map((x) => x.id).sort(), [c.id, other.id].sort())
    const audit = await repos.audit.list({ entity: 'customer', entityId: c.id, limit: 10 })
    t.same(audit.map((e) => e.action).reverse(), ['create', 'add-phone', 'remove-phone'])
  })

  await t.test('the rows hold ciphertexts: no number, name or note text in clear', async (t) => {
    const c = await create(auth('supervisor'), { name: 'Zhang Wei', profile: { address: 'Room 1701, Binhai Road' }, phones: [{ number: '+86 186 0000 4321' }] })
    const note = await app.inject({ method: 'POST', url: `/v1/customers/${c.id}/notes`, headers: auth('supervisor'), payload: { text: 'asked about the gold plan' } })
    t.equal(note.statusCode, 201, note.body)
    const raw = JSON.stringify([
      (await db.query('SELECT * FROM customers WHERE id = $1', [c.id])).rows,
      (await db.query('SELECT * FROM customer_phones WHERE customer_id = $1', [c.id])).rows,
      (await db.query('SELECT * FROM customer_notes WHERE customer_id = $1', [c.id])).rows,
    ])
    for (const plain of ['18600004321', '8600004321', '4321', 'Zhang', 'zhang', 'Binhai', 'gold plan']) {
      t.notOk(raw.includes(plain), `${plain} is not in the rows`)
    }
    const phoneRow = (await db.query<{ number_enc: string; phone_hash: string }>('SELECT number_enc, phone_hash FROM customer_phones WHERE customer_id = $1', [c.id])).rows[0]!
    t.match(phoneRow.number_enc, /^v1\.k1\./, 'a PiiCipher ciphertext')
    // A ciphertext moved onto another row does not decrypt there.
    const victim = await create(auth('supervisor'), { name: 'Victim', phones: [{ number: '+86 186 0000 9999' }] })
    await db.query('UPDATE customer_phones SET number_enc = $1 WHERE customer_id = $2', [phoneRow.number_enc, victim.id])
    const moved = await app.inject({ method: 'GET', url: `/v1/customers/${victim.id}`, headers: auth('supervisor') })
    t.equal(moved.statusCode, 500, 'refused, not another customer’s number')
    t.notOk(moved.body.includes('18600004321'))
  })

  await t.test('agents reach only their own customers; another agent’s is a 404 like a missing one', async (t) => {
    const mine = await create(bearer(keyA), { name: 'Chen Jing', phones: [{ number: '13700001111' }] })
    t.equal(mine.ownerAgentId, agentA.id, 'an agent creates customers it owns')
    problem(t, await app.inject({ method: 'POST', url: '/v1/customers', headers: bearer(keyA), payload: { name: 'X', ownerAgentId: agentB.id } }), 403)

    const foreign = problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${mine.id}`, headers: bearer(keyB) }), 404)
    const missing = problem(t, await app.inject({ method: 'GET', url: '/v1/customers/no-such-customer', headers: bearer(keyB) }), 404)
    t.equal(foreign.type, missing.type)
    t.equal(foreign.title, missing.title)
    t.same((await byPhone(bearer(keyB), '13700001111')).items, [], 'the screen pop does not show it to B')
    t.same((await byPhone(bearer(keyA), '13700001111')).items.map((c) => c.id), [mine.id])
    for (const [method, url, payload] of [
      ['PATCH', `/v1/customers/${mine.id}`, { type: 'closed' }],
      ['POST', `/v1/customers/${mine.id}/phones`, { number: '13700002222' }],
      ['POST', `/v1/customers/${mine.id}/notes`, { text: 'hi' }],
      ['GET', `/v1/customers/${mine.id}/timeline`, undefined],
    ] as const) {
      problem(t, await app.inject({ method, url, headers: bearer(keyB), ...(payload ? { payload } : {}) }), 404)
    }
    const listB = (await app.inject({ method: 'GET', url: '/v1/customers', headers: bearer(keyB) })).json<Page>()
    t.notOk(listB.items.some((c) => c.id === mine.id))
    t.ok(listB.items.every((c) => c.ownerAgentId === agentB.id))

    problem(t, await app.inject({ method: 'PATCH', url: `/v1/customers/${mine.id}`, headers: bearer(keyA), payload: { ownerAgentId: agentB.id } }), 403)
    // An agent key naming no agent (misconfigured) sees nothing rather than everything, and nothing fails.
    const unbound = await app.inject({ method: 'GET', url: '/v1/customers', headers: auth('agent') })
    t.equal(unbound.statusCode, 200, unbound.body)
    t.same(unbound.json<Page>().items, [])
    t.same((await byPhone(auth('agent'), '13700001111')).items, [])
    problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${mine.id}`, headers: auth('agent') }), 404)
    problem(t, await app.inject({ method: 'POST', url: '/v1/customers', headers: auth('agent'), payload: { name: 'Nobody' } }), 403)
    problem(t, await app.inject({ method: 'POST', url: `/v1/customers/${mine.id}/notes`, headers: auth('qa'), payload: { text: 'qa' } }), 403)
    problem(t, await app.inject({ method: 'POST', url: '/v1/customers', headers: auth('qa'), payload: { name: 'Q' } }), 403)

    // The supervisor hands it to B: B sees it now, A no longer does.
    const handed = await app.inject({ method: 'PATCH', url: `/v1/customers/${mine.id}`, headers: auth('supervisor'), payload: { ownerAgentId: agentB.id } })
    t.equal(handed.statusCode, 200, handed.body)
    t.equal((await app.inject({ method: 'GET', url: `/v1/customers/${mine.id}`, headers: bearer(keyB) })).statusCode, 200)
    problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${mine.id}`, headers: bearer(keyA) }), 404)
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/customers/${mine.id}`, headers: auth('supervisor'), payload: { ownerAgentId: 'no-such-agent' } }), 400)
  })

  await t.test('another site’s customer is a 404, and its numbers find nothing', async (t) => {
    const c = await create(auth('supervisor'), { name: 'Default Site', phones: [{ number: '13600003333' }] })
    const foreign = problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${c.id}`, headers: bearer(szSupervisor) }), 404)
    t.match(foreign.detail, /does not exist/)
    t.same((await byPhone(bearer(szSupervisor), '13600003333')).items, [])
    problem(t, await app.inject({ method: 'DELETE', url: `/v1/customers/${c.id}`, headers: bearer(szSupervisor) }), 404)
    const sz = await create(bearer(szSupervisor), { name: 'Shenzhen One', phones: [{ number: '13600003333' }] })
    t.equal(sz.siteId, 'shenzhen')
    t.same((await byPhone(bearer(szSupervisor), '13600003333')).items.map((x) => x.id), [sz.id], 'same number, own site only')
    const list = (await app.inject({ method: 'GET', url: '/v1/customers?limit=500', headers: bearer(szSupervisor) })).json<Page>()
    t.ok(list.items.length >= 1 && list.items.every((x) => x.siteId === 'shenzhen'))
    problem(t, await app.inject({ method: 'POST', url: '/v1/customers', headers: bearer(szSupervisor), payload: { name: 'X', siteId: 'default' } }), 403)
    problem(t, await app.inject({ method: 'POST', url: '/v1/customers', headers: bearer(szSupervisor), payload: { name: 'X', ownerAgentId: agentA.id } }), 400)
  })

  await t.test('search by exact name (case, width and spaces ignored), type, owner and tags; sort by name', async (t) => {
    await repos.sites.create({ id: 'search', name: 'Search site' })
    const sup = (await repos.apiKeys.create({ name: 's', role: 'supervisor', siteId: 'search' })).key
    const agentS = await repos.agents.create({ name: 'S', siteId: 'search' })
    const a = await create(bearer(sup), { name: '张三', tags: ['vip', 'north'], type: 'member', ownerAgentId: agentS.id })
    const b = await create(bearer(sup), { name: 'Alice Smith', tags: ['vip'] })
    const c = await create(bearer(sup), { name: '李四', tags: ['north'], type: 'closed' })
    const q = async (qs: string): Promise<string[]> => {
      const res = await app.inject({ method: 'GET', url: `/v1/customers?${qs}`, headers: bearer(sup) })
      t.equal(res.statusCode, 200, res.body)
      return res.json<Page>().items.map((x) => x.id)
    }
    t.same(await q(`name=${encodeURIComponent('张 三')}`), [a.id])
    t.same(await q(`name=${encodeURIComponent('ＡＬＩＣＥ smith')}`), [b.id], 'full-width and upper case')
    t.same(await q(`name=${encodeURIComponent('张')}`), [], 'no prefix match: names are hashed')
    t.same((await q('tag=vip&sort=createdAt')), [a.id, b.id])
    t.same(await q('tag=vip&tag=north'), [a.id])
    t.same(await q('type=closed'), [c.id])
    t.same(await q(`owner=${agentS.id}`), [a.id])
    t.same((await q('owner=none&sort=createdAt')), [b.id, c.id])
    t.same(await q('sort=-createdAt'), [c.id, b.id, a.id])
    t.same(await q('sort=name'), [c.id, a.id, b.id], 'Chinese collation: pinyin order (李 li before 张 zhang), Han before Latin')
    const paged = (await app.inject({ method: 'GET', url: '/v1/customers?sort=createdAt&limit=2&offset=2', headers: bearer(sup) })).json<Page>()
    t.same([paged.items.map((x) => x.id), paged.total], [[c.id], 3])
    const past = (await app.inject({ method: 'GET', url: '/v1/customers?limit=2&offset=10', headers: bearer(sup) })).json<Page>()
    t.same([past.items, past.total], [[], 3])
    t.equal(past.totalCapped, undefined, 'a total under the cap is exact and says nothing more')
  })

  await t.test('a broad filter counts its matches up to a cap and says when the total is a lower bound', async (t) => {
    await repos.sites.create({ id: 'bulk', name: 'Bulk site' })
    const sup = (await repos.apiKeys.create({ name: 'b', role: 'supervisor', siteId: 'bulk' })).key
    const crm = repositories(db, h.pii).customers
    const n = SearchCountCap + 3
    for (let i = 0; i < n; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => crm.create({ siteId: 'bulk', type: 'prospect', ownerAgentId: null, name: `bulk ${i + k}`, tags: ['bulk'], phones: [], createdBy: 'test' })))
    }
    const page = async (qs: string): Promise<Page> => {
      const res = await app.inject({ method: 'GET', url: `/v1/customers?tag=bulk&${qs}`, headers: bearer(sup) })
      t.equal(res.statusCode, 200, res.body)
      return res.json<Page>()
    }
    const first = await page('limit=20')
    t.same([first.items.length, first.total, first.totalCapped], [20, SearchCountCap, true], 'past the cap: a lower bound, said so')
    const all = await page(`limit=500&offset=${SearchCountCap - 400}`)
    t.same([all.items.length, all.total, all.totalCapped], [403, n, undefined], 'a page reaching past the cap counts that far: exact again')
    const beyond = await page('limit=50&offset=5000')
    t.same([beyond.items.length, beyond.total, beyond.totalCapped], [0, n, undefined], 'past the end: counted exactly')
    const firstIds = first.items.map((x) => x.id)
    t.same((await page('limit=20&sort=-updatedAt')).items.map((x) => x.id), firstIds, 'the page is the same whatever the count')
  })

  await t.test('malformed input is a 4xx problem naming the field', async (t) => {
    const bad = async (method: 'POST' | 'GET' | 'PATCH', url: string, payload?: unknown, field?: string) => {
      const p = problem(t, await app.inject({ method, url, headers: auth('supervisor'), ...(payload === undefined ? {} : { payload: payload as object }) }), 400)
      if (field !== undefined) t.equal(p.errors?.[0]?.field, field, `${method} ${url}`)
    }
    await bad('POST', '/v1/customers', { name: 'X', phones: [{ number: 'not a number' }] }, 'body.phones.0.number')
    await bad('POST', '/v1/customers', { name: 'X', phones: [{ number: '12345' }] }, 'body.phones.0.number')
    await bad('POST', '/v1/customers', { name: 'X', colour: 'red' }, 'body.colour')
    await bad('POST', '/v1/customers', { name: 'X', type: 'friend' }, 'body.type')
    await bad('POST', '/v1/customers', { name: '   ' }, 'body.name')
    await bad('POST', '/v1/customers', {}, 'body.name')
    await bad('GET', '/v1/customers?phone=abc', undefined, 'querystring.phone')
    await bad('GET', '/v1/customers?phone=13812345678&name=x', undefined, 'querystring.name')
    await bad('GET', '/v1/customers?sort=phone', undefined, 'querystring.sort')
    const c = await create(auth('supervisor'), { name: 'Bad Input' })
    await bad('PATCH', `/v1/customers/${c.id}`, {}, undefined)
    await bad('POST', `/v1/customers/${c.id}/dispositions`, { code: 'Not A Code' }, 'body.code')
    await bad('POST', `/v1/customers/${c.id}/dispositions`, { code: 'sale', callId: 'no-such-call' }, 'body.callId')
    const notJson = await app.inject({ method: 'POST', url: '/v1/customers', headers: { ...auth('supervisor'), 'content-type': 'application/json' }, payload: '{"name":' })
    problem(t, notJson, 400)
  })
})
