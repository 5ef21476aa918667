/**
 * The media pool in a process started the way `npm start` starts the engine (tsx), not inside tap's own loader: the
 * worker threads must load the TypeScript tasks (on Node 20 they do not inherit tsx's hooks) and the process must
 * end cleanly once the pool is closed (libopus's native addon ended a process with SIGSEGV when a worker thread that
 * had loaded it stopped). Both were broken while every in-process test passed.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { pcmWav } from '../../workers/wav.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

t.test('a tsx process compresses a recording on the pool and exits 0', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cadence-pool-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const samples = new Int16Array(8000 * 2)
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000))
  const input = path.join(dir, 'call.wav')
  writeFileSync(input, pcmWav({ sampleRate: 8000, channels: 1, samples }))
  const output = path.join(dir, 'call.opus')
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'test', 'workers', 'fixtures', 'pool-run.ts'), input, output], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => (out += b.toString()))
  child.stderr.on('data', (b: Buffer) => (err += b.toString()))
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  clearTimeout(killer)
  t.equal(signal, null, `not killed by a signal (stderr: ${err.slice(-400)})`)
  t.equal(code, 0, `exit 0 (stderr: ${err.slice(-400)})`)
  const result = JSON.parse(out.trim()) as { durationMs: number; bytes: number }
  t.equal(result.durationMs, 2000, 'the whole recording was encoded')
  t.ok(result.bytes > 0 && existsSync(output), 'an Opus file was written')
})
