/**
 * Issue 5: under load a real drachtio-server once garbled its admin stream and drachtio-srf threw "invalid message,
 * missing length specifier" from its socket handler, killing the process. The double can send such a frame; this
 * test shows it reproduces the failure in a bare drachtio-srf client, and that the double itself carries on (new
 * connections work). The engine's adapter must contain the error; its own test will use the same injection.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { DrachtioDouble } from '../../doubles/drachtio/server.js'
import { connectSrf, startTarget, until } from '../../doubles/drachtio/replay/target.js'

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'doubles', 'drachtio', 'replay', 'srf-child.ts')

t.test('a corrupt admin frame kills a bare drachtio-srf client with "missing length specifier"', async (t) => {
  const double = await new DrachtioDouble({ secret: 'cymru' }).start()
  t.teardown(() => double.stop())
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, double.host, String(double.adminPort), 'cymru'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20000)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await until(() => stdout.includes('connected'), 'the child to connect', 15000)
  t.equal(double.connectionCount, 1, 'the client is connected to the double')
  double.injectCorruptFrame()
  const code = await exited
  clearTimeout(killer)
  t.not(code, 0, 'the client process died')
  t.match(stderr, /invalid message, missing length specifier/, 'with the error seen in production')
})

t.test('after a corrupt frame the double keeps serving: a new drachtio-srf client connects', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const double = target.double
  if (!double) {
    t.pass('real server configured: frame injection is a double-only feature')
    return
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, '127.0.0.1', String(target.recorder.port), target.secret], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 20000)
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  await until(() => stdout.includes('connected'), 'the child to connect', 15000)
  double.injectCorruptFrame()
  await exited
  clearTimeout(killer)
  t.equal(target.recorder.garbage.length, 1, 'the recorder saw the garbled stream')
  t.match(target.recorder.garbage[0]?.raw ?? '', /garbled/)
  const again = await connectSrf(target)
  t.teardown(() => again.disconnect())
  await until(() => double.connectionCount === 1, 'only the new client to remain')
  t.equal(double.connectionCount, 1, 'the new client is served')
})
