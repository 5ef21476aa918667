/**
 * A real rtpengine (Debian's rtpengine-daemon) for the recording tests: started in userspace mode (no kernel
 * table) on loopback with its own ng port, RTP port range and recording directory, and a call driven through it
 * over the ng protocol (offer/answer/delete via rtpengine-client) with RTP sent from node dgram sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import rtpengineClient from 'rtpengine-client'
import { buildRtp } from '../../engine/media/rtp.js'

export interface Rtpengine {
  ngPort: number
  dir: string
  stop(): Promise<void>
}

/** Ports are chosen at random (other tests and engineers share the machine): a start that fails is retried. */
export async function startRtpengine(attempts = 3): Promise<Rtpengine> {
  for (let i = 1; ; i++) {
    try {
      return await startOnce()
    } catch (err) {
      if (i >= attempts || /did not start/.test((err as Error).message)) throw err
    }
  }
}

async function startOnce(): Promise<Rtpengine> {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-rtpe-'))
  const ngPort = 20000 + Math.floor(Math.random() * 9000)
  const portMin = 30000 + 100 * Math.floor(Math.random() * 250)
  const child: ChildProcess = spawn(
    'rtpengine',
    [
      '--foreground',
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${ngPort}`,
      `--port-min=${portMin}`,
      `--port-max=${portMin + 99}`,
      `--recording-dir=${dir}`,
      '--recording-method=pcap',
      // not /etc/rtpengine/rtpengine.conf: its fixed CLI (2224) and HTTP (2225) ports are fatal when another
      // rtpengine on the machine (a bench, a parallel test file) holds them
      '--config-file=none',
      '--delete-delay=0',
      '--log-stderr',
      '--log-level=6',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    child.once('error', (e) => reject(new Error(`rtpengine did not start (install rtpengine-daemon): ${e.message}`)))
    child.once('exit', (code) => reject(new Error(`rtpengine exited with ${code}: ${log.slice(-500)}`)))
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString()
      if (log.includes('Startup complete')) resolve()
    })
  })
  child.removeAllListeners('exit')
  return {
    ngPort,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await gone
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface DrivenCall {
  pcap: string
  /** The address each party sent from, as rtpengine saw it. */
  callerSource: string
  calleeSource: string
}

export interface PartyMedia {
  payloadType: 0 | 8
  ssrc: number
  /** One payload per 20 ms; `undefined` = packet lost on the way. */
  payloads: (Uint8Array | undefined)[]
}

const sdp = (port: number) =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n`

/** Offer (with recording), answer, 20 ms RTP from both parties in real time, delete; returns the pcap's path. */
export async function driveRecordedCall(rtpe: Rtpengine, caller: PartyMedia, callee: PartyMedia): Promise<DrivenCall> {
  const ng = new rtpengineClient.Client({ port: 0, host: '127.0.0.1', timeout: 3000, rejectOnFailure: true })
  const a = dgram.createSocket('udp4')
  const b = dgram.createSocket('udp4')
  try {
    await Promise.all([new Promise<void>((r) => a.bind(0, '127.0.0.1', r)), new Promise<void>((r) => b.bind(0, '127.0.0.1', r))])
    const callId = `cadence-test-${process.pid}-${Date.now()}`
    const offer = await ng.offer(rtpe.ngPort, '127.0.0.1', { 'call-id': callId, 'from-tag': 'caller', sdp: sdp(a.address().port), 'record call': 'yes', ICE: 'remove' })
    const answer = await ng.answer(rtpe.ngPort, '127.0.0.1', { 'call-id': callId, 'from-tag': 'caller', 'to-tag': 'callee', sdp: sdp(b.address().port), ICE: 'remove' })
    const port = (s: string | undefined) => Number(/m=audio (\d+)/.exec(s ?? '')?.[1])
    // The offer's SDP goes to the callee (it sends there); the answer's to the caller.
    const callerTo = port(answer.sdp)
    const calleeTo = port(offer.sdp)
    const n = Math.max(caller.payloads.length, callee.payloads.length)
    const send = (s: dgram.Socket, m: PartyMedia, i: number, to: number) => {
      const p = m.payloads[i]
      if (p) s.send(buildRtp({ payloadType: m.payloadType, sequence: i, timestamp: i * 160, ssrc: m.ssrc, payload: p }), to, '127.0.0.1')
    }
    const start = performance.now()
    for (let i = 0; i < n; i++) {
      send(a, caller, i, callerTo)
      send(b, callee, i, calleeTo)
      const ahead = start + (i + 1) * 20 - performance.now()
      if (ahead > 0) await sleep(ahead)
    }
    await sleep(100)
    await ng.delete(rtpe.ngPort, '127.0.0.1', { 'call-id': callId, 'from-tag': 'caller', 'delete delay': 0 })
    // rtpengine closes the pcap when the call is torn down; its metadata file moves to metadata/ at that moment.
    const pcaps = join(rtpe.dir, 'pcaps')
    for (let i = 0; i < 100; i++) {
      const meta = readdirSafe(join(rtpe.dir, 'metadata')).find((f) => f.includes(callId))
      const pcap = readdirSafe(pcaps).find((f) => f.startsWith(callId))
      if (meta && pcap) return { pcap: join(pcaps, pcap), callerSource: `127.0.0.1:${a.address().port}`, calleeSource: `127.0.0.1:${b.address().port}` }
      await sleep(50)
    }
    throw new Error(`rtpengine wrote no finished recording for ${callId} in ${rtpe.dir}`)
  } finally {
    ng.close()
    a.close()
    b.close()
  }
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d)
  } catch {
    return []
  }
}
