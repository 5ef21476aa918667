/**
 * /v1/leads/:id/dialability: "why is this lead not dialable now". The engine's own screen() with the campaign's
 * policy (screeningPolicyOf), a DNC snapshot from the Redis lists the engine reads, the learned-invalid numbers and the
 * lead's attempt history: the answer is what the dial loop would decide at that instant.
 */
import type { FastifyInstance } from 'fastify'
import { screeningPolicyOf } from '../../engine/campaign/campaign-policies.js'
import type { LeadStatus } from '../../engine/leads/lead.js'
import type { DncLookup } from '../../engine/screening/dnc.js'
import type { InvalidNumberLookup } from '../../engine/screening/invalid-numbers.js'
import { parsePhone } from '../../engine/screening/number.js'
import { screen } from '../../engine/screening/screen.js'
import type { Db } from '../../engine/store/sql/db.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import { batchedDncSnapshots, batchedInvalidNumberSnapshots } from '../../engine/store/redis/batched-screening-lookups.js'
import { BatchedLookup } from '../../engine/store/sql/batched-lookup.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { principalOf } from '../plugins/auth.js'
import { notFound } from '../problem.js'
import { dialabilitySchema } from '../schemas/lead.js'
import { iso } from '../schemas/timestamp.js'

/** DNC snapshot and learned-invalid lookups, as the Redis stores give them. */
export interface ScreeningLookups {
  dnc?: { snapshot(campaignId: string, e164s: readonly string[]): Promise<DncLookup> }
  invalidNumbers?: { snapshot(e164s: readonly string[]): Promise<InvalidNumberLookup> }
}

export interface LeadRoutesOptions {
  db: Db
  /** Opens the leads' sealed numbers. */
  pii: PiiCipher
  lookups: ScreeningLookups
  /** The API's clock (epoch ms); Date.now by default. */
  now?: () => number
}

/** Statuses the hopper never offers again (engine/store/sql/leads.ts FinalStatuses) that screen() does not name. */
const Closed: readonly LeadStatus[] = ['contacted', 'invalid', 'done']


export async function leadRoutes(app: FastifyInstance, options: LeadRoutesOptions): Promise<void> {
  const { db } = options
  // Concurrent requests share one Redis pipeline per campaign for the DNC and learned-invalid snapshots.
  const lookups: ScreeningLookups = {
    ...(options.lookups.dnc ? { dnc: batchedDncSnapshots(options.lookups.dnc) } : {}),
    ...(options.lookups.invalidNumbers ? { invalidNumbers: batchedInvalidNumberSnapshots(options.lookups.invalidNumbers) } : {}),
  }
  const repos = repositories(db, options.pii)
  // Concurrent requests' reads share one query each (engine/store/sql/batched-lookup.ts).
  const leadsById = new BatchedLookup((ids: string[]) => repos.leads.getMany(ids))
  const campaignsByLead = new BatchedLookup((leadIds: string[]) => repos.campaigns.getManyByLead(leadIds))
  const now = options.now ?? Date.now

  app.get<{ Params: { id: string }; Querystring: { at?: string } }>(
    '/v1/leads/:id/dialability',
    { schema: dialabilitySchema, config: { auth: { roles: ['admin', 'supervisor', 'qa'] } } },
    async (request) => {
      // Lead and campaign at once: one round trip of waiting, not two.
      const [lead, campaign] = await Promise.all([leadsById.load(request.params.id), campaignsByLead.load(request.params.id)])
      if (!lead) throw notFound('lead', request.params.id)
      const p = principalOf(request)
      // A lead of another site's campaign is as missing as an unknown id.
      if (!campaign || (p.siteId !== null && campaign.siteId !== p.siteId)) throw notFound('lead', request.params.id)
      const at = request.query.at !== undefined ? Date.parse(request.query.at) : now()
      const parsed = parsePhone(lead.phone, lead.region)
      const e164s = parsed.ok ? [parsed.phone.e164] : []
      // Without the store the DNC check cannot pass: screen() answers dnc-unavailable, as the dial loop would.
      const [dnc, invalidNumbers] = await Promise.all([
        lookups.dnc && parsed.ok ? lookups.dnc.snapshot(lead.campaignId, e164s) : undefined,
        lookups.invalidNumbers && parsed.ok ? lookups.invalidNumbers.snapshot(e164s) : undefined,
      ])
      const result = screen(lead, { ...(dnc ? { dnc } : {}), ...(invalidNumbers ? { invalidNumbers } : {}) }, screeningPolicyOf(campaign.settings), at)

      const rejections: Array<{ code: string; detail: string; retryAt?: string }> = []
      if (Closed.includes(lead.status)) rejections.push({ code: 'lead-closed', detail: `lead status is ${lead.status}: the hopper no longer offers it` })
      if (campaign.state !== 'running') rejections.push({ code: 'campaign-not-running', detail: `campaign is ${campaign.state}` })
      const body: Record<string, unknown> = {
        leadId: lead.id,
        campaignId: lead.campaignId,
        at: iso(at),
        status: lead.status,
        campaignState: campaign.state,
      }
      if (result.ok) {
        body['e164'] = result.e164
        body['timeZone'] = result.timeZone
        const lt = result.localTime
        const p = (n: number) => String(n).padStart(2, '0')
        body['localTime'] = `${lt.year}-${p(lt.month)}-${p(lt.day)} ${p(lt.hour)}:${p(lt.minute)}`
        if (result.nextAttemptAt !== undefined) body['nextAttemptAt'] = iso(result.nextAttemptAt)
      } else {
        if (result.e164 !== undefined) body['e164'] = result.e164
        for (const r of result.rejections) {
          rejections.push(r.retryAt === undefined ? { code: r.code, detail: r.detail } : { code: r.code, detail: r.detail, retryAt: iso(r.retryAt) })
        }
        if (result.retryAt !== undefined) body['retryAt'] = iso(result.retryAt)
      }
      body['rejections'] = rejections
      body['dialable'] = rejections.length === 0
      return body
    },
  )
}
