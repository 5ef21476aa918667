import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadMigrations, migrate, schemaVersion } from '../../../engine/store/sql/migrate.js'
import { forEachDriver } from './databases.js'

const Tables = [
  'agent_state_samples',
  'agents',
  'api_keys',
  'audit_log',
  'callbacks',
  'campaigns',
  'cdrs',
  'customer_dispositions',
  'customer_notes',
  'customer_phones',
  'customers',
  'dispositions',
  'dnc_entries',
  'keyword_hits',
  'lead_import_errors',
  'lead_imports',
  'lead_lists',
  'leads',
  'pause_codes',
  'qa_forms',
  'qa_sample_items',
  'qa_samples',
  'qa_scores',
  'queues',
  'recording_registrations',
  'recordings',
  'schema_migrations',
  'sites',
  'teams',
  'user_tokens',
  'users',
  'webhook_deliveries',
  'webhooks',
]

t.test('migration files are numbered and ordered', async (t) => {
  const ms = loadMigrations()
  t.ok(ms.length >= 1)
  t.same(
    ms.map((m) => m.version),
    [...ms.map((m) => m.version)].sort((a, b) => a - b),
  )
  t.equal(ms[0]!.version, 1)
})

t.test('a misnamed migration file is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-mig-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'initial.sql'), 'SELECT 1;')
  t.throws(() => loadMigrations(dir), /expected NNNN_name\.sql/)
})

forEachDriver(t, async (t, db) => {
  // Two engines starting at once on a fresh database: both succeed, v1 is applied once.
  const [x, y] = await Promise.all([migrate(db), migrate(db)])
  const first = x.applied.length > 0 ? x : y
  const all = loadMigrations().map((m) => m.version)
  t.same([...x.applied, ...y.applied].sort((a, b) => a - b), all, 'every migration applied once on a fresh database')
  t.equal(first.current, all[all.length - 1])

  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  )
  t.same(
    tables.rows.map((r) => r.table_name),
    Tables,
  )

  const again = await migrate(db)
  t.same(again.applied, [], 'a second run applies nothing')
  t.equal(await schemaVersion(db), all[all.length - 1])

  // Two engines starting at once: the advisory lock and the re-check inside the transaction make both succeed and
  // apply each migration once.
  const extra = [
    ...loadMigrations(),
    { version: 1000, name: 'probe', sql: 'CREATE TABLE probe (id int); INSERT INTO probe VALUES (1);' },
  ]
  const [a, b] = await Promise.all([migrate(db, extra), migrate(db, extra)])
  t.same([...a.applied, ...b.applied], [1000], 'the new migration applied exactly once')
  const probe = await db.query<{ n: number }>('SELECT count(*) AS n FROM probe')
  t.equal(probe.rows[0]!.n, 1)

  // A failing migration rolls back whole: neither its first statement nor its record remain.
  const broken = [...extra, { version: 1001, name: 'broken', sql: 'CREATE TABLE half (id int); SELECT * FROM nowhere;' }]
  await t.rejects(migrate(db, broken))
  t.equal(await schemaVersion(db), 1000, 'the broken one is not recorded')
  const half = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half'`)
  t.equal(half.rowCount, 0, 'its first statement was rolled back')
})
