/** Campaigns by site: a site's callers see and drive only their own campaigns; others' look missing. Update, archive. */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db)
  await repos.sites.create({ id: 'hangzhou', name: 'Hangzhou' })
  const hz = { authorization: `Bearer ${(await repos.apiKeys.create({ name: 'hz-sup', role: 'supervisor', siteId: 'hangzhou' })).key}` }

  const mine = await app.inject({ method: 'POST', url: '/v1/campaigns', headers: hz, payload: { name: 'hz renewals' } })
  t.equal(mine.statusCode, 201, mine.body)
  const hzCampaign = mine.json<{ id: string; siteId: string }>()
  t.equal(hzCampaign.siteId, 'hangzhou')
  const theirs = (await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('supervisor'), payload: { name: 'default one' } })).json<{ id: string; siteId: string }>()
  t.equal(theirs.siteId, 'default')

  await t.test('lists and reads stay in the site; another site answers like a missing id', async (t) => {
    const list = (await app.inject({ method: 'GET', url: '/v1/campaigns', headers: hz })).json<{ items: Array<{ id: string }>; total: number }>()
    t.same(list.items.map((c) => c.id), [hzCampaign.id])
    t.equal(list.total, 1)
    for (const [method, url] of [
      ['GET', `/v1/campaigns/${theirs.id}`],
      ['POST', `/v1/campaigns/${theirs.id}/start`],
      ['GET', `/v1/campaigns/${theirs.id}/figures`],
      ['PATCH', `/v1/campaigns/${theirs.id}`],
      ['DELETE', `/v1/campaigns/${theirs.id}`],
    ] as const) {
      const payload = method === 'PATCH' ? { name: 'stolen' } : undefined
      const foreign = problem(t, await app.inject({ method, url, headers: hz, ...(payload ? { payload } : {}) }), 404)
      const missing = problem(t, await app.inject({ method, url: url.replace(theirs.id, 'no-such-campaign'), headers: hz, ...(payload ? { payload } : {}) }), 404)
      t.equal(foreign.type, missing.type, `${method} ${url}: same answer as a missing campaign`)
      t.equal(foreign.detail?.replace(theirs.id, 'X'), missing.detail?.replace('no-such-campaign', 'X'), 'same words too')
    }
    t.notOk(h.control.calls.some((c) => c.campaignId === theirs.id), 'the engine was never asked to start the other site’s campaign')
    const platform = (await app.inject({ method: 'GET', url: '/v1/campaigns', headers: auth('admin') })).json<{ total: number }>()
    t.equal(platform.total, 2, 'a platform admin sees every site')
    problem(t, await app.inject({ method: 'POST', url: '/v1/campaigns', headers: hz, payload: { name: 'x', siteId: 'default' } }), 403)
    problem(t, await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('admin'), payload: { name: 'x', siteId: 'nowhere' } }), 400)
  })

  await t.test('lead lists and leads under another site’s campaign look missing', async (t) => {
    const list = await app.inject({ method: 'POST', url: `/v1/campaigns/${theirs.id}/lead-lists`, headers: auth('supervisor'), payload: { name: 'default list' } })
    t.equal(list.statusCode, 201, list.body)
    const listId = list.json<{ id: string }>().id
    problem(t, await app.inject({ method: 'POST', url: `/v1/campaigns/${theirs.id}/lead-lists`, headers: hz, payload: { name: 'sneaky' } }), 404)
    problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${theirs.id}/lead-lists`, headers: hz }), 404)
    for (const url of [`/v1/lead-lists/${listId}`, `/v1/lead-lists/${listId}/export`, `/v1/lead-lists/${listId}/imports`]) {
      problem(t, await app.inject({ method: 'GET', url, headers: hz }), 404)
      t.equal((await app.inject({ method: 'GET', url, headers: auth('supervisor') })).statusCode, 200, `${url} answers its own site`)
    }
    const imported = await app.inject({
      method: 'POST', url: `/v1/lead-lists/${listId}/imports`, headers: { ...hz, 'content-type': 'text/csv' }, payload: 'phone\n+8613800138000\n',
    })
    problem(t, imported, 404)
    const own = await app.inject({
      method: 'POST', url: `/v1/lead-lists/${listId}/imports`, headers: { ...auth('supervisor'), 'content-type': 'text/csv' }, payload: 'phone\n+8613800138000\n',
    })
    t.equal(own.statusCode, 201, own.body)
    const row = await db.query<{ id: string }>('SELECT id FROM leads WHERE list_id = $1', [listId])
    const leadId = row.rows[0]!.id
    problem(t, await app.inject({ method: 'GET', url: `/v1/leads/${leadId}/dialability`, headers: hz }), 404)
    t.equal((await app.inject({ method: 'GET', url: `/v1/leads/${leadId}/dialability`, headers: auth('supervisor') })).statusCode, 200)
  })

  await t.test('update: rename and replace settings; bad hours refused with the field', async (t) => {
    const renamed = await app.inject({ method: 'PATCH', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz, payload: { name: 'hz renewals Q4' } })
    t.equal(renamed.statusCode, 200, renamed.body)
    t.equal(renamed.json<{ name: string }>().name, 'hz renewals Q4')
    const predictive = await app.inject({
      method: 'PATCH', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz,
      payload: { settings: { dialMode: 'predictive', pacing: { abandonCeiling: 0.02 } } },
    })
    t.equal(predictive.statusCode, 200, predictive.body)
    const s = predictive.json<{ settings: { dialMode: string; pacing: { abandonCeiling: number; maxLinesPerAgent: number } } }>().settings
    t.equal(s.dialMode, 'predictive')
    t.equal(s.pacing.abandonCeiling, 0.02)
    t.equal(s.pacing.maxLinesPerAgent, 3, 'omitted settings take their defaults')
    const bad = problem(t, await app.inject({
      method: 'PATCH', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz,
      payload: { settings: { screening: { callingHours: { start: '21:00', end: '09:00' } } } },
    }), 400)
    t.equal(bad.errors?.[0]?.field, 'body.settings.screening.callingHours.end')
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz, payload: {} }), 400)
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/campaigns/${hzCampaign.id}`, headers: auth('qa'), payload: { name: 'x' } }), 403)
  })

  await t.test('archive: only a stopped campaign; then it is gone from lists and reads, its records kept', async (t) => {
    t.equal((await app.inject({ method: 'POST', url: `/v1/campaigns/${hzCampaign.id}/start`, headers: hz })).statusCode, 200)
    problem(t, await app.inject({ method: 'DELETE', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz }), 409)
    t.equal((await app.inject({ method: 'POST', url: `/v1/campaigns/${hzCampaign.id}/stop`, headers: hz })).statusCode, 200)
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz })).statusCode, 204)
    problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${hzCampaign.id}`, headers: hz }), 404)
    const row = await db.query<{ archived: boolean }>('SELECT archived_at IS NOT NULL AS archived FROM campaigns WHERE id = $1', [hzCampaign.id])
    t.equal(row.rows[0]?.archived, true, 'the row stays')
    const audit = await db.query<{ action: string }>(`SELECT action FROM audit_log WHERE entity = 'campaign' AND entity_id = $1 ORDER BY id`, [hzCampaign.id])
    t.same(audit.rows.map((r) => r.action), ['create', 'update', 'update', 'start', 'stop', 'archive'])
  })
})
