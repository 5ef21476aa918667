/**
 * QA scoring forms: a site's named list of yes / no / n.a. items with weights. A form that has scores keeps its items
 * (the scores were computed against them); its name can still change, and a new form replaces it for new reviews.
 */
import { randomUUID } from 'node:crypto'
import type { QaFormItem } from '../../qa/score.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface QaForm {
  id: string
  siteId: string
  name: string
  items: QaFormItem[]
  createdBy: string
  createdAt: number
  updatedAt: number
}

interface FormRow {
  id: string
  site_id: string
  name: string
  items: QaFormItem[]
  created_by: string
  created_at: Date
  updated_at: Date
}

const Columns = 'id, site_id, name, items, created_by, created_at, updated_at'

const toForm = (r: FormRow): QaForm => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  items: r.items,
  createdBy: r.created_by,
  createdAt: msOf(r.created_at),
  updatedAt: msOf(r.updated_at),
})

/** Unique-violation on (site_id, name). */
export class QaFormNameTaken extends Error {}

const isUniqueViolation = (err: unknown): boolean => (err as { code?: string }).code === '23505'

export class QaFormRepository {
  constructor(private readonly db: Queryable) {}

  async create(f: { siteId: string; name: string; items: QaFormItem[]; createdBy: string }): Promise<QaForm> {
    try {
      const r = await this.db.query<FormRow>(
        `INSERT INTO qa_forms (id, site_id, name, items, created_by) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${Columns}`,
        [randomUUID(), f.siteId, f.name, JSON.stringify(f.items), f.createdBy],
      )
      return toForm(r.rows[0]!)
    } catch (err) {
      if (isUniqueViolation(err)) throw new QaFormNameTaken(`site ${f.siteId} already has a form named ${JSON.stringify(f.name)}`)
      throw err
    }
  }

  /** siteId null: any site. */
  async get(id: string, siteId: string | null): Promise<QaForm | undefined> {
    const r = await this.db.query<FormRow>(`SELECT ${Columns} FROM qa_forms WHERE id = $1 AND ($2::text IS NULL OR site_id = $2)`, [id, siteId])
    return r.rows[0] && toForm(r.rows[0])
  }

  async list(siteId: string | null, page: { limit: number; offset: number }): Promise<{ items: QaForm[]; total: number }> {
    const r = await this.db.query<FormRow>(
      `SELECT ${Columns} FROM qa_forms WHERE ($1::text IS NULL OR site_id = $1) ORDER BY site_id, name, id LIMIT $2 OFFSET $3`,
      [siteId, page.limit, page.offset],
    )
    const n = await this.db.query<{ n: string | number }>('SELECT count(*) AS n FROM qa_forms WHERE ($1::text IS NULL OR site_id = $1)', [siteId])
    return { items: r.rows.map(toForm), total: Number(n.rows[0]?.n ?? 0) }
  }

  async update(id: string, patch: { name?: string; items?: QaFormItem[] }): Promise<QaForm | undefined> {
    try {
      const r = await this.db.query<FormRow>(
        `UPDATE qa_forms SET name = coalesce($2, name), items = coalesce($3::jsonb, items), updated_at = now()
         WHERE id = $1 RETURNING ${Columns}`,
        [id, patch.name ?? null, patch.items === undefined ? null : JSON.stringify(patch.items)],
      )
      return r.rows[0] && toForm(r.rows[0])
    } catch (err) {
      if (isUniqueViolation(err)) throw new QaFormNameTaken(`this site already has a form named ${JSON.stringify(patch.name)}`)
      throw err
    }
  }

  async scoreCount(id: string): Promise<number> {
    const r = await this.db.query<{ n: string | number }>('SELECT count(*) AS n FROM qa_scores WHERE form_id = $1', [id])
    return Number(r.rows[0]?.n ?? 0)
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM qa_forms WHERE id = $1', [id])).rowCount === 1
  }
}
