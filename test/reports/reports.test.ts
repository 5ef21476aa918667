/**
 * Reports over real PostgreSQL: figures computed from CDRs and state samples, with their definitions; time per state
 * from the real Redis ACD sampled under a virtual clock; site scoping; CSV and XLSX exports read back with exceljs.
 */
import t from 'tap'
import ExcelJS from 'exceljs'
import { VirtualClock } from '../../engine/clock.js'
import { RedisAcd } from '../../engine/store/redis/redis-acd.js'
import { AgentStateSampler } from '../../engine/reports/agent-state-sampler.js'
import { AgentStateSampleRepository } from '../../engine/store/sql/agent-state-samples.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import type { CdrRecord } from '../../engine/store/sql/cdrs.js'
import { settings } from '../store/sql/settings-fixture.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'
import { problem } from '../api/problem-assert.js'

const T0 = Date.parse('2026-11-02T01:00:00Z')
const MIN = 60_000

forEachDriver(t, async (t, db) => {
  const env = redisEnv(`reports-${db.driver}`)
  t.teardown(() => env.cleanup())
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const repos = repositories(db)
  await repos.sites.create({ id: 'wuhan', name: 'Wuhan' })
  const alice = await repos.agents.create({ id: 'alice', name: 'Alice' })
  const bob = await repos.agents.create({ id: 'bob', name: 'Bob' })
  await repos.agents.create({ id: 'wu-agent', name: 'Wu', siteId: 'wuhan' })
  const c1 = await repos.campaigns.create({ name: 'Renewals', settings: settings() })
  const c2 = await repos.campaigns.create({ name: 'Wuhan promo', settings: settings(), siteId: 'wuhan' })
  await db.query(`INSERT INTO dispositions (code, label, lead_status, counts_as_conversion) VALUES ('sale', 'Sale', 'done', true), ('not-interested', 'No', 'refused', false)`)

  let n = 0
  const cdr = async (c: Partial<CdrRecord> & Pick<CdrRecord, 'outcome' | 'campaignId'>): Promise<void> => {
    n++
    await repos.cdrs.insert({
      callId: `call-${db.driver}-${n}`, leadId: `lead-${n}`, disposition: `system:${c.outcome}`, dialedAt: T0 + n * 1000,
      endedAt: T0 + n * 1000 + 30_000, talkSeconds: 0, abandoned: c.outcome === 'abandoned', ...c,
    })
  }
  // Campaign 1 (default site): 6 dialed, 3 connects (2 sales), 1 abandoned, 1 machine, 1 no answer.
  await cdr({ campaignId: c1.id, outcome: 'connected', agentId: alice.id, talkSeconds: 120, disposition: 'sale', waitSeconds: 0.5 })
  await cdr({ campaignId: c1.id, outcome: 'connected', agentId: alice.id, talkSeconds: 60, disposition: 'not-interested', waitSeconds: 0.3 })
  await cdr({ campaignId: c1.id, outcome: 'connected', agentId: bob.id, talkSeconds: 300, disposition: 'sale', waitSeconds: 1.0 })
  await cdr({ campaignId: c1.id, outcome: 'abandoned', waitSeconds: 2 })
  await cdr({ campaignId: c1.id, outcome: 'machine' })
  await cdr({ campaignId: c1.id, outcome: 'no-answer' })
  // Outside the period: must not count.
  await cdr({ campaignId: c1.id, outcome: 'connected', agentId: alice.id, talkSeconds: 999, endedAt: T0 - 86_400_000 })
  // Another site's calls.
  await cdr({ campaignId: c2.id, outcome: 'connected', agentId: 'wu-agent', talkSeconds: 50, disposition: 'sale' })
  // Two inbound calls: one answered after 4 s in queue, one lost after 10 s.
  await cdr({ campaignId: c1.id, outcome: 'connected', agentId: bob.id, talkSeconds: 40, waitSeconds: 4, callId: 'in-1' })
  await cdr({ campaignId: c1.id, outcome: 'abandoned', waitSeconds: 10, callId: 'in-2' })
  await db.query(`UPDATE cdrs SET direction = 'inbound' WHERE call_id IN ('in-1', 'in-2')`)

  const q = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3_600_000).toISOString()}`

  await t.test('per campaign: counts and rates with the abandon denominator named; other sites left out', async (t) => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/reports/campaigns?${q}`, headers: h.auth('supervisor') })
    t.equal(res.statusCode, 200, res.body)
    const body = res.json<{ abandonDenominator: string; items: Array<Record<string, number | string>> }>()
    t.equal(body.abandonDenominator, 'live-answers')
    t.same(body.items.map((i) => i['name']), ['Renewals'], 'the supervisor of the default site sees its campaign only')
    const r = body.items[0]!
    t.match(r, { dialed: 6, connects: 3, abandoned: 1, machines: 1, conversions: 2, talkSeconds: 480 })
    t.equal(r['connectRate'], 3 / 6)
    t.equal(r['abandonRate'], 1 / 4)
    t.equal(r['conversionRate'], 2 / 3)
    t.equal(r['averageTalkSeconds'], 160)
    const all = (await h.app.inject({ method: 'GET', url: `/v1/reports/campaigns?${q}`, headers: h.auth('admin') })).json<{ items: unknown[] }>()
    t.equal(all.items.length, 2, 'a platform admin sees both sites')
  })

  await t.test('site totals, lost inbound calls and inbound wait', async (t) => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/reports/site?${q}`, headers: h.auth('qa') })
    t.equal(res.statusCode, 200, res.body)
    const site = res.json<{ site: { dialed: number; connects: number; inbound: { calls: number; lost: number; averageWaitSeconds: number } } }>().site
    t.equal(site.dialed, 6)
    t.same(site.inbound, { calls: 2, lost: 1, averageWaitSeconds: 7 })
  })

  await t.test('per agent: calls, talk, conversions; time in each state from the ACD sampled every minute', async (t) => {
    const clock = new VirtualClock(T0)
    const acd = new RedisAcd({ redis: env.connect(), keys: env.keys })
    await acd.register(alice.id, T0)
    await acd.apply(alice.id, { type: 'login', at: T0, ready: true })
    const sampler = new AgentStateSampler({ source: acd, sink: new AgentStateSampleRepository(db), clock, intervalMs: MIN, log: { warn: () => {} } })
    await sampler.sampleNow()
    // 10 minutes ready, then 5 on a call, then paused for the rest.
    await acd.apply(alice.id, { type: 'reserve', at: T0 + 10 * MIN, callId: 'x' })
    await acd.apply(alice.id, { type: 'answer', at: T0 + 10 * MIN, callId: 'x' })
    clock.advanceTo(T0 + 10 * MIN)
    await sampler.sampleNow()
    await acd.apply(alice.id, { type: 'hangup', at: T0 + 15 * MIN, callId: 'x' })
    clock.advanceTo(T0 + 15 * MIN)
    await sampler.sampleNow()
    clock.advanceTo(T0 + 20 * MIN)
    await sampler.sampleNow()

    const res = await h.app.inject({ method: 'GET', url: `/v1/reports/agents?${q}`, headers: h.auth('supervisor') })
    t.equal(res.statusCode, 200, res.body)
    const items = res.json<{ items: Array<{ agentId: string; calls: number; talkSeconds: number; conversions: number; stateSeconds: Record<string, number> }> }>().items
    t.same(items.map((i) => i.agentId), ['alice', 'bob'], 'agents of the site, in name order; the other site’s agent absent')
    const a = items[0]!
    t.match(a, { calls: 2, talkSeconds: 180, conversions: 1 })
    t.equal(a.stateSeconds['ready'], 600)
    t.equal(a.stateSeconds['on-call'], 300)
    t.equal(a.stateSeconds['wrap-up'], 300, 'after hangup the agent wraps up until the last sample')
    t.equal(items[1]!.calls, 2, 'bob: one outbound and one inbound call')
  })

  await t.test('an agent sees only their own row', async (t) => {
    const key = (await repos.apiKeys.create({ name: 'bob', role: 'agent', agentId: bob.id })).key
    const res = await h.app.inject({ method: 'GET', url: `/v1/reports/agents?${q}`, headers: { authorization: `Bearer ${key}` } })
    t.same(res.json<{ items: Array<{ agentId: string }> }>().items.map((i) => i.agentId), ['bob'])
    problem(t, await h.app.inject({ method: 'GET', url: `/v1/reports/campaigns?${q}`, headers: { authorization: `Bearer ${key}` } }), 403)
  })

  await t.test('CSV and XLSX exports carry the same figures', async (t) => {
    const csv = await h.app.inject({ method: 'GET', url: `/v1/reports/campaigns?${q}&format=csv`, headers: h.auth('supervisor') })
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /^text\/csv/)
    t.match(csv.headers['content-disposition'], /attachment; filename="campaigns-2026-11-02_2026-11-02\.csv"/)
    const lines = csv.body.replace(/^\ufeff/, '').trim().split('\n')
    t.equal(lines.length, 2)
    t.match(lines[0], /^Campaign id,Campaign,Dialed,Connects/)
    t.match(lines[1], /,Renewals,6,3,1,1,2,0\.5,0\.25,/)

    const xlsx = await h.app.inject({ method: 'GET', url: `/v1/reports/agents?${q}&format=xlsx`, headers: h.auth('supervisor') })
    t.equal(xlsx.statusCode, 200)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
    const sheet = wb.worksheets[0]!
    t.equal(sheet.getRow(1).getCell(2).value, 'Agent')
    t.equal(sheet.getRow(2).getCell(2).value, 'Alice')
    t.equal(sheet.getRow(2).getCell(3).value, 2, 'numbers stay numbers')
  })

  await t.test('bad periods are refused with the field', async (t) => {
    const back = problem(t, await h.app.inject({ method: 'GET', url: `/v1/reports/site?from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`, headers: h.auth('admin') }), 400)
    t.equal(back.errors?.[0]?.field, 'querystring.to')
    problem(t, await h.app.inject({ method: 'GET', url: `/v1/reports/site?from=yesterday&to=today`, headers: h.auth('admin') }), 400)
    const key = (await repos.apiKeys.create({ name: 'wu', role: 'supervisor', siteId: 'wuhan' })).key
    const other = problem(t, await h.app.inject({ method: 'GET', url: `/v1/reports/site?${q}&siteId=default`, headers: { authorization: `Bearer ${key}` } }), 400)
    t.equal(other.errors?.[0]?.field, 'querystring.siteId')
  })
})
