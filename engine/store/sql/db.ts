/**
 * The one database interface repositories use. Two drivers implement it with the same SQL: `pg` against a real
 * PostgreSQL server and `@electric-sql/pglite` embedded in-process (the default when no DATABASE_URL is set).
 */

export interface QueryResult<R> {
  rows: R[]
  /** Rows returned by a SELECT or changed by INSERT/UPDATE/DELETE. */
  rowCount: number
}

export interface Queryable {
  /** One statement with $1..$n parameters. R is the row shape the caller's SQL promises. */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
  /**
   * Bulk-load rows in COPY text format (engine/store/sql/copy-rows.ts) into `table`'s `columns`; both drivers run
   * `COPY table (columns) FROM ...` (pg streams it on the connection, PGlite reads it as a blob). Table and column
   * names are identifiers written in our code, never input.
   */
  copyIn(table: string, columns: readonly string[], rows: Uint8Array): Promise<void>
}

export type DbDriver = 'pg' | 'pglite'

export interface Db extends Queryable {
  readonly driver: DbDriver
  /** Run fn inside BEGIN/COMMIT; a throw rolls back and rethrows. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}
