/**
 * Db over embedded PGlite: the same PostgreSQL SQL, in-process, on disk (a data directory) or in memory. PGlite is one
 * connection; it queues concurrent queries itself and a transaction holds it until COMMIT.
 */
import { mkdirSync } from 'node:fs'
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite'
import { copyStatement } from './copy-statement.js'
import type { Db, QueryResult, Queryable } from './db.js'

function result<R>(r: Results<R>): QueryResult<R> {
  return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length }
}

function wrap(conn: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return result(await conn.query<R>(sql, params ? [...params] : undefined))
    },
    async exec(sql: string): Promise<void> {
      await conn.exec(sql)
    },
    async copyIn(table: string, columns: readonly string[], rows: Uint8Array): Promise<void> {
      // PGlite has no COPY FROM STDIN: it hands a blob to the server as the file /dev/blob.
      await conn.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob: new Blob([rows]) })
    },
  }
}

/** dataDir undefined: in memory, gone at close. */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true })
  const pglite = dataDir === undefined ? await PGlite.create() : await PGlite.create(dataDir)
  const base = wrap(pglite)
  return {
    driver: 'pglite',
    query: base.query,
    exec: base.exec,
    copyIn: base.copyIn,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) => fn(wrap(tx)))
    },
    async ping(): Promise<void> {
      await pglite.query('SELECT 1')
    },
    async close(): Promise<void> {
      if (!pglite.closed) await pglite.close()
    },
  }
}
