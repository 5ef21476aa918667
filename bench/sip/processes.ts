/**
 * The processes bench:sip runs beside the caller: the drachtio double (its own process), sipp carriers and a private
 * rtpengine (Debian rtpengine-daemon, userspace). Each start is bounded; stop() ends only what was started here.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { freeUdpPort, udpPortTaken } from '../../test/doubles/drachtio/replay/sipp.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await gone
  clearTimeout(killer)
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export interface DoubleProcess {
  host: string
  adminPort: number
  sipPort: number
  pid: number
  dialogs(): Promise<number>
  stop(): Promise<void>
}

export async function startDouble(secret: string): Promise<DoubleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'double-process.ts'), '--secret', secret], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const waiting: Array<(line: string) => void> = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const next = (limitMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the drachtio double did not ${what} within ${limitMs} ms`)), limitMs)
      waiting.push((line) => {
        clearTimeout(timer)
        resolve(line)
      })
    })
  const first = JSON.parse(await next(20_000, 'start')) as { admin: string; sip: string; pid: number }
  const [host, admin] = first.admin.split(':')
  return {
    host: host!,
    adminPort: Number(admin),
    sipPort: Number(first.sip.split(':')[1]),
    pid: first.pid,
    async dialogs() {
      const reply = next(5000, 'answer')
      child.stdin!.write('dialogs\n')
      return (JSON.parse(await reply) as { dialogs: number }).dialogs
    },
    stop: () => stopChild(child),
  }
}

export interface Carrier {
  address: string
  stop(): Promise<void>
}

/** A sipp uas playing one of bench/sip/scenarios, `[name]` placeholders filled in before sipp parses the file. */
export async function startCarrier(file: string, fill: Record<string, string>): Promise<Carrier> {
  let text = readFileSync(path.join(HERE, 'scenarios', file), 'utf8')
  for (const [k, v] of Object.entries(fill)) text = text.split(`[${k}]`).join(v)
  const dir = mkdtempSync(path.join(tmpdir(), 'cadence-bench-sipp-'))
  const scenario = path.join(dir, file)
  writeFileSync(scenario, text)
  const port = await freeUdpPort()
  const mediaPort = await freeUdpPort()
  const child = spawn(
    'sipp',
    ['-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-nostdin', '-buff_size', '8388608'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  // sipp binds its port at once; give it a moment and make sure it did not die on the scenario
  await new Promise((r) => setTimeout(r, 300))
  if (child.exitCode !== null) throw new Error(`sipp (${file}) exited with ${child.exitCode}: ${stderr.slice(-500)}`)
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface Rtpengine {
  host: string
  ngPort: number
  pid: number
  stop(): Promise<void>
}

export async function startRtpengine(portMin: number, portMax: number): Promise<Rtpengine> {
  const ngPort = await freeUdpPort()
  const child = spawn(
    'rtpengine',
    [
      '--foreground', '--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${portMin}`,
      // --config-file=none: the system config's fixed CLI/HTTP ports would collide with test daemons on the machine
      `--port-max=${portMax}`, '--config-file=none', '--delete-delay=0', '--log-stderr', '--log-level=4', '--no-fallback',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  let exited: string | undefined
  child.once('error', (e) => (exited = `could not run rtpengine (install rtpengine-daemon): ${e.message}`))
  child.once('exit', (code) => (exited ??= `rtpengine exited with ${code}`))
  // drained so the pipe never blocks rtpengine; the tail explains a failed start
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-2000)))
  // at a quiet log level rtpengine says nothing when ready: it is ready once its ng port is bound
  for (let i = 0; !(await udpPortTaken(ngPort)); i++) {
    if (exited) throw new Error(`${exited}: ${log.slice(-500)}`)
    if (i >= 200) {
      child.kill('SIGKILL')
      throw new Error(`rtpengine did not bind its ng port within 10 s: ${log.slice(-500)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { host: '127.0.0.1', ngPort, pid: child.pid!, stop: () => stopChild(child) }
}
