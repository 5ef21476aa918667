import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../config/config.js'
import { loadMigrations, migrate } from '../../../engine/store/sql/migrate.js'
import { openDb, openMigratedDb } from '../../../engine/store/sql/open.js'
import { repositories } from '../../../engine/store/sql/repositories.js'
import { createPgTestDb } from './databases.js'
import { settings } from './settings-fixture.js'

t.test('embedded PGlite in a data directory keeps data across restarts (the npm start default)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-pglite-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfig({ env: { CADENCE_PGLITE_DIR: join(dir, 'nested', 'pglite') } })
  t.same(config.database, { kind: 'pglite', dataDir: join(dir, 'nested', 'pglite') })

  const first = await openDb(config.database)
  t.equal(first.driver, 'pglite')
  t.same((await migrate(first)).applied, loadMigrations().map((m) => m.version))
  const c = await repositories(first).campaigns.create({ name: 'survives', settings: settings() })
  await first.close()

  const second = await openDb(config.database)
  t.teardown(() => second.close())
  t.same((await migrate(second)).applied, [], 'already migrated')
  t.equal((await repositories(second).campaigns.get(c.id))?.name, 'survives')
})

t.test('DATABASE_URL opens the pg driver', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const { db, applied, schemaVersion } = await openMigratedDb(loadConfig({ env: { DATABASE_URL: test.url } }).database)
  t.teardown(() => db.close())
  t.equal(db.driver, 'pg')
  await db.ping()
  t.same(applied, loadMigrations().map((m) => m.version), 'start-up migrates')
  t.equal(schemaVersion, Math.max(...applied))
  t.same((await migrate(db)).applied, [])
})
