/**
 * Leads written before numbers were sealed (schema 0017) hold their number in the clear `phone` and `e164` columns.
 * This pass seals each one (lead-numbers.ts), gives it its lookup hash and clears the plaintext, in batches, each row
 * updated only while it is still unsealed (a concurrent write that sealed it wins). The engine runs it at start-up,
 * before it dials or imports: safe to stop and run again, and a no-op once nothing is left.
 */
import type { Db } from '../store/sql/db.js'
import { LeadNumberCipher } from '../store/sql/lead-numbers.js'
import type { PiiCipher } from './pii-cipher.js'

export async function sealLeadNumbers(
  db: Db,
  pii: PiiCipher,
  o: { batch?: number; onProgress?: (sealed: number) => void } = {},
): Promise<number> {
  const numbers = new LeadNumberCipher(pii)
  let sealed = 0
  let after = ''
  for (;;) {
    const r = await db.query<{ id: string; phone: string; e164: string | null }>(
      `SELECT id, phone, e164 FROM leads WHERE number_enc IS NULL AND phone IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, o.batch ?? 1000],
    )
    if (r.rows.length === 0) return sealed
    const ids = r.rows.map((x) => x.id)
    const enc = r.rows.map((x) => numbers.seal(x.id, x.e164 === null ? { phone: x.phone } : { phone: x.phone, e164: x.e164 }))
    const hashes = r.rows.map((x) => (x.e164 === null ? null : numbers.hash(x.e164)))
    const u = await db.query(
      `UPDATE leads SET number_enc = t.enc, e164_hash = t.hash, phone = NULL, e164 = NULL
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, enc, hash)
       WHERE leads.id = t.id AND leads.number_enc IS NULL`,
      [ids, enc, hashes],
    )
    sealed += u.rowCount
    after = ids[ids.length - 1]!
    o.onProgress?.(sealed)
  }
}

/** How many leads still hold their number in the clear. */
export async function unsealedLeadNumbers(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM leads WHERE number_enc IS NULL')
  return r.rows[0]?.n ?? 0
}
