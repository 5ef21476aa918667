/**
 * Shared set-up for the DrachtioTelephony scenario tests: the drachtio double (or a real server, see replay/target.ts)
 * with the engine's DrachtioConnection, sipp processes as the carrier's gateways, and an ordered record of the port's
 * events. Every wait is bounded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import type { Clock } from '../../../engine/clock.js'
import { DrachtioConnection } from '../../../engine/telephony/drachtio/connection.js'
import type { AgentSessionLookup } from '../../../engine/telephony/drachtio/agent-session-lookup.js'
import type { CallMediaListener } from '../../../engine/telephony/drachtio/call-media-listener.js'
import type { CallRecordingPolicy } from '../../../engine/telephony/drachtio/call-recording.js'
import { DrachtioTelephony } from '../../../engine/telephony/drachtio/drachtio-telephony.js'
import { type MediaAnchor, StaticSdp } from '../../../engine/telephony/drachtio/media-anchor.js'
import type { TrunkCaps } from '../../../engine/store/redis/trunk-caps.js'
import type { GatewayBreaker } from '../../../engine/telephony/carriers/gateway-breaker.js'
import type { TrunkConfig } from '../../../engine/telephony/carriers/trunk.js'
import { CallEvents, type CallEventMap, type CallEventName, type OriginateRequest } from '../../../engine/telephony/port.js'
import { SCENARIOS, startSipp, type SippRun } from '../../doubles/drachtio/replay/sipp.js'
import { APP_SDP, startTarget, until, type Target } from '../../doubles/drachtio/replay/target.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))

/** A sipp scenario of ours (carrier-sipp/), addressed relative to the double's scenario folder that startSipp reads. */
export function carrierScenario(file: string): string {
  return path.relative(SCENARIOS, path.join(HERE, 'carrier-sipp', file))
}

/**
 * A sipp gateway playing one scenario. `fill` replaces `[name]` in the scenario text before sipp reads it: sipp checks
 * a response code when it parses the file, so `-key status 486` cannot set one.
 */
export async function gateway(file: string, fill: Record<string, string> = {}, limitSeconds = 30, calls = 1, remote?: string): Promise<SippRun> {
  let scenario = file.startsWith('uas-') ? file : carrierScenario(file)
  let dir: string | undefined
  if (Object.keys(fill).length > 0) {
    let text = readFileSync(path.join(SCENARIOS, scenario), 'utf8')
    for (const [k, v] of Object.entries(fill)) text = text.split(`[${k}]`).join(v)
    dir = mkdtempSync(path.join(tmpdir(), 'cadence-gw-'))
    writeFileSync(path.join(dir, file), text)
    scenario = path.relative(SCENARIOS, path.join(dir, file))
  }
  // sipp keeps the last -m it is given
  const run = await startSipp({ scenario, limitSeconds, ...(calls > 1 || remote ? { extra: ['-m', String(calls)] } : {}), ...(remote ? { remote } : {}) })
  if (dir) {
    const d = dir
    void run.done.finally(() => rmSync(d, { recursive: true, force: true }))
  }
  return run
}

export interface Recorded {
  name: CallEventName
  event: CallEventMap[CallEventName]
}

export interface Harness {
  target: Target
  conn: DrachtioConnection
  port: DrachtioTelephony
  events: Recorded[]
  names(callId: string): CallEventName[]
  waitFor(name: CallEventName, callId: string): Promise<CallEventMap[CallEventName]>
  trunk(...gateways: SippRun[]): TrunkConfig
  /** The adapter's JSON log lines. */
  log: string[]
  /** The server's SIP address for UDP (where callers send their INVITEs). */
  sip: { host: string; port: number } | undefined
  close(): Promise<void>
}

export async function harness(opts: {
  trunks: (h: { trunk: (...g: SippRun[]) => TrunkConfig }) => TrunkConfig[]
  clock?: Clock
  media?: MediaAnchor
  caps?: TrunkCaps
  breaker?: GatewayBreaker
  agents?: AgentSessionLookup
  /** The adapter's maximum call length (ms). */
  maxCallMs?: number
  /** Media analysis of the calls (early-media screen, AMD). */
  listener?: CallMediaListener
  /** SIP timer T1 of the double (its 408 for an unanswered request comes after 64*T1); a real server keeps 500 ms. */
  t1Ms?: number
  recording?: CallRecordingPolicy
  /** The adapter's probing of calls kept across a reconnect. */
  orphanProbeMs?: number
  probeLimitMs?: number
  /** The adapter's floor for ring timeouts (15 s in production): a test that waits out a ring lowers it. */
  minRingTimeoutMs?: number
}): Promise<Harness> {
  const target = await startTarget(opts.t1Ms !== undefined ? { t1Ms: opts.t1Ms } : {})
  // the adapter's log is kept (and printed by a wait that gives up) so a rare failure explains itself
  const logLines: string[] = []
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'info' }, { write: (line: string) => void logLines.push(line) })
  const conn = new DrachtioConnection({ host: '127.0.0.1', port: target.recorder.port, secret: target.secret, logger })
  const up = await conn.start()
  const udp = up.hostports.map((h) => /^udp\/([^:]+):(\d+)$/.exec(h)).find((m) => m !== null)
  const sip = udp ? { host: udp[1]!, port: Number(udp[2]) } : undefined
  const trunk = (...gws: SippRun[]): TrunkConfig => ({ id: 'carrier-a', gateways: gws.map((g) => ({ address: `127.0.0.1:${g.port}` })) })
  const port = new DrachtioTelephony({
    connection: conn,
    trunks: opts.trunks({ trunk }),
    media: opts.media ?? new StaticSdp(APP_SDP),
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.caps ? { caps: opts.caps } : {}),
    ...(opts.breaker ? { breaker: opts.breaker } : {}),
    ...(opts.agents ? { agents: opts.agents } : {}),
    ...(opts.maxCallMs !== undefined ? { maxCallMs: opts.maxCallMs } : {}),
    ...(opts.recording ? { recording: opts.recording } : {}),
    ...(opts.listener ? { listener: opts.listener } : {}),
    ...(opts.orphanProbeMs !== undefined ? { orphanProbeMs: opts.orphanProbeMs } : {}),
    ...(opts.probeLimitMs !== undefined ? { probeLimitMs: opts.probeLimitMs } : {}),
    ...(opts.minRingTimeoutMs !== undefined ? { minRingTimeoutMs: opts.minRingTimeoutMs } : {}),
  })
  const events: Recorded[] = []
  for (const name of Object.values(CallEvents)) port.on(name, (event) => void events.push({ name, event }))
  const h: Harness = {
    target,
    conn,
    sip,
    port,
    events,
    trunk,
    log: logLines,
    names: (callId) => events.filter((e) => e.event.callId === callId).map((e) => e.name),
    async waitFor(name, callId) {
      try {
        await until(() => events.some((e) => e.name === name && e.event.callId === callId), `${name} of ${callId}`, 20000)
      } catch (err) {
        const seen = events.filter((e) => e.event.callId === callId).map((e) => e.name)
        const frames = target.recorder.frames.slice(-12).map((f) => `${f.dir} ${f.payload.slice(0, 300)}`)
        throw new Error(
          `${(err as Error).message}; events so far: [${seen.join(', ')}]\nadapter log:\n${logLines.slice(-20).join('')}\nlast admin frames:\n${frames.join('\n---\n')}`,
        )
      }
      return events.find((e) => e.name === name && e.event.callId === callId)!.event
    },
    async close() {
      await conn.stop()
      await target.close()
    },
  }
  return h
}

let seq = 0
export function request(over: Partial<OriginateRequest> = {}): OriginateRequest {
  seq++
  return {
    callId: `call-${process.pid}-${seq}`,
    campaignId: 'camp-1',
    leadId: `lead-${seq}`,
    number: '+4930123456',
    ringTimeoutMs: 25_000,
    amd: false,
    ...over,
  }
}
