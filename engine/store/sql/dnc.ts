/**
 * DNC entries, the durable copy: whole numbers (E.164) or prefixes ("+<digits>"), global or per campaign. The engine
 * screens against the Redis mirror (engine/store/redis/dnc-store.ts); writers change both (see api/routes/dnc.ts).
 */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export const DncKinds = ['number', 'prefix'] as const
export type DncKind = (typeof DncKinds)[number]

export interface DncEntry {
  id: string
  /** Absent: the global list. */
  campaignId?: string
  kind: DncKind
  /** E.164 for a number, "+<digits>" for a prefix. */
  number: string
  reason?: string
  source?: string
  createdAt: number
}

export interface NewDncEntry {
  campaignId?: string
  kind: DncKind
  number: string
  reason?: string
  source?: string
}

interface DncRow {
  id: string
  campaign_id: string | null
  kind: DncKind
  number: string
  reason: string | null
  source: string | null
  created_at: Date
}

const columns = 'id, campaign_id, kind, number, reason, source, created_at'

function toEntry(r: DncRow): DncEntry {
  const e: DncEntry = { id: r.id, kind: r.kind, number: r.number, createdAt: msOf(r.created_at) }
  if (r.campaign_id !== null) e.campaignId = r.campaign_id
  if (r.reason !== null) e.reason = r.reason
  if (r.source !== null) e.source = r.source
  return e
}

/** Which lists to read: one campaign's, the global one, or every list. */
export type DncScopeFilter = { scope: 'global' } | { scope: 'campaign'; campaignId: string } | { scope: 'all' }

export class DncRepository {
  constructor(private readonly db: Queryable) {}

  /** Insert entries; those already listed in the same scope are skipped. Returns the ones that are new. */
  async addMany(entries: readonly NewDncEntry[]): Promise<DncEntry[]> {
    if (entries.length === 0) return []
    const col = <T>(f: (e: NewDncEntry) => T | undefined) => entries.map((e) => f(e) ?? null)
    const r = await this.db.query<DncRow>(
      `INSERT INTO dnc_entries (campaign_id, kind, number, reason, source)
       SELECT t.campaign_id, t.kind, t.number, t.reason, t.source
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(campaign_id, kind, number, reason, source)
       ON CONFLICT DO NOTHING
       RETURNING ${columns}`,
      [col((e) => e.campaignId), col((e) => e.kind), col((e) => e.number), col((e) => e.reason), col((e) => e.source)],
    )
    return r.rows.map(toEntry)
  }

  async get(id: string): Promise<DncEntry | undefined> {
    const r = await this.db.query<DncRow>(`SELECT ${columns} FROM dnc_entries WHERE id = $1`, [id])
    return r.rows[0] && toEntry(r.rows[0])
  }

  async find(campaignId: string | undefined, kind: DncKind, number: string): Promise<DncEntry | undefined> {
    const r = await this.db.query<DncRow>(
      `SELECT ${columns} FROM dnc_entries WHERE coalesce(campaign_id, '') = $1 AND kind = $2 AND number = $3`,
      [campaignId ?? '', kind, number],
    )
    return r.rows[0] && toEntry(r.rows[0])
  }

  async remove(id: string): Promise<DncEntry | undefined> {
    const r = await this.db.query<DncRow>(`DELETE FROM dnc_entries WHERE id = $1 RETURNING ${columns}`, [id])
    return r.rows[0] && toEntry(r.rows[0])
  }

  /** Newest first. `siteId`: global entries and those of that site's campaigns only. */
  async list(
    filter: DncScopeFilter & { kind?: DncKind; number?: string; siteId?: string | null },
    page: { limit: number; offset: number },
  ): Promise<{ items: DncEntry[]; total: number }> {
    const scope = filter.scope === 'global' ? '' : filter.scope === 'campaign' ? filter.campaignId : null
    const where = `($1::text IS NULL OR coalesce(campaign_id, '') = $1) AND ($2::text IS NULL OR kind = $2)
      AND ($3::text IS NULL OR number = $3)
      AND ($6::text IS NULL OR campaign_id IS NULL OR campaign_id IN (SELECT id FROM campaigns WHERE site_id = $6))`
    const params = [scope, filter.kind ?? null, filter.number ?? null]
    const site = filter.siteId ?? null
    const r = await this.db.query<DncRow>(
      `SELECT ${columns} FROM dnc_entries WHERE ${where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`,
      [...params, page.limit, page.offset, site],
    )
    const n = await this.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM dnc_entries WHERE ${where.replaceAll('$6', '$4')}`,
      [...params, site],
    )
    return { items: r.rows.map(toEntry), total: n.rows[0]?.n ?? 0 }
  }

  /** Every entry, `limit` at a time in id order after `afterId` (to rebuild the Redis mirror). */
  async page(afterId: string, limit: number): Promise<DncEntry[]> {
    const r = await this.db.query<DncRow>(`SELECT ${columns} FROM dnc_entries WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit])
    return r.rows.map(toEntry)
  }
}
