/**
 * bench:api: the real API (Fastify app over a fresh PostgreSQL database, the real engine runtime as its control,
 * the real Redis) under autocannon, beside a bare Fastify route measured in the same run on the same machine.
 *
 *   npm run bench:api -- [--seconds 5] [--connections 50] [--imports 100000,1000000] [--skip-reads] [--skip-imports] [--json]
 *
 * Rows: a bare route (baseline), a campaign read, the campaign's live figures, a lead's dialability (screening
 * with the Redis DNC snapshot), and a write (adding a DNC number). Then lead imports of each size in --imports
 * (bench/api/lead-import.ts): rows/s against the 100,000 rows/s target and peak memory, so sizes side by side show
 * whether memory grows with the file. Customer-by-phone joins when that route exists (issue 4).
 */
import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import pg from 'pg'
import pino from 'pino'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { keyringEnv, PiiCipher } from '../../engine/security/pii-cipher.js'
import { CustomerByPhoneTarget, customerByPhoneRows } from './customer-by-phone.js'
import { fromAutocannon, fromPaced, type Measured } from './measured.js'
import { pacedLoad } from './paced-load.js'
import { buildApp } from '../../api/app.js'
import { loadConfig } from '../../config/config.js'
import { VirtualClock } from '../../engine/clock.js'
import { createEngineMetrics } from '../../engine/campaign/metrics.js'
import { createSimulatedEngine } from '../../engine/campaign/simulated-engine.js'
import { RedisInvalidNumberStore } from '../../engine/store/redis/invalid-numbers.js'
import { CadenceKeys } from '../../engine/store/redis/keys.js'
import { defaultCampaignSettings } from '../../engine/store/sql/campaigns.js'
import { migrate } from '../../engine/store/sql/migrate.js'
import { openPg } from '../../engine/store/sql/pg-driver.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { parseScenario } from '../../engine/telephony/sim/scenario.js'
import { expectedCounts, runImport, type ImportRun } from './lead-import.js'

const args = process.argv.slice(2)
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  const v = i >= 0 ? Number(args[i + 1]) : fallback
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} expects a positive number`)
  return v
}
const seconds = opt('seconds', 5)
const connections = opt('connections', 50)
const json = args.includes('--json')
const skipReads = args.includes('--skip-reads')
/** Read rows to run (the bare baseline always runs): bare,campaign,figures,dialability,dnc,phone,search; default all. */
const RowKeys = ['bare', 'campaign', 'figures', 'dialability', 'dnc', 'phone', 'search'] as const
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : [...RowKeys]
for (const k of only) if (!(RowKeys as readonly string[]).includes(k)) throw new Error(`--only expects some of ${RowKeys.join(',')}`)
const runs = (k: (typeof RowKeys)[number]): boolean => only.includes(k)
const importSizes = args.includes('--skip-imports')
  ? []
  : (args.includes('--imports') ? args[args.indexOf('--imports') + 1] ?? '' : '100000,1000000').split(',').map((v) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n <= 0) throw new Error('--imports expects sizes such as 100000,1000000')
      return n
    })
/** The import target of issue 4. */
const ImportTargetRowsPerSec = 100_000
const adminUrl = process.env['CADENCE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'

interface Row {
  name: string
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  errors: number
  non2xx: number
  /** null for rows at a fixed offered rate. */
  ofBare: number | null
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

function load(url: string, opts: Partial<autocannon.Options>): Promise<Measured> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, ...opts }, (err, res) => (err ? reject(err) : resolve(fromAutocannon(res))))
  })
}

async function main(): Promise<void> {
  const dbName = `cadence_bench_${randomBytes(5).toString('hex')}`
  const prefix = `cadence-bench-${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${dbName}`)
  const url = new URL(adminUrl)
  url.pathname = `/${dbName}`
  const db = openPg({ connectionString: url.toString(), max: 10 })
  const redis = new Redis({ host: '127.0.0.1', port: 6379 })
  redis.on('error', () => undefined)
  const closers: Array<() => Promise<unknown>> = []
  try {
    await migrate(db)
    const config = loadConfig({ env: { DATABASE_URL: 'memory', CADENCE_LOG_LEVEL: 'silent', ...keyringEnv() } })
    const repos = repositories(db, new PiiCipher(config.pii!))
    const settings = defaultCampaignSettings()
    const campaign = await repos.campaigns.create({ name: 'bench', settings, id: 'bench' })
    const leads = await repos.leads.insertMany(
      campaign.id,
      Array.from({ length: 10_000 }, (_, i) => ({ phone: `+86139${String(i).padStart(8, '0')}`, timezone: 'Asia/Shanghai' })),
    )
    const leadId = leads.insertedIds[0]!
    const apiKey = (await repos.apiKeys.create({ name: 'bench', role: 'admin' })).key

    const keys = new CadenceKeys(prefix)
    const logger = pino({ level: 'silent' })
    const engine = createSimulatedEngine({
      clock: new VirtualClock(Date.now()),
      redis,
      keys,
      repos,
      metrics: createEngineMetrics(new Registry()),
      logger,
      scenario: parseScenario({ agents: 10 }),
      seed: 1,
      instanceId: 'bench',
    })
    const app = await buildApp({
      config,
      db,
      control: engine.runtime,
      logger,
      metricsRegistry: new Registry(),
      redis,
      dncStore: engine.dnc,
      invalidNumbers: new RedisInvalidNumberStore(redis, prefix, (n) => repos.dnc.numberHash(n)),
    })
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    closers.push(() => app.close())

    // The baseline: a bare Fastify route with a response schema, same machine, same run.
    const bare = Fastify()
    bare.get('/bare', { schema: { response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }))
    const bareBase = await bare.listen({ host: '127.0.0.1', port: 0 })
    closers.push(() => bare.close())

    const headers = { authorization: `Bearer ${apiKey}` }
    const results: Array<[string, Measured]> = []
    if (!skipReads) {
      results.push(['bare Fastify route (baseline)', await load(`${bareBase}/bare`, {})])
      if (runs('phone')) {
        const rate = CustomerByPhoneTarget.reqPerSec
        const paced = await pacedLoad({ base: bareBase, paths: ['/bare'], ratePerSec: rate, seconds, connections })
        results.push([`bare Fastify route @ ${rate}/s (paced)`, fromPaced(paced, rate)])
      }
      if (runs('campaign')) results.push(['GET campaign', await load(`${base}/v1/campaigns/${campaign.id}`, { headers })])
      if (runs('figures')) results.push(['GET campaign live figures', await load(`${base}/v1/campaigns/${campaign.id}/figures`, { headers })])
      if (runs('dialability')) results.push(['GET lead dialability', await load(`${base}/v1/leads/${leadId}/dialability`, { headers })])
      let n = 0
      if (runs('dnc')) {
        results.push([
          'POST DNC number (write)',
          await load(`${base}/v1/dnc`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            setupClient: (client) => {
              client.setBody(JSON.stringify({ number: `+86137${String(n++).padStart(8, '0')}` }))
            },
          }),
        ])
      }
      if (runs('phone') || runs('search')) {
        results.push(...(await customerByPhoneRows({ db, base, keyring: config.pii!, seconds, connections, phone: runs('phone'), search: runs('search') })))
      }
    }

    const imports: ImportRun[] = []
    let offset = 0
    for (const size of importSizes) {
      const list = await repos.leadLists.create({ campaignId: campaign.id, name: `bench import ${size}`, region: 'CN' })
      const run = await runImport(base, list.id, apiKey, size, offset, db)
      offset += size
      const want = expectedCounts(size)
      if (run.bad !== want.bad || run.duplicates !== want.duplicates || run.inserted !== size - want.bad - want.duplicates) {
        throw new Error(`import of ${size} rows reported ${JSON.stringify(run)}; expected ${JSON.stringify(want)}`)
      }
      imports.push(run)
    }

    const bareRps = results[0]?.[1].reqPerSec ?? 1
    const rows: Row[] = results.map(([name, r]) => ({
      name,
      reqPerSec: Math.round(r.reqPerSec),
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      errors: r.errors,
      non2xx: r.non2xx,
      ofBare: r.offeredPerSec === undefined ? Number((r.reqPerSec / bareRps).toFixed(3)) : null,
    }))
    if (json) {
      process.stdout.write(`${JSON.stringify({ seconds, connections, rows, imports, importTargetRowsPerSec: ImportTargetRowsPerSec }, null, 2)}\n`)
    } else {
      const cols = ['name', 'reqPerSec', 'p50Ms', 'p99Ms', 'errors', 'non2xx', 'ofBare'] as const
      const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "-").length)))
      const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ')
      process.stdout.write(`bench:api, ${seconds} s per row, ${connections} connections\n`)
      process.stdout.write(`${line([...cols])}\n${line(widths.map((w) => '-'.repeat(w)))}\n`)
      for (const r of rows) process.stdout.write(`${line(cols.map((c) => String(r[c] ?? '-')))}\n`)
      process.stdout.write('ofBare = req/s relative to the bare Fastify route measured in the same run (target for reads: >= 0.5)\n')
      process.stdout.write('rows "@ N/s (paced)": requests due every 1/N s, latency from when each was due (bench/api/paced-load.ts)\n')
      if (imports.length > 0) {
        const icols = ['rows', 'seconds', 'rowsPerSec', 'ofTarget', 'inserted', 'duplicates', 'bad', 'rssPeakMiB', 'heapMedianMiB', 'heapPeakMiB', 'heapAfterMiB', 'pgCpuUs', 'nodeCpuUs', 'load'] as const
        const irows = imports.map((r) => ({
          ...r,
          ofTarget: Number((r.rowsPerSec / ImportTargetRowsPerSec).toFixed(2)),
          pgCpuUs: r.pgCpuUsPerRow ?? '-',
          nodeCpuUs: r.nodeCpuUsPerRow,
          load: `${r.loadStart}-${r.loadEnd}`,
        }))
        const iw = icols.map((c) => Math.max(c.length, ...irows.map((r) => String(r[c]).length)))
        const iline = (vals: string[]): string => vals.map((v, i) => v.padEnd(iw[i]!)).join('  ')
        process.stdout.write(`\nlead import over HTTP (CSV streamed, PostgreSQL ${db.driver})\n${iline([...icols])}\n${iline(iw.map((w) => '-'.repeat(w)))}\n`)
        for (const r of irows) process.stdout.write(`${iline(icols.map((c) => String(r[c])))}\n`)
        process.stdout.write(`ofTarget = rows/s relative to the target of ${ImportTargetRowsPerSec} rows/s; memory in MiB above the level before that import; heap = in use after a full GC (median/peak during, after)\n`)
        process.stdout.write(
          'pgCpuUs / nodeCpuUs = CPU microseconds per row of the PostgreSQL backends of this database / of this process (API and sending client); load = 1-minute load average at start-end (2 cores)\n',
        )
      }
    }
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined)
    await redis.quit().catch(() => undefined)
    // A connection of its own: the app may have closed the one it was given.
    const cleaner = new Redis({ host: '127.0.0.1', port: 6379 })
    let cursor = '0'
    do {
      const [next, found] = await cleaner.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (found.length > 0) await cleaner.del(...found)
    } while (cursor !== '0')
    await cleaner.quit()
    await db.close()
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:api failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
