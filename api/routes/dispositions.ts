/**
 * /v1/dispositions: the codes agents choose after a call, global (every site: platform admins only, since they apply
 * to other sites' campaigns too) or a campaign's own (that campaign's site managers). A code may book a callback and
 * may count as a conversion in reports.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { LeadStatuses, type LeadStatus } from '../../engine/leads/lead.js'
import type { Db } from '../../engine/store/sql/db.js'
import { DispositionCodeRepository, type DispositionCodeFields, type ManagedDispositionCode } from '../../engine/store/sql/disposition-codes.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { principalOf } from '../plugins/auth.js'
import { conflict, HttpProblem, notFound, ProblemTypes } from '../problem.js'
import { campaignInScope } from '../scope.js'
import { listOf } from '../schemas/page.js'
import { problemResponses } from '../schemas/problem.js'

const Managers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const

const codeSchema = {
  $id: 'cadence/disposition',
  type: 'object',
  required: ['id', 'campaignId', 'code', 'label', 'leadStatus', 'booksCallback', 'countsAsConversion'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    campaignId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    code: { type: 'string' },
    label: { type: 'string' },
    leadStatus: { type: 'string', enum: LeadStatuses },
    booksCallback: { type: 'boolean' },
    countsAsConversion: { type: 'boolean' },
  },
} as const

const fields = {
  label: { type: 'string', minLength: 1, maxLength: 200 },
  leadStatus: { type: 'string', enum: LeadStatuses },
  booksCallback: { type: 'boolean' },
  countsAsConversion: { type: 'boolean' },
} as const

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const

type Body = { campaignId?: string; code: string; label: string; leadStatus: LeadStatus; booksCallback?: boolean; countsAsConversion?: boolean }

export async function dispositionRoutes(app: FastifyInstance, o: { db: Db }): Promise<void> {
  const codes = new DispositionCodeRepository(o.db)
  const repos = repositories(o.db)
  app.addSchema(codeSchema)

  /** May this caller change this scope? Global codes: platform admins; a campaign's: its site's managers. */
  const ensureWritable = async (request: FastifyRequest, campaignId: string | null, idForNotFound?: string): Promise<void> => {
    const p = principalOf(request)
    if (campaignId === null) {
      if (p.siteId !== null) {
        throw new HttpProblem(403, 'Forbidden', 'global disposition codes apply to every site: only platform admins change them', { type: ProblemTypes.forbidden })
      }
      return
    }
    await campaignInScope(repos.campaigns, p, campaignId, idForNotFound === undefined ? 'campaign' : 'disposition code', idForNotFound ?? campaignId)
  }

  const scoped = async (request: FastifyRequest, id: string): Promise<ManagedDispositionCode> => {
    const c = await codes.get(id)
    if (!c) throw notFound('disposition code', id)
    if (c.campaignId !== null) await campaignInScope(repos.campaigns, principalOf(request), c.campaignId, 'disposition code', id)
    return c
  }

  app.get<{ Querystring: { campaignId?: string } }>(
    '/v1/dispositions',
    {
      schema: {
        tags: ['dispositions'],
        summary: 'The codes a campaign offers (its own and the global ones), or the global ones',
        querystring: { type: 'object', additionalProperties: false, properties: { campaignId: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: listOf('cadence/disposition#'), ...problemResponses },
      },
      config: { auth: Readers },
    },
    async (request) => {
      const campaignId = request.query.campaignId ?? null
      if (campaignId !== null) await campaignInScope(repos.campaigns, principalOf(request), campaignId)
      return { items: await codes.list(campaignId) }
    },
  )

  app.post<{ Body: Body }>(
    '/v1/dispositions',
    {
      schema: {
        tags: ['dispositions'],
        summary: 'Add a disposition code, global (platform admins) or for one campaign',
        body: {
          type: 'object',
          required: ['code', 'label', 'leadStatus'],
          additionalProperties: false,
          properties: { campaignId: { type: 'string', minLength: 1, maxLength: 200 }, code: { type: 'string', pattern: '^[a-z0-9:_-]{1,64}$' }, ...fields },
        },
        response: { 201: { $ref: 'cadence/disposition#' }, ...problemResponses },
      },
      config: { auth: Managers },
    },
    async (request, reply) => {
      const b = request.body
      const campaignId = b.campaignId ?? null
      await ensureWritable(request, campaignId)
      const created = await codes.create({
        campaignId,
        code: b.code,
        label: b.label,
        leadStatus: b.leadStatus,
        booksCallback: b.booksCallback ?? false,
        countsAsConversion: b.countsAsConversion ?? false,
      })
      if (!created) throw conflict(`code ${JSON.stringify(b.code)} exists in this scope`)
      await repos.audit.append({ actor: principalOf(request).actor, action: 'create', entity: 'disposition', entityId: created.id, detail: { code: b.code, campaignId } })
      return reply.code(201).send(created)
    },
  )

  app.patch<{ Params: { id: string }; Body: Partial<DispositionCodeFields> }>(
    '/v1/dispositions/:id',
    {
      schema: {
        tags: ['dispositions'],
        summary: 'Change a code’s label, lead status, callback or conversion flag (its code and scope stay)',
        params: idParams,
        body: { type: 'object', minProperties: 1, additionalProperties: false, properties: fields },
        response: { 200: { $ref: 'cadence/disposition#' }, ...problemResponses },
      },
      config: { auth: Managers },
    },
    async (request) => {
      const c = await scoped(request, request.params.id)
      await ensureWritable(request, c.campaignId, c.id)
      const updated = await codes.update(c.id, request.body)
      if (!updated) throw notFound('disposition code', c.id)
      await repos.audit.append({ actor: principalOf(request).actor, action: 'update', entity: 'disposition', entityId: c.id, detail: { fields: Object.keys(request.body) } })
      return updated
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/dispositions/:id',
    {
      schema: { tags: ['dispositions'], summary: 'Stop offering a code (calls keep the code they were given)', params: idParams, response: { 204: { type: 'null' }, ...problemResponses } },
      config: { auth: Managers },
    },
    async (request, reply) => {
      const c = await scoped(request, request.params.id)
      await ensureWritable(request, c.campaignId, c.id)
      await codes.remove(c.id)
      await repos.audit.append({ actor: principalOf(request).actor, action: 'delete', entity: 'disposition', entityId: c.id, detail: { code: c.code } })
      return reply.code(204).send()
    },
  )
}
