/**
 * docker-compose.yml and the files under deploy/ agree with each other and with the engine's configuration: the
 * engine is given only real config keys with values the loader accepts, every ${VAR} is documented in
 * deploy/env.example, Prometheus scrapes the ports the services really listen on, and Grafana reads the Prometheus
 * and the dashboards folder the compose file provides. promtool and docker-compose validate the files when installed.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../config/config.js'
import { keys } from '../../config/keys.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8')

interface Service {
  image?: string
  build?: string | { context: string }
  network_mode?: string
  command?: string[] | string
  environment?: Record<string, string | number | boolean | null>
  ports?: string[]
  volumes?: string[]
}
interface Compose {
  services: Record<string, Service>
}

const composeText = read('docker-compose.yml')
const compose = parse(composeText) as Compose
const services = compose.services

/** Values a test site would put in .env; each must pass the engine's own parser where the engine reads it. */
const SAMPLE_ENV: Record<string, string> = {
  CADENCE_ADMIN_API_KEY: 'cad_test_key_0123456789abcdefghij',
  POSTGRES_PASSWORD: 'sitepassword',
  FREESWITCH_ESL_PASSWORD: 'eslpassword',
  GRAFANA_ADMIN_PASSWORD: 'grafanapassword',
  RTP_INTERFACE: '192.0.2.10',
  CADENCE_LOG_LEVEL: 'info',
  DRACHTIO_SECRET: 'change-me-cadence-admin-secret',
  CADENCE_RING_TIMEOUT_SECONDS: '25',
  CADENCE_MAX_CALL_SECONDS: '14400',
}

/** docker compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}, ${VAR-default}, ${VAR?error}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string) => {
    const v = env[name]
    if (v !== undefined && v !== '') return v
    if (op === ':-' || op === '-') return arg
    throw new Error(`${name} is required: ${arg}`)
  })
}

function variablesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))
}

function commandOf(s: Service): string[] {
  return Array.isArray(s.command) ? s.command.map(String) : typeof s.command === 'string' ? s.command.split(/\s+/) : []
}

function flag(s: Service, name: string): string | undefined {
  const prefix = `${name}=`
  return commandOf(s).find((a) => a.startsWith(prefix))?.slice(prefix.length)
}

/** The container path a host path of this repository is mounted at. */
function mountOf(s: Service, hostPath: string): string | undefined {
  const want = path.normalize(hostPath)
  for (const v of s.volumes ?? []) {
    const [host, container] = v.split(':')
    if (host && container && path.normalize(host) === want) return container
  }
  return undefined
}

interface PromConfig {
  rule_files?: string[]
  scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>
}
const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as PromConfig
function targetsOf(job: string): { targets: string[]; metricsPath: string } {
  const c = prometheus.scrape_configs.find((s) => s.job_name === job)
  return { targets: c?.static_configs.flatMap((s) => s.targets) ?? [], metricsPath: c?.metrics_path ?? '/metrics' }
}

t.test('the site has every service of issue 5', async (t) => {
  for (const name of ['engine', 'drachtio', 'rtpengine', 'freeswitch', 'redis', 'postgres', 'prometheus', 'grafana']) {
    t.ok(services[name], `service ${name}`)
  }
  t.equal(services.engine?.build, '.', 'the engine is built from our Dockerfile')
  t.match(services.drachtio?.image, /^drachtio\/drachtio-server:/)
  t.match(services.freeswitch?.image, /^drachtio\/drachtio-freeswitch-mrf:/)
  t.match(read('deploy/rtpengine/Dockerfile'), /apt-get install[^\n]*rtpengine-daemon/, 'rtpengine is Debian rtpengine-daemon')
  for (const name of ['engine', 'drachtio', 'rtpengine', 'freeswitch', 'prometheus', 'grafana']) {
    t.equal(services[name]?.network_mode, 'host', `${name} uses host networking`)
  }
  t.equal(flag(services.rtpengine!, '--table'), '-1', 'rtpengine forwards in userspace (no kernel module)')
})

t.test('every variable the compose file reads is documented in deploy/env.example', async (t) => {
  const documented = new Set([...read('deploy/env.example').matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!))
  const used = variablesIn(composeText)
  t.ok(used.size > 0)
  for (const v of used) t.ok(documented.has(v), `${v} is in deploy/env.example`)
  for (const v of used) t.ok(SAMPLE_ENV[v] !== undefined, `${v} has a sample value in this test`)
})

const engineEnv: Record<string, string> = Object.fromEntries(
  Object.entries(services.engine?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), SAMPLE_ENV)]),
)

t.test('the engine is given real config keys only, with values the loader accepts', async (t) => {
  const known = new Set<string>([...Object.values(keys).map((k) => k.env), 'CADENCE_CONFIG'])
  const names = Object.keys(engineEnv)
  t.ok(names.length > 0, 'the engine has an environment')
  for (const name of names) t.ok(known.has(name), `${name} is a key of config/keys.ts`)
  // the loader reports every bad value at once; a throw here names the key
  const config = loadConfig({ env: engineEnv })
  t.ok(config.roles.includes('engine') && config.roles.includes('api'))
  t.equal(config.demo.enabled, false, 'a site does not run the simulated demo')
  t.not(config.api.host, '127.0.0.1', 'the API listens beyond loopback (the health check and Prometheus reach it)')
  t.equal(config.database.kind, 'postgres', 'durable records go to the PostgreSQL service, not embedded PGlite')
})

t.test('the engine dials through the site\'s drachtio and rtpengine', async (t) => {
  const config = loadConfig({ env: engineEnv })
  const admin = /<admin port="(\d+)"[^>]*>([^<]*)<\/admin>/.exec(read('deploy/drachtio/drachtio.conf.xml'))
  t.same(
    config.telephony.drachtio && { host: config.telephony.drachtio.host, port: config.telephony.drachtio.port },
    { host: admin?.[2], port: Number(admin?.[1]) },
    'DRACHTIO_ADDRESS is drachtio\'s admin port',
  )
  t.same(config.telephony.rtpengine.engines.map((e) => `${e.host}:${e.port}`), [flag(services.rtpengine!, '--listen-ng')], 'rtpengine ng is where it listens')
  t.equal(mountOf(services.engine!, './trunks.json'), config.telephony.trunksFile, 'the trunks file read is the one mounted')
  t.ok(config.telephony.ringTimeoutMs >= 15_000)
})

t.test('Redis and PostgreSQL are where the engine looks for them', async (t) => {
  const config = loadConfig({ env: engineEnv })
  const redis = new URL(config.redis.url)
  t.ok(services.redis?.ports?.includes(`${redis.hostname}:${redis.port || '6379'}:6379`), `redis published at ${redis.host}`)
  t.equal(config.database.kind, 'postgres')
  if (config.database.kind !== 'postgres') return
  const db = new URL(config.database.url)
  t.ok(services.postgres?.ports?.includes(`${db.hostname}:${db.port || '5432'}:5432`), `postgres published at ${db.host}`)
  const pg = Object.fromEntries(Object.entries(services.postgres?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), SAMPLE_ENV)]))
  t.equal(decodeURIComponent(db.username), pg.POSTGRES_USER, 'same user')
  t.equal(decodeURIComponent(db.password), pg.POSTGRES_PASSWORD, 'same password')
  t.equal(db.pathname.slice(1), pg.POSTGRES_DB, 'same database')
})

t.test('Prometheus scrapes the ports the services listen on', async (t) => {
  t.equal(services.prometheus?.network_mode, 'host', 'prometheus shares the host network, so loopback targets reach the services')
  t.equal(mountOf(services.prometheus!, './deploy/prometheus/prometheus.yml'), flag(services.prometheus!, '--config.file'), 'the mounted file is the one it reads')

  const config = loadConfig({ env: engineEnv })
  const engine = targetsOf('cadence')
  t.ok(engine.targets.includes(`127.0.0.1:${config.api.port}`), `the engine's metrics port ${config.api.port} is scraped`)
  t.equal(engine.metricsPath, '/metrics')
  t.equal(config.api.metricsPublic, true, '/metrics answers Prometheus without an API key')

  const drachtioConf = read('deploy/drachtio/drachtio.conf.xml')
  t.equal(mountOf(services.drachtio!, './deploy/drachtio/drachtio.conf.xml'), '/etc/drachtio.conf.xml')
  const prom = /<prometheus port="(\d+)">([^<]*)<\/prometheus>/.exec(drachtioConf)
  t.ok(prom, 'drachtio exposes Prometheus metrics')
  t.ok(targetsOf('drachtio').targets.includes(`${prom?.[2] || '127.0.0.1'}:${prom?.[1]}`), 'and they are scraped')

  t.ok(targetsOf('rtpengine').targets.includes(flag(services.rtpengine!, '--listen-http') ?? 'missing'), "rtpengine's HTTP metrics are scraped")
  t.ok(targetsOf('prometheus').targets.includes(flag(services.prometheus!, '--web.listen-address') ?? 'missing'))
})

t.test('the alert rules Prometheus loads are mounted beside its configuration', async (t) => {
  const rules = prometheus.rule_files ?? []
  t.ok(rules.includes('alerts.yml'), 'deploy/prometheus/alerts.yml is loaded')
  const configDir = path.posix.dirname(flag(services.prometheus!, '--config.file') ?? '/missing/x')
  for (const r of rules) t.equal(mountOf(services.prometheus!, `./deploy/prometheus/${r}`), path.posix.join(configDir, r), `${r} is mounted`)
})

t.test('Grafana reads that Prometheus and the dashboards folder', async (t) => {
  const ds = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ type: string; url: string }> }
  const listen = flag(services.prometheus!, '--web.listen-address')
  t.ok(ds.datasources.some((d) => d.type === 'prometheus' && d.url === `http://${listen}`), `datasource at http://${listen}`)
  t.equal(mountOf(services.grafana!, './deploy/grafana/provisioning'), '/etc/grafana/provisioning')
  const dashboards = parse(read('deploy/grafana/provisioning/dashboards/cadence.yml')) as { providers: Array<{ options: { path: string } }> }
  const mounted = mountOf(services.grafana!, './deploy/grafana/dashboards')
  t.ok(mounted, 'deploy/grafana/dashboards is mounted')
  t.ok(dashboards.providers.some((p) => p.options.path === mounted), 'the dashboard provider reads that mount')
})

t.test('the drachtio admin port stays on loopback', async (t) => {
  const admin = /<admin port="(\d+)"[^>]*>([^<]*)<\/admin>/.exec(read('deploy/drachtio/drachtio.conf.xml'))
  t.equal(admin?.[2], '127.0.0.1')
  t.equal(flag(services.rtpengine!, '--listen-ng')?.split(':')[0], '127.0.0.1', 'rtpengine ng on loopback')
})

function installed(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}

t.test('promtool accepts the Prometheus configuration', { skip: installed('promtool') ? false : 'promtool not installed' }, async (t) => {
  const out = execFileSync('promtool', ['check', 'config', path.join(ROOT, 'deploy/prometheus/prometheus.yml')], { encoding: 'utf8' })
  t.match(out, /SUCCESS/)
})

t.test('docker-compose accepts the file', { skip: installed('docker-compose') ? false : 'docker-compose not installed' }, async (t) => {
  const env = { ...process.env, ...SAMPLE_ENV }
  const ok = spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], { env, encoding: 'utf8' })
  t.equal(ok.status, 0, ok.stderr)
  // and a missing secret stops it with the variable named, rather than starting a site with an empty password
  const missing = { ...env, POSTGRES_PASSWORD: '' }
  const bad = spawnSync('docker-compose', ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], { env: missing, encoding: 'utf8' })
  t.not(bad.status, 0)
  t.match(bad.stderr, /POSTGRES_PASSWORD/)
})
