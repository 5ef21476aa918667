/**
 * The disposition codes agents choose from (table `dispositions` of 0001): global ones (no campaign) and a campaign's
 * own, the campaign's winning on the same code. A campaign with no codes defined anywhere accepts any well-formed
 * code, so a site can start dispositioning before it has written its list.
 */
import type { LeadStatus } from '../../leads/lead.js'
import type { Queryable } from './db.js'

export interface DispositionCode {
  code: string
  label: string
  /** The lead status the code stands for (reports; the dialer's own outcome decides the next attempt). */
  leadStatus: LeadStatus
  /** Choosing it needs a callback time. */
  booksCallback: boolean
}

interface CodeRow {
  code: string
  label: string
  lead_status: LeadStatus
  books_callback: boolean
}

export class DispositionCodeRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * The code as the campaign sees it; 'not-a-code' when the campaign has codes (its own or global) and this is not
   * one of them; undefined when no codes are defined at all.
   */
  async find(campaignId: string, code: string): Promise<DispositionCode | 'not-a-code' | undefined> {
    const r = await this.db.query<CodeRow & { matches: boolean }>(
      `SELECT code, label, lead_status, books_callback, code = $2 AS matches FROM dispositions
       WHERE campaign_id IS NULL OR campaign_id = $1
       ORDER BY (code = $2) DESC, (campaign_id IS NULL) ASC LIMIT 1`,
      [campaignId, code],
    )
    const row = r.rows[0]
    if (row === undefined) return undefined
    if (!row.matches) return 'not-a-code'
    return { code: row.code, label: row.label, leadStatus: row.lead_status, booksCallback: row.books_callback }
  }
}
