/**
 * /v1/agents: agents as records (site-scoped CRUD: name, extension, team, skills, active) and their live state as
 * the engine's ACD sees it; teams, queues and pause codes (org.ts) and the agent-desk actions (agent-desk.ts) are
 * registered inside this plugin so they share its schemas. Admins and supervisors write, QA reads, an agent reads
 * only its own record; another site's agent answers 404 like a missing one.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CampaignControl } from '../../engine/campaign/control.js'
import { AgentRepository, ExtensionTaken, type AgentRecord } from '../../engine/store/sql/agents.js'
import type { Db } from '../../engine/store/sql/db.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { SiteRepository } from '../../engine/store/sql/sites.js'
import { TeamRepository } from '../../engine/store/sql/teams.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { conflict, invalidField, notFound } from '../problem.js'
import { agentScope, ensureInSite, siteForNew, siteScope } from '../scope.js'
import {
  agentLiveSchema,
  agentRecordSchema,
  createAgentSchema,
  deactivateAgentSchema,
  getAgentSchema,
  listAgentRecordsSchema,
  listAgentsSchema,
  updateAgentSchema,
} from '../schemas/agent.js'
import { agentDeskRoutes } from './agent-desk.js'
import type { DncMirror } from './dnc.js'
import { orgRoutes } from './org.js'
import { iso } from '../schemas/timestamp.js'

export interface AgentRoutesOptions {
  control: CampaignControl
  /** Agents' records, teams, queues and pause codes; without it only the live-state list is served. */
  db?: Db
  /** The Redis DNC lists the engine screens against: a 'dnc' disposition adds the customer's number there too. */
  dnc?: DncMirror
  /** Required with db: the agent desk opens previewed leads' sealed numbers. */
  pii?: PiiCipher
}

const Writers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa'] } as const
const Everyone = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const


export function agentRecordView(a: AgentRecord) {
  return {
    id: a.id,
    siteId: a.siteId,
    name: a.name,
    extension: a.extension ?? null,
    teamId: a.teamId ?? null,
    skills: a.skills,
    active: a.active,
    createdAt: iso(a.createdAt),
  }
}

/**
 * The agent a caller may see: missing, in another site, or (for an agent caller) someone else's all answer the same
 * 404. Exported for the desk routes, which act on agents the same way.
 */
export async function visibleAgent(agents: AgentRepository, p: Principal, id: string): Promise<AgentRecord> {
  const a = await agents.get(id)
  if (!a) throw notFound('agent', id)
  ensureInSite(p, a.siteId, 'agent', id)
  const own = agentScope(p)
  if (own !== null && own !== id) throw notFound('agent', id)
  return a
}

export async function agentRoutes(app: FastifyInstance, options: AgentRoutesOptions): Promise<void> {
  const { control } = options
  app.addSchema(agentLiveSchema)

  app.get<{ Querystring: { campaignId?: string } }>(
    '/v1/agents',
    { schema: listAgentsSchema, config: { auth: Readers } },
    async (request) => {
      const p = principalOf(request)
      let live = await control.agents(request.query.campaignId)
      if (p.siteId !== null && options.db !== undefined) {
        // Agents whose records belong to another site are not this caller's to see.
        const elsewhere = new Set(
          (await new AgentRepository(options.db).list()).filter((a) => a.siteId !== p.siteId).map((a) => a.id),
        )
        live = live.filter((a) => !elsewhere.has(a.agentId))
      }
      return { items: live.map((a) => ({ ...a, since: iso(a.since) })) }
    },
  )

  const db = options.db
  if (db === undefined) return
  const agents = new AgentRepository(db)
  const teams = new TeamRepository(db)
  const sites = new SiteRepository(db)
  const audit = repositories(db).audit
  app.addSchema(agentRecordSchema)

  /** A team id is only accepted from the agent's own site; another site's team reads as missing. */
  async function checkTeam(teamId: string | null | undefined, siteId: string): Promise<void> {
    if (teamId === undefined || teamId === null) return
    const team = await teams.get(teamId)
    if (!team || team.siteId !== siteId) throw invalidField('body.teamId', `no team ${JSON.stringify(teamId)} in site ${siteId}`)
  }

  const extensionClash = (err: unknown): never => {
    if (err instanceof ExtensionTaken) throw conflict(err.message)
    throw err
  }

  app.get<{ Querystring: { siteId?: string; teamId?: string; active?: boolean; limit: number; offset: number } }>(
    '/v1/agents/records',
    { schema: listAgentRecordsSchema, config: { auth: Everyone } },
    async (request) => {
      const p = principalOf(request)
      const q = request.query
      const own = agentScope(p)
      const page = await agents.page({
        siteId: siteScope(p) ?? q.siteId ?? null,
        teamId: q.teamId,
        active: q.active,
        onlyId: own ?? undefined,
        limit: q.limit,
        offset: q.offset,
      })
      return { items: page.items.map(agentRecordView), total: page.total, limit: q.limit, offset: q.offset }
    },
  )

  app.post<{
    Body: { name: string; extension?: string; teamId?: string; skills?: Record<string, number>; active?: boolean; siteId?: string }
  }>('/v1/agents', { schema: createAgentSchema, config: { auth: Writers } }, async (request, reply) => {
    const p = principalOf(request)
    const siteId = siteForNew(p, request.body.siteId)
    if (!(await sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
    await checkTeam(request.body.teamId, siteId)
    const { name, extension, teamId, skills, active } = request.body
    const agent = await agents.create({ name, extension, teamId, skills, active, siteId }).catch(extensionClash)
    await audit.append({ actor: p.actor, action: 'create', entity: 'agent', entityId: agent.id, detail: { siteId } })
    request.log.info({ agentId: agent.id, siteId }, 'agent created')
    return reply.code(201).send(agentRecordView(agent))
  })

  app.get<{ Params: { id: string } }>(
    '/v1/agents/:id',
    { schema: getAgentSchema, config: { auth: Everyone } },
    async (request) => {
      const agent = await visibleAgent(agents, principalOf(request), request.params.id)
      const live = await control.desk?.state(agent.id)
      return { ...agentRecordView(agent), ...(live === undefined ? {} : { live: { ...live, since: iso(live.since) } }) }
    },
  )

  app.patch<{
    Params: { id: string }
    Body: { name?: string; extension?: string | null; teamId?: string | null; skills?: Record<string, number>; active?: boolean }
  }>('/v1/agents/:id', { schema: updateAgentSchema, config: { auth: Writers } }, async (request) => {
    const p = principalOf(request)
    const agent = await visibleAgent(agents, p, request.params.id)
    await checkTeam(request.body.teamId, agent.siteId)
    const updated = await agents.update(agent.id, request.body).catch(extensionClash)
    if (!updated) throw notFound('agent', agent.id)
    // Routing reads skills from the ACD: a logged-in agent's new skills count from the next call on.
    if (request.body.skills !== undefined) await control.desk?.updateSkills(agent.id, updated.skills)
    await audit.append({ actor: p.actor, action: 'update', entity: 'agent', entityId: agent.id, detail: { fields: Object.keys(request.body) } })
    return agentRecordView(updated)
  })

  app.delete<{ Params: { id: string } }>(
    '/v1/agents/:id',
    { schema: deactivateAgentSchema, config: { auth: Writers } },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const p = principalOf(request)
      const agent = await visibleAgent(agents, p, request.params.id)
      // Calls, customers and reports keep naming the agent, so the record stays; it only stops working.
      await agents.setActive(agent.id, false)
      await audit.append({ actor: p.actor, action: 'deactivate', entity: 'agent', entityId: agent.id })
      return reply.code(204).send()
    },
  )

  await app.register(orgRoutes, { db })
  if (options.pii === undefined) throw new Error('agentRoutes: a database without a PiiCipher cannot open leads')
  await app.register(agentDeskRoutes, { db, pii: options.pii, control, ...(options.dnc ? { dnc: options.dnc } : {}) })
}
