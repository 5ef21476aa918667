/** /v1/campaigns: create, list, read, start/pause/stop through the engine's CampaignControl, live figures. */
import type { FastifyInstance } from 'fastify'
import type { CampaignControl, CampaignRunState } from '../../engine/campaign/control.js'
import type { Campaign, CampaignSettings } from '../../engine/store/sql/campaigns.js'
import type { Db } from '../../engine/store/sql/db.js'
import { amdThresholds } from '../../engine/media/amd.js'
import { BatchedLookup } from '../../engine/store/sql/batched-lookup.js'
import { ReadingCache } from '../reading-cache.js'
import { iso } from '../schemas/timestamp.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { principalOf } from '../plugins/auth.js'
import { ensureInSite, siteForNew, siteScope } from '../scope.js'
import { conflict, HttpProblem, invalidField, notFound, ProblemTypes } from '../problem.js'
import {
  archiveCampaignSchema,
  campaignActionSchema,
  campaignSchema,
  updateCampaignSchema,
  createCampaignSchema,
  figuresSchema,
  getCampaignSchema,
  listCampaignsSchema,
} from '../schemas/campaign.js'

export interface CampaignRoutesOptions {
  db: Db
  control: CampaignControl
  /**
   * How long a reading of a campaign's live figures is reused (default 1000 ms; 0 reads every time). Answers carry
   * `asOf`, when their reading started. Changes made through this process (start, pause, stop, edit, archive) are
   * seen at once; changes in the engine (calls, agents) and through other API processes within this period.
   */
  liveFiguresMaxAgeMs?: number
}

const Managers = { roles: ['admin', 'supervisor'] } as const
const Readers = { roles: ['admin', 'supervisor', 'qa'] } as const

export interface CampaignView {
  id: string
  name: string
  state: CampaignRunState
  settings: CampaignSettings
  siteId: string
  createdAt: string
  updatedAt: string
}

function view(c: Campaign): CampaignView {
  return { ...c, createdAt: new Date(c.createdAt).toISOString(), updatedAt: new Date(c.updatedAt).toISOString() }
}

type Action = 'start' | 'pause' | 'stop'

const target: Record<Action, CampaignRunState> = { start: 'running', pause: 'paused', stop: 'stopped' }

/** Which states each action may leave from; repeating an action is allowed and changes nothing. */
const allowedFrom: Record<Action, readonly CampaignRunState[]> = {
  start: ['stopped', 'paused', 'running'],
  pause: ['running', 'paused'],
  stop: ['running', 'paused', 'stopped'],
}

export async function campaignRoutes(app: FastifyInstance, options: CampaignRoutesOptions): Promise<void> {
  const { db, control } = options
  const repos = repositories(db)
  // Concurrent requests' campaign reads share one query (engine/store/sql/batched-lookup.ts).
  const campaignsById = new BatchedLookup((ids: string[]) => repos.campaigns.getMany(ids))
  // Supervisors' dashboards poll the same campaign's figures at once: requests that arrive together share one reading.
  const figuresOf = new BatchedLookup(
    async (ids: string[]) => new Map(await Promise.all(ids.map(async (id) => [id, await control.figures(id)] as const))),
  )
  // A reading keeps the campaign's site with the figures: a site never changes, and the caller's site is checked on
  // every request against it.
  const liveFigures = new ReadingCache(
    async (id: string) => {
      const c = await campaignsById.load(id)
      if (!c) return undefined
      const figures = await figuresOf.load(id)
      return figures && { siteId: c.siteId, figures }
    },
    { maxAgeMs: options.liveFiguresMaxAgeMs ?? 1000 },
  )
  app.addSchema(campaignSchema)

  /** The campaign if it exists in the caller's site; a campaign of another site is as missing as an unknown id. */
  async function scoped(request: Parameters<typeof principalOf>[0], id: string): Promise<Campaign> {
    const c = await campaignsById.load(id)
    if (!c) throw notFound('campaign', id)
    ensureInSite(principalOf(request), c.siteId, 'campaign', id)
    return c
  }

  const checkHours = (settings: CampaignSettings): void => {
    const hours = settings.screening.callingHours
    if (hours.start >= hours.end) {
      throw invalidField('body.settings.screening.callingHours.end', `must be after start (${hours.start})`)
    }
    // AMD's thresholds are checked together (over the defaults), as the engine will use them on every call
    const amd = settings.pacing.amdThresholds
    if (amd !== undefined) {
      try {
        amdThresholds(amd)
      } catch (err) {
        throw invalidField('body.settings.pacing.amdThresholds', err instanceof Error ? err.message : String(err))
      }
    }
  }

  app.post<{ Body: { name: string; settings: CampaignSettings; siteId?: string } }>(
    '/v1/campaigns',
    { schema: createCampaignSchema, config: { auth: Managers } },
    async (request, reply) => {
      const { name, settings } = request.body
      checkHours(settings)
      const siteId = siteForNew(principalOf(request), request.body.siteId)
      if (!(await repos.sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
      const actor = principalOf(request).actor
      const created = await db.transaction(async (tx) => {
        const r = repositories(tx)
        const c = await r.campaigns.create({ name, settings, siteId })
        await r.audit.append({ actor, action: 'create', entity: 'campaign', entityId: c.id, detail: { name } })
        return c
      })
      request.log.info({ campaignId: created.id }, 'campaign created')
      return reply.code(201).header('location', `/v1/campaigns/${encodeURIComponent(created.id)}`).send(view(created))
    },
  )

  app.get<{ Querystring: { limit: number; offset: number } }>(
    '/v1/campaigns',
    { schema: listCampaignsSchema, config: { auth: Readers } },
    async (request) => {
      const { limit, offset } = request.query
      const page = await repos.campaigns.list({ limit, offset, siteId: siteScope(principalOf(request)) })
      return { items: page.items.map(view), total: page.total, limit, offset }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/v1/campaigns/:id',
    { schema: getCampaignSchema, config: { auth: Readers } },
    async (request) => view(await scoped(request, request.params.id)),
  )

  app.patch<{ Params: { id: string }; Body: { name?: string; settings?: CampaignSettings } }>(
    '/v1/campaigns/:id',
    { schema: updateCampaignSchema, config: { auth: Managers } },
    async (request) => {
      const id = request.params.id
      await scoped(request, id)
      const { name, settings } = request.body
      if (settings !== undefined) checkHours(settings)
      const actor = principalOf(request).actor
      const updated = await db.transaction(async (tx) => {
        const r = repositories(tx)
        let c: Campaign | undefined
        if (name !== undefined) c = await r.campaigns.rename(id, name)
        if (settings !== undefined) c = await r.campaigns.updateSettings(id, settings)
        await r.audit.append({ actor, action: 'update', entity: 'campaign', entityId: id, detail: { fields: Object.keys(request.body) } })
        return c
      })
      liveFigures.invalidate(id)
      if (!updated) throw notFound('campaign', id)
      return view(updated)
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/campaigns/:id',
    { schema: archiveCampaignSchema, config: { auth: Managers } },
    async (request, reply) => {
      const id = request.params.id
      const c = await scoped(request, id)
      if (c.state !== 'stopped') throw conflict(`stop campaign ${JSON.stringify(id)} before archiving it (it is ${c.state})`)
      const actor = principalOf(request).actor
      await db.transaction(async (tx) => {
        const r = repositories(tx)
        if (!(await r.campaigns.archive(id))) throw conflict(`campaign ${JSON.stringify(id)} changed state meanwhile`)
        await r.audit.append({ actor, action: 'archive', entity: 'campaign', entityId: id })
      })
      liveFigures.invalidate(id)
      return reply.code(204).send()
    },
  )

  for (const action of ['start', 'pause', 'stop'] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/campaigns/:id/${action}`,
      { schema: campaignActionSchema, config: { auth: Managers } },
      async (request) => {
        const id = request.params.id
        const c = await scoped(request, id)
        if (!allowedFrom[action].includes(c.state)) {
          throw conflict(`cannot ${action} campaign ${JSON.stringify(id)}: it is ${c.state}`)
        }
        // The engine acts first: the stored state only says what an engine has accepted, so a restart resumes it.
        await control[action](id)
        liveFigures.invalidate(id)
        const actor = principalOf(request).actor
        const updated = await db.transaction(async (tx) => {
          const r = repositories(tx)
          const u = await r.campaigns.setState(id, target[action])
          await r.audit.append({ actor, action, entity: 'campaign', entityId: id, detail: { from: c.state } })
          return u
        })
        if (!updated) throw notFound('campaign', id)
        request.log.info({ campaignId: id, from: c.state, to: updated.state }, `campaign ${action}`)
        return view(updated)
      },
    )
  }

  app.get<{ Params: { id: string } }>(
    '/v1/campaigns/:id/figures',
    { schema: figuresSchema, config: { auth: Readers } },
    async (request) => {
      const id = request.params.id
      const { value, readAt } = await liveFigures.get(id)
      if (!value) {
        // Not kept: a missing campaign or one no engine runs is asked again every time.
        await scoped(request, id)
        throw new HttpProblem(404, 'No live figures', `campaign ${JSON.stringify(id)} is not loaded on any engine`, {
          type: ProblemTypes.notFound,
        })
      }
      ensureInSite(principalOf(request), value.siteId, 'campaign', id)
      return { ...value.figures, asOf: iso(readAt) }
    },
  )
}
