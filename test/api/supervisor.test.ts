/**
 * Supervisor routes over a stand-in of the engine's Supervision (the SIP side is tested for real in
 * test/telephony/drachtio/supervisor-listen.test.ts): a call of another site looks missing, the phone is exactly one
 * of a SIP URI or a registered agent of the site, the engine's refusals are 409 with the phone's SIP status, stop is
 * 204 then 404, every start and stop is audited.
 */
import t from 'tap'
import { AuditLogRepository } from '../../engine/store/sql/audit-log.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import {
  SupervisionNotFound,
  SupervisionRefused,
  type Supervision,
  type SupervisionMode,
  type SupervisionView,
  type SupervisorPhone,
} from '../../engine/telephony/supervisor/supervision.js'
import { forEachDriver } from '../store/sql/databases.js'
import { harness } from './harness.js'
import { problem } from './problem-assert.js'

/** Live calls by campaign; a phone URI containing "busy" answers 486. */
class StandInSupervision implements Supervision {
  readonly live = new Map<string, string>()
  readonly started: Array<{ callId: string; mode: SupervisionMode; phone: SupervisorPhone }> = []
  private readonly views = new Map<string, SupervisionView>()
  campaignOf(callId: string): string | undefined {
    return this.live.get(callId)
  }
  async start(callId: string, mode: SupervisionMode, phone: SupervisorPhone): Promise<SupervisionView> {
    if (!this.live.has(callId)) throw new SupervisionNotFound('call', callId)
    if (phone.kind === 'uri' && phone.uri.includes('busy')) throw new SupervisionRefused("the supervisor's phone did not answer (SIP 486)", 486)
    if (mode !== 'listen') throw new SupervisionRefused(`${mode} needs a conference server`)
    this.started.push({ callId, mode, phone })
    const v: SupervisionView = { supervisionId: `sup-${this.views.size + 1}`, callId, mode, state: 'up', since: Date.UTC(2026, 10, 23, 22, 0) }
    this.views.set(v.supervisionId, v)
    return v
  }
  ofCall(callId: string): SupervisionView[] {
    return [...this.views.values()].filter((v) => v.callId === callId)
  }
  get(id: string): SupervisionView | undefined {
    return this.views.get(id)
  }
  async stop(id: string): Promise<void> {
    this.views.delete(id)
  }
}

forEachDriver(t, async (t, db) => {
  const h = await harness(db)
  t.teardown(() => h.app.close())
  const { app, auth } = h
  const repos = repositories(db)
  await repos.sites.create({ id: 'hangzhou', name: 'Hangzhou' })
  const hz = { authorization: `Bearer ${(await repos.apiKeys.create({ name: 'hz-sup', role: 'supervisor', siteId: 'hangzhou' })).key}` }
  const hzCampaign = (await app.inject({ method: 'POST', url: '/v1/campaigns', headers: hz, payload: { name: 'hz' } })).json<{ id: string }>()
  const defCampaign = (await app.inject({ method: 'POST', url: '/v1/campaigns', headers: auth('supervisor'), payload: { name: 'default' } })).json<{ id: string }>()
  const hzAgent = await repos.agents.create({ name: 'HZ supervisor desk', siteId: 'hangzhou' })
  const defAgent = await repos.agents.create({ name: 'Default desk' })

  await t.test('without supervision in the engine no call is live', async (t) => {
    h.control.supervision = undefined
    problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-1/listen', headers: hz, payload: { sipUri: 'sip:s@10.0.0.9' } }), 404)
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/supervisor/supervisions/sup-1', headers: hz }), 404)
  })

  await t.test('listen, read, stop within the site; another site looks missing', async (t) => {
    const sup = new StandInSupervision()
    h.control.supervision = sup
    sup.live.set('c-hz', hzCampaign.id)
    sup.live.set('c-def', defCampaign.id)

    const foreign = problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-def/listen', headers: hz, payload: { sipUri: 'sip:s@10.0.0.9' } }), 404)
    const missing = problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-none/listen', headers: hz, payload: { sipUri: 'sip:s@10.0.0.9' } }), 404)
    t.equal(foreign.detail?.replace('c-def', 'X'), missing.detail?.replace('c-none', 'X'), 'another site\'s call answers like a missing one')
    t.equal(sup.started.length, 0, 'the engine was not asked')

    problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: {} }), 400)
    problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: { sipUri: 'sip:a@b', registeredAs: hzAgent.id } }), 400)
    problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: { sipUri: 'tel:+15551234567' } }), 400)
    const other = problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: { registeredAs: defAgent.id } }), 400)
    t.match(other.errors?.[0]?.field, 'body.registeredAs', 'an agent of another site is not a phone to call')

    const res = await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: { registeredAs: hzAgent.id } })
    t.equal(res.statusCode, 201, res.body)
    const v = res.json<{ supervisionId: string; callId: string; mode: string; state: string; since: string }>()
    t.strictSame(v, { supervisionId: 'sup-1', callId: 'c-hz', mode: 'listen', state: 'up', since: '2026-11-23T22:00:00.000Z' })
    t.strictSame(sup.started[0]!.phone, { kind: 'registered', id: hzAgent.id })

    const list = await app.inject({ method: 'GET', url: '/v1/supervisor/calls/c-hz/supervisions', headers: hz })
    t.equal(list.statusCode, 200)
    t.strictSame(list.json<{ items: Array<{ supervisionId: string }> }>().items.map((i) => i.supervisionId), ['sup-1'], 'the call\'s supervisions')
    problem(t, await app.inject({ method: 'GET', url: '/v1/supervisor/calls/c-def/supervisions', headers: hz }), 404)
    const read = await app.inject({ method: 'GET', url: '/v1/supervisor/supervisions/sup-1', headers: hz })
    t.equal(read.statusCode, 200)
    t.equal(read.json<{ state: string }>().state, 'up')

    // the default site's supervisor cannot see or stop it
    problem(t, await app.inject({ method: 'GET', url: '/v1/supervisor/supervisions/sup-1', headers: auth('supervisor') }), 404)
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/supervisor/supervisions/sup-1', headers: auth('supervisor') }), 404)
    t.ok(sup.get('sup-1'), 'still up')

    const stop = await app.inject({ method: 'DELETE', url: '/v1/supervisor/supervisions/sup-1', headers: hz })
    t.equal(stop.statusCode, 204)
    t.notOk(sup.get('sup-1'))
    problem(t, await app.inject({ method: 'DELETE', url: '/v1/supervisor/supervisions/sup-1', headers: hz }), 404)

    // a platform admin reaches every site's calls
    t.equal((await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-def/listen', headers: auth('admin'), payload: { sipUri: 'sip:admin@10.0.0.9' } })).statusCode, 201)

    const audit = await new AuditLogRepository(db).list({ entity: 'call', limit: 10 })
    t.strictSame(
      audit.map((a) => `${a.action} ${a.entityId}`).sort(),
      ['supervision.listen c-def', 'supervision.listen c-hz', 'supervision.stop c-hz'],
      'every start and stop is audited, refusals are not',
    )
  })

  await t.test('the engine\'s refusals: 409 with the phone\'s status', async (t) => {
    const sup = new StandInSupervision()
    h.control.supervision = sup
    sup.live.set('c-hz', hzCampaign.id)
    const busy = problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: hz, payload: { sipUri: 'sip:busy@10.0.0.9' } }), 409)
    t.equal(busy.sipStatus, 486)
    t.equal(busy.type, '/problems/supervision-refused')
    const whisper = problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/whisper', headers: hz, payload: { sipUri: 'sip:s@10.0.0.9' } }), 409)
    t.match(whisper.detail, /conference/)
    problem(t, await app.inject({ method: 'POST', url: '/v1/supervisor/calls/c-hz/listen', headers: auth('agent'), payload: { sipUri: 'sip:s@10.0.0.9' } }), 403)
  })
})
