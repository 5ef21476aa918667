/**
 * Key rotation, second step: re-encrypt every ciphertext made with an older key under the current one, in batches,
 * each row updated only if it still holds the ciphertext that was read (a concurrent write wins). Safe to stop and
 * run again; when it reports zero left, the old key can leave the keyring.
 */
import type { Db } from '../store/sql/db.js'
import { EncryptedColumns, type EncryptedColumn } from './encrypted-columns.js'
import type { PiiCipher } from './pii-cipher.js'

export interface ReencryptReport {
  table: string
  column: string
  reencrypted: number
}

export async function reencryptAll(
  db: Db,
  pii: PiiCipher,
  o: { batch?: number; columns?: readonly EncryptedColumn[]; onProgress?: (r: ReencryptReport) => void } = {},
): Promise<ReencryptReport[]> {
  const reports: ReencryptReport[] = []
  for (const c of o.columns ?? EncryptedColumns) {
    const report = { table: c.table, column: c.column, reencrypted: 0 }
    const key = c.key ?? 'id'
    let after = ''
    for (;;) {
      const r = await db.query<{ id: string; v: string }>(
        `SELECT ${key} AS id, ${c.column} AS v FROM ${c.table} WHERE ${c.column} IS NOT NULL AND ${key} > $1 ORDER BY ${key} LIMIT $2`,
        [after, o.batch ?? 500],
      )
      if (r.rows.length === 0) break
      for (const row of r.rows) {
        if (!pii.needsReencrypt(row.v)) continue
        const fresh = pii.encrypt(pii.decrypt(row.v, c.aad(row.id)), c.aad(row.id))
        const u = await db.query(`UPDATE ${c.table} SET ${c.column} = $3 WHERE ${key} = $1 AND ${c.column} = $2`, [row.id, row.v, fresh])
        report.reencrypted += u.rowCount
      }
      after = r.rows[r.rows.length - 1]!.id
      o.onProgress?.(report)
    }
    reports.push(report)
  }
  return reports
}

/** How many ciphertexts still use a key other than the current one (0: old keys may be retired). */
export async function staleCiphertexts(db: Db, pii: PiiCipher, columns: readonly EncryptedColumn[] = EncryptedColumns): Promise<number> {
  let n = 0
  for (const c of columns) {
    const r = await db.query<{ v: string }>(`SELECT ${c.column} AS v FROM ${c.table} WHERE ${c.column} IS NOT NULL`)
    n += r.rows.filter((row) => pii.needsReencrypt(row.v)).length
  }
  return n
}
