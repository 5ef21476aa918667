/** Open the database the configuration names: PostgreSQL by URL, or embedded PGlite on disk or in memory. */
import type { DatabaseTarget } from '../../../config/config.js'
import type { Db } from './db.js'
import { openPg } from './pg-driver.js'
import { openPglite } from './pglite-driver.js'
import { migrate } from './migrate.js'

export async function openDb(target: DatabaseTarget): Promise<Db> {
  switch (target.kind) {
    case 'postgres':
      return openPg({ connectionString: target.url })
    case 'pglite':
      return openPglite(target.dataDir)
    case 'memory':
      return openPglite()
  }
}

/** Open and bring the schema up to date: what start-up does before anything reads or writes. */
export async function openMigratedDb(target: DatabaseTarget): Promise<{ db: Db; applied: number[]; schemaVersion: number }> {
  const db = await openDb(target)
  try {
    const r = await migrate(db)
    return { db, applied: r.applied, schemaVersion: r.current }
  } catch (err) {
    await db.close()
    throw err
  }
}
