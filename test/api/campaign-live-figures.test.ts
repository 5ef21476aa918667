/**
 * A campaign's live figures are reused for liveFiguresMaxAgeMs (asOf says when they were read), yet a start, pause or
 * stop through the API is seen at once, and the caller's site is checked on every request, cached reading or not.
 */
import t from 'tap'
import { repositories } from '../../engine/store/sql/repositories.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

interface Figures {
  state: string
  agents: Record<string, number>
  asOf: string
}

forEachDriver(t, async (t, db) => {
  // A period far longer than the test: whatever is reused here is reused because of the cache, not timing.
  const h = await harness(db, { extra: { liveFiguresMaxAgeMs: 3_600_000 } })
  t.teardown(() => h.app.close())
  const { app, auth, control } = h
  const repos = repositories(db)
  await repos.sites.create({ id: 'hangzhou', name: 'Hangzhou' })
  const hz = { authorization: `Bearer ${(await repos.apiKeys.create({ name: 'hz', role: 'supervisor', siteId: 'hangzhou' })).key}` }
  const c = (await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('admin'), payload: { name: 'Live' } })).json<{ id: string }>()
  const figures = async (headers = auth('supervisor')): Promise<Figures> => {
    const res = await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}/figures`, headers })
    t.equal(res.statusCode, 200, res.statusCode === 200 ? 'figures answered' : res.body)
    return res.json<Figures>()
  }
  const act = async (action: string) => t.equal((await app.inject({ method: 'POST', url: `/v1/campaigns/${c.id}/${action}`, headers: auth('admin') })).statusCode, 200)

  problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}/figures`, headers: auth('qa') }), 404)
  await act('start')
  const first = await figures()
  t.equal(first.state, 'running', 'the start through the API is seen at once, though "no figures" was answered before')
  t.ok(Date.parse(first.asOf) <= Date.now(), 'asOf is when the reading was made')

  control.addAgent({ agentId: 'a1', name: 'Li Na', state: 'ready', since: 0 }, [c.id])
  const reused = await figures()
  t.same(reused, first, 'within the period the same reading is answered, asOf unchanged')

  const missing = problem(t, await app.inject({ method: 'GET', url: '/v1/campaigns/no-such/figures', headers: hz }), 404)
  const foreign = problem(t, await app.inject({ method: 'GET', url: `/v1/campaigns/${c.id}/figures`, headers: hz }), 404)
  t.equal(foreign.type, missing.type, 'another site: 404 even with a reading cached')
  t.equal(foreign.detail?.replace(c.id, 'X'), missing.detail?.replace('no-such', 'X'), 'in the words of a missing campaign')

  await act('pause')
  const paused = await figures()
  t.equal(paused.state, 'paused', 'a pause through the API is seen at once')
  t.equal(paused.agents['ready'], 1, 'and the reading is a new one')

  const fresh = await harness(db, { migrated: true, extra: { liveFiguresMaxAgeMs: 0 } })
  t.teardown(() => fresh.app.close())
  const c2 = (await fresh.app.inject({ method: 'POST', url: '/v1/campaigns', headers: fresh.auth('admin'), payload: { name: 'Uncached' } })).json<{ id: string }>()
  t.equal((await fresh.app.inject({ method: 'POST', url: `/v1/campaigns/${c2.id}/start`, headers: fresh.auth('admin') })).statusCode, 200)
  const read = async () => (await fresh.app.inject({ method: 'GET', url: `/v1/campaigns/${c2.id}/figures`, headers: fresh.auth('admin') })).json<Figures>()
  t.equal((await read()).agents['ready'], 0)
  fresh.control.addAgent({ agentId: 'a2', name: 'Wang Fang', state: 'ready', since: 0 }, [c2.id])
  t.equal((await read()).agents['ready'], 1, 'with liveFiguresMaxAgeMs 0 every request reads')
})
