import t from 'tap'
import { readFileSync } from 'node:fs'
import { ConfigError, describeConfig, loadConfig } from '../../config/config.js'
import { configTable, readmePath, TableEnd, TableStart } from '../../config/docs.js'
import { keys } from '../../config/keys.js'

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

t.test('defaults with an empty environment', async (t) => {
  const c = loadConfig({ env: {} })
  t.same(c.roles, ['engine', 'api'])
  t.equal(c.api.host, '127.0.0.1')
  t.equal(c.api.port, 3000)
  t.equal(c.api.metricsPublic, true)
  t.equal(c.api.adminKey, undefined)
  t.equal(c.redis.url, 'redis://127.0.0.1:6379')
  t.equal(c.redis.keyPrefix, 'cadence:')
  t.same(c.database, { kind: 'pglite', dataDir: './.cadence/pglite' })
  t.equal(c.log.level, 'info')
  t.equal(c.demo.enabled, true)
  t.equal(c.sim.speed, 1)
})

t.test('environment values are parsed into their types', async (t) => {
  const c = loadConfig({
    env: {
      CADENCE_ROLE: 'api',
      CADENCE_API_PORT: '8080',
      CADENCE_METRICS_PUBLIC: 'no',
      DATABASE_URL: 'postgres://u:secret@db:5432/cadence',
      CADENCE_LOG_LEVEL: 'DEBUG',
      CADENCE_DEMO: '0',
      CADENCE_SIM_SPEED: '60',
      CADENCE_ADMIN_API_KEY: 'k'.repeat(32),
    },
  })
  t.same(c.roles, ['api'])
  t.equal(c.api.port, 8080)
  t.equal(c.api.metricsPublic, false)
  t.same(c.database, { kind: 'postgres', url: 'postgres://u:secret@db:5432/cadence' })
  t.equal(c.log.level, 'debug')
  t.equal(c.demo.enabled, false)
  t.equal(c.sim.speed, 60)
  t.equal(c.api.adminKey, 'k'.repeat(32))
})

t.test('DATABASE_URL=memory selects in-memory PGlite', async (t) => {
  t.same(loadConfig({ env: { DATABASE_URL: 'memory' } }).database, { kind: 'memory' })
})

t.test('a bad value names the key, the expected form and what it got', async (t) => {
  t.same(problemsOf(() => loadConfig({ env: { CADENCE_API_PORT: 'abc' } })), [
    'CADENCE_API_PORT: expected an integer 0-65535 (0 picks a free port), got "abc"',
  ])
  const many = problemsOf(() =>
    loadConfig({
      env: {
        CADENCE_API_PORT: '70000',
        CADENCE_ROLE: 'engine,web',
        REDIS_URL: 'http://x',
        CADENCE_SIM_SPEED: '0',
        CADENCE_DEMO: 'maybe',
        CADENCE_LOG_LEVEL: 'loud',
      },
    }),
  )
  t.equal(many.length, 6, 'every bad key is reported, not only the first')
  for (const key of ['CADENCE_API_PORT', 'CADENCE_ROLE', 'REDIS_URL', 'CADENCE_SIM_SPEED', 'CADENCE_DEMO', 'CADENCE_LOG_LEVEL']) {
    t.ok(
      many.some((p) => p.startsWith(`${key}: expected `)),
      `${key} is named`,
    )
  }
  t.throws(() => loadConfig({ env: { CADENCE_API_PORT: '1.5' } }), ConfigError)
})

t.test('secrets never appear in an error message', async (t) => {
  const problems = problemsOf(() =>
    loadConfig({ env: { CADENCE_ADMIN_API_KEY: 'short secret', DATABASE_URL: 'mysql://u:hunter2@x/db' } }),
  )
  t.equal(problems.length, 2)
  t.notOk(problems.join('\n').includes('hunter2'))
  t.notOk(problems.join('\n').includes('short secret'))
  t.match(problems.join('\n'), /CADENCE_ADMIN_API_KEY: expected a string of 24-256/)
})

t.test('the JSON file fills keys; the environment wins over it', async (t) => {
  const file = JSON.stringify({ api: { port: 9000, host: '0.0.0.0' }, log: { level: 'warn' }, role: ['engine'] })
  const readFile = (p: string) => {
    t.equal(p, '/etc/cadence.json')
    return file
  }
  const c = loadConfig({ env: { CADENCE_CONFIG: '/etc/cadence.json', CADENCE_LOG_LEVEL: 'error' }, readFile })
  t.equal(c.api.port, 9000)
  t.equal(c.api.host, '0.0.0.0')
  t.equal(c.log.level, 'error')
  t.same(c.roles, ['engine'])
})

t.test('file errors name the file and the key', async (t) => {
  const read = (text: string) => () => text
  t.same(
    problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: read('{"api":{"port":"x"}}') })),
    ['c.json: api.port: expected an integer 0-65535 (0 picks a free port), got "x"'],
  )
  t.match(
    problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: read('{"api":{"prot":1}}') }))[0],
    /^c\.json: api\.prot: unknown key/,
  )
  t.match(problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: read('{') }))[0], /not valid JSON/)
  t.match(problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: 'c.json' }, readFile: read('[1]') }))[0], /JSON object/)
  t.match(
    problemsOf(() => loadConfig({ env: { CADENCE_CONFIG: '/nonexistent/cadence.json' } }))[0],
    /^CADENCE_CONFIG: cannot read "\/nonexistent\/cadence.json" \(ENOENT\)/,
  )
})

t.test('describeConfig hides secrets', async (t) => {
  const c = loadConfig({
    env: { DATABASE_URL: 'postgres://u:hunter2@db/cadence', CADENCE_ADMIN_API_KEY: 'a'.repeat(30) },
  })
  const text = JSON.stringify(describeConfig(c))
  t.notOk(text.includes('hunter2'))
  t.notOk(text.includes('a'.repeat(30)))
  t.match(text, /"adminKey":"set"/)
})

t.test('config/README.md documents every key with its default', async (t) => {
  const readme = readFileSync(readmePath, 'utf8')
  const table = readme.slice(readme.indexOf(TableStart) + TableStart.length, readme.indexOf(TableEnd)).trim()
  t.equal(table, configTable(), 'README table is current (run `npx tsx config/docs.ts --write`)')
  for (const k of Object.values(keys)) t.ok(table.includes(`\`${k.env}\``), `${k.env} documented`)
})
