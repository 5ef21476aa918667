/** /v1/webhooks: integrations subscribe a URL to a site's events; deliveries are signed and retried (see README). */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { AllEventNames } from '../../engine/events/event-names.js'
import type { Db } from '../../engine/store/sql/db.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { WebhookRepository, type Delivery, type Webhook } from '../../engine/store/sql/webhooks.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import { principalOf } from '../plugins/auth.js'
import { invalidField, notFound } from '../problem.js'
import { ensureInSite, siteForNew, siteScope } from '../scope.js'
import { listOf } from '../schemas/page.js'
import { problemResponses } from '../schemas/problem.js'
import { iso } from '../schemas/timestamp.js'

export interface WebhookRoutesOptions {
  db: Db
  pii: PiiCipher
  /** Told after a change so deliveries follow at once (the dispatcher's refresh). */
  changed?: () => Promise<void>
}

const view = (w: Webhook) => ({ id: w.id, siteId: w.siteId, url: w.url, eventTypes: w.eventTypes, active: w.active, createdAt: iso(w.createdAt) })
const deliveryView = (d: Delivery) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: iso(d.nextAttemptAt),
  lastStatus: d.lastStatus ?? null,
  lastError: d.lastError ?? null,
  deliveredAt: d.deliveredAt !== undefined ? iso(d.deliveredAt) : null,
})

const webhookSchema = {
  $id: 'cadence/webhook',
  type: 'object',
  required: ['id', 'siteId', 'url', 'eventTypes', 'active', 'createdAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    url: { type: 'string' },
    eventTypes: { type: 'array', items: { type: 'string' } },
    active: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const
const nullable = (type: string) => ({ anyOf: [{ type }, { type: 'null' }] })

export async function webhookRoutes(app: FastifyInstance, o: WebhookRoutesOptions): Promise<void> {
  const hooks = new WebhookRepository(o.db, o.pii)
  const audit = repositories(o.db).audit
  app.addSchema(webhookSchema)

  const scoped = async (request: Parameters<typeof principalOf>[0], id: string): Promise<Webhook> => {
    const w = await hooks.get(id)
    if (!w) throw notFound('webhook', id)
    ensureInSite(principalOf(request), w.siteId, 'webhook', id)
    return w
  }

  app.post<{ Body: { url: string; eventTypes: string[]; siteId?: string } }>(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a URL to events of a site; the signing secret is in this answer only',
        body: {
          type: 'object',
          required: ['url', 'eventTypes'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2000 },
            eventTypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: AllEventNames } },
            siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
          },
        },
        response: {
          201: { type: 'object', required: ['secret', 'webhook'], properties: { secret: { type: 'string' }, webhook: { $ref: 'cadence/webhook#' } } },
          ...problemResponses,
        },
      },
      config: { auth: { roles: ['admin'] } },
    },
    async (request, reply) => {
      const p = principalOf(request)
      const siteId = siteForNew(p, request.body.siteId)
      if (!(await repositories(o.db).sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
      const secret = `whsec_${randomBytes(32).toString('base64url')}`
      const w = await hooks.create({ siteId, url: request.body.url, secret, eventTypes: request.body.eventTypes })
      await audit.append({ actor: p.actor, action: 'create', entity: 'webhook', entityId: w.id, detail: { url: w.url, eventTypes: w.eventTypes } })
      await o.changed?.()
      return reply.code(201).send({ secret, webhook: view(w) })
    },
  )

  app.get(
    '/v1/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Webhooks of the caller’s site',
        response: { 200: listOf('cadence/webhook#'), ...problemResponses },
      },
      config: { auth: { roles: ['admin', 'supervisor'] } },
    },
    async (request) => ({ items: (await hooks.list(siteScope(principalOf(request)))).map(view) }),
  )

  app.get<{ Params: { id: string } }>(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The latest deliveries of a webhook, newest first, with attempts and last errors',
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    eventId: { type: 'string' },
                    eventType: { type: 'string' },
                    status: { type: 'string' },
                    attempts: { type: 'integer' },
                    nextAttemptAt: { type: 'string' },
                    lastStatus: nullable('integer'),
                    lastError: nullable('string'),
                    deliveredAt: nullable('string'),
                  },
                },
              },
            },
          },
          ...problemResponses,
        },
      },
      config: { auth: { roles: ['admin', 'supervisor'] } },
    },
    async (request) => {
      const w = await scoped(request, request.params.id)
      return { items: (await hooks.deliveries(w.id)).map(deliveryView) }
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/webhooks/:id',
    {
      schema: { tags: ['webhooks'], summary: 'Stop a webhook (its delivery history stays)', params: idParams, response: { 204: { type: 'null' }, ...problemResponses } },
      config: { auth: { roles: ['admin'] } },
    },
    async (request, reply) => {
      const w = await scoped(request, request.params.id)
      await hooks.deactivate(w.id)
      await audit.append({ actor: principalOf(request).actor, action: 'deactivate', entity: 'webhook', entityId: w.id })
      await o.changed?.()
      return reply.code(204).send()
    },
  )
}
