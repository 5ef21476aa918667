/**
 * Pause codes: the reasons a site's agents may give for not taking calls (break, lunch, training...), paid or not,
 * with the longest such pause a supervisor expects. The ACD stores the code as the agent's pause reason.
 */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface PauseCode {
  id: string
  siteId: string
  code: string
  label: string
  paid: boolean
  /** Longer pauses are flagged; null: no limit. */
  maxMinutes: number | null
  active: boolean
  createdAt: number
  updatedAt: number
}

interface PauseCodeRow {
  id: string
  site_id: string
  code: string
  label: string
  paid: boolean
  max_minutes: number | null
  active: boolean
  created_at: Date
  updated_at: Date
}

const columns = 'id, site_id, code, label, paid, max_minutes, active, created_at, updated_at'

const toPauseCode = (r: PauseCodeRow): PauseCode => ({
  id: r.id,
  siteId: r.site_id,
  code: r.code,
  label: r.label,
  paid: r.paid,
  maxMinutes: r.max_minutes,
  active: r.active,
  createdAt: msOf(r.created_at),
  updatedAt: msOf(r.updated_at),
})

/** Codes the engine sets itself; an agent never chooses them and a site cannot define them. */
export const SystemPauseReasons: ReadonlySet<string> = new Set(['login', 'no-answer'])

export interface PauseCodeChanges {
  label?: string
  paid?: boolean
  maxMinutes?: number | null
  active?: boolean
}

export class PauseCodeRepository {
  constructor(private readonly db: Queryable) {}

  /** undefined when the site already has the code. */
  async create(p: { siteId: string; code: string; label: string; paid?: boolean; maxMinutes?: number | null }): Promise<PauseCode | undefined> {
    const r = await this.db.query<PauseCodeRow>(
      `INSERT INTO pause_codes (site_id, code, label, paid, max_minutes) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING ${columns}`,
      [p.siteId, p.code, p.label, p.paid ?? false, p.maxMinutes ?? null],
    )
    return r.rows[0] && toPauseCode(r.rows[0])
  }

  async get(id: string): Promise<PauseCode | undefined> {
    const r = await this.db.query<PauseCodeRow>(`SELECT ${columns} FROM pause_codes WHERE id = $1`, [id])
    return r.rows[0] && toPauseCode(r.rows[0])
  }

  /** The active code of a site, as an agent's pause is checked against. */
  async findActive(siteId: string, code: string): Promise<PauseCode | undefined> {
    const r = await this.db.query<PauseCodeRow>(
      `SELECT ${columns} FROM pause_codes WHERE site_id = $1 AND code = $2 AND active`,
      [siteId, code],
    )
    return r.rows[0] && toPauseCode(r.rows[0])
  }

  async list(siteId: string | null, options: { activeOnly?: boolean } = {}): Promise<PauseCode[]> {
    const r = await this.db.query<PauseCodeRow>(
      `SELECT ${columns} FROM pause_codes WHERE ($1::text IS NULL OR site_id = $1) AND (NOT $2 OR active)
       ORDER BY site_id, code`,
      [siteId, options.activeOnly === true],
    )
    return r.rows.map(toPauseCode)
  }

  async update(id: string, c: PauseCodeChanges): Promise<PauseCode | undefined> {
    const r = await this.db.query<PauseCodeRow>(
      `UPDATE pause_codes SET
         label = coalesce($2, label),
         paid = coalesce($3, paid),
         max_minutes = CASE WHEN $4 THEN $5::integer ELSE max_minutes END,
         active = coalesce($6, active),
         updated_at = now()
       WHERE id = $1 RETURNING ${columns}`,
      [id, c.label ?? null, c.paid ?? null, c.maxMinutes !== undefined, c.maxMinutes ?? null, c.active ?? null],
    )
    return r.rows[0] && toPauseCode(r.rows[0])
  }

  /**
   * Codes are retired, not deleted: past pauses in reports still name them. Returns false when it did not exist.
   */
  async retire(id: string): Promise<boolean> {
    const r = await this.db.query('UPDATE pause_codes SET active = false, updated_at = now() WHERE id = $1', [id])
    return r.rowCount === 1
  }
}
