/**
 * Agent-desk actions through the API onto the real engine: EngineRuntime over a real Redis ACD and the simulated
 * telephony, PostgreSQL (both drivers) for records. Agents act only as themselves, supervisors only for their own
 * site's agents; pauses take the site's codes; illegal moves for the agent's state are 409 problem details; what the
 * engine cannot do is a 501; a disposition books its callback at the minute, into the hopper the dialer reads.
 */
import t from 'tap'
import { parsePhone } from '../../engine/screening/number.js'
import pino from 'pino'
import { Registry } from 'prom-client'
import { VirtualClock } from '../../engine/clock.js'
import { createEngineMetrics } from '../../engine/campaign/metrics.js'
import { createSimulatedEngine } from '../../engine/campaign/simulated-engine.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { QueueRepository } from '../../engine/store/sql/queues.js'
import { parseScenario } from '../../engine/telephony/sim/scenario.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'
import { testKeyring } from '../fixtures/pii.js'

// A Tuesday, 10:00 in Shanghai: inside the default calling hours of the leads' zone.
const START = Date.parse('2026-11-24T02:00:00Z')
const MINUTE = 60_000

forEachDriver(t, async (t, db) => {
  const env = redisEnv('agent-desk')
  const redis = env.connect()
  const keyring = testKeyring()
  const repos = repositories(db, keyring.pii)
  const clock = new VirtualClock(START)
  const engine = createSimulatedEngine({
    clock,
    redis,
    keys: env.keys,
    repos,
    metrics: createEngineMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    scenario: parseScenario({ agents: 2 }),
    seed: 5,
    instanceId: 'desk-test',
  })
  const h = await harness(db, { env: keyring.env, extra: { control: engine.runtime, dncStore: engine.dnc } })
  t.teardown(async () => {
    engine.desk.stop()
    await engine.runtime.shutdown()
    await h.app.close()
    await env.cleanup()
  })
  const { app } = h
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

  /** Let the I/O the engine started land (Redis replies, then the database) before looking or moving time. */
  const drain = async (): Promise<void> => {
    for (let i = 0; i < 8; i++) {
      await redis.ping()
      await db.query('SELECT 1')
      await new Promise((r) => setImmediate(r))
    }
  }  /** Runs virtual time until the call's CDR is written (or nothing is left to run). */
  const runToCdr = async (callId: string) => {
    let cdr = await repos.cdrs.get(callId)
    for (let i = 0; i < 5000 && cdr === undefined; i++) {
      const next = clock.nextAt()
      if (next === undefined) break
      clock.advanceTo(next)
      await drain()
      cdr = await repos.cdrs.get(callId)
    }
    return cdr
  }


  await repos.sites.create({ id: 'xian', name: 'Xi’an floor' })
  const ana = await repos.agents.create({ name: 'Ana', skills: { mandarin: 1 } })
  const bo = await repos.agents.create({ name: 'Bo' })
  const anaKey = (await repos.apiKeys.create({ name: 'ana', role: 'agent', agentId: ana.id })).key
  const supervisor = (await repos.apiKeys.create({ name: 'sup', role: 'supervisor' })).key
  const xianSupervisor = (await repos.apiKeys.create({ name: 'xian-sup', role: 'supervisor', siteId: 'xian' })).key
  const me = (path: string, payload?: object) => app.inject({ method: 'POST', url: `/v1/agent${path}`, headers: bearer(anaKey), payload })

  await t.test('an agent logs in, becomes ready and pauses with a site code, through the real ACD', async (t) => {
    const login = await me('/login', {})
    t.equal(login.statusCode, 200, login.body)
    t.match(login.json(), { agentId: ana.id, name: 'Ana', state: 'paused', pauseReason: 'login' })
    const stored = await engine.acd.get(ana.id)
    t.equal(stored?.state, 'paused', 'the ACD in Redis holds the new state')
    t.same(stored?.skills, { mandarin: 1 }, 'the ACD got the agent’s skills from its record')

    t.match((await me('/ready')).json(), { state: 'ready' })
    t.equal((await engine.acd.get(ana.id))?.state, 'ready')
    t.ok((await engine.acd.readyAgents()).includes(ana.id), 'ready agents are offered calls')
    const patched = await app.inject({ method: 'PATCH', url: `/v1/agents/${ana.id}`, headers: bearer(supervisor), payload: { skills: { mandarin: 1, cantonese: 2 } } })
    t.equal(patched.statusCode, 200, patched.body)
    t.same((await engine.acd.get(ana.id))?.skills, { mandarin: 1, cantonese: 2 }, 'new skills reach the ACD of a logged-in agent')
    t.equal((await engine.acd.get(ana.id))?.state, 'ready', 'and leave its state alone')

    const paused = await me('/pause', { code: 'lunch' })
    t.equal(paused.statusCode, 200, paused.body)
    t.match(paused.json(), { state: 'paused', pauseReason: 'lunch' })
    t.equal((await engine.acd.get(ana.id))?.pauseReason, 'lunch')
    const state = await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })
    t.match(state.json(), { state: 'paused', pauseReason: 'lunch' })
  })

  await t.test('a pause with a code the site does not have is a 400 naming the field; nothing changes', async (t) => {
    const before = await engine.acd.get(ana.id)
    const bad = problem(t, await me('/pause', { code: 'nap' }), 400)
    t.equal(bad.errors?.[0]?.field, 'body.code')
    t.match(bad.detail, /nap/)
    problem(t, await me('/pause', { code: 'no-answer' }), 400)
    const after = await engine.acd.get(ana.id)
    t.equal(after?.version, before?.version, 'the ACD was not touched')
    // Another site's code does not count for this agent.
    await repos.agents.create({ name: 'X', siteId: 'xian' })
    const xianCode = await app.inject({ method: 'POST', url: '/v1/pause-codes', headers: bearer(xianSupervisor), payload: { code: 'prayer', label: 'Prayer' } })
    t.equal(xianCode.statusCode, 201)
    problem(t, await me('/pause', { code: 'prayer' }), 400)
  })

  await t.test('illegal transitions are 409 problem details and leave the agent as it was', async (t) => {
    t.equal((await me('/logout')).json<{ state: string }>().state, 'logged-out')
    const ready = problem(t, await me('/ready'), 409)
    t.equal(ready.type, '/problems/agent-state')
    t.match(ready.detail, /ready is not allowed while logged-out/)
    problem(t, await me('/pause', { code: 'break' }), 409)
    problem(t, await me('/logout'), 409)
    t.equal((await engine.acd.get(ana.id))?.state, 'logged-out')

    await me('/login', { ready: true })
    problem(t, await me('/login', {}), 409)
    const hangup = problem(t, await me('/hangup'), 409)
    t.match(hangup.detail, /not on a call/)
    problem(t, await me('/hold', { on: true }), 409)
    problem(t, await me('/recording', { on: false }), 409)
    problem(t, await me('/transfer', { to: { agentId: bo.id }, customerId: 'c-1' }), 409)
    t.equal((await engine.acd.get(ana.id))?.state, 'ready')
  })

  await t.test('an agent acts only as itself; supervisors act for agents of their own site', async (t) => {
    const asOther = problem(t, await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/login`, headers: bearer(anaKey), payload: {} }), 403)
    t.match(asOther.detail, /role agent/)
    t.equal(await engine.acd.get(bo.id), undefined, 'Bo was never touched')
    problem(t, await app.inject({ method: 'GET', url: `/v1/agents/${bo.id}/state`, headers: bearer(anaKey) }), 403)
    // A key that works as no agent has no desk of its own: it reaches nobody.
    problem(t, await app.inject({ method: 'POST', url: '/v1/agent/ready', headers: h.auth('agent') }), 404)
    problem(t, await app.inject({ method: 'POST', url: '/v1/agent/ready', headers: bearer(supervisor) }), 403)

    const foreign = problem(t, await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/login`, headers: bearer(xianSupervisor), payload: {} }), 404)
    const missing = problem(t, await app.inject({ method: 'POST', url: '/v1/agents/nobody/login', headers: bearer(xianSupervisor), payload: {} }), 404)
    t.equal(foreign.type, missing.type, 'another site’s agent looks missing')
    t.equal(await engine.acd.get(bo.id), undefined)

    const forBo = await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/login`, headers: bearer(supervisor), payload: { ready: true } })
    t.equal(forBo.statusCode, 200, forBo.body)
    t.equal((await engine.acd.get(bo.id))?.state, 'ready')
    const forced = await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/pause`, headers: bearer(supervisor), payload: { code: 'meeting' } })
    t.match(forced.json(), { state: 'paused', pauseReason: 'meeting' })
    const rec = (await app.inject({ method: 'GET', url: `/v1/agents/${bo.id}`, headers: bearer(supervisor) })).json<{ live: { state: string } }>()
    t.equal(rec.live.state, 'paused', 'the record carries the live state')
    await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/logout`, headers: bearer(supervisor) })

    const gone = await repos.agents.create({ name: 'Gone' })
    await repos.agents.setActive(gone.id, false)
    problem(t, await app.inject({ method: 'POST', url: `/v1/agents/${gone.id}/login`, headers: bearer(supervisor), payload: {} }), 409)
  })

  const settings = defaultCampaignSettings()
  const campaign = await repos.campaigns.create({ name: 'desk', settings, id: 'camp-desk' })
  await repos.leads.insertMany(
    campaign.id,
    Array.from({ length: 60 }, (_, i) => ({ phone: `+86138${String(30_000_000 + i)}`, timezone: 'Asia/Shanghai' })),
  )

  await t.test('click-to-dial is screened: a DNC number is a 422 with the reason; a campaign not running here a 409', async (t) => {
    await engine.dnc.addNumbers({}, ['+8613912345678'])
    const dnc = problem(t, await me('/dial', { campaignId: campaign.id, number: '+86 139 1234 5678' }), 422)
    t.equal(dnc.reason, 'dnc-global')
    t.equal(dnc.errors?.[0]?.field, 'body.number')
    const stopped = problem(t, await me('/dial', { campaignId: campaign.id, number: '+8613912340000' }), 409)
    t.match(stopped.detail, /not running/)
    problem(t, await me('/dial', { campaignId: 'no-such-campaign', number: '+8613912340000' }), 404)
    // another site's campaign looks missing: an agent works its own site's campaigns
    const xianCampaign = await repos.campaigns.create({ name: 'xian', settings: defaultCampaignSettings(), id: 'camp-xian', siteId: 'xian' })
    const foreign = problem(t, await me('/dial', { campaignId: xianCampaign.id, number: '+8613912340000' }), 404)
    t.equal(foreign.type, problem(t, await me('/dial', { campaignId: 'camp-nowhere', number: '+8613912340000' }), 404).type)
    problem(t, await me('/preview', { campaignId: xianCampaign.id }), 404)
  })

  await t.test('preview: a progressive campaign is refused; a preview campaign’s lead is held, skipping returns it, dialing it puts the agent on the call', async (t) => {
    await engine.runtime.start(campaign.id)
    t.teardown(() => engine.runtime.stop(campaign.id))
    const refused = problem(t, await me('/preview', { campaignId: campaign.id }), 409)
    t.match(refused.detail, /progressive/)
    await engine.runtime.stop(campaign.id)

    const pv = defaultCampaignSettings()
    pv.dialMode = 'preview'
    const preview = await repos.campaigns.create({ name: 'preview', settings: pv, id: 'camp-preview' })
    await repos.leads.insertMany(preview.id, [{ phone: '+8613711110000', timezone: 'Asia/Shanghai', customerId: 'cust-9' }])
    await engine.runtime.start(preview.id)
    t.teardown(() => engine.runtime.stop(preview.id))
    const offered = await me('/preview', { campaignId: preview.id })
    t.equal(offered.statusCode, 200, offered.body)
    const lead = offered.json<{ lead: { leadId: string; phone: string; customerId: string } }>().lead
    t.match(lead, { phone: '+8613711110000', customerId: 'cust-9' })
    t.same((await me('/preview', { campaignId: preview.id })).json<{ lead: { leadId: string } }>().lead.leadId, lead.leadId, 'the same lead stays held')
    problem(t, await me('/preview/other-lead/skip'), 404)
    t.equal((await me(`/preview/${lead.leadId}/skip`)).statusCode, 204)
    const again = await me('/preview', { campaignId: preview.id })
    t.equal(again.json<{ lead: { leadId: string } }>().lead.leadId, lead.leadId, 'a skipped lead is dialable again')

    // the agent dials the held lead: the call is theirs from the dial, bridged to them alone if answered
    const state = (await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })).json<{ state: string }>()
    if (state.state !== 'ready') await me('/ready')
    const dialed = await me(`/preview/${lead.leadId}/dial`)
    t.equal(dialed.statusCode, 201, dialed.body)
    const { callId } = dialed.json<{ callId: string }>()
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana is on the call from the dial')
    problem(t, await me(`/preview/${lead.leadId}/dial`), 404)
    const cdr = await runToCdr(callId)
    t.ok(cdr, 'the call finished with its CDR')
    t.equal(cdr?.agentId, ana.id, `the CDR names Ana, whatever the outcome (${cdr?.outcome})`)
    t.equal(cdr?.abandoned, false, 'an agent-initiated call is never an abandon')
    t.equal(cdr?.amdOutcome, undefined, 'no AMD on the agent\'s own call')
    // the CDR is written as the call ends; the ACD's wrap-up is the same end's next step
    for (let i = 0; i < 20 && (await engine.acd.get(ana.id))?.state !== 'wrap-up'; i++) await drain()
    t.equal((await engine.acd.get(ana.id))?.state, 'wrap-up', 'Ana wraps it up (dispositions it)')
    t.equal((await me('/ready')).statusCode, 200)
    await engine.runtime.stop(preview.id)
  })

  await t.test('click-to-dial: the number becomes a lead taken by name, dialed for the agent alone; dialing it again reuses the lead', async (t) => {
    const pv = defaultCampaignSettings()
    pv.dialMode = 'preview'
    const c2d = await repos.campaigns.create({ name: 'click-to-dial', settings: pv, id: 'camp-c2d' })
    await engine.runtime.start(c2d.id)
    t.teardown(() => engine.runtime.stop(c2d.id))
    const number = '+8613812349999'
    const ready = async (): Promise<void> => {
      const state = (await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })).json<{ state: string }>()
      if (state.state !== 'ready') t.equal((await me('/ready')).statusCode, 200)
    }
    await ready()
    const dialed = await me('/dial', { campaignId: c2d.id, number: '+86 138 1234 9999', customerId: 'cust-c2d' })
    t.equal(dialed.statusCode, 201, dialed.body)
    const { callId } = dialed.json<{ callId: string }>()
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana is on the call from the dial')
    const busy = problem(t, await me('/dial', { campaignId: c2d.id, number }), 409)
    t.match(busy.detail, /on-call/, 'one call at a time')
    const cdr = await runToCdr(callId)
    t.equal(cdr?.agentId, ana.id, `the CDR names Ana (${cdr?.outcome})`)
    t.equal(cdr?.abandoned, false)
    const lead = await repos.leads.findByNumber(c2d.id, number)
    t.ok(lead, 'the number is a lead of the campaign')
    t.equal(cdr?.leadId, lead?.id, 'the call was made on that lead')
    t.equal(lead?.attemptTimes.length, 1, 'its attempt counts, as any lead\'s (caps apply)')
    t.equal(lead?.customerId, 'cust-c2d')
    // again: the same lead, unless the first call closed it (a contacted, refused or do-not-call lead is not reopened)
    await ready()
    const second = await me('/dial', { campaignId: c2d.id, number })
    if (['contacted', 'refused', 'dnc', 'invalid', 'done'].includes(lead!.status)) {
      t.match(problem(t, second, 409).detail, /closed/, `a ${lead!.status} lead is not dialed again`)
    } else {
      t.equal(second.statusCode, 201, second.body)
      await runToCdr(second.json<{ callId: string }>().callId)
      t.equal((await repos.leads.get(lead!.id))?.attemptTimes.length, 2, 'the second call is the same lead\'s second attempt')
    }
    const all = await repos.leads.list(c2d.id, { limit: 10 })
    t.equal(all.length, 1, 'one lead for the number, however often it is dialed')
    await engine.runtime.stop(c2d.id)
  })

  await t.test('click-to-dial respects the lead\'s attempt caps: a number already dialed up to its cap is a 422, no call placed', async (t) => {
    const capped = defaultCampaignSettings()
    capped.dialMode = 'preview'
    capped.caps.maxAttemptsTotal = 1
    const c = await repos.campaigns.create({ name: 'capped', settings: capped, id: 'camp-capped' })
    const number = '+8613812348888'
    const { insertedIds } = await repos.leads.insertMany(c.id, [{ phone: number, e164: number, timezone: 'Asia/Shanghai' }])
    t.ok(await repos.leads.recordAttempt(insertedIds[0]!, { at: clock.now() - 2 * 24 * 60 * MINUTE, status: 'no-answer' }))
    await engine.runtime.start(c.id)
    t.teardown(() => engine.runtime.stop(c.id))
    const state = (await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })).json<{ state: string }>()
    if (state.state !== 'ready') t.equal((await me('/ready')).statusCode, 200)
    const refused = problem(t, await me('/dial', { campaignId: c.id, number }), 422)
    t.equal(refused.reason, 'attempt-cap-total', 'the lead\'s own history is screened, not a fresh number\'s')
    t.equal((await engine.acd.get(ana.id))?.state, 'ready', 'no call: Ana is still ready')
    t.equal((await repos.leads.get(insertedIds[0]!))?.attemptTimes.length, 1, 'no attempt added')
    await engine.runtime.stop(c.id)
  })

  await t.test('an agent hangs up its call through the telephony, then dispositions it with a callback at the minute', async (t) => {
    const view = (await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })).json<{ state: string }>()
    if (view.state !== 'ready') await me('/ready')
    await engine.runtime.start(campaign.id)
    t.teardown(() => engine.runtime.stop(campaign.id))
    // Virtual time runs until the dialer has bridged a customer to Ana.
    let callId: string | undefined
    for (let i = 0; i < 5000 && callId === undefined; i++) {
      const next = clock.nextAt()
      if (next === undefined || next > START + 60 * MINUTE) break
      clock.advanceTo(next)
      await drain()
      const a = await engine.acd.get(ana.id)
      if (a?.state === 'on-call') callId = a.callId
    }
    t.ok(callId, 'the dialer bridged a call to Ana')
    if (callId === undefined) return
    await engine.runtime.stop(campaign.id)

    t.equal((await me('/hold', { on: true })).statusCode, 200, 'the simulated telephony takes a hold')
    t.equal((await me('/recording', { on: false })).statusCode, 200, 'the agent pauses the recording of their call')
    t.equal((await me('/recording', { on: true })).statusCode, 200, 'and resumes it')
    problem(t, await me('/recording', { on: 'yes' }), 400)
    const notReady = problem(t, await me('/transfer', { to: { agentId: bo.id }, customerId: 'c-1' }), 409)
    t.match(notReady.detail, /not ready/, 'a logged-out target is refused, nothing moved')
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId })
    const badTarget = problem(t, await me('/transfer', { to: { agentId: 'nobody' } }), 400)
    t.equal(badTarget.errors?.[0]?.field, 'body.to.agentId')
    const noQueue = problem(t, await me('/transfer', { to: { queueId: 'sales' } }), 400)
    t.equal(noQueue.errors?.[0]?.field, 'body.to.queueId', 'an unknown queue is named as the bad field')

    // a blind transfer to Bo once he is ready: Ana wraps up, Bo has the call; then Bo hands it back to Ana
    const boLogin = await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/login`, headers: bearer(supervisor), payload: { ready: true } })
    t.equal(boLogin.statusCode, 200, boLogin.body)
    const moved = await me('/transfer', { to: { agentId: bo.id }, customerId: 'c-1' })
    t.equal(moved.statusCode, 200, moved.body)
    t.equal(moved.json<{ state: string }>().state, 'wrap-up', 'Ana handed the call on and wraps up')
    t.match(await engine.acd.get(bo.id), { state: 'on-call', callId }, 'Bo has the call')
    problem(t, await me('/hold', { on: true }), 409)
    t.equal((await me('/ready')).statusCode, 200)
    const boDesk = (await repos.apiKeys.create({ name: 'bo-desk', role: 'agent', agentId: bo.id })).key
    const back = await app.inject({ method: 'POST', url: '/v1/agent/transfer', headers: bearer(boDesk), payload: { to: { agentId: ana.id } } })
    t.equal(back.statusCode, 200, back.body)
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana has it again')
    t.equal((await engine.acd.get(bo.id))?.state, 'wrap-up')

    // to a call queue: its best ready agent by its required skills (tiers included), none ready is a 409 and the
    // customer stays; then Bo, given the skill, is the queue's agent
    const site = (await repos.agents.get(ana.id))!.siteId
    const queues = new QueueRepository(db)
    const mandarinDesk = await queues.create({ siteId: site, name: 'mandarin desk', requiredSkills: { mandarin: 2 } })
    if (mandarinDesk === 'taken') throw new Error('queue name taken')
    t.equal((await app.inject({ method: 'POST', url: '/v1/agent/ready', headers: bearer(boDesk) })).statusCode, 200)
    const nobodyFits = problem(t, await me('/transfer', { to: { queueId: mandarinDesk.id } }), 409)
    t.match(nobodyFits.detail, /no agent of queue/, 'Bo is ready but lacks the skill')
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'the customer stays with Ana')
    const skilled = await app.inject({ method: 'PATCH', url: `/v1/agents/${bo.id}`, headers: bearer(supervisor), payload: { skills: { mandarin: 3 } } })
    t.equal(skilled.statusCode, 200, skilled.body)
    problem(t, await me('/transfer', { to: { queueId: mandarinDesk.id } }), 409)
    t.equal((await engine.acd.get(bo.id))?.state, 'ready', 'tier 3 is worse than the queue accepts: Bo stays ready')
    await app.inject({ method: 'PATCH', url: `/v1/agents/${bo.id}`, headers: bearer(supervisor), payload: { skills: { mandarin: 2 } } })
    const queued = await me('/transfer', { to: { queueId: mandarinDesk.id }, customerId: 'c-1' })
    t.equal(queued.statusCode, 200, queued.body)
    t.equal(queued.json<{ state: string }>().state, 'wrap-up', 'Ana handed the call to the queue and wraps up')
    t.match(await engine.acd.get(bo.id), { state: 'on-call', callId }, "Bo, the queue's ready agent, has the call")
    t.equal((await me('/ready')).statusCode, 200)
    const returned = await app.inject({ method: 'POST', url: '/v1/agent/transfer', headers: bearer(boDesk), payload: { to: { agentId: ana.id } } })
    t.equal(returned.statusCode, 200, returned.body)
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana has it again')
    const xianQueue = await queues.create({ siteId: 'xian', name: 'xian desk' })
    if (xianQueue === 'taken') throw new Error('queue name taken')
    const foreign = problem(t, await me('/transfer', { to: { queueId: xianQueue.id } }), 400)
    t.equal(foreign.errors?.[0]?.field, 'body.to.queueId', "another site's queue looks missing")

    // attended: Ana consults Bo (he must be ready), cancels; consults again and completes; Bo hands it back
    const boBusy = problem(t, await me('/consult', { to: { agentId: bo.id } }), 409)
    t.match(boBusy.detail, /not ready/)
    problem(t, await me('/consult/complete', {}), 409)
    problem(t, await me('/consult', { to: { agentId: 'nobody' } }), 400)
    const boReady = async (): Promise<void> => {
      const r = await app.inject({ method: 'POST', url: '/v1/agent/ready', headers: bearer(boDesk) })
      t.equal(r.statusCode, 200, r.body)
    }
    await boReady()
    t.equal((await me('/consult', { to: { agentId: bo.id } })).statusCode, 200)
    t.match(await engine.acd.get(bo.id), { state: 'on-call', callId }, 'Bo is on the call, talking to Ana')
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId })
    problem(t, await me('/consult', { to: { agentId: bo.id } }), 409)
    t.equal((await me('/consult/cancel')).statusCode, 200)
    t.equal((await engine.acd.get(bo.id))?.state, 'wrap-up', 'a cancelled consultation: Bo wraps up his part')
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana still has the customer')
    // Bo's phone hangs up in the middle of a consultation: the loop hears it, Bo's part ends, Ana keeps the customer
    // and can consult again (the loop would otherwise still hold the first consultation: 409)
    await boReady()
    t.equal((await me('/consult', { to: { agentId: bo.id } })).statusCode, 200)
    engine.sim.consultedHangsUp(callId)
    for (let i = 0; i < 20 && (await engine.acd.get(bo.id))?.state !== 'wrap-up'; i++) await drain()
    t.equal((await engine.acd.get(bo.id))?.state, 'wrap-up', 'Bo hung up on the consultation: he wraps up his part')
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'Ana still has the customer')
    problem(t, await me('/consult/complete', {}), 409)
    await boReady()
    t.equal((await me('/consult', { to: { agentId: bo.id } })).statusCode, 200)
    const completed = await me('/consult/complete', { customerId: 'c-1' })
    t.equal(completed.statusCode, 200, completed.body)
    t.equal(completed.json<{ state: string }>().state, 'wrap-up', 'Ana handed the customer to Bo')
    t.match(await engine.acd.get(bo.id), { state: 'on-call', callId }, 'Bo has the customer')
    t.equal((await me('/ready')).statusCode, 200)
    const backAgain = await app.inject({ method: 'POST', url: '/v1/agent/transfer', headers: bearer(boDesk), payload: { to: { agentId: ana.id } } })
    t.equal(backAgain.statusCode, 200, backAgain.body)
    await app.inject({ method: 'POST', url: `/v1/agents/${bo.id}/logout`, headers: bearer(supervisor) })

    const hung = await me('/hangup')
    t.equal(hung.statusCode, 200, hung.body)
    let cdr = await repos.cdrs.get(callId)
    for (let i = 0; i < 20 && cdr === undefined; i++) {
      await drain()
      cdr = await repos.cdrs.get(callId)
    }
    t.equal(cdr?.agentId, ana.id, 'the call ended with its CDR, naming Ana')
    t.equal((await engine.acd.get(ana.id))?.state, 'wrap-up', 'Ana is in wrap-up')

    const at = Math.floor((Date.now() + 3 * 24 * 60 * MINUTE) / MINUTE) * MINUTE
    const seconds = problem(t, await me('/disposition', { callId, code: 'callback', callback: { at: new Date(at + 42_000).toISOString() } }), 400)
    t.equal(seconds.errors?.[0]?.field, 'body.callback.at')
    problem(t, await me('/disposition', { callId, code: 'callback', callback: { at: new Date(Date.now() - MINUTE).toISOString() } }), 400)
    const boKey = (await repos.apiKeys.create({ name: 'bo', role: 'agent', agentId: bo.id })).key
    problem(t, await app.inject({ method: 'POST', url: '/v1/agent/disposition', headers: bearer(boKey), payload: { callId, code: 'sale' } }), 404)

    const res = await me('/disposition', { callId, code: 'callback', callback: { at: new Date(at).toISOString() } })
    t.equal(res.statusCode, 200, res.body)
    const body = res.json<{ callback: { id: string; leadId: string; at: string; agentId: string } }>()
    t.equal(body.callback.at, new Date(at).toISOString())
    t.equal(body.callback.agentId, ana.id, 'offered to Ana first')
    t.equal(body.callback.leadId, cdr!.leadId)

    const row = await db.query<{ due_at: Date; agent_id: string; status: string }>('SELECT due_at, agent_id, status FROM callbacks WHERE id = $1', [body.callback.id])
    t.equal(row.rows[0]!.due_at.getTime(), at, 'booked at that exact minute')
    t.equal(row.rows[0]!.status, 'pending')
    const lead = await repos.leads.get(cdr!.leadId)
    t.equal(lead?.status, 'callback')
    t.equal(lead?.callbackAt, at)
    t.equal(lead?.ownerAgentId, ana.id)
    const score = await redis.zscore(env.keys.hopper(campaign.id).callbacks, cdr!.leadId)
    t.equal(Number(score), at, 'the hopper offers it at that minute')
    t.equal((await repos.cdrs.get(callId))?.disposition, 'callback', 'the agent’s disposition replaced the system one')

    // A campaign that defines its codes refuses others by field.
    await db.query(`INSERT INTO dispositions (campaign_id, code, label, lead_status, books_callback) VALUES ($1, 'sale', 'Sale', 'done', false),
      ($1, 'call-back', 'Call back', 'callback', true)`, [campaign.id])
    const unknown = problem(t, await me('/disposition', { callId, code: 'maybe' }), 400)
    t.equal(unknown.errors?.[0]?.field, 'body.code')
    const needsTime = problem(t, await me('/disposition', { callId, code: 'call-back' }), 400)
    t.equal(needsTime.errors?.[0]?.field, 'body.callback')
    t.equal((await me('/disposition', { callId, code: 'sale' })).statusCode, 200)
    // 'sale' leaves the lead done: it leaves every hopper queue (the callback just booked included) and the row says so.
    const k = env.keys.hopper(campaign.id)
    for (const queue of [k.callbacks, k.recycle, k.fresh, k.parked]) t.equal(await redis.zscore(queue, cdr!.leadId), null, `not in ${queue}`)
    t.equal((await repos.leads.get(cdr!.leadId))?.status, 'done')
    t.equal(await redis.hget(`${k.leadPrefix}${cdr!.leadId}`, 'state'), 'done', 'a tombstone keeps a late refill from bringing it back')

    // The customer then asks never to be called again: the number goes on the global DNC list, durable and in Redis.
    await db.query(`INSERT INTO dispositions (campaign_id, code, label, lead_status) VALUES ($1, 'do-not-call', 'Do not call', 'dnc')`, [campaign.id])
    t.equal((await me('/disposition', { callId, code: 'do-not-call' })).statusCode, 200)
    const called = (await repos.leads.get(cdr!.leadId))!
    const parsed = parsePhone(called.phone, called.region)
    const e164 = called.e164 ?? (parsed.ok ? parsed.phone.e164 : 'unparsable')
    const entry = await repos.dnc.find(undefined, 'number', e164)
    t.match(entry, { number: e164, source: `agent:${ana.id}` }, 'on the global list, naming the agent')
    t.equal(entry?.campaignId, undefined)
    const other = await repos.campaigns.create({ name: 'Another campaign', settings })
    t.ok((await engine.dnc.snapshot(other.id, [e164])).isGlobal(e164), 'every campaign now screens the number out')
    t.equal((await repos.leads.get(cdr!.leadId))?.status, 'dnc')
  })

  await t.test('a transfer to an outside number: not connected is a 409 with the reason and the customer stays; connected frees the agent, one CDR naming them', async (t) => {
    const view = (await app.inject({ method: 'GET', url: '/v1/agent/state', headers: bearer(anaKey) })).json<{ state: string }>()
    if (view.state !== 'ready') t.equal((await me('/ready')).statusCode, 200)
    await engine.runtime.start(campaign.id)
    t.teardown(() => engine.runtime.stop(campaign.id))
    let callId: string | undefined
    for (let i = 0; i < 5000 && callId === undefined; i++) {
      const next = clock.nextAt()
      if (next === undefined) break
      clock.advanceTo(next)
      await drain()
      const a = await engine.acd.get(ana.id)
      if (a?.state === 'on-call') callId = a.callId
    }
    t.ok(callId, 'the dialer bridged a call to Ana')
    if (callId === undefined) return
    await engine.runtime.stop(campaign.id)

    const bad = problem(t, await me('/transfer', { to: { number: '12' } }), 400)
    t.equal(bad.errors?.[0]?.field, 'body.to.number')
    engine.sim.outsideFailures.set('+8613800138000', 'busy')
    const busy = problem(t, await me('/transfer', { to: { number: '138 0013 8000' } }), 409)
    t.equal(busy.type, '/problems/transfer-not-connected')
    t.equal(busy.reason, 'busy', 'the national number was dialled in E.164 and was busy')
    t.equal(busy.sipStatus, 486)
    t.match(await engine.acd.get(ana.id), { state: 'on-call', callId }, 'the customer is still with Ana')

    engine.sim.outsideFailures.clear()
    const before = await engine.acd.get(ana.id)
    const out = await me('/transfer', { to: { number: '+86 138 0013 8000' }, customerId: 'c-9' })
    t.equal(out.statusCode, 200, out.body)
    t.equal(out.json<{ state: string }>().state, 'wrap-up', 'Ana is free: she wraps up while the customer talks to the outside number')
    problem(t, await me('/hangup'), 409)
    const cdr = await runToCdr(callId)
    t.equal(cdr?.agentId, ana.id, 'the call ran to its end with one CDR naming Ana')
    t.equal(cdr?.abandoned, false)
    const after = await engine.acd.get(ana.id)
    t.not(after?.callId === callId && after.state === 'on-call', true, 'Ana was never put back on the call')
    t.equal(after?.stats.calls, before!.stats.calls, 'the end of the call counted no second call for Ana')
  })
})
