/**
 * How a site organizes its agents: /v1/teams, /v1/queues and /v1/pause-codes. Admins and supervisors write, QA
 * reads; agents read the active pause codes (their desk offers them). Everything is scoped to the caller's site, and
 * another site's record answers 404 like a missing one.
 */
import type { FastifyInstance } from 'fastify'
import type { RoutingStrategy } from '../../engine/acd/routing.js'
import type { Db } from '../../engine/store/sql/db.js'
import { PauseCodeRepository, SystemPauseReasons, type PauseCode, type PauseCodeChanges } from '../../engine/store/sql/pause-codes.js'
import { QueueRepository, type CallQueueChanges, type CallQueueRecord } from '../../engine/store/sql/queues.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { SiteRepository } from '../../engine/store/sql/sites.js'
import { TeamRepository, type Team } from '../../engine/store/sql/teams.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { conflict, invalidField, notFound } from '../problem.js'
import { ensureInSite, siteForNew, siteScope } from '../scope.js'
import {
  createPauseCodeSchema,
  createQueueSchema,
  createTeamSchema,
  deleteQueueSchema,
  deleteTeamSchema,
  getQueueSchema,
  getTeamSchema,
  listPauseCodesSchema,
  listQueuesSchema,
  listTeamsSchema,
  pauseCodeSchema,
  queueSchema,
  retirePauseCodeSchema,
  teamSchema,
  updatePauseCodeSchema,
  updateQueueSchema,
  updateTeamSchema,
} from '../schemas/agent-org.js'
import { iso } from '../schemas/timestamp.js'

export interface OrgRoutesOptions {
  db: Db
}

const Writers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa'] } as const
const Everyone = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const

/** Overflow chains longer than this are refused: a call should not wander through a dozen queues. */
const MaxOverflowChain = 10

const teamView = (t: Team) => ({ ...t, createdAt: iso(t.createdAt), updatedAt: iso(t.updatedAt) })
const queueView = (q: CallQueueRecord) => ({ ...q, createdAt: iso(q.createdAt), updatedAt: iso(q.updatedAt) })
const pauseView = (c: PauseCode) => ({ ...c, createdAt: iso(c.createdAt), updatedAt: iso(c.updatedAt) })

export async function orgRoutes(app: FastifyInstance, options: OrgRoutesOptions): Promise<void> {
  const { db } = options
  const teams = new TeamRepository(db)
  const queues = new QueueRepository(db)
  const pauseCodes = new PauseCodeRepository(db)
  const sites = new SiteRepository(db)
  const audit = repositories(db).audit
  for (const s of [teamSchema, queueSchema, pauseCodeSchema]) app.addSchema(s)

  /** A new record's site: the caller's, or for a platform admin the one named (which must exist). */
  async function newSite(p: Principal, requested: string | undefined): Promise<string> {
    const siteId = siteForNew(p, requested)
    if (!(await sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
    return siteId
  }

  /** Lists: a site-bound caller sees its own site whatever it asks; a platform admin may pick one. */
  const listScope = (p: Principal, requested: string | undefined): string | null => siteScope(p) ?? requested ?? null

  async function visible<T extends { siteId: string }>(p: Principal, found: T | undefined, what: string, id: string): Promise<T> {
    if (!found) throw notFound(what, id)
    ensureInSite(p, found.siteId, what, id)
    return found
  }

  // Teams

  app.get<{ Querystring: { siteId?: string } }>('/v1/teams', { schema: listTeamsSchema, config: { auth: Readers } }, async (request) => ({
    items: (await teams.list(listScope(principalOf(request), request.query.siteId))).map(teamView),
  }))

  app.post<{ Body: { name: string; siteId?: string } }>(
    '/v1/teams',
    { schema: createTeamSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const siteId = await newSite(p, request.body.siteId)
      const team = await teams.create({ siteId, name: request.body.name })
      if (!team) throw conflict(`site ${siteId} already has a team named ${JSON.stringify(request.body.name)}`)
      await audit.append({ actor: p.actor, action: 'create', entity: 'team', entityId: team.id, detail: { siteId } })
      return reply.code(201).send(teamView(team))
    },
  )

  app.get<{ Params: { id: string } }>('/v1/teams/:id', { schema: getTeamSchema, config: { auth: Readers } }, async (request) => {
    const id = request.params.id
    return teamView(await visible(principalOf(request), await teams.get(id), 'team', id))
  })

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/v1/teams/:id',
    { schema: updateTeamSchema, config: { auth: Writers } },
    async (request) => {
      const p = principalOf(request)
      const id = request.params.id
      await visible(p, await teams.get(id), 'team', id)
      const renamed = await teams.rename(id, request.body.name)
      if (renamed === 'taken') throw conflict(`the site already has a team named ${JSON.stringify(request.body.name)}`)
      if (!renamed) throw notFound('team', id)
      await audit.append({ actor: p.actor, action: 'update', entity: 'team', entityId: id, detail: { name: request.body.name } })
      return teamView(renamed)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/teams/:id',
    { schema: deleteTeamSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const id = request.params.id
      await visible(p, await teams.get(id), 'team', id)
      await teams.delete(id)
      await audit.append({ actor: p.actor, action: 'delete', entity: 'team', entityId: id })
      return reply.code(204).send()
    },
  )

  // Queues

  /** The overflow target must be another queue of the same site, and following overflows must never loop. */
  async function checkOverflow(queueId: string | undefined, siteId: string, overflowId: string | null | undefined): Promise<void> {
    if (overflowId === undefined || overflowId === null) return
    const field = 'body.overflowQueueId'
    if (overflowId === queueId) throw invalidField(field, 'a queue cannot overflow into itself')
    const target = await queues.get(overflowId)
    if (!target || target.siteId !== siteId) throw invalidField(field, `no queue ${JSON.stringify(overflowId)} in site ${siteId}`)
    let next: CallQueueRecord | undefined = target
    for (let hops = 1; next?.overflowQueueId != null; hops++) {
      if (next.overflowQueueId === queueId) throw invalidField(field, 'the overflow would loop back to this queue')
      if (hops >= MaxOverflowChain) throw invalidField(field, `overflow chains stop at ${MaxOverflowChain} queues`)
      next = await queues.get(next.overflowQueueId)
    }
  }

  app.get<{ Querystring: { siteId?: string } }>('/v1/queues', { schema: listQueuesSchema, config: { auth: Readers } }, async (request) => ({
    items: (await queues.list(listScope(principalOf(request), request.query.siteId))).map(queueView),
  }))

  app.post<{
    Body: {
      name: string
      priority?: number
      strategy?: RoutingStrategy
      requiredSkills?: Record<string, number>
      maxWaitSeconds?: number | null
      overflowQueueId?: string | null
      siteId?: string
    }
  }>('/v1/queues', { schema: createQueueSchema, config: { auth: Writers } }, async (request, reply) => {
    const p = principalOf(request)
    const { siteId: requested, ...fields } = request.body
    const siteId = await newSite(p, requested)
    await checkOverflow(undefined, siteId, fields.overflowQueueId)
    const queue = await queues.create({ ...fields, siteId })
    if (queue === 'taken') throw conflict(`site ${siteId} already has a queue named ${JSON.stringify(fields.name)}`)
    await audit.append({ actor: p.actor, action: 'create', entity: 'queue', entityId: queue.id, detail: { siteId } })
    return reply.code(201).send(queueView(queue))
  })

  app.get<{ Params: { id: string } }>('/v1/queues/:id', { schema: getQueueSchema, config: { auth: Readers } }, async (request) => {
    const id = request.params.id
    return queueView(await visible(principalOf(request), await queues.get(id), 'queue', id))
  })

  app.patch<{ Params: { id: string }; Body: CallQueueChanges }>(
    '/v1/queues/:id',
    { schema: updateQueueSchema, config: { auth: Writers } },
    async (request) => {
      const p = principalOf(request)
      const id = request.params.id
      const queue = await visible(p, await queues.get(id), 'queue', id)
      await checkOverflow(id, queue.siteId, request.body.overflowQueueId)
      const updated = await queues.update(id, request.body)
      if (updated === 'taken') throw conflict(`the site already has a queue named ${JSON.stringify(request.body.name)}`)
      if (!updated) throw notFound('queue', id)
      await audit.append({ actor: p.actor, action: 'update', entity: 'queue', entityId: id, detail: { fields: Object.keys(request.body) } })
      return queueView(updated)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/queues/:id',
    { schema: deleteQueueSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const id = request.params.id
      await visible(p, await queues.get(id), 'queue', id)
      await queues.delete(id)
      await audit.append({ actor: p.actor, action: 'delete', entity: 'queue', entityId: id })
      return reply.code(204).send()
    },
  )

  // Pause codes

  app.get<{ Querystring: { siteId?: string } }>(
    '/v1/pause-codes',
    { schema: listPauseCodesSchema, config: { auth: Everyone } },
    async (request) => {
      const p = principalOf(request)
      // Agents see what they may choose; the others also see retired codes (reports still name them).
      const items = await pauseCodes.list(listScope(p, request.query.siteId), { activeOnly: p.role === 'agent' })
      return { items: items.map(pauseView) }
    },
  )

  app.post<{ Body: { code: string; label: string; paid?: boolean; maxMinutes?: number | null; siteId?: string } }>(
    '/v1/pause-codes',
    { schema: createPauseCodeSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const { siteId: requested, ...fields } = request.body
      if (SystemPauseReasons.has(fields.code)) {
        throw invalidField('body.code', `${JSON.stringify(fields.code)} is the engine's own pause reason, not a site's code`)
      }
      const siteId = await newSite(p, requested)
      const code = await pauseCodes.create({ ...fields, siteId })
      if (!code) throw conflict(`site ${siteId} already has pause code ${JSON.stringify(fields.code)}`)
      await audit.append({ actor: p.actor, action: 'create', entity: 'pause-code', entityId: code.id, detail: { siteId, code: code.code } })
      return reply.code(201).send(pauseView(code))
    },
  )

  app.patch<{ Params: { id: string }; Body: PauseCodeChanges }>(
    '/v1/pause-codes/:id',
    { schema: updatePauseCodeSchema, config: { auth: Writers } },
    async (request) => {
      const p = principalOf(request)
      const id = request.params.id
      await visible(p, await pauseCodes.get(id), 'pause code', id)
      const updated = await pauseCodes.update(id, request.body)
      if (!updated) throw notFound('pause code', id)
      await audit.append({ actor: p.actor, action: 'update', entity: 'pause-code', entityId: id, detail: { fields: Object.keys(request.body) } })
      return pauseView(updated)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/pause-codes/:id',
    { schema: retirePauseCodeSchema, config: { auth: Writers } },
    async (request, reply) => {
      const p = principalOf(request)
      const id = request.params.id
      await visible(p, await pauseCodes.get(id), 'pause code', id)
      await pauseCodes.retire(id)
      await audit.append({ actor: p.actor, action: 'retire', entity: 'pause-code', entityId: id })
      return reply.code(204).send()
    },
  )
}
