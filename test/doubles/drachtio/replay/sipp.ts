/**
 * Runs sipp (Debian `sip-tester`) as the far SIP peer for one scenario, bounded in time, and returns its message
 * trace. A uas scenario is started first and waits; the caller then drives the app, then awaits `done`.
 */
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
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
  // Ports are picked by binding port 0 and letting go, so another process (a parallel test file's sipp or rtpengine,
  // whose media ranges overlap the ephemeral range) can take one before sipp binds it. sipp then exits at once
  // saying so: pick again rather than fail the test.
  for (let attempt = 1; ; attempt++) {
    const run = await launchSipp(opts)
    if (run !== 'port-taken') return run
    if (attempt === 5) throw new Error('sipp could not bind a free port in 5 attempts')
  }
}

async function launchSipp(opts: SippOptions): Promise<SippRun | 'port-taken'> {
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
  // A uas sipp must be listening before the app sends; wait until its port is bound. A uac is waited for too, so
  // that a port lost to another process is seen here and retried (a uac that finishes first simply has exited).
  await waitForPortTaken(port, opts.tcp === true, () => exited)
  if (exited) {
    const result = await done
    if (/already in use/i.test(result.stderr)) return 'port-taken'
  }
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

/**
 * Whether something has bound a UDP port (a daemon is up), read from /proc/net/udp. Not found by binding the port
 * ourselves: that probe, repeated while a daemon starts, is itself what makes the daemon's bind fail.
 */
export async function udpPortTaken(port: number): Promise<boolean> {
  return portInTable(['/proc/net/udp', '/proc/net/udp6'], port, null)
}

/** Whether something listens on a TCP port, read from /proc/net/tcp (state 0A is LISTEN). */
async function tcpPortTaken(port: number): Promise<boolean> {
  return portInTable(['/proc/net/tcp', '/proc/net/tcp6'], port, '0A')
}

async function portInTable(files: string[], port: number, state: string | null): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      const local = cols[1]
      if (!local || !local.endsWith(`:${hex}`)) continue
      if (state === null || cols[3] === state) return true
    }
  }
  return false
}
