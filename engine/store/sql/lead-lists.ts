/** Lead lists of a campaign, and their leads paged in insertion order for export. */
import type { LeadStatus } from '../../leads/lead.js'
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { Queryable } from './db.js'
import { LeadNumberCipher, leadNumberOf } from './lead-numbers.js'
import { msOf } from './row-time.js'

export interface LeadListInfo {
  id: string
  campaignId: string
  name: string
  source?: string
  /** Default region (ISO 3166 alpha-2) for national-format numbers in this list's imports. */
  region?: string
  createdAt: number
  leadCount: number
}

interface ListRow {
  id: string
  campaign_id: string
  name: string
  source: string | null
  region: string | null
  created_at: Date
  lead_count: number
}

function toList(r: ListRow): LeadListInfo {
  const l: LeadListInfo = { id: r.id, campaignId: r.campaign_id, name: r.name, createdAt: msOf(r.created_at), leadCount: r.lead_count }
  if (r.source !== null) l.source = r.source
  if (r.region !== null) l.region = r.region
  return l
}

const listColumns = `l.id, l.campaign_id, l.name, l.source, l.region, l.created_at,
  (SELECT count(*) FROM leads WHERE list_id = l.id) AS lead_count`

/** One lead as exported: what was imported plus where dialing has got to. */
export interface ExportedLead {
  seq: number
  id: string
  phone: string
  e164: string | null
  region: string | null
  timezone: string | null
  status: LeadStatus
  attempts: number
  priority: number
  customerId: string | null
  lastAttemptAt: number | null
  createdAt: number
}

export class LeadListRepository {
  private readonly numbers: LeadNumberCipher

  /** The cipher opens the leads' numbers for export. */
  constructor(
    private readonly db: Queryable,
    pii: PiiCipher,
  ) {
    this.numbers = new LeadNumberCipher(pii)
  }

  async create(l: { campaignId: string; name: string; source?: string; region?: string }): Promise<LeadListInfo> {
    const r = await this.db.query<{ id: string }>(
      'INSERT INTO lead_lists (campaign_id, name, source, region) VALUES ($1, $2, $3, $4) RETURNING id',
      [l.campaignId, l.name, l.source ?? null, l.region ?? null],
    )
    return (await this.get(r.rows[0]!.id))!
  }

  async get(id: string): Promise<LeadListInfo | undefined> {
    const r = await this.db.query<ListRow>(`SELECT ${listColumns} FROM lead_lists l WHERE l.id = $1`, [id])
    return r.rows[0] && toList(r.rows[0])
  }

  async listByCampaign(campaignId: string, page: { limit: number; offset: number }): Promise<{ items: LeadListInfo[]; total: number }> {
    const r = await this.db.query<ListRow>(
      `SELECT ${listColumns} FROM lead_lists l WHERE l.campaign_id = $1 ORDER BY l.created_at, l.id LIMIT $2 OFFSET $3`,
      [campaignId, page.limit, page.offset],
    )
    const n = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM lead_lists WHERE campaign_id = $1', [campaignId])
    return { items: r.rows.map(toList), total: n.rows[0]?.n ?? 0 }
  }

  /** Up to `limit` leads of the list after insertion number `afterSeq` (0: from the start). */
  async exportPage(listId: string, afterSeq: number, limit: number): Promise<ExportedLead[]> {
    const r = await this.db.query<{
      seq: number
      id: string
      number_enc: string | null
      phone: string | null
      e164: string | null
      region: string | null
      timezone: string | null
      status: LeadStatus
      attempts: number
      priority: number
      customer_id: string | null
      last_attempt_at: Date | null
      created_at: Date
    }>(
      `SELECT seq, id, number_enc, phone, e164, region, timezone, status, attempts, priority, customer_id, last_attempt_at, created_at
       FROM leads WHERE list_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [listId, afterSeq, limit],
    )
    return r.rows.map((x) => {
      const n = leadNumberOf(this.numbers, x)
      return {
        seq: Number(x.seq),
        id: x.id,
        phone: n.phone,
        e164: n.e164 ?? null,
        region: x.region,
        timezone: x.timezone,
        status: x.status,
        attempts: x.attempts,
        priority: x.priority,
        customerId: x.customer_id,
        lastAttemptAt: x.last_attempt_at === null ? null : msOf(x.last_attempt_at),
        createdAt: msOf(x.created_at),
      }
    })
  }
}
