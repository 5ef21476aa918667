/**
 * A private rtpengine (Debian rtpengine-daemon) per test file: userspace mode (--table=-1, no kernel module), ng on
 * a loopback port, media on 127.0.0.1 in a small port range of its own. Start-up and stop are bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { freeUdpPort } from '../../doubles/drachtio/replay/sipp.js'

export interface RtpengineDaemon {
  host: string
  ngPort: number
  portMin: number
  portMax: number
  stop(): Promise<void>
}

export interface RtpengineDaemonOptions {
  /** Record calls as pcap files here (`--recording-method=pcap --recording-dir`). */
  recordingDir?: string
}

export async function startRtpengineDaemon(opts: RtpengineDaemonOptions = {}): Promise<RtpengineDaemon> {
  const ngPort = await freeUdpPort()
  const portMin = 40000 + 200 * Math.floor(Math.random() * 100)
  const portMax = portMin + 199
  const child: ChildProcess = spawn(
    'rtpengine',
    [
      '--foreground', '--table=-1', '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`,
      `--port-min=${portMin}`, `--port-max=${portMax}`,
      // not /etc/rtpengine/rtpengine.conf: its fixed CLI (2224) and HTTP (2225) ports are fatal when another
      // rtpengine on the machine (a bench, a parallel test file) holds them
      '--config-file=none', '--delete-delay=0', '--log-stderr', '--log-level=6', '--no-fallback',
      ...(opts.recordingDir !== undefined ? [`--recording-dir=${opts.recordingDir}`, '--recording-method=pcap'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`rtpengine did not start within 10 s: ${log.slice(-500)}`))
    }, 10_000)
    child.once('error', (e) => {
      clearTimeout(limit)
      reject(new Error(`rtpengine did not start (install rtpengine-daemon): ${e.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(limit)
      reject(new Error(`rtpengine exited with ${code}: ${log.slice(-500)}`))
    })
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString()
      if (log.includes('Startup complete')) {
        clearTimeout(limit)
        resolve()
      }
    })
  })
  child.removeAllListeners('exit')
  return {
    host: '127.0.0.1',
    ngPort,
    portMin,
    portMax,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(killer)
    },
  }
}
