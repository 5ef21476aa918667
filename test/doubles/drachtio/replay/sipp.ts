/**
 * Runs sipp (Debian `sip-tester`) as the far SIP peer for one scenario, bounded in time, and returns its message
 * trace. A uas scenario is started first and waits; the caller then drives the app, then awaits `done`.
 */
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import net from 'node:net'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseSippTrace, type SippEntry } from './transcript.js'

export const SCENARIOS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'sipp')

export interface SippRun {
  port: number
  /** Resolves when sipp exits (on its own, or killed at the time limit). */
  done: Promise<{ code: number | null; trace: SippEntry[]; stderr: string }>
  kill(): void
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

export interface SippOptions {
  /** `uas` / `uac` built-ins, or a file name in test/telephony/drachtio/sipp/. */
  scenario: string
  /** uac: where to send (host:port). */
  remote?: string
  /** Hard limit in seconds; sipp is told to give up (and is killed) after it. */
  limitSeconds?: number
  extra?: string[]
  /** SIP over one TCP connection (`-t t1`) instead of UDP. */
  tcp?: boolean
}

export async function startSipp(opts: SippOptions): Promise<SippRun> {
  const port = await freeUdpPort()
  const mediaPort = await freeUdpPort()
  const dir = mkdtempSync(path.join(tmpdir(), 'cadence-sipp-'))
  const messages = path.join(dir, 'messages.log')
  const limit = opts.limitSeconds ?? 20
  const scen = opts.scenario === 'uas' || opts.scenario === 'uac' ? ['-sn', opts.scenario] : ['-sf', path.join(SCENARIOS, opts.scenario)]
  const args = [
    ...scen,
    '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin', '-trace_msg', '-message_file', messages,
    '-timeout', `${limit}s`, '-timeout_error', '-s', 'service', '-mp', String(mediaPort),
    ...(opts.tcp ? ['-t', 't1'] : []),
    ...(opts.extra ?? []),
    ...(opts.remote ? [opts.remote] : []),
  ]
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  let exited = false
  child.on('exit', () => (exited = true))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const killer = setTimeout(() => child.kill('SIGKILL'), (limit + 5) * 1000)
  const done = new Promise<{ code: number | null; trace: SippEntry[]; stderr: string }>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer)
      let trace: SippEntry[] = []
      try {
        trace = parseSippTrace(readFileSync(messages, 'utf8'))
      } catch {
        // no trace written: reported through code and stderr
      }
      rmSync(dir, { recursive: true, force: true })
      resolve({ code, trace, stderr })
    })
  })
  // A uas sipp must be listening before the app sends; wait until its port is taken.
  if (!opts.remote) await waitForPortTaken(port, opts.tcp === true, () => exited)
  return { port, done, kill: () => child.kill('SIGTERM') }
}

async function waitForPortTaken(port: number, tcp: boolean, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const taken = tcp ? await tcpPortTaken(port) : await udpPortTaken(port)
    if (taken) return
    if (exited()) return // the caller learns why from `done`
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`sipp did not bind 127.0.0.1:${port}`)
}

/** Whether something holds a UDP port on 127.0.0.1 (a daemon has bound it), found by trying to bind it ourselves. */
export async function udpPortTaken(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4')
  const taken = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(true))
    s.bind(port, '127.0.0.1', () => resolve(false))
  })
  await new Promise<void>((resolve) => {
    try {
      s.close(() => resolve())
    } catch {
      resolve()
    }
  })
  return taken
}

async function tcpPortTaken(port: number): Promise<boolean> {
  const srv = net.createServer()
  const taken = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(true))
    srv.listen(port, '127.0.0.1', () => resolve(false))
  })
  if (!taken) await new Promise<void>((resolve) => srv.close(() => resolve()))
  return taken
}
