/**
 * DNC numbers written before they were sealed (schema 0019) hold the number in the clear `number` column. This pass
 * seals each one to its entry (dnc.ts), gives it its lookup hash and clears the plaintext, in batches, each row
 * updated only while it is still unsealed. An entry whose number is listed again, sealed, in the same list (written
 * by a newer engine meanwhile) is the same entry twice: the unsealed copy is deleted. The engine runs this at
 * start-up before it mirrors the lists to Redis: safe to stop and run again, a no-op once nothing is left.
 */
import type { Db } from '../store/sql/db.js'
import { dncNumberAad, DncRepository } from '../store/sql/dnc.js'
import type { PiiCipher } from './pii-cipher.js'

export async function sealDncNumbers(db: Db, pii: PiiCipher, o: { batch?: number } = {}): Promise<{ sealed: number; duplicates: number }> {
  const repo = new DncRepository(db, pii)
  let sealed = 0
  let duplicates = 0
  let after = ''
  for (;;) {
    const r = await db.query<{ id: string; number: string }>(
      `SELECT id, number FROM dnc_entries WHERE kind = 'number' AND number IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, o.batch ?? 1000],
    )
    if (r.rows.length === 0) return { sealed, duplicates }
    const ids = r.rows.map((x) => x.id)
    const hashes = r.rows.map((x) => repo.numberHash(x.number))
    const enc = r.rows.map((x) => pii.encrypt(x.number, dncNumberAad(x.id)))
    await db.transaction(async (tx) => {
      const d = await tx.query(
        `DELETE FROM dnc_entries d USING unnest($1::text[], $2::text[]) AS t(id, hash)
         WHERE d.id = t.id AND EXISTS (
           SELECT 1 FROM dnc_entries s WHERE s.kind = 'number' AND s.number_hash = t.hash
             AND coalesce(s.campaign_id, '') = coalesce(d.campaign_id, '') AND s.id <> d.id)`,
        [ids, hashes],
      )
      duplicates += d.rowCount
      const u = await tx.query(
        `UPDATE dnc_entries SET number_enc = t.enc, number_hash = t.hash, number = NULL
         FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, enc, hash)
         WHERE dnc_entries.id = t.id AND dnc_entries.number IS NOT NULL`,
        [ids, enc, hashes],
      )
      sealed += u.rowCount
    })
    after = ids[ids.length - 1]!
  }
}
