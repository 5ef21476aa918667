/**
 * Versioned migrations: `migrations/NNNN_name.sql`, applied in order, each inside its own transaction together with
 * its row in schema_migrations, so a failed migration leaves nothing half-applied. An advisory lock serializes
 * engines that start at once against the same PostgreSQL.
 *
 * Command: `tsx engine/store/sql/migrate.ts` (uses DATABASE_URL / CADENCE_PGLITE_DIR like the server).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Db } from './db.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url))

// An arbitrary constant; pg_advisory_xact_lock releases it at COMMIT/ROLLBACK.
const MigrationLockKey = 7_236_001

export function loadMigrations(dir: string = migrationsDir): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d+)_([a-z0-9_-]+)\.sql$/.exec(file)
      if (!m) throw new Error(`migration file ${file}: expected NNNN_name.sql`)
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') }
    })
    .sort((a, b) => a.version - b.version)
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations share version ${migrations[i]!.version}`)
    }
  }
  return migrations
}

export interface MigrateResult {
  applied: number[]
  current: number
}

/** Apply every migration not yet recorded. Safe to call at every start-up and concurrently. */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<MigrateResult> {
  // Under the lock too: two engines creating the table at once on a fresh database would collide in pg_type.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MigrationLockKey])
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
  })
  const applied: number[] = []
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MigrationLockKey])
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])
      if (seen.rowCount > 0) return false
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      return true
    })
    if (done) applied.push(m.version)
  }
  return { applied, current: await schemaVersion(db) }
}

export async function schemaVersion(db: Db): Promise<number> {
  const r = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
  return r.rows[0]?.v ?? 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { loadConfig, describeConfig } = await import('../../../config/config.js')
  const { openDb } = await import('./open.js')
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(2)
  }
  const db = await openDb(config.database)
  try {
    const r = await migrate(db)
    process.stdout.write(
      `migrated ${String(describeConfig(config)['database'])}: applied [${r.applied.join(', ')}], schema version ${r.current}\n`,
    )
  } finally {
    await db.close()
  }
}
