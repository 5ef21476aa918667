/** Open the database the configuration names: PostgreSQL by URL, or embedded PGlite on disk or in memory. */
import type { DatabaseTarget } from '../../../config/config.js'
import type { Db } from './db.js'
import { openPg } from './pg-driver.js'
import { openPglite } from './pglite-driver.js'

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
