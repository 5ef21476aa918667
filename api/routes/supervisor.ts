/**
 * Supervisor routes (issue 5 §7): a supervisor or admin listens to (whisper, barge) a live call of its site through
 * its own phone. The engine's Supervision does the work; a call of another site answers 404 exactly like a call that
 * is not live. Every start and stop is audited: listening to a call is access to a conversation.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CampaignControl } from '../../engine/campaign/control.js'
import { AgentRepository } from '../../engine/store/sql/agents.js'
import { AuditLogRepository } from '../../engine/store/sql/audit-log.js'
import { CampaignRepository } from '../../engine/store/sql/campaigns.js'
import type { Db } from '../../engine/store/sql/db.js'
import {
  SupervisionNotFound,
  SupervisionRefused,
  type Supervision,
  type SupervisionMode,
  type SupervisionView,
  type SupervisorPhone,
} from '../../engine/telephony/supervisor/supervision.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { HttpProblem, invalidField, notFound } from '../problem.js'
import { getSchema, listSchema, startSchema, stopSchema, supervisionView } from '../schemas/supervisor.js'
import { iso } from '../schemas/timestamp.js'
import { ensureInSite } from '../scope.js'

export interface SupervisorRoutesOptions {
  db: Db
  control: CampaignControl
}

export const SupervisorProblemTypes = { refused: '/problems/supervision-refused' } as const

const Roles = { roles: ['admin', 'supervisor'] } as const

const view = (v: SupervisionView) => ({
  supervisionId: v.supervisionId,
  callId: v.callId,
  mode: v.mode,
  state: v.state,
  ...(v.since !== undefined ? { since: iso(v.since) } : {}),
})

export async function supervisorRoutes(app: FastifyInstance, options: SupervisorRoutesOptions): Promise<void> {
  const { db, control } = options
  const campaigns = new CampaignRepository(db)
  const agents = new AgentRepository(db)
  const audit = new AuditLogRepository(db)
  app.addSchema(supervisionView)

  /**
   * The live call if it is in the caller's site. An engine without supervision (the simulated site, an API-only
   * process) carries no call a supervisor could hear: every call id is not live there.
   */
  async function liveCall(p: Principal, callId: string): Promise<Supervision> {
    const sup = control.supervision
    const campaignId = sup?.campaignOf(callId)
    if (!sup || campaignId === undefined) throw notFound('live call', callId)
    const campaign = await campaigns.get(campaignId)
    if (!campaign) throw notFound('live call', callId)
    ensureInSite(p, campaign.siteId, 'live call', callId)
    return sup
  }

  async function phoneOf(p: Principal, body: { sipUri?: string; registeredAs?: string }): Promise<SupervisorPhone> {
    if ((body.sipUri === undefined) === (body.registeredAs === undefined)) {
      throw invalidField('body', 'give exactly one of sipUri or registeredAs')
    }
    if (body.sipUri !== undefined) return { kind: 'uri', uri: body.sipUri }
    const agent = await agents.get(body.registeredAs!)
    if (!agent || (p.siteId !== null && agent.siteId !== p.siteId)) throw invalidField('body.registeredAs', 'no such agent in this site')
    return { kind: 'registered', id: agent.id }
  }

  const engine = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      if (err instanceof SupervisionNotFound) throw notFound(err.what === 'call' ? 'live call' : err.what, err.id)
      if (err instanceof SupervisionRefused) {
        throw new HttpProblem(409, 'Conflict', err.message, {
          type: SupervisorProblemTypes.refused,
          ...(err.sipStatus !== undefined ? { sipStatus: err.sipStatus } : {}),
        })
      }
      throw err
    }
  }

  for (const mode of ['listen', 'whisper', 'barge'] as const satisfies readonly SupervisionMode[]) {
    app.post(`/v1/supervisor/calls/:callId/${mode}`, { schema: startSchema(mode), config: { auth: Roles } }, async (request: FastifyRequest, reply) => {
      const p = principalOf(request)
      const { callId } = request.params as { callId: string }
      const phone = await phoneOf(p, request.body as { sipUri?: string; registeredAs?: string })
      const sup = await liveCall(p, callId)
      const started = await engine(() => sup.start(callId, mode, phone))
      await audit.append({
        actor: p.actor,
        action: `supervision.${mode}`,
        entity: 'call',
        entityId: callId,
        detail: { supervisionId: started.supervisionId, phone: phone.kind },
      })
      return reply.code(201).send(view(started))
    })
  }

  app.get('/v1/supervisor/calls/:callId/supervisions', { schema: listSchema, config: { auth: Roles } }, async (request) => {
    const { callId } = request.params as { callId: string }
    const sup = await liveCall(principalOf(request), callId)
    return { items: sup.ofCall(callId).map(view) }
  })

  /** The supervision if it is live and its call is in the caller's site. */
  async function visible(p: Principal, supervisionId: string): Promise<{ sup: Supervision; v: SupervisionView }> {
    const sup = control.supervision
    const v = sup?.get(supervisionId)
    if (!sup || !v) throw notFound('supervision', supervisionId)
    try {
      await liveCall(p, v.callId)
    } catch {
      throw notFound('supervision', supervisionId)
    }
    return { sup, v }
  }

  app.get('/v1/supervisor/supervisions/:supervisionId', { schema: getSchema, config: { auth: Roles } }, async (request) => {
    const { supervisionId } = request.params as { supervisionId: string }
    return view((await visible(principalOf(request), supervisionId)).v)
  })

  app.delete('/v1/supervisor/supervisions/:supervisionId', { schema: stopSchema, config: { auth: Roles } }, async (request, reply) => {
    const p = principalOf(request)
    const { supervisionId } = request.params as { supervisionId: string }
    const { sup, v } = await visible(p, supervisionId)
    await sup.stop(supervisionId)
    await audit.append({ actor: p.actor, action: 'supervision.stop', entity: 'call', entityId: v.callId, detail: { supervisionId } })
    return reply.code(204).send()
  })
}
