/**
 * A customer's timeline (calls from the CDRs of its leads, notes and dispositions, newest first, paged by time) and
 * callbacks booked to the minute for the owning agent or anyone, on both drivers.
 */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

interface Entry {
  kind: 'call' | 'note' | 'disposition'
  at: string
  id: string
  call?: { callId: string; disposition: string; answeredAt?: string }
  note?: { text: string }
  disposition?: { code: string; callId: string | null }
}
interface Callback {
  id: string
  customerId: string
  agentId: string | null
  dueAt: string
  status: string
  note: string | null
}

const Minute = 60_000

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db, h.pii)
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
  const agentA = await repos.agents.create({ name: 'Agent A' })
  const agentB = await repos.agents.create({ name: 'Agent B' })
  const keyA = (await repos.apiKeys.create({ name: 'a', role: 'agent', agentId: agentA.id })).key
  const keyB = (await repos.apiKeys.create({ name: 'b', role: 'agent', agentId: agentB.id })).key

  const created = await app.inject({ method: 'POST', url: '/v1/customers', headers: bearer(keyA), payload: { name: 'Timeline', phones: [{ number: '13811112222' }] } })
  t.equal(created.statusCode, 201, created.body)
  const customer = created.json<{ id: string }>()

  await t.test('calls, notes and dispositions merge newest first; `before` pages on', async (t) => {
    const campaign = await repos.campaigns.create({ name: 'Calls', settings: settings() })
    const { insertedIds } = await repos.leads.insertMany(campaign.id, [
      { phone: '+8613811112222', e164: '+8613811112222', customerId: customer.id },
      { phone: '+8613899990000', e164: '+8613899990000', customerId: 'someone-else' },
    ])
    const [leadId, otherLead] = insertedIds as [string, string]
    const t0 = Date.now() - 10 * 3600_000
    const call = async (callId: string, lead: string, at: number) =>
      repos.cdrs.insert({
        callId, campaignId: campaign.id, leadId: lead, agentId: agentA.id, outcome: 'connected', disposition: 'answered',
        dialedAt: at, answeredAt: at + 5000, endedAt: at + 65_000, talkSeconds: 60, abandoned: false,
      })
    await call('call-1', leadId, t0)
    await call('call-2', leadId, t0 + 2 * 3600_000)
    await call('call-x', otherLead, t0 + 3 * 3600_000)

    const note = await app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/notes`, headers: bearer(keyA), payload: { text: 'wants a brochure' } })
    t.equal(note.statusCode, 201, note.body)
    const disp = await app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/dispositions`, headers: bearer(keyA), payload: { code: 'interested', callId: 'call-2' } })
    t.equal(disp.statusCode, 201, disp.body)
    problem(t, await app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/dispositions`, headers: bearer(keyA), payload: { code: 'interested', callId: 'call-x' } }), 400)
    // Place them between the calls: note 1 h after call 1, disposition 1 h after call 2.
    await db.query('UPDATE customer_notes SET created_at = $1 WHERE id = $2', [new Date(t0 + 3600_000), note.json<{ id: string }>().id])
    await db.query('UPDATE customer_dispositions SET created_at = $1 WHERE id = $2', [new Date(t0 + 3 * 3600_000), disp.json<{ id: string }>().id])

    const page = async (qs: string, headers = bearer(keyA)): Promise<Entry[]> => {
      const res = await app.inject({ method: 'GET', url: `/v1/customers/${customer.id}/timeline${qs}`, headers })
      t.equal(res.statusCode, 200, res.body)
      return res.json<{ items: Entry[] }>().items
    }
    const all = await page('')
    t.same(all.map((e) => `${e.kind}:${e.call?.callId ?? e.note?.text ?? e.disposition?.code}`), [
      'disposition:interested',
      'call:call-2',
      'note:wants a brochure',
      'call:call-1',
    ], 'another customer’s call is not on it')
    t.same(all.map((e) => Date.parse(e.at)), [t0 + 3 * 3600_000, t0 + 2 * 3600_000, t0 + 3600_000, t0])
    t.equal(all[1]!.call!.answeredAt, new Date(t0 + 2 * 3600_000 + 5000).toISOString())
    t.equal(all[0]!.disposition!.callId, 'call-2')
    t.same((await page('?limit=2')).map((e) => e.id), [all[0]!.id, all[1]!.id])
    t.same((await page(`?limit=2&before=${encodeURIComponent(all[1]!.at)}`)).map((e) => e.id), [all[2]!.id, all[3]!.id])
    t.same((await page('', auth('qa'))).length, 4, 'QA reads the timeline')
    problem(t, await app.inject({ method: 'GET', url: `/v1/customers/${customer.id}/timeline`, headers: bearer(keyB) }), 404)
    const audit = await repos.audit.list({ entity: 'customer', entityId: customer.id, limit: 10 })
    t.ok(audit.some((e) => e.action === 'add-note') && audit.some((e) => e.action === 'add-disposition'))
  })

  await t.test('callbacks are booked to the minute, for the owner or anyone, and listed when due', async (t) => {
    const due = Math.ceil((Date.now() + 24 * 3600_000) / Minute) * Minute + 7 * Minute
    const book = (headers: Record<string, string>, payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: `/v1/customers/${customer.id}/callbacks`, headers, payload })

    const owned = await book(bearer(keyA), { dueAt: new Date(due).toISOString(), note: 'after 7pm, she works days' })
    t.equal(owned.statusCode, 201, owned.body)
    const cb = owned.json<Callback>()
    t.same([cb.dueAt, cb.agentId, cb.status, cb.note], [new Date(due).toISOString(), agentA.id, 'pending', 'after 7pm, she works days'])
    const anyone = (await book(auth('supervisor'), { dueAt: new Date(due + Minute).toISOString(), assignee: 'anyone' })).json<Callback>()
    t.equal(anyone.agentId, null)

    const withSeconds = problem(t, await book(bearer(keyA), { dueAt: new Date(due + 30_000).toISOString() }), 400)
    t.equal(withSeconds.errors?.[0]?.field, 'body.dueAt')
    t.match(withSeconds.detail, /to the minute/)
    problem(t, await book(bearer(keyA), { dueAt: new Date(due + 1).toISOString() }), 400)
    problem(t, await book(bearer(keyA), { dueAt: new Date(Date.now() - 3600_000).toISOString().replace(/:\d\d\.\d+Z$/, ':00.000Z') }), 400)
    problem(t, await book(bearer(keyA), { dueAt: 'tomorrow at nine' }), 400)
    problem(t, await book(bearer(keyB), { dueAt: new Date(due).toISOString() }), 404)
    problem(t, await book(auth('qa'), { dueAt: new Date(due).toISOString() }), 403)
    // The database refuses seconds on a customer callback even if a caller skipped the repository.
    await t.rejects(
      db.query(`INSERT INTO callbacks (id, site_id, customer_id, due_at) VALUES ('raw', 'default', $1, $2)`, [customer.id, new Date(due + 1000)]),
    )
    // The encrypted note is not readable in the row.
    const raw = JSON.stringify((await db.query('SELECT * FROM callbacks WHERE id = $1', [cb.id])).rows)
    t.notOk(raw.includes('7pm'))

    const list = async (qs: string, headers: Record<string, string>): Promise<string[]> => {
      const res = await app.inject({ method: 'GET', url: `/v1/callbacks${qs}`, headers })
      t.equal(res.statusCode, 200, res.body)
      return res.json<{ items: Callback[] }>().items.map((c) => c.id)
    }
    const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString())
    t.same(await list(`?dueBefore=${at(due - Minute)}`, auth('supervisor')), [], 'not due a minute before')
    t.same(await list(`?dueBefore=${at(due)}`, auth('supervisor')), [cb.id], 'due at its minute')
    t.same(await list(`?dueBefore=${at(due + Minute)}`, auth('supervisor')), [cb.id, anyone.id], 'soonest first')
    t.same(await list(`?dueBefore=${at(due + Minute)}&dueAfter=${at(due + Minute)}`, auth('supervisor')), [anyone.id])
    t.same(await list(`?dueBefore=${at(due + Minute)}&assignee=me`, bearer(keyA)), [cb.id, anyone.id], 'the owner’s and anyone’s')
    t.same(await list(`?dueBefore=${at(due + Minute)}`, bearer(keyB)), [], 'B owns no customer with callbacks')
    t.same(await list('', auth('supervisor')), [], 'nothing is due now')
    const forCustomer = (await app.inject({ method: 'GET', url: `/v1/customers/${customer.id}/callbacks`, headers: auth('qa') })).json<{ items: Callback[] }>()
    t.same(forCustomer.items.map((c) => c.id), [anyone.id, cb.id])

    const rebooked = await app.inject({ method: 'PATCH', url: `/v1/callbacks/${cb.id}`, headers: bearer(keyA), payload: { dueAt: new Date(due + 60 * Minute).toISOString() } })
    t.equal(rebooked.statusCode, 200, rebooked.body)
    t.equal(rebooked.json<Callback>().dueAt, new Date(due + 60 * Minute).toISOString())
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/callbacks/${cb.id}`, headers: bearer(keyA), payload: { dueAt: new Date(due + 5).toISOString() } }), 400)
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/callbacks/${cb.id}`, headers: bearer(keyB), payload: { status: 'done' } }), 404)

    // Handing the customer to B moves the callback offered to A along; the one for anyone stays anyone's.
    t.equal((await app.inject({ method: 'PATCH', url: `/v1/customers/${customer.id}`, headers: auth('supervisor'), payload: { ownerAgentId: agentB.id } })).statusCode, 200)
    const moved = (await app.inject({ method: 'GET', url: `/v1/customers/${customer.id}/callbacks`, headers: bearer(keyB) })).json<{ items: Callback[] }>()
    t.same(moved.items.map((c) => [c.id, c.agentId]), [[cb.id, agentB.id], [anyone.id, null]])
    t.same(await list(`?dueBefore=${at(due + 2 * 60 * Minute)}`, bearer(keyA)), [], 'A no longer reaches them')

    const done = await app.inject({ method: 'PATCH', url: `/v1/callbacks/${anyone.id}`, headers: bearer(keyB), payload: { status: 'done' } })
    t.equal(done.json<Callback>().status, 'done')
    t.same(await list(`?dueBefore=${at(due + 2 * 60 * Minute)}`, bearer(keyB)), [cb.id], 'done ones are not open')
    t.same(await list(`?dueBefore=${at(due + 2 * 60 * Minute)}&status=done`, bearer(keyB)), [anyone.id])
    const audit = await repos.audit.list({ entity: 'customer', entityId: customer.id, limit: 20 })
    t.equal(audit.filter((e) => e.action === 'book-callback').length, 2)
    t.equal(audit.filter((e) => e.action === 'update-callback').length, 2)
  })
})
