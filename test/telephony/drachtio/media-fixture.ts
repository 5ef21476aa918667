/**
 * What the SIP tests with real media share: a private rtpengine and its ng pool, an anchor that remembers where
 * rtpengine wants each far end's RTP (so a test socket can play the carrier or a phone), the engine's own endpoint as a
 * counting socket, nailed-up agent sessions to sipp phones, and the ways a test tells what a party heard (a pattern
 * only one party sends; the correlation of what was heard with a prompt's WAV).
 */
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import type { Logger } from 'pino'
import { decodeG711 } from '../../../engine/media/g711.js'
import { AgentSessionEvents, type AgentSessions } from '../../../engine/telephony/drachtio/agent-sessions.js'
import { PromptLibrary } from '../../../engine/telephony/prompts/prompt-library.js'
import type { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { NgPool, type NgReply } from '../../../engine/telephony/rtpengine/ng-pool.js'
import { audioAddress, RtpengineAnchor } from '../../../engine/telephony/rtpengine/rtpengine-anchor.js'
import { parseWav } from '../../../workers/wav.js'
import { startRtpengineDaemon } from '../rtpengine/rtpengine-daemon.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface RtpengineFixture {
  engine: { host: string; port: number }
  pool: NgPool
  /**
   * The calls rtpengine still lists once the anchor let go of them: the anchor forgets a call as it sends the delete,
   * so the delete may still be on its way; a leak is a call listed for good (a bounded wait, then the list).
   */
  calls(): Promise<string[]>
  /** Packets rtpengine received per party (tag) of a call, summed over its streams. */
  received(callId: string): Promise<Record<string, number>>
}

/** `recordingDir`: rtpengine records (pcap method) into it. */
export async function rtpengineFixture(t: Teardown, logger: Logger, o: { recordingDir?: string } = {}): Promise<RtpengineFixture> {
  const rtpe = await startRtpengineDaemon(o.recordingDir !== undefined ? { recordingDir: o.recordingDir } : {})
  t.teardown(() => rtpe.stop())
  const engine = { host: rtpe.host, port: rtpe.ngPort }
  const pool = new NgPool({ engines: [engine], logger, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  const list = async (): Promise<string[]> => (await pool.command(engine, 'list', { limit: 100 })).calls ?? []
  return {
    engine,
    pool,
    async calls() {
      for (let i = 0; i < 100 && (await list()).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
      return list()
    },
    async received(callId) {
      const q = (await pool.command(engine, 'query', { 'call-id': callId })) as NgReply & {
        tags?: Record<string, { medias?: { streams?: { stats?: { packets?: number } }[] }[] }>
      }
      const out: Record<string, number> = {}
      for (const [tag, party] of Object.entries(q.tags ?? {})) {
        out[tag] = (party.medias ?? []).flatMap((m) => m.streams ?? []).reduce((n, s) => n + (s.stats?.packets ?? 0), 0)
      }
      return out
    },
  }
}

/** The anchor, remembering where rtpengine wants each far end's media (a test socket sends there). */
export class CarrierFacingAnchor extends RtpengineAnchor {
  readonly carrierFacing = new Map<string, { host: string; port: number }>()
  override async offer(callId: string): Promise<string> {
    const sdp = await super.offer(callId)
    const at = audioAddress(sdp)
    if (at) this.carrierFacing.set(callId, at)
    return sdp
  }
}

/** The engine's own RTP endpoint while a call is with nobody: a socket that only counts, and its SDP. */
export async function engineSink(t: Teardown): Promise<{ sdp: string; packets(): number }> {
  const sink = dgram.createSocket('udp4')
  let packets = 0
  sink.on('message', () => packets++)
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve))
  t.teardown(() => sink.close())
  const sdp = ['v=0', 'o=cadence 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${sink.address().port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n')
  return { sdp, packets: () => packets }
}

/** Registers a sipp phone for the agent, logs the agent in and waits for the nailed-up session; its id. */
export async function nailUp(sessions: AgentSessions, store: RegistrationStore, agentId: string, phonePort: number): Promise<string> {
  await store.apply(agentId, { callId: `reg-${agentId}`, cseq: 1 }, [{ uri: `sip:${agentId}@127.0.0.1:${phonePort}`, expires: 600 }], {
    receivedHost: '127.0.0.1',
    receivedPort: phonePort,
    transport: 'udp',
  })
  const up = new Promise<{ sessionId: string }>((resolve) => sessions.once(AgentSessionEvents.Up, resolve))
  sessions.login(agentId)
  return (await up).sessionId
}

/** Polls an asynchronous condition (a query of rtpengine or Redis) until it holds; gives up with a message. */
export async function eventually(check: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A µ-law pattern only one party sends (two byte values in blocks of 8), and a test for a packet made of it. */
export function voicePattern(a: number, b: number, seconds = 60): { audio: Uint8Array; is: (p: Buffer) => boolean } {
  const audio = new Uint8Array(8000 * seconds)
  for (let i = 0; i < audio.length; i++) audio[i] = i % 16 < 8 ? a : b
  return { audio, is: (p) => p.every((x) => x === a || x === b) }
}

const prompts = new PromptLibrary()

/** A shipped prompt's samples (8 kHz). */
export function promptSamples(name: string): Int16Array {
  return parseWav(new Uint8Array(readFileSync(prompts.resolve(name)))).samples
}

/** Pearson correlation of two runs over their first `n` samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!
    sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y
  }
  const va = saa - (sa * sa) / n
  const vb = sbb - (sb * sb) / n
  return va > 0 && vb > 0 ? (sab - (sa * sb) / n) / Math.sqrt(va * vb) : 0
}

/**
 * How well heard µ-law packets match `samples` at their best alignment (rtpengine starts a file on a packet boundary,
 * so lags in whole packets are tried): the correlation over the file's first `n` samples.
 */
export function bestMatch(heard: readonly Buffer[], samples: Int16Array, atMost = 8000 * 2): number {
  const pcm = decodeG711(Buffer.concat(heard), 'mulaw')
  let best = 0
  // The prompt's first packets may never reach the listener (rtpengine starts a new player a packet or two after the
  // one it stops): its start is also matched from each of its first five packets, since the heard packets line up
  // with the prompt's only at whole packets.
  for (let skip = 0; skip <= 5 * 160 && skip < samples.length; skip += 160) {
    const from = samples.subarray(skip)
    const n = Math.min(from.length, atMost)
    for (let lag = 0; lag + n <= pcm.length; lag += 160) best = Math.max(best, correlation(pcm.subarray(lag), from, n))
  }
  return best
}
