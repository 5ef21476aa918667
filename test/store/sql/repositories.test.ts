import t from 'tap'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { hashApiKey } from '../../../engine/store/sql/api-keys.js'
import type { CdrRecord } from '../../../engine/store/sql/cdrs.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { forEachDriver } from './databases.js'
import { settings } from './settings-fixture.js'
import { testPii } from '../../fixtures/pii.js'

function cdr(callId: string, campaignId: string, leadId: string, overrides: Partial<CdrRecord> = {}): CdrRecord {
  return {
    callId,
    campaignId,
    leadId,
    outcome: 'connected',
    disposition: 'system:connected',
    dialedAt: Date.UTC(2026, 10, 23, 9, 0, 0),
    answeredAt: Date.UTC(2026, 10, 23, 9, 0, 12),
    bridgedAt: Date.UTC(2026, 10, 23, 9, 0, 13),
    endedAt: Date.UTC(2026, 10, 23, 9, 3, 13),
    talkSeconds: 180,
    waitSeconds: 1.25,
    abandoned: false,
    agentId: 'agent-7',
    sipStatus: 200,
    sipReason: 'OK',
    ...overrides,
  }
}

forEachDriver(t, async (t, db) => {
  await migrate(db)
  const pii = testPii()
  const repo = repositories(db, pii)

  await t.test('campaigns: create, get, list, state, settings', async (t) => {
    const a = await repo.campaigns.create({ name: 'Renewals', settings: settings() })
    t.match(a.id, /^[0-9a-f-]{36}$/, 'a UUID by default')
    t.equal(a.state, 'stopped')
    t.same(a.settings, settings(), 'settings round-trip through JSONB')
    const b = await repo.campaigns.create({ id: 'demo', name: 'Demo', settings: settings({ dialMode: 'progressive' }) })
    t.equal(b.id, 'demo')
    t.same(await repo.campaigns.get(a.id), a)
    t.equal(await repo.campaigns.get('nope'), undefined)

    const page = await repo.campaigns.list({ limit: 1, offset: 0 })
    t.equal(page.total, 2)
    t.equal(page.items.length, 1)
    const page2 = await repo.campaigns.list({ limit: 10, offset: 1 })
    t.equal(page2.items.length, 1)
    t.not(page2.items[0]!.id, page.items[0]!.id, 'offset pages do not overlap')

    const running = await repo.campaigns.setState(a.id, 'running')
    t.equal(running?.state, 'running')
    t.ok(running!.updatedAt >= a.updatedAt)
    t.same((await repo.campaigns.listByState('running')).map((c) => c.id), [a.id])
    t.equal(await repo.campaigns.setState('nope', 'running'), undefined)

    const changed = await repo.campaigns.updateSettings(b.id, settings({ dialMode: 'preview' }))
    t.equal(changed?.settings.dialMode, 'preview')
    await t.rejects(
      db.query(`UPDATE campaigns SET state = 'exploded' WHERE id = $1`, [a.id]),
      'the state CHECK refuses unknown states',
    )
  })

  await t.test('leads: bulk insert with de-duplication, attempts, callbacks', async (t) => {
    const c = await repo.campaigns.create({ name: 'Leads', settings: settings() })
    const other = await repo.campaigns.create({ name: 'Other', settings: settings() })
    const agent = await repo.agents.create({ name: 'Li Na', extension: '1001' })
    const list = await repo.leads.createList({ campaignId: c.id, name: 'import 1', source: 'leads.csv' })
    t.equal(list.campaignId, c.id)

    const first = await repo.leads.insertMany(
      c.id,
      [
        { phone: '138 0013 8000', e164: '+8613800138000', region: 'CN', timezone: 'Asia/Shanghai', priority: 5 },
        { phone: '13900139000', e164: '+8613900139000', ownerAgentId: agent.id },
        { phone: '+86 138 0013 8000', e164: '+8613800138000' },
        { phone: 'not parsed yet' },
      ],
      list.id,
    )
    t.equal(first.insertedIds.length, 3)
    t.equal(first.duplicates, 1, 'the same E.164 twice in one campaign lands once')
    const again = await repo.leads.insertMany(c.id, [{ phone: '13900139000', e164: '+8613900139000' }])
    t.equal(again.duplicates, 1, 'and once across imports')
    const elsewhere = await repo.leads.insertMany(other.id, [{ phone: '13900139000', e164: '+8613900139000' }])
    t.equal(elsewhere.insertedIds.length, 1, 'another campaign may hold the same number')

    const lead = await repo.leads.get(first.insertedIds[0]!)
    t.same(lead, {
      id: first.insertedIds[0],
      campaignId: c.id,
      phone: '138 0013 8000',
      e164: '+8613800138000',
      region: 'CN',
      timezone: 'Asia/Shanghai',
      status: 'new',
      attemptTimes: [],
      priority: 5,
    })

    const ordered = await repo.leads.list(c.id, { limit: 10 })
    t.equal(ordered[0]!.id, first.insertedIds[0], 'higher priority first')
    t.equal(ordered.length, 3)
    const paged = await repo.leads.list(c.id, { limit: 10, afterId: ordered[0]!.id, statuses: ['new'] })
    t.ok(paged.every((l) => l.id > ordered[0]!.id))

    const t1 = Date.UTC(2026, 10, 23, 10, 0, 0)
    const t2 = Date.UTC(2026, 10, 23, 11, 30, 0)
    t.ok(await repo.leads.recordAttempt(lead!.id, { at: t1, status: 'no-answer' }))
    t.ok(await repo.leads.recordAttempt(lead!.id, { at: t2, status: 'abandoned', abandonedAt: t2 + 5000 }))
    const after = await repo.leads.get(lead!.id)
    t.same(after!.attemptTimes, [t1, t2], 'attempt history in order, to the millisecond')
    t.equal(after!.status, 'abandoned')
    t.equal(after!.lastAbandonedAt, t2 + 5000)
    t.notOk(await repo.leads.recordAttempt('missing', { at: t1, status: 'busy' }))

    const due = Date.UTC(2026, 10, 24, 9, 30)
    t.ok(await repo.leads.bookCallback(first.insertedIds[1]!, due))
    const booked = await repo.leads.get(first.insertedIds[1]!)
    t.equal(booked!.callbackAt, due)
    t.equal(booked!.ownerAgentId, agent.id, 'the owner stays when the booking names none')
    t.same(await repo.leads.dueCallbacks(c.id, due - 60_000, 10), [], 'not due a minute early')
    t.same((await repo.leads.dueCallbacks(c.id, due, 10)).map((l) => l.id), [first.insertedIds[1]])

    t.same(await repo.leads.countByStatus(c.id), { new: 1, abandoned: 1, callback: 1 })
    t.ok(await repo.leads.setStatus(first.insertedIds[2]!, 'dnc'))
    await t.rejects(repo.leads.insertMany('no-such-campaign', [{ phone: '1' }]), 'a lead needs its campaign')
  })

  await t.test('leads as the hopper\'s LeadSource: keyset pages in insertion order, outcomes written back', async (t) => {
    const c = await repo.campaigns.create({ name: 'Source', settings: settings() })
    const phones = Array.from({ length: 7 }, (_, i) => ({ phone: `1380013800${i}`, e164: `+861380013800${i}` }))
    const { insertedIds } = await repo.leads.insertMany(c.id, phones)
    t.ok(await repo.leads.setStatus(insertedIds[1]!, 'dnc'), 'a final status')

    const p1 = await repo.leads.fetch(c.id, undefined, 3)
    t.same(p1.leads.map((l) => l.id), [insertedIds[0], insertedIds[2], insertedIds[3]], 'final leads skipped, order kept')
    t.equal(p1.exhausted, false)
    const p2 = await repo.leads.fetch(c.id, p1.nextCursor, 3)
    t.same(p2.leads.map((l) => l.id), insertedIds.slice(4, 7))
    t.equal(p2.exhausted, true, 'nothing after the last page')
    const p3 = await repo.leads.fetch(c.id, p2.nextCursor, 3)
    t.same(p3.leads, [])
    t.equal(p3.nextCursor, p2.nextCursor, 'an empty page keeps the cursor')
    t.equal(p3.exhausted, true)

    const later = await repo.leads.insertMany(c.id, [{ phone: '13700137000', e164: '+8613700137000' }])
    const p4 = await repo.leads.fetch(c.id, p3.nextCursor, 3)
    t.same(p4.leads.map((l) => l.id), later.insertedIds, 'a later import comes after the cursor')
    await t.rejects(repo.leads.fetch(c.id, 'x; DROP TABLE leads', 3), /bad lead source cursor/)

    const lead = p1.leads[0]!
    const at = Date.UTC(2026, 10, 23, 10)
    await repo.leads.recordOutcome({
      ...lead,
      status: 'callback',
      attemptTimes: [at - 86_400_000, at],
      callbackAt: at + 3_600_000,
      lastAbandonedAt: at,
      timezone: 'Asia/Shanghai',
    })
    const stored = await repo.leads.get(lead.id)
    t.equal(stored!.status, 'callback')
    t.same(stored!.attemptTimes, [at - 86_400_000, at])
    t.equal(stored!.callbackAt, at + 3_600_000)
    t.equal(stored!.lastAbandonedAt, at)
    t.equal(stored!.timezone, 'Asia/Shanghai')
    const row = await db.query<{ attempts: number }>('SELECT attempts FROM leads WHERE id = $1', [lead.id])
    t.equal(row.rows[0]!.attempts, 2)
    await t.rejects(repo.leads.recordOutcome({ ...lead, id: 'missing' }), /unknown lead missing/)
    await repo.leads.recordOutcome({ ...lead, status: 'refused' })
    t.notOk(
      (await repo.leads.fetch(c.id, undefined, 100)).leads.some((l) => l.id === lead.id),
      'a lead recorded final leaves the source',
    )
  })

  await t.test('cdrs: exactly one per call, even when written concurrently', async (t) => {
    const c = await repo.campaigns.create({ name: 'CDRs', settings: settings() })
    const record = cdr('call-1', c.id, 'lead-1')
    t.same(await repo.cdrs.insert(record), { inserted: true })
    t.same(await repo.cdrs.insert({ ...record, outcome: 'busy' }), { inserted: false }, 'second write refused')
    t.same(await repo.cdrs.get('call-1'), record, 'every field round-trips; the first write stands')

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => repo.cdrs.insert(cdr('call-2', c.id, 'lead-2', { disposition: `d${i}` }))),
    )
    t.equal(results.filter((r) => r.inserted).length, 1, 'eight racing writers, one CDR')
    const n = await db.query<{ n: number }>(`SELECT count(*) AS n FROM cdrs WHERE call_id = 'call-2'`)
    t.equal(n.rows[0]!.n, 1)

    const minimal = cdr('call-3', c.id, 'lead-3', {
      outcome: 'no-answer',
      disposition: 'system:no-answer',
      answeredAt: undefined,
      bridgedAt: undefined,
      agentId: undefined,
      waitSeconds: undefined,
      talkSeconds: 0,
      sipStatus: 480,
      sipReason: 'Temporarily Unavailable',
      endedAt: Date.UTC(2026, 10, 23, 9, 0, 30),
    })
    await repo.cdrs.insert(minimal)
    t.same(await repo.cdrs.get('call-3'), JSON.parse(JSON.stringify(minimal)), 'absent fields stay absent')

    t.ok(await repo.cdrs.setDisposition('call-1', 'sale'))
    t.equal((await repo.cdrs.get('call-1'))!.disposition, 'sale')
    t.notOk(await repo.cdrs.setDisposition('nope', 'sale'))

    const day = { from: Date.UTC(2026, 10, 23), to: Date.UTC(2026, 10, 24) }
    t.same(await repo.cdrs.countByOutcome(c.id, day), { connected: 2, 'no-answer': 1 })
    const listed = await repo.cdrs.listByCampaign(c.id, { ...day, limit: 10 })
    t.same(listed.map((x) => x.callId), ['call-3', 'call-1', 'call-2'], 'ordered by end time')
    await t.rejects(repo.cdrs.insert(cdr('call-4', 'no-such-campaign', 'l')), 'a CDR names a real campaign')
  })

  await t.test('agents', async (t) => {
    const a = await repo.agents.create({ name: 'Zhang Wei', extension: '2001', team: 'A', skills: { renewals: 1 } })
    t.same(await repo.agents.get(a.id), a)
    await t.rejects(repo.agents.create({ name: 'Dup', extension: '2001' }), 'extensions are unique')
    t.ok(await repo.agents.setActive(a.id, false))
    t.notOk((await repo.agents.list({ activeOnly: true })).some((x) => x.id === a.id))
    t.ok((await repo.agents.list()).some((x) => x.id === a.id))
  })

  await t.test('api keys: only the hash is stored, revocation, bootstrap is idempotent', async (t) => {
    const { key, apiKey } = await repo.apiKeys.create({ name: 'ops', role: 'supervisor' })
    t.match(key, /^cad_[A-Za-z0-9_-]{43}$/)
    const stored = await db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [apiKey.id])
    t.equal(stored.rows[0]!.key_hash, hashApiKey(key))
    const all = JSON.stringify(await db.query('SELECT * FROM api_keys'))
    t.notOk(all.includes(key), 'the plaintext is nowhere in the table')
    t.equal((await repo.apiKeys.findActiveByKey(key))?.role, 'supervisor')
    t.equal(await repo.apiKeys.findActiveByKey(`${key}x`), undefined)
    t.ok(await repo.apiKeys.revoke(apiKey.id))
    t.equal(await repo.apiKeys.findActiveByKey(key), undefined, 'a revoked key no longer authenticates')

    const boot = 'bootstrap-admin-key-0123456789'
    t.equal((await repo.apiKeys.ensure(boot, { name: 'bootstrap', role: 'admin' })).created, true)
    t.equal((await repo.apiKeys.ensure(boot, { name: 'bootstrap', role: 'admin' })).created, false)
    t.equal((await repo.apiKeys.findActiveByKey(boot))?.role, 'admin')
  })

  await t.test('audit log, and a transaction commits or rolls back every repository together', async (t) => {
    await repo.audit.append({ actor: 'system', action: 'boot', entity: 'engine' })
    await t.rejects(
      db.transaction(async (tx) => {
        const r = repositories(tx, pii)
        const c = await r.campaigns.create({ name: 'Doomed', settings: settings() })
        await r.audit.append({ actor: 'api-key:x', action: 'create', entity: 'campaign', entityId: c.id })
        throw new Error('abort')
      }),
      /abort/,
    )
    t.same(await repo.audit.list({ entity: 'campaign', limit: 10 }), [], 'nothing of the failed transaction stays')
    const id = await db.transaction(async (tx) => {
      const r = repositories(tx, pii)
      const c = await r.campaigns.create({ name: 'Kept', settings: settings() })
      await r.audit.append({ actor: 'api-key:x', action: 'create', entity: 'campaign', entityId: c.id, detail: { n: 1 } })
      return c.id
    })
    const entries = await repo.audit.list({ entity: 'campaign', entityId: id, limit: 10 })
    t.equal(entries.length, 1)
    t.same(entries[0]!.detail, { n: 1 })
    t.ok(await repo.campaigns.get(id))
  })
})
