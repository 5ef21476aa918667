/**
 * How a site organizes its agents, through the API: agents, teams, queues and pause codes are created, changed and
 * listed within the caller's site; another site's records answer 404 exactly like missing ones; QA reads, agents
 * read only their own record.
 */
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
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

  await repos.sites.create({ id: 'wuhan', name: 'Wuhan floor', timeZone: 'Asia/Shanghai' })
  const whSupervisor = (await repos.apiKeys.create({ name: 'wh-sup', role: 'supervisor', siteId: 'wuhan' })).key
  const whQa = (await repos.apiKeys.create({ name: 'wh-qa', role: 'qa', siteId: 'wuhan' })).key

  await t.test('agents: created in the caller’s site, changed, listed, deactivated; extensions unique', async (t) => {
    const team = (await app.inject({ method: 'POST', url: '/v1/teams', headers: bearer(whSupervisor), payload: { name: 'Renewals' } })).json<{ id: string; siteId: string }>()
    t.equal(team.siteId, 'wuhan')
    const created = await app.inject({
      method: 'POST',
      url: '/v1/agents',
      headers: bearer(whSupervisor),
      payload: { name: 'Chen Jing', extension: '3001', teamId: team.id, skills: { mandarin: 1, renewals: 2 } },
    })
    t.equal(created.statusCode, 201, created.body)
    const agent = created.json<{ id: string; siteId: string; teamId: string; skills: Record<string, number>; active: boolean }>()
    t.equal(agent.siteId, 'wuhan')
    t.equal(agent.teamId, team.id)
    t.same(agent.skills, { mandarin: 1, renewals: 2 })
    t.equal(agent.active, true)

    const dup = problem(t, await app.inject({ method: 'POST', url: '/v1/agents', headers: bearer(whSupervisor), payload: { name: 'X', extension: '3001' } }), 409)
    t.match(dup.detail, /extension 3001/)

    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/agents/${agent.id}`,
      headers: bearer(whSupervisor),
      payload: { skills: { mandarin: 1 }, extension: null },
    })
    t.equal(patched.statusCode, 200, patched.body)
    t.same(patched.json<{ skills: object }>().skills, { mandarin: 1 })
    t.equal(patched.json<{ extension: string | null }>().extension, null)
    t.equal(patched.json<{ teamId: string }>().teamId, team.id, 'fields not given are kept')

    // A team of another site is refused by field, not linked.
    const otherTeam = (await app.inject({ method: 'POST', url: '/v1/teams', headers: auth('admin'), payload: { name: 'Default floor team', siteId: 'default' } })).json<{ id: string }>()
    const bad = problem(t, await app.inject({ method: 'PATCH', url: `/v1/agents/${agent.id}`, headers: bearer(whSupervisor), payload: { teamId: otherTeam.id } }), 400)
    t.equal(bad.errors?.[0]?.field, 'body.teamId')

    const list = (await app.inject({ method: 'GET', url: '/v1/agents/records', headers: bearer(whQa) })).json<{ items: Array<{ id: string; siteId: string }>; total: number }>()
    t.same(list.items.map((a) => a.id), [agent.id], 'QA of the site sees its agents only')
    t.equal(list.total, 1)
    problem(t, await app.inject({ method: 'POST', url: '/v1/agents', headers: bearer(whQa), payload: { name: 'Q' } }), 403)

    t.equal((await app.inject({ method: 'DELETE', url: `/v1/agents/${agent.id}`, headers: bearer(whSupervisor) })).statusCode, 204)
    const after = (await app.inject({ method: 'GET', url: `/v1/agents/${agent.id}`, headers: bearer(whQa) })).json<{ active: boolean }>()
    t.equal(after.active, false, 'deactivated, not deleted')
    const activeOnly = (await app.inject({ method: 'GET', url: '/v1/agents/records?active=true', headers: bearer(whQa) })).json<{ total: number }>()
    t.equal(activeOnly.total, 0)
  })

  await t.test('another site’s agent, team, queue and pause code answer 404 like missing ones', async (t) => {
    const agent = await repos.agents.create({ name: 'Default Agent', siteId: 'default' })
    const team = (await app.inject({ method: 'POST', url: '/v1/teams', headers: auth('supervisor'), payload: { name: 'Sales' } })).json<{ id: string }>()
    const queue = (await app.inject({ method: 'POST', url: '/v1/queues', headers: auth('supervisor'), payload: { name: 'Inbound' } })).json<{ id: string }>()
    const codes = (await app.inject({ method: 'GET', url: '/v1/pause-codes', headers: auth('supervisor') })).json<{ items: Array<{ id: string; code: string }> }>()
    const lunch = codes.items.find((c) => c.code === 'lunch')!
    t.ok(lunch, 'the default site has the seeded codes')

    const cases: Array<[string, string, string]> = [
      ['GET', `/v1/agents/${agent.id}`, '/v1/agents/no-such-agent'],
      ['PATCH', `/v1/agents/${agent.id}`, '/v1/agents/no-such-agent'],
      ['GET', `/v1/teams/${team.id}`, '/v1/teams/no-such-team'],
      ['DELETE', `/v1/teams/${team.id}`, '/v1/teams/no-such-team'],
      ['GET', `/v1/queues/${queue.id}`, '/v1/queues/no-such-queue'],
      ['PATCH', `/v1/queues/${queue.id}`, '/v1/queues/no-such-queue'],
      ['PATCH', `/v1/pause-codes/${lunch.id}`, '/v1/pause-codes/no-such-code'],
      ['POST', `/v1/agents/${agent.id}/ready`, '/v1/agents/no-such-agent/ready'],
    ]
    for (const [method, foreignUrl, missingUrl] of cases) {
      const payload = method === 'PATCH' ? (foreignUrl.includes('pause') ? { label: 'x' } : { name: 'x' }) : undefined
      const foreign = problem(t, await app.inject({ method: method as 'GET', url: foreignUrl, headers: bearer(whSupervisor), payload }), 404)
      const missing = problem(t, await app.inject({ method: method as 'GET', url: missingUrl, headers: bearer(whSupervisor), payload }), 404)
      t.equal(foreign.type, missing.type, `${method} ${foreignUrl}: same problem type as a missing record`)
      t.equal(foreign.title, missing.title)
    }
    const whTeams = (await app.inject({ method: 'GET', url: '/v1/teams?siteId=default', headers: bearer(whSupervisor) })).json<{ items: Array<{ siteId: string }> }>()
    t.ok(whTeams.items.every((x) => x.siteId === 'wuhan'), 'naming another site in a list does not reach it')
    const whCodes = (await app.inject({ method: 'GET', url: '/v1/pause-codes', headers: bearer(whSupervisor) })).json<{ items: unknown[] }>()
    t.equal(whCodes.items.length, 0, 'a site created after the migration starts with no pause codes')
  })

  await t.test('queues: strategy, skills with tiers, max wait, overflow within the site and never in a loop', async (t) => {
    const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/queues', headers: bearer(whSupervisor), payload })
    const overflow = (await post({ name: 'Overflow' })).json<{ id: string }>()
    const res = await post({
      name: 'VIP',
      priority: 80,
      strategy: 'fewest-calls',
      requiredSkills: { mandarin: 2 },
      maxWaitSeconds: 45,
      overflowQueueId: overflow.id,
    })
    t.equal(res.statusCode, 201, res.body)
    const vip = res.json<{ id: string; priority: number; strategy: string; requiredSkills: object; maxWaitSeconds: number; overflowQueueId: string }>()
    t.match(vip, { priority: 80, strategy: 'fewest-calls', requiredSkills: { mandarin: 2 }, maxWaitSeconds: 45, overflowQueueId: overflow.id })

    const loop = problem(t, await app.inject({ method: 'PATCH', url: `/v1/queues/${overflow.id}`, headers: bearer(whSupervisor), payload: { overflowQueueId: vip.id } }), 400)
    t.equal(loop.errors?.[0]?.field, 'body.overflowQueueId')
    const self = problem(t, await app.inject({ method: 'PATCH', url: `/v1/queues/${vip.id}`, headers: bearer(whSupervisor), payload: { overflowQueueId: vip.id } }), 400)
    t.match(self.detail, /itself/)
    const defaultQueue = (await app.inject({ method: 'POST', url: '/v1/queues', headers: auth('supervisor'), payload: { name: 'Default q' } })).json<{ id: string }>()
    problem(t, await post({ name: 'Cross', overflowQueueId: defaultQueue.id }), 400)

    const badStrategy = problem(t, await post({ name: 'Bad', strategy: 'random' }), 400)
    t.match(badStrategy.errors?.[0]?.field ?? '', /strategy/)
    const badTier = problem(t, await post({ name: 'Bad', requiredSkills: { mandarin: 0 } }), 400)
    t.match(badTier.errors?.[0]?.field ?? '', /requiredSkills/)
    problem(t, await post({ name: 'vip' }), 409)

    const cleared = await app.inject({ method: 'PATCH', url: `/v1/queues/${vip.id}`, headers: bearer(whSupervisor), payload: { maxWaitSeconds: null } })
    t.equal(cleared.json<{ maxWaitSeconds: number | null }>().maxWaitSeconds, null)
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/queues/${overflow.id}`, headers: bearer(whSupervisor) })).statusCode, 204)
    const after = (await app.inject({ method: 'GET', url: `/v1/queues/${vip.id}`, headers: bearer(whQa) })).json<{ overflowQueueId: string | null }>()
    t.equal(after.overflowQueueId, null, 'a deleted overflow target stops the overflow')
  })

  await t.test('pause codes: created per site, system reasons refused, retired codes hidden from agents', async (t) => {
    const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/pause-codes', headers: bearer(whSupervisor), payload })
    const created = await post({ code: 'coaching', label: 'Coaching', paid: true, maxMinutes: 30 })
    t.equal(created.statusCode, 201, created.body)
    const code = created.json<{ id: string; siteId: string; paid: boolean; maxMinutes: number }>()
    t.match(code, { siteId: 'wuhan', paid: true, maxMinutes: 30 })
    problem(t, await post({ code: 'coaching', label: 'Again' }), 409)
    const system = problem(t, await post({ code: 'login', label: 'Login' }), 400)
    t.equal(system.errors?.[0]?.field, 'body.code')
    problem(t, await post({ code: 'Has Space', label: 'x' }), 400)

    const agentRec = await repos.agents.create({ name: 'Agent Wu', siteId: 'wuhan' })
    const agentKey = (await repos.apiKeys.create({ name: 'wu', role: 'agent', siteId: 'wuhan', agentId: agentRec.id })).key
    const before = (await app.inject({ method: 'GET', url: '/v1/pause-codes', headers: bearer(agentKey) })).json<{ items: Array<{ code: string }> }>()
    t.ok(before.items.some((c) => c.code === 'coaching'))
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/pause-codes/${code.id}`, headers: bearer(whSupervisor) })).statusCode, 204)
    const agentView = (await app.inject({ method: 'GET', url: '/v1/pause-codes', headers: bearer(agentKey) })).json<{ items: Array<{ code: string }> }>()
    t.notOk(agentView.items.some((c) => c.code === 'coaching'), 'agents no longer see a retired code')
    const supView = (await app.inject({ method: 'GET', url: '/v1/pause-codes', headers: bearer(whSupervisor) })).json<{ items: Array<{ code: string; active: boolean }> }>()
    t.same(supView.items.find((c) => c.code === 'coaching')?.active, false, 'supervisors still see it, retired')
    problem(t, await post({ code: 'x1', label: 'x', siteId: 'default' }), 403)
  })

  await t.test('agents read only their own record', async (t) => {
    const me = await repos.agents.create({ name: 'Me', siteId: 'default' })
    const other = await repos.agents.create({ name: 'Other', siteId: 'default' })
    const key = (await repos.apiKeys.create({ name: 'me', role: 'agent', agentId: me.id })).key
    t.equal((await app.inject({ method: 'GET', url: `/v1/agents/${me.id}`, headers: bearer(key) })).statusCode, 200)
    problem(t, await app.inject({ method: 'GET', url: `/v1/agents/${other.id}`, headers: bearer(key) }), 404)
    const list = (await app.inject({ method: 'GET', url: '/v1/agents/records', headers: bearer(key) })).json<{ items: Array<{ id: string }> }>()
    t.same(list.items.map((a) => a.id), [me.id])
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/agents/${me.id}`, headers: bearer(key), payload: { name: 'Boss' } }), 403)
    problem(t, await app.inject({ method: 'GET', url: '/v1/teams', headers: bearer(key) }), 403)
    problem(t, await app.inject({ method: 'GET', url: '/v1/queues', headers: bearer(key) }), 403)
  })
})
