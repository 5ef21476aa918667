/**
 * `npm start` (engine/main.ts) at a real site (issue 5): with DRACHTIO_ADDRESS set the engine connects to drachtio
 * (here the double), checks rtpengine (a private real daemon) and says what it dials through, runs no simulated
 * demo, keeps its stdout pure JSON with no secret in it, and stops cleanly on SIGTERM. A trunks file with a bad field
 * stops start-up with that field named.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { SCENARIOS, startSipp } from '../doubles/drachtio/replay/sipp.js'
import { startTarget } from '../doubles/drachtio/replay/target.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { startRtpengineDaemon } from './rtpengine/rtpengine-daemon.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx')

interface Run {
  lines: string[]
  stderr: string[]
  exited: Promise<number | null>
  waitForLine(re: RegExp): Promise<string>
  kill(signal: NodeJS.Signals): void
}

function start(env: Record<string, string>): Run {
  const child = spawn(TSX, ['engine/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const stderr: string[] = []
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = []
  let buf = ''
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString()
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      lines.push(line)
      for (const w of [...waiters]) if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr.on('data', (d: Buffer) => void stderr.push(d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    lines,
    stderr,
    exited,
    waitForLine(re) {
      const found = lines.find((l) => re.test(l))
      if (found) return Promise.resolve(found)
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${re} within 60 s; stdout:\n${lines.join('\n')}\nstderr:\n${stderr.join('')}`)), 60_000)
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) })
        void exited.then((code) => {
          clearTimeout(timer)
          reject(new Error(`engine exited (${code}) before ${re}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr.join('')}`))
        })
      })
    },
    kill: (signal) => void child.kill(signal),
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'cadence-sip-start-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('DRACHTIO_ADDRESS set: the engine connects, names what it dials through, no demo, JSON-only stdout', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon()
  t.teardown(() => rtpe.stop())
  const redis = redisEnv('sip-start')
  t.teardown(async () => {
    const r = redis.connect()
    const found = await r.keys(`${redis.prefix}*`)
    if (found.length > 0) await r.del(...found)
    await redis.cleanup()
  })
  // PostgreSQL, as at a real site: the registrar reads agents' credentials from it
  const pg = await createPgTestDb()
  t.teardown(() => pg.dispose())
  const trunks = path.join(dir, 'trunks.json')
  writeFileSync(trunks, JSON.stringify({ trunks: [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:5999', auth: { username: 'u', password: 'gw-password-xyz' } }], maxChannels: 4 }] }))
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: pg.url,
    CADENCE_REDIS_PREFIX: `${redis.prefix}:`,
    CADENCE_LOG_LEVEL: 'info',
    DRACHTIO_ADDRESS: `127.0.0.1:${target.recorder.port}`,
    DRACHTIO_SECRET: target.secret,
    CADENCE_RTPENGINE_NG: `${rtpe.host}:${rtpe.ngPort}`,
    CADENCE_TRUNKS_FILE: trunks,
    CADENCE_RECORDING_DIR: path.join(dir, 'spool'),
    CADENCE_REGISTRAR_REALM: 'cadence.test',
    CADENCE_REGISTRAR_NONCE_SECRET: 'nonce-secret-of-16-chars-or-more',
  })
  t.teardown(() => run.kill('SIGKILL'))
  const recording = JSON.parse(await run.waitForLine(/bridged calls are recorded/)) as { dir: string; outputDir: string; campaigns: string }
  t.match(recording, { dir: path.join(dir, 'spool'), outputDir: path.join(dir, 'spool', 'opus'), campaigns: '*' }, 'recording on, where rtpengine writes')
  const rtp = JSON.parse(await run.waitForLine(/rtpengine reachable/)) as { rtpengine: string[]; healthy: number }
  t.same(rtp.rtpengine, [`${rtpe.host}:${rtpe.ngPort}`])
  t.equal(rtp.healthy, 1)
  const connecting = JSON.parse(await run.waitForLine(/connecting to drachtio/)) as Record<string, unknown>
  t.equal(connecting['drachtio'], `127.0.0.1:${target.recorder.port}`)
  t.same(connecting['trunks'], [{ id: 'carrier-a', gateways: ['127.0.0.1:5999'], maxChannels: 4, maxCps: 0 }])
  t.equal(connecting['ringTimeoutSeconds'], 25)
  const registrar = JSON.parse(await run.waitForLine(/registrar on/)) as { realm: string; expiresSeconds: string }
  t.match(registrar, { realm: 'cadence.test', expiresSeconds: '60-3600' }, 'the registrar starts with the engine, as configured')
  await run.waitForLine(/drachtio connected: the engine dials real trunks/)
  run.kill('SIGTERM')
  t.equal(await run.exited, 0, 'stops cleanly')
  t.notOk(run.lines.some((l) => /"msg":"demo:/.test(l)), 'no simulated demo')
  const notJson = run.lines.filter((l) => {
    try {
      JSON.parse(l)
      return false
    } catch {
      return true
    }
  })
  t.strictSame(notJson, [], 'every stdout line is JSON')
  t.strictSame(
    run.lines.filter((l) => notJson.includes(l) === false && (JSON.parse(l) as { level: number }).level >= 50),
    [],
    'no error logged on a healthy start and stop',
  )
  const all = run.lines.join('\n') + run.stderr.join('')
  t.notMatch(all, target.secret === 'cymru' ? /cymru/ : new RegExp(target.secret), 'the drachtio secret is not logged')
  t.notMatch(all, /gw-password-xyz/, 'no gateway password logged')
  t.notMatch(all, /nonce-secret-of-16/, 'the registrar nonce secret is not logged')
})

t.test('the registrar is started by npm start: a REGISTER through drachtio is challenged, then refused for an unknown agent', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const rtpe = await startRtpengineDaemon()
  t.teardown(() => rtpe.stop())
  const redis = redisEnv('sip-start-registrar')
  t.teardown(async () => {
    const r = redis.connect()
    const found = await r.keys(`${redis.prefix}*`)
    if (found.length > 0) await r.del(...found)
    await redis.cleanup()
  })
  const pg = await createPgTestDb()
  t.teardown(() => pg.dispose())
  const trunks = path.join(dir, 'trunks-registrar.json')
  writeFileSync(trunks, JSON.stringify({ trunks: [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:5999' }] }] }))
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: pg.url,
    CADENCE_REDIS_PREFIX: `${redis.prefix}:`,
    CADENCE_LOG_LEVEL: 'info',
    DRACHTIO_ADDRESS: `127.0.0.1:${target.recorder.port}`,
    DRACHTIO_SECRET: target.secret,
    CADENCE_RTPENGINE_NG: `${rtpe.host}:${rtpe.ngPort}`,
    CADENCE_TRUNKS_FILE: trunks,
    // no recording workers: this test is about SIP registration only
    CADENCE_RECORDING: 'false',
    CADENCE_REGISTRAR_REALM: 'cadence.test',
    CADENCE_REGISTRAR_MIN_EXPIRES_SECONDS: '120',
  })
  t.teardown(() => run.kill('SIGKILL'))
  const on = JSON.parse(await run.waitForLine(/registrar on/)) as { realm: string; expiresSeconds: string }
  t.match(on, { realm: 'cadence.test', expiresSeconds: '120-3600' }, 'the registrar starts with the engine, as configured')
  const connected = JSON.parse(await run.waitForLine(/drachtio connected: the engine dials real trunks/)) as { sip: string[] }
  const sip = /^udp\/(.+)$/.exec(connected.sip.find((h) => h.startsWith('udp/')) ?? '')?.[1]
  if (!sip) throw new Error(`no udp transport in ${connected.sip.join(',')}`)
  const phone = await startSipp({
    scenario: path.relative(SCENARIOS, path.join(ROOT, 'test', 'telephony', 'registrar', 'sipp', 'agent-register-wrong-password.xml')),
    remote: sip,
    limitSeconds: 20,
  })
  const registered = await phone.done
  t.equal(registered.code, 0, 'the phone was challenged (401) and refused (403) by the engine', { stderr: registered.stderr })
  const refused = JSON.parse(await run.waitForLine(/REGISTER refused/)) as { username: string; why: string; realm: string }
  t.match(refused, { username: 'alice', why: 'unknown username', realm: 'cadence.test' }, 'the refusal is logged with its reason')
  run.kill('SIGTERM')
  t.equal(await run.exited, 0, 'stops cleanly')
})

t.test('registrar expiry bounds that cross stop start-up naming both keys', async (t) => {
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: 'memory',
    CADENCE_REGISTRAR_MIN_EXPIRES_SECONDS: '600',
    CADENCE_REGISTRAR_MAX_EXPIRES_SECONDS: '300',
  })
  t.equal(await run.exited, 2)
  t.match(run.stderr.join(''), 'CADENCE_REGISTRAR_MIN_EXPIRES_SECONDS (600) must not exceed CADENCE_REGISTRAR_MAX_EXPIRES_SECONDS (300)')
})

t.test('a trunks file with a bad field stops start-up naming it', async (t) => {
  const trunks = path.join(dir, 'bad-trunks.json')
  writeFileSync(trunks, JSON.stringify({ trunks: [{ id: 'carrier-a', gateways: [{ address: 'sip carrier' }] }] }))
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: 'memory',
    DRACHTIO_ADDRESS: '127.0.0.1:9',
    DRACHTIO_SECRET: 'x',
    CADENCE_TRUNKS_FILE: trunks,
  })
  t.equal(await run.exited, 2)
  t.match(run.stderr.join(''), `CADENCE_TRUNKS_FILE: ${trunks}: trunks[0].gateways[0].address: expected host or host:port, got "sip carrier"`)
})

t.test('an announcements directory with a bad recording stops start-up naming it', async (t) => {
  const announcements = path.join(dir, 'announcements')
  mkdirSync(path.join(announcements, 'announcement-empty-number'), { recursive: true })
  writeFileSync(path.join(announcements, 'announcement-empty-number', 'carrier.mp3'), 'ID3')
  const trunks = path.join(dir, 'trunks-for-announcements.json')
  writeFileSync(trunks, JSON.stringify({ trunks: [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:5999' }] }] }))
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: 'memory',
    DRACHTIO_ADDRESS: '127.0.0.1:9',
    DRACHTIO_SECRET: 'x',
    CADENCE_TRUNKS_FILE: trunks,
    CADENCE_ANNOUNCEMENTS_DIR: announcements,
  })
  t.equal(await run.exited, 2)
  t.match(run.stderr.join(''), `CADENCE_ANNOUNCEMENTS_DIR: ${path.join(announcements, 'announcement-empty-number', 'carrier.mp3')}: expected a .wav, .ul (raw µ-law) or .al (raw A-law) recording`)
})

t.test('an inbound numbers file with bad entries stops start-up naming each problem', async (t) => {
  const inbound = path.join(dir, 'inbound.json')
  writeFileSync(inbound, JSON.stringify([{ number: '4008001234', campaignId: 'c1', menu: { prompt: 'ivr-menu', options: { '1': { queue: 'sales desk' } }, timeoutMs: 5000 }, maxWaitMs: 60_000 }]))
  const trunks = path.join(dir, 'trunks-for-inbound.json')
  writeFileSync(trunks, JSON.stringify({ trunks: [{ id: 'carrier-a', gateways: [{ address: '127.0.0.1:5999' }] }] }))
  const run = start({
    CADENCE_ROLE: 'engine',
    DATABASE_URL: 'memory',
    DRACHTIO_ADDRESS: '127.0.0.1:9',
    DRACHTIO_SECRET: 'x',
    CADENCE_TRUNKS_FILE: trunks,
    CADENCE_INBOUND_FILE: inbound,
  })
  t.equal(await run.exited, 2)
  const err = run.stderr.join('')
  t.match(err, 'CADENCE_INBOUND_FILE: inbound[0].menu.options.1.queue: expected a queue name')
  t.match(err, 'CADENCE_INBOUND_FILE: inbound[0].overflowPrompt: expected a non-empty string')
})
