/**
 * DNC entries, the durable copy: whole numbers (E.164) or prefixes ("+<digits>"), global or per campaign. The engine
 * screens against the Redis mirror (engine/store/redis/dnc-store.ts); writers change both (see api/routes/dnc.ts).
 * A number is personal data: stored as a PiiCipher ciphertext bound to its entry's id and found by its keyed hash
 * (migration 0019); rows of earlier versions hold it in the clear until engine/security/seal-dnc-numbers.ts seals them.
 * Prefixes are stored as written. Writing or reading a number needs the PiiCipher.
 */
import { randomUUID } from 'node:crypto'
import type { PiiCipher } from '../../security/pii-cipher.js'
import { HashDomains } from './customers.js'
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
  number: string | null
  number_enc: string | null
  reason: string | null
  source: string | null
  created_at: Date
}

const columns = 'id, campaign_id, kind, number, number_enc, reason, source, created_at'

/** The additional data a listed number is sealed to: its entry, and what the ciphertext is. */
export const dncNumberAad = (id: string): string => `${id}#dnc-number`

function toEntry(r: DncRow, pii: PiiCipher | undefined): DncEntry {
  const number = r.number ?? cipher(pii).decrypt(r.number_enc!, dncNumberAad(r.id))
  const e: DncEntry = { id: r.id, kind: r.kind, number, createdAt: msOf(r.created_at) }
  if (r.campaign_id !== null) e.campaignId = r.campaign_id
  if (r.reason !== null) e.reason = r.reason
  if (r.source !== null) e.source = r.source
  return e
}

/** Which lists to read: one campaign's, the global one, or every list. */
export type DncScopeFilter = { scope: 'global' } | { scope: 'campaign'; campaignId: string } | { scope: 'all' }

function cipher(pii: PiiCipher | undefined): PiiCipher {
  if (!pii) throw new Error('DNC entries: a listed number needs the PiiCipher (config.pii); none was given')
  return pii
}

export class DncRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii?: PiiCipher,
  ) {}

  /** The keyed hash a listed number is found by (the CRM's phone hash). */
  numberHash(e164: string): string {
    return cipher(this.pii).lookupHash(HashDomains.phone, e164)
  }

  /** The stored form of an entry: a number sealed to a new id, with its hash; a prefix as written. */
  private stored(e: NewDncEntry): { id: string; number: string | null; enc: string | null; hash: string | null } {
    const id = randomUUID()
    if (e.kind === 'prefix') return { id, number: e.number, enc: null, hash: null }
    const pii = cipher(this.pii)
    return { id, number: null, enc: pii.encrypt(e.number, dncNumberAad(id)), hash: this.numberHash(e.number) }
  }

  /** Insert entries; those already listed in the same scope are skipped. Returns the ones that are new. */
  async addMany(entries: readonly NewDncEntry[]): Promise<DncEntry[]> {
    if (entries.length === 0) return []
    const rows = entries.map((e) => ({ e, s: this.stored(e) }))
    const col = <T>(f: (r: (typeof rows)[number]) => T | undefined) => rows.map((r) => f(r) ?? null)
    const r = await this.db.query<DncRow>(
      `INSERT INTO dnc_entries (id, campaign_id, kind, number, number_enc, number_hash, reason, source)
       SELECT t.id, t.campaign_id, t.kind, t.number, t.enc, t.hash, t.reason, t.source
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS t(id, campaign_id, kind, number, enc, hash, reason, source)
       ON CONFLICT DO NOTHING
       RETURNING ${columns}`,
      [
        col((r) => r.s.id),
        col((r) => r.e.campaignId),
        col((r) => r.e.kind),
        col((r) => r.s.number),
        col((r) => r.s.enc),
        col((r) => r.s.hash),
        col((r) => r.e.reason),
        col((r) => r.e.source),
      ],
    )
    return r.rows.map((row) => toEntry(row, this.pii))
  }

  async get(id: string): Promise<DncEntry | undefined> {
    const r = await this.db.query<DncRow>(`SELECT ${columns} FROM dnc_entries WHERE id = $1`, [id])
    return r.rows[0] && toEntry(r.rows[0], this.pii)
  }

  async find(campaignId: string | undefined, kind: DncKind, number: string): Promise<DncEntry | undefined> {
    // a number by its hash (or, not sealed yet, as written); a prefix as written
    const r = await this.db.query<DncRow>(
      `SELECT ${columns} FROM dnc_entries WHERE coalesce(campaign_id, '') = $1 AND kind = $2 AND (number = $3 OR number_hash = $4)`,
      [campaignId ?? '', kind, number, kind === 'number' ? this.numberHash(number) : null],
    )
    return r.rows[0] && toEntry(r.rows[0], this.pii)
  }

  async remove(id: string): Promise<DncEntry | undefined> {
    const r = await this.db.query<DncRow>(`DELETE FROM dnc_entries WHERE id = $1 RETURNING ${columns}`, [id])
    return r.rows[0] && toEntry(r.rows[0], this.pii)
  }

  /** Newest first. `siteId`: global entries and those of that site's campaigns only. */
  async list(
    filter: DncScopeFilter & { kind?: DncKind; number?: string; siteId?: string | null },
    page: { limit: number; offset: number },
  ): Promise<{ items: DncEntry[]; total: number }> {
    const scope = filter.scope === 'global' ? '' : filter.scope === 'campaign' ? filter.campaignId : null
    // a number asked for matches a sealed entry by its hash, a prefix or an unsealed entry as written
    const hash = filter.number !== undefined && filter.kind !== 'prefix' && filter.number.startsWith('+') && this.pii ? this.numberHash(filter.number) : null
    const where = `($1::text IS NULL OR coalesce(campaign_id, '') = $1) AND ($2::text IS NULL OR kind = $2)
      AND ($3::text IS NULL OR number = $3 OR number_hash = $7)
      AND ($6::text IS NULL OR campaign_id IS NULL OR campaign_id IN (SELECT id FROM campaigns WHERE site_id = $6))`
    const params = [scope, filter.kind ?? null, filter.number ?? null]
    const site = filter.siteId ?? null
    const r = await this.db.query<DncRow>(
      `SELECT ${columns} FROM dnc_entries WHERE ${where} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5`,
      [...params, page.limit, page.offset, site, hash],
    )
    const n = await this.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM dnc_entries WHERE ${where.replaceAll('$6', '$4').replaceAll('$7', '$5')}`,
      [...params, site, hash],
    )
    return { items: r.rows.map((row) => toEntry(row, this.pii)), total: n.rows[0]?.n ?? 0 }
  }

  /** Every entry, `limit` at a time in id order after `afterId` (to rebuild the Redis mirror). */
  async page(afterId: string, limit: number): Promise<DncEntry[]> {
    const r = await this.db.query<DncRow>(`SELECT ${columns} FROM dnc_entries WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit])
    return r.rows.map((row) => toEntry(row, this.pii))
  }
}
