/**
 * Agent-desktop actions. An agent acts as itself under /v1/agent/... (the principal's agentId); a supervisor or admin
 * acts for an agent of its site under /v1/agents/{id}/... (another site's agent is a 404 like a missing one). The
 * engine's AgentDesk does the work through the real ACD and telephony: an illegal move for the agent's state is a
 * 409, what the engine cannot do yet a 501, a number screening refuses a 422 with the reason.
 */
import type { LeadStatus } from '../../engine/leads/lead.js'
import { DncRepository } from '../../engine/store/sql/dnc.js'
import { LeadRepository } from '../../engine/store/sql/leads.js'
import { parsePhone } from '../../engine/screening/number.js'
import type { DncMirror } from './dnc.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  AgentDeskNotConnected,
  AgentDeskNotFound,
  AgentDeskRefused,
  AgentDeskScreenedOut,
  AgentDeskUnsupported,
  type AgentDesk,
  type TransferTarget,
} from '../../engine/campaign/agent-desk.js'
import type { AgentView, CampaignControl } from '../../engine/campaign/control.js'
import { QueueRepository } from '../../engine/store/sql/queues.js'
import { AgentRepository, type AgentRecord } from '../../engine/store/sql/agents.js'
import { CampaignRepository } from '../../engine/store/sql/campaigns.js'
import { CdrRepository } from '../../engine/store/sql/cdrs.js'
import type { Db } from '../../engine/store/sql/db.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import { DispositionCodeRepository } from '../../engine/store/sql/disposition-codes.js'
import { LeadCallbackRepository } from '../../engine/store/sql/lead-callbacks.js'
import { PauseCodeRepository } from '../../engine/store/sql/pause-codes.js'
import { AuditLogRepository } from '../../engine/store/sql/audit-log.js'
import { principalOf } from '../plugins/auth.js'
import { HttpProblem, invalidField, notFound, ProblemTypes } from '../problem.js'
import {
  dialPreviewSchema,
  dialSchema,
  dispositionSchema,
  holdSchema,
  consultSchema,
  completeConsultSchema,
  cancelConsultSchema,
  recordingSchema,
  loginSchema,
  paramsFor,
  pauseSchema,
  previewSchema,
  simpleActionSchema,
  skipPreviewSchema,
  stateSchema,
  transferSchema,
} from '../schemas/agent-desk.js'
import { visibleAgent } from './agents.js'
import { iso } from '../schemas/timestamp.js'

/** Lead statuses a disposition may leave that end all further dialing of the lead. */
const ClosingStatuses: readonly LeadStatus[] = ['refused', 'dnc', 'done', 'invalid']

export interface AgentDeskRoutesOptions {
  db: Db
  /** Opens a previewed lead's sealed number. */
  pii: PiiCipher
  control: CampaignControl
  /** The engine's Redis DNC lists; a 'dnc' disposition is refused (503, nothing changed) without them. */
  dnc?: DncMirror
}

export const DeskProblemTypes = {
  agentState: '/problems/agent-state',
  notImplemented: '/problems/not-implemented',
  notConnected: '/problems/transfer-not-connected',
  screenedOut: '/problems/number-screened-out',
} as const

// Only agents have a desk of their own; supervisors act for an agent through /v1/agents/{id}/....
const Self = { roles: ['agent'] } as const
const ForAgent = { roles: ['admin', 'supervisor'] } as const

const liveView = (v: AgentView) => ({ ...v, since: iso(v.since) })

/** The engine's refusals as problem details; anything else is a fault and goes to the errors plugin as a 500. */
function deskProblem(err: unknown): unknown {
  if (err instanceof AgentDeskRefused) {
    return new HttpProblem(409, 'Conflict', err.message, { type: DeskProblemTypes.agentState })
  }
  if (err instanceof AgentDeskUnsupported) {
    return new HttpProblem(501, 'Not implemented', err.message, { type: DeskProblemTypes.notImplemented })
  }
  if (err instanceof AgentDeskNotConnected) {
    return new HttpProblem(409, 'Transfer not connected', `${err.message}; the customer is still with the agent`, {
      type: DeskProblemTypes.notConnected,
      reason: err.failure,
      ...(err.sipStatus !== undefined ? { sipStatus: err.sipStatus } : {}),
    })
  }
  if (err instanceof AgentDeskNotFound) return notFound(err.what, err.id)
  if (err instanceof AgentDeskScreenedOut) {
    return new HttpProblem(422, 'Number not dialable now', err.message, {
      type: DeskProblemTypes.screenedOut,
      reason: err.refusal.code,
      errors: [{ field: 'body.number', message: `${err.refusal.code}: ${err.refusal.detail}` }],
    })
  }
  return err
}

async function engine<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw deskProblem(err)
  }
}

type Req = FastifyRequest<{ Params: { id?: string; leadId?: string }; Body: unknown }>

export async function agentDeskRoutes(app: FastifyInstance, options: AgentDeskRoutesOptions): Promise<void> {
  const { db, control } = options
  const agents = new AgentRepository(db)
  const pauseCodes = new PauseCodeRepository(db)
  const cdrs = new CdrRepository(db)
  const codes = new DispositionCodeRepository(db)
  const campaigns = new CampaignRepository(db)
  const queues = new QueueRepository(db)
  /** An agent works its own site's campaigns: another site's looks missing, like an unknown id. */
  const ownCampaign = async (agent: AgentRecord, campaignId: string): Promise<void> => {
    const c = await campaigns.get(campaignId)
    if (!c || c.siteId !== agent.siteId) throw notFound('campaign', campaignId)
  }

  function desk(): AgentDesk {
    if (control.desk === undefined) {
      throw new HttpProblem(503, 'Service unavailable', 'this API runs without an engine agent desk', { type: ProblemTypes.notReady })
    }
    return control.desk
  }

  /** The agent a request acts on: the caller's own (self routes) or the named one of the caller's site. */
  async function target(request: Req): Promise<AgentRecord> {
    const p = principalOf(request)
    const id = request.params.id
    if (id === undefined) {
      // An agent credential that names no agent (or one since removed) has no desk: like agentScope, it reaches
      // nothing rather than someone.
      const own = p.agentId === null ? undefined : await agents.get(p.agentId)
      if (!own) throw notFound('agent', p.agentId ?? '(none named by this credential)')
      return own
    }
    return visibleAgent(agents, p, id)
  }

  /**
   * Register an action twice: for the caller's own agent and for a named agent. `run` gets the agent it acts on.
   */
  function action(
    path: string,
    schema: Record<string, unknown>,
    run: (agent: AgentRecord, request: Req) => Promise<{ status: number; body?: unknown }>,
    method: 'GET' | 'POST' = 'POST',
  ): void {
    const leadParam = path.includes(':leadId')
    const own = leadParam ? { ...schema, params: { ...paramsFor.lead, properties: { leadId: paramsFor.lead.properties.leadId } } } : schema
    const named = { ...schema, params: leadParam ? { ...paramsFor.lead, required: ['id', 'leadId'] } : paramsFor.agent }
    const handler = async (request: Req, reply: { code(n: number): { send(b?: unknown): unknown } }) => {
      const agent = await target(request)
      const res = await run(agent, request)
      return reply.code(res.status).send(res.body)
    }
    app.route({ method, url: `/v1/agent${path}`, schema: { tags: ['agent desk'], ...own }, config: { auth: Self }, handler })
    app.route({ method, url: `/v1/agents/:id${path}`, schema: { tags: ['agent desk'], ...named }, config: { auth: ForAgent }, handler })
  }

  const ok = (v: AgentView) => ({ status: 200, body: liveView(v) })

  action(
    '/state',
    stateSchema,
    async (agent) => {
      const v = await engine(() => desk().state(agent.id))
      // Never seen by the ACD: it has not logged in since the engine's state began.
      return ok(v ?? { agentId: agent.id, name: agent.name, state: 'logged-out', since: agent.createdAt })
    },
    'GET',
  )

  action('/login', loginSchema, async (agent, request) => {
    if (!agent.active) throw new HttpProblem(409, 'Conflict', `agent ${agent.id} is deactivated`, { type: DeskProblemTypes.agentState })
    const { ready } = request.body as { ready: boolean }
    return ok(await engine(() => desk().login(agent.id, { ready, skills: agent.skills })))
  })

  action('/logout', simpleActionSchema('Log out'), async (agent) => ok(await engine(() => desk().logout(agent.id))))
  action('/ready', simpleActionSchema('Become ready for calls'), async (agent) => ok(await engine(() => desk().ready(agent.id))))

  action('/pause', pauseSchema, async (agent, request) => {
    const { code } = request.body as { code: string }
    const known = await pauseCodes.findActive(agent.siteId, code)
    if (!known) throw invalidField('body.code', `${JSON.stringify(code)} is not an active pause code of site ${agent.siteId}`)
    return ok(await engine(() => desk().pause(agent.id, known.code)))
  })

  action('/preview', previewSchema, async (agent, request) => {
    const { campaignId } = request.body as { campaignId: string }
    await ownCampaign(agent, campaignId)
    const offer = await engine(() => desk().preview(agent.id, campaignId))
    return { status: 200, body: { lead: offer ?? null } }
  })

  action('/preview/:leadId/dial', dialPreviewSchema, async (agent, request) => {
    const res = await engine(() => desk().dialPreview(agent.id, request.params.leadId!))
    return { status: 201, body: res }
  })

  action('/preview/:leadId/skip', skipPreviewSchema, async (agent, request) => {
    await engine(() => desk().skipPreview(agent.id, request.params.leadId!))
    return { status: 204 }
  })

  action('/dial', dialSchema, async (agent, request) => {
    const body = request.body as { campaignId: string; number: string; customerId?: string }
    await ownCampaign(agent, body.campaignId)
    const res = await engine(() => desk().dial(agent.id, body))
    return { status: 201, body: res }
  })

  action('/hangup', simpleActionSchema('Hang up the current call'), async (agent) => ok(await engine(() => desk().hangup(agent.id))))

  action('/hold', holdSchema, async (agent, request) => {
    const { on } = request.body as { on: boolean }
    return ok(await engine(() => desk().hold(agent.id, on)))
  })

  action('/consult', consultSchema, async (agent, request) => {
    const { to } = request.body as { to: { agentId: string } }
    const other = await agents.get(to.agentId)
    if (!other || other.siteId !== agent.siteId) throw invalidField('body.to.agentId', 'no such agent in this site')
    return ok(await engine(() => desk().consult(agent.id, other.id)))
  })

  action('/consult/complete', completeConsultSchema, async (agent, request) => {
    const { customerId } = (request.body ?? {}) as { customerId?: string }
    return ok(await engine(() => desk().completeConsult(agent.id, customerId)))
  })

  action('/consult/cancel', cancelConsultSchema, async (agent) => ok(await engine(() => desk().cancelConsult(agent.id))))

  action('/recording', recordingSchema, async (agent, request) => {
    const { on } = request.body as { on: boolean }
    return ok(await engine(() => desk().record(agent.id, on)))
  })

  action('/transfer', transferSchema, async (agent, request) => {
    const body = request.body as { to: { agentId?: string; queueId?: string; number?: string }; customerId?: string }
    let to: TransferTarget
    if (body.to.agentId !== undefined) {
      const other = await agents.get(body.to.agentId)
      if (!other || other.siteId !== agent.siteId) throw invalidField('body.to.agentId', 'no such agent in this site')
      to = { kind: 'agent', agentId: other.id }
    } else if (body.to.queueId !== undefined) {
      const queue = await queues.get(body.to.queueId)
      if (!queue || queue.siteId !== agent.siteId) throw invalidField('body.to.queueId', 'no such queue in this site')
      if (!queue.active) throw invalidField('body.to.queueId', `queue ${queue.name} is inactive`)
      to = { kind: 'queue', queue: { queueId: queue.id, strategy: queue.strategy, requiredSkills: queue.requiredSkills } }
    } else {
      // national numbers as a Chinese floor writes them (the engine's home region, as for inbound callers)
      const parsed = parsePhone(body.to.number, 'CN')
      if (!parsed.ok) throw invalidField('body.to.number', `${parsed.code}: ${parsed.reason}`)
      to = { kind: 'number', number: parsed.phone.e164 }
    }
    return ok(await engine(() => desk().transfer(agent.id, to, body.customerId)))
  })

  const addToDnc = async (leadId: string, agentId: string, code: string, actor: string): Promise<void> => {
    const mirror = options.dnc
    if (!mirror) {
      throw new HttpProblem(503, 'DNC store unavailable', 'this API process has no DNC store: a do-not-call disposition cannot be honoured now; nothing was changed', {
        type: ProblemTypes.notReady,
      })
    }
    const lead = await new LeadRepository(db, options.pii).get(leadId)
    if (!lead) return
    const parsed = lead.e164 === undefined ? parsePhone(lead.phone, lead.region) : undefined
    // A number that does not parse cannot be dialed either: there is nothing to put on the list.
    const e164 = lead.e164 ?? (parsed?.ok ? parsed.phone.e164 : undefined)
    if (e164 === undefined) return
    await db.transaction(async (tx) => {
      const added = await new DncRepository(tx, options.pii).addMany([{ kind: 'number', number: e164, reason: `disposition ${code}`, source: `agent:${agentId}` }])
      try {
        await mirror.addNumbers({}, [e164])
      } catch (err) {
        throw new HttpProblem(503, 'DNC store unavailable', `the Redis DNC store did not take the number; nothing was changed (${(err as Error).message})`, {
          type: ProblemTypes.notReady,
        })
      }
      if (added.length > 0) await new AuditLogRepository(tx).append({ actor, action: 'dnc-add', entity: 'dnc', entityId: added[0]!.id, detail: { via: 'disposition', code } })
    })
  }

  action('/disposition', dispositionSchema, async (agent, request) => {
    const p = principalOf(request)
    const body = request.body as { callId: string; code: string; callback?: { at: string; for: 'me' | 'anyone' } }
    const cdr = await cdrs.get(body.callId)
    // Another agent's call looks missing, like one that never was.
    if (!cdr || cdr.agentId !== agent.id) throw notFound('call', body.callId)
    const code = await codes.find(cdr.campaignId, body.code)
    if (code === 'not-a-code') throw invalidField('body.code', `${JSON.stringify(body.code)} is not a disposition code of this campaign`)
    if (code?.booksCallback === true && body.callback === undefined) {
      throw invalidField('body.callback', `disposition ${body.code} books a callback: give callback.at`)
    }
    let callback: { id: string; leadId: string; at: string; agentId: string | null } | undefined
    if (body.callback) {
      const at = Date.parse(body.callback.at)
      if (at % 60_000 !== 0) throw invalidField('body.callback.at', 'callbacks are booked to the whole minute (no seconds)')
      if (at <= Date.now()) throw invalidField('body.callback.at', 'must be in the future')
      const owner = body.callback.for === 'anyone' ? undefined : agent.id
      await engine(() => desk().bookCallback(cdr.campaignId, cdr.leadId, at, owner))
      const row = await db.transaction(async (tx) => {
        const booked = await new LeadCallbackRepository(tx).book({ campaignId: cdr.campaignId, leadId: cdr.leadId, agentId: owner, dueAt: at })
        await new CdrRepository(tx).setDisposition(cdr.callId, body.code)
        await new AuditLogRepository(tx).append({
          actor: p.actor,
          action: 'disposition',
          entity: 'call',
          entityId: cdr.callId,
          detail: { agentId: agent.id, code: body.code, callbackId: booked.id, callbackAt: iso(at) },
        })
        return booked
      })
      callback = { id: row.id, leadId: row.leadId, at: iso(row.dueAt), agentId: row.agentId }
    } else {
      // A customer who asks not to be called is not called again by any campaign: the number goes on the global DNC
      // list (durable, and in Redis where every dialer screens) before anything else changes.
      if (code?.leadStatus === 'dnc') await addToDnc(cdr.leadId, agent.id, body.code, p.actor)
      // A code that closes the lead (the customer refused, asked not to be called, bought) stops recycling at once:
      // otherwise the status rules would dial them again.
      if (code !== undefined && ClosingStatuses.includes(code.leadStatus)) {
        await engine(() => desk().closeLead(cdr.campaignId, cdr.leadId, code.leadStatus))
      }
      await db.transaction(async (tx) => {
        await new CdrRepository(tx).setDisposition(cdr.callId, body.code)
        await new AuditLogRepository(tx).append({
          actor: p.actor,
          action: 'disposition',
          entity: 'call',
          entityId: cdr.callId,
          detail: { agentId: agent.id, code: body.code },
        })
      })
    }
    request.log.info({ agentId: agent.id, callId: cdr.callId, code: body.code, callbackId: callback?.id }, 'call dispositioned')
    return { status: 200, body: { callId: cdr.callId, code: body.code, ...(callback === undefined ? {} : { callback }) } }
  })
}
