/** Disposition codes: global ones only from platform admins, a campaign's from its site's managers; reports count conversions by them. */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { settings } from '../store/sql/settings-fixture.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

t.test('disposition codes by scope', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const h = await harness(test.db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(test.db)
  await repos.sites.create({ id: 'chengdu', name: 'Chengdu' })
  const mine = await repos.campaigns.create({ name: 'Default', settings: settings() })
  const theirs = await repos.campaigns.create({ name: 'Chengdu', settings: settings(), siteId: 'chengdu' })

  const global = await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('admin'), payload: { code: 'sale', label: 'Sale', leadStatus: 'done', countsAsConversion: true } })
  t.equal(global.statusCode, 201, global.body)
  problem(t, await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('supervisor'), payload: { code: 'x', label: 'X', leadStatus: 'done' } }), 403)
  const own = await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('supervisor'), payload: { campaignId: mine.id, code: 'call-back', label: 'Call back', leadStatus: 'callback', booksCallback: true } })
  t.equal(own.statusCode, 201, own.body)
  problem(t, await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('supervisor'), payload: { campaignId: mine.id, code: 'call-back', label: 'Again', leadStatus: 'callback' } }), 409)
  problem(t, await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('supervisor'), payload: { campaignId: theirs.id, code: 'y', label: 'Y', leadStatus: 'done' } }), 404)
  const badStatus = problem(t, await app.inject({ method: 'POST', url: '/v1/dispositions', headers: auth('supervisor'), payload: { campaignId: mine.id, code: 'z', label: 'Z', leadStatus: 'won' } }), 400)
  t.equal(badStatus.errors?.[0]?.field, 'body.leadStatus')

  const listed = (await app.inject({ method: 'GET', url: `/v1/dispositions?campaignId=${mine.id}`, headers: auth('agent') })).json<{ items: Array<{ code: string; campaignId: string | null }> }>()
  t.same(listed.items.map((c) => c.code), ['sale', 'call-back'], 'global codes first, then the campaign’s')
  problem(t, await app.inject({ method: 'GET', url: `/v1/dispositions?campaignId=${theirs.id}`, headers: auth('agent') }), 404)

  const ownId = own.json<{ id: string }>().id
  const patched = await app.inject({ method: 'PATCH', url: `/v1/dispositions/${ownId}`, headers: auth('supervisor'), payload: { countsAsConversion: true } })
  t.match(patched.json(), { code: 'call-back', countsAsConversion: true, booksCallback: true })
  problem(t, await app.inject({ method: 'PATCH', url: `/v1/dispositions/${global.json<{ id: string }>().id}`, headers: auth('supervisor'), payload: { label: 'Won' } }), 403)
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/dispositions/${ownId}`, headers: auth('supervisor') })).statusCode, 204)
  const audit = await test.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE entity = 'disposition' ORDER BY id`)
  t.same(audit.rows.map((r) => r.action), ['create', 'create', 'update', 'delete'])
})
