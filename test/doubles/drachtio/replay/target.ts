/**
 * The server a replay test talks to: the double by default, or a real drachtio-server when DRACHTIO_ADDRESS=host:port
 * and DRACHTIO_SECRET are set (it must run on this host with its SIP transport on 127.0.0.1, as in the captures, so
 * sipp can reach it). Either way drachtio-srf connects through a WireRecorder, so tests compare the same stream.
 */
import Srf from 'drachtio-srf'
import { DrachtioDouble } from '../server.js'
import { WireRecorder } from './wire-recorder.js'

export interface Target {
  /** The double, when no real server was configured (tests of double-only features check this). */
  double?: DrachtioDouble
  admin: { host: string; port: number }
  secret: string
  recorder: WireRecorder
  close(): Promise<void>
}

export const REAL_SERVER = process.env.DRACHTIO_ADDRESS

export async function startTarget(opts: { t1Ms?: number; t2Ms?: number; cdrs?: boolean } = {}): Promise<Target> {
  let double: DrachtioDouble | undefined
  let admin: { host: string; port: number }
  let secret: string
  if (REAL_SERVER) {
    const [host, port] = REAL_SERVER.split(':')
    if (!host || !port || !process.env.DRACHTIO_SECRET) {
      throw new Error('DRACHTIO_ADDRESS must be host:port and DRACHTIO_SECRET must be set')
    }
    admin = { host, port: Number(port) }
    secret = process.env.DRACHTIO_SECRET
  } else {
    secret = 'cymru'
    double = await new DrachtioDouble({ secret, t1Ms: opts.t1Ms, t2Ms: opts.t2Ms, cdrs: opts.cdrs }).start()
    admin = { host: double.host, port: double.adminPort }
  }
  const recorder = await new WireRecorder(admin).start()
  return {
    double,
    admin,
    secret,
    recorder,
    async close() {
      await recorder.stop()
      await double?.stop()
    },
  }
}

/** The verbs drachtio-srf generates at runtime that its shipped typings leave out. */
export interface SrfVerbs {
  register(fn: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void
  options(fn: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void
}

export interface Connected {
  srf: Srf
  /** The server's SIP address for UDP, from the authenticate reply. */
  sip: { host: string; port: number }
  /** Errors drachtio-srf emitted (it re-emits socket errors as 'error'). */
  errors: Error[]
  disconnect(): Promise<void>
}

export interface ConnectOptions {
  /** Runs before connect (handlers registered here are routed right after authenticate). */
  setup?: (srf: Srf & SrfVerbs) => void
  /** Ping every `pingIntervalMs` (drachtio-srf's minimum is 5000). */
  pingIntervalMs?: number
}

export async function connectSrf(target: Target, opts: ConnectOptions = {}): Promise<Connected> {
  const srf = new Srf()
  const errors: Error[] = []
  srf.on('error', (err: Error) => errors.push(err))
  opts.setup?.(srf as Srf & SrfVerbs)
  const ping = opts.pingIntervalMs ? { enablePing: true, pingInterval: opts.pingIntervalMs } : {}
  const hostport = await new Promise<string>((resolve, reject) => {
    srf.on('connect', (err: Error, hp: string) => (err ? reject(err) : resolve(hp)))
    void srf.connect({ host: '127.0.0.1', port: target.recorder.port, secret: target.secret, ...ping } as Srf.SrfConfig)
  })
  const udp = hostport.split(',').find((h) => h.startsWith('udp/'))
  const m = udp ? /^udp\/([^:]+):(\d+)$/.exec(udp) : null
  if (!m) throw new Error(`no udp transport in ${hostport}`)
  return {
    srf,
    sip: { host: m[1]!, port: Number(m[2]) },
    errors,
    async disconnect() {
      srf.disconnect()
      // let the FIN reach the recorder before the test reads its frames
      await new Promise((r) => setTimeout(r, 50))
    },
  }
}

export const APP_SDP = [
  'v=0',
  'o=app 1001 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'a=sendrecv',
  '',
].join('\r\n')

/** Resolves once `cond` holds, polling; rejects after `limitMs` with `what` (a bound, not a timing assertion). */
export async function until(cond: () => boolean, what: string, limitMs = 10000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
