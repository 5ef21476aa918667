/** Db over a real PostgreSQL server through a `pg` connection pool. */
import pg from 'pg'
import { copyStatement } from './copy-statement.js'
import { copyInto } from './pg-copy-in.js'
import type { Db, QueryResult, Queryable } from './db.js'

// COUNT(*) and BIGINT come back as strings by default; every count we keep fits a JS number, and PGlite returns
// numbers, so both drivers give repositories the same types. Scoped to our pool, not set globally.
const Int8Oid = 20
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === Int8Oid && format !== 'binary') return (v: string) => Number(v)
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')
  },
} as pg.CustomTypesConfig

export interface PgOptions {
  connectionString: string
  /** Pool size; small by default, the API and the engine share one pool per process. */
  max?: number
  applicationName?: string
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const r = await client.query<R>(sql, params as unknown[] | undefined)
      return { rows: r.rows, rowCount: r.rowCount ?? r.rows.length }
    },
    async exec(sql: string): Promise<void> {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql)
    },
    async copyIn(table: string, columns: readonly string[], rows: Uint8Array): Promise<void> {
      const sql = copyStatement(table, columns, 'STDIN')
      if (!(client instanceof pg.Pool)) return copyInto(client, sql, rows)
      const c = await client.connect()
      try {
        await copyInto(c, sql, rows)
      } finally {
        c.release()
      }
    },
  }
}

export function openPg(options: PgOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'cadence',
    types,
    connectionTimeoutMillis: 5000,
  })
  // An idle client losing its server must not crash the process; the next query reports the trouble.
  pool.on('error', () => {})
  const base = wrap(pool)
  return {
    driver: 'pg',
    query: base.query,
    exec: base.exec,
    copyIn: base.copyIn,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await client.query('BEGIN')
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackErr) {
          broken = rollbackErr as Error
        }
        throw err
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: destroy it instead of returning it to the pool.
        client.release(broken)
      }
    },
    async ping(): Promise<void> {
      await pool.query('SELECT 1')
    },
    async close(): Promise<void> {
      await pool.end()
    },
  }
}
