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

/** A code as managed: its id, scope and whether reports count it as a conversion. */
export interface ManagedDispositionCode extends DispositionCode {
  id: string
  /** null: global (every campaign of every site). */
  campaignId: string | null
  countsAsConversion: boolean
}

interface CodeRow {
  code: string
  label: string
  lead_status: LeadStatus
  books_callback: boolean
}

interface ManagedRow extends CodeRow {
  id: string
  campaign_id: string | null
  counts_as_conversion: boolean
}

const managedColumns = 'id, campaign_id, code, label, lead_status, books_callback, counts_as_conversion'
const toManaged = (r: ManagedRow): ManagedDispositionCode => ({
  id: r.id,
  campaignId: r.campaign_id,
  code: r.code,
  label: r.label,
  leadStatus: r.lead_status,
  booksCallback: r.books_callback,
  countsAsConversion: r.counts_as_conversion,
})

export type DispositionCodeFields = Pick<ManagedDispositionCode, 'label' | 'leadStatus' | 'booksCallback' | 'countsAsConversion'>

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

  /** The codes a campaign offers (its own and the global ones), or the global ones alone. */
  async list(campaignId: string | null): Promise<ManagedDispositionCode[]> {
    const r = await this.db.query<ManagedRow>(
      `SELECT ${managedColumns} FROM dispositions WHERE campaign_id IS NULL OR campaign_id = $1
       ORDER BY campaign_id NULLS FIRST, code`,
      [campaignId],
    )
    return r.rows.map(toManaged)
  }

  async get(id: string): Promise<ManagedDispositionCode | undefined> {
    const r = await this.db.query<ManagedRow>(`SELECT ${managedColumns} FROM dispositions WHERE id = $1`, [id])
    return r.rows[0] && toManaged(r.rows[0])
  }

  /** undefined when the code exists in that scope already. */
  async create(c: { campaignId: string | null; code: string } & DispositionCodeFields): Promise<ManagedDispositionCode | undefined> {
    const r = await this.db.query<ManagedRow>(
      `INSERT INTO dispositions (campaign_id, code, label, lead_status, books_callback, counts_as_conversion)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING ${managedColumns}`,
      [c.campaignId, c.code, c.label, c.leadStatus, c.booksCallback, c.countsAsConversion],
    )
    return r.rows[0] && toManaged(r.rows[0])
  }

  async update(id: string, patch: Partial<DispositionCodeFields>): Promise<ManagedDispositionCode | undefined> {
    const r = await this.db.query<ManagedRow>(
      `UPDATE dispositions SET label = coalesce($2, label), lead_status = coalesce($3, lead_status),
         books_callback = coalesce($4, books_callback), counts_as_conversion = coalesce($5, counts_as_conversion)
       WHERE id = $1 RETURNING ${managedColumns}`,
      [id, patch.label ?? null, patch.leadStatus ?? null, patch.booksCallback ?? null, patch.countsAsConversion ?? null],
    )
    return r.rows[0] && toManaged(r.rows[0])
  }

  /** CDRs keep the code they were given; the code stops being offered. */
  async remove(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM dispositions WHERE id = $1', [id])
    return r.rowCount === 1
  }
}
