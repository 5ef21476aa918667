/** Lead imports: progress of each uploaded file, and its bad rows by line. */
import type { Queryable } from './db.js'
import { msOf, optionalMs } from './row-time.js'

export const ImportFormats = ['csv', 'xlsx'] as const
export type ImportFormat = (typeof ImportFormats)[number]
export type ImportStatus = 'running' | 'done' | 'failed'

export interface ImportCounts {
  rowsRead: number
  inserted: number
  duplicates: number
  bad: number
}

export interface LeadImport extends ImportCounts {
  id: string
  listId: string
  campaignId: string
  format: ImportFormat
  status: ImportStatus
  error?: string
  actor: string
  startedAt: number
  updatedAt: number
  finishedAt?: number
}

export interface BadRow {
  line: number
  reason: string
  value?: string
}

interface ImportRow {
  id: string
  list_id: string
  campaign_id: string
  format: ImportFormat
  status: ImportStatus
  rows_read: number
  inserted: number
  duplicates: number
  bad: number
  error: string | null
  actor: string
  started_at: Date
  updated_at: Date
  finished_at: Date | null
}

const columns =
  'id, list_id, campaign_id, format, status, rows_read, inserted, duplicates, bad, error, actor, started_at, updated_at, finished_at'

function toImport(r: ImportRow): LeadImport {
  const i: LeadImport = {
    id: r.id,
    listId: r.list_id,
    campaignId: r.campaign_id,
    format: r.format,
    status: r.status,
    rowsRead: r.rows_read,
    inserted: r.inserted,
    duplicates: r.duplicates,
    bad: r.bad,
    actor: r.actor,
    startedAt: msOf(r.started_at),
    updatedAt: msOf(r.updated_at),
  }
  if (r.error !== null) i.error = r.error
  const finished = optionalMs(r.finished_at)
  if (finished !== undefined) i.finishedAt = finished
  return i
}

export class LeadImportRepository {
  constructor(private readonly db: Queryable) {}

  async create(i: { listId: string; campaignId: string; format: ImportFormat; actor: string }): Promise<LeadImport> {
    const r = await this.db.query<ImportRow>(
      `INSERT INTO lead_imports (list_id, campaign_id, format, actor) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
      [i.listId, i.campaignId, i.format, i.actor],
    )
    return toImport(r.rows[0]!)
  }

  async get(id: string): Promise<LeadImport | undefined> {
    const r = await this.db.query<ImportRow>(`SELECT ${columns} FROM lead_imports WHERE id = $1`, [id])
    return r.rows[0] && toImport(r.rows[0])
  }

  /** Newest first. */
  async listByList(listId: string, limit: number): Promise<LeadImport[]> {
    const r = await this.db.query<ImportRow>(
      `SELECT ${columns} FROM lead_imports WHERE list_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
      [listId, limit],
    )
    return r.rows.map(toImport)
  }

  /** Add one batch's counts and bad rows (call inside the batch's transaction so progress = what landed). */
  async addProgress(id: string, delta: ImportCounts, badRows: readonly BadRow[]): Promise<void> {
    if (badRows.length > 0) {
      await this.db.query(
        `INSERT INTO lead_import_errors (import_id, line, reason, value)
         SELECT $1, t.line, t.reason, t.value FROM unnest($2::int[], $3::text[], $4::text[]) AS t(line, reason, value)
         ON CONFLICT DO NOTHING`,
        [id, badRows.map((b) => b.line), badRows.map((b) => b.reason), badRows.map((b) => b.value ?? null)],
      )
    }
    await this.db.query(
      `UPDATE lead_imports SET rows_read = rows_read + $2, inserted = inserted + $3, duplicates = duplicates + $4,
         bad = bad + $5, updated_at = now() WHERE id = $1`,
      [id, delta.rowsRead, delta.inserted, delta.duplicates, delta.bad],
    )
  }

  async finish(id: string, outcome: { status: 'done' } | { status: 'failed'; error: string }): Promise<LeadImport | undefined> {
    const r = await this.db.query<ImportRow>(
      `UPDATE lead_imports SET status = $2, error = $3, finished_at = now(), updated_at = now() WHERE id = $1
       RETURNING ${columns}`,
      [id, outcome.status, outcome.status === 'failed' ? outcome.error : null],
    )
    return r.rows[0] && toImport(r.rows[0])
  }

  /** Bad rows after `afterLine`, in line order. */
  async badRows(id: string, afterLine: number, limit: number): Promise<BadRow[]> {
    const r = await this.db.query<{ line: number; reason: string; value: string | null }>(
      'SELECT line, reason, value FROM lead_import_errors WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3',
      [id, afterLine, limit],
    )
    return r.rows.map((x) => (x.value === null ? { line: x.line, reason: x.reason } : { line: x.line, reason: x.reason, value: x.value }))
  }
}
