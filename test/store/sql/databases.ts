/**
 * Test databases on both drivers: a fresh database on the real PostgreSQL (random name, dropped afterwards) and
 * PGlite in memory. Tests that must hold on both run through forEachDriver.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type t from 'tap'
import type { Db, DbDriver } from '../../../engine/store/sql/db.js'
import { openPg } from '../../../engine/store/sql/pg-driver.js'
import { openPglite } from '../../../engine/store/sql/pglite-driver.js'

export const AdminUrl = process.env['CADENCE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface TestDb {
  db: Db
  /** Close the connection and drop whatever the test created. */
  dispose(): Promise<void>
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: AdminUrl })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

export async function createPgTestDb(): Promise<TestDb & { url: string }> {
  const name = `cadence_t_${randomBytes(6).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(AdminUrl)
  url.pathname = `/${name}`
  const db = openPg({ connectionString: url.toString(), max: 4 })
  return {
    db,
    url: url.toString(),
    async dispose() {
      await db.close()
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    },
  }
}

export async function createPgliteTestDb(): Promise<TestDb> {
  const db = await openPglite()
  return { db, dispose: () => db.close() }
}

export const Drivers: readonly DbDriver[] = ['pg', 'pglite']

export function createTestDb(driver: DbDriver): Promise<TestDb> {
  return driver === 'pg' ? createPgTestDb() : createPgliteTestDb()
}

/** A tap subtest (the type tap hands to a test's callback). */
export type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

/** Run `fn` once per driver as a subtest, each on its own fresh database, disposed after. */
export function forEachDriver(parent: Tap | typeof t, fn: (t: Tap, db: Db) => Promise<void>): void {
  for (const driver of Drivers) {
    parent.test(driver, async (tt) => {
      const test = await createTestDb(driver)
      tt.teardown(() => test.dispose())
      await fn(tt, test.db)
    })
  }
}
