/**
 * Callbacks agents book on a lead when they disposition its call, recorded in `callbacks` (0001) beside the lead's
 * own callback time, so reports and supervisors see who booked what for when. The dialer works from the lead and
 * the hopper; this row is the record.
 */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface LeadCallback {
  id: string
  campaignId: string
  leadId: string
  /** Offered to this agent first; null: anyone. */
  agentId: string | null
  dueAt: number
  status: string
  createdAt: number
}

interface LeadCallbackRow {
  id: string
  campaign_id: string
  lead_id: string
  agent_id: string | null
  due_at: Date
  status: string
  created_at: Date
}

const columns = 'id, campaign_id, lead_id, agent_id, due_at, status, created_at'

const toCallback = (r: LeadCallbackRow): LeadCallback => ({
  id: r.id,
  campaignId: r.campaign_id,
  leadId: r.lead_id,
  agentId: r.agent_id,
  dueAt: msOf(r.due_at),
  status: r.status,
  createdAt: msOf(r.created_at),
})

export class LeadCallbackRepository {
  constructor(private readonly db: Queryable) {}

  /** A lead has one open callback: booking again replaces the pending one's time and owner. */
  async book(c: { campaignId: string; leadId: string; agentId?: string; dueAt: number }): Promise<LeadCallback> {
    await this.db.query(
      `UPDATE callbacks SET status = 'cancelled' WHERE lead_id = $1 AND status IN ('pending', 'offered')`,
      [c.leadId],
    )
    const r = await this.db.query<LeadCallbackRow>(
      // The callback belongs to the campaign's site, so the site's callback lists show it.
      `INSERT INTO callbacks (campaign_id, lead_id, agent_id, due_at, site_id)
       VALUES ($1, $2, $3, $4, (SELECT site_id FROM campaigns WHERE id = $1)) RETURNING ${columns}`,
      [c.campaignId, c.leadId, c.agentId ?? null, new Date(c.dueAt)],
    )
    return toCallback(r.rows[0]!)
  }

  async get(id: string): Promise<LeadCallback | undefined> {
    const r = await this.db.query<LeadCallbackRow>(`SELECT ${columns} FROM callbacks WHERE id = $1 AND lead_id IS NOT NULL`, [id])
    return r.rows[0] && toCallback(r.rows[0])
  }
}
