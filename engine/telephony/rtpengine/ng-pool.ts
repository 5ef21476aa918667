/**
 * A pool of rtpengine daemons spoken to over the ng protocol (UDP, bencode) through rtpengine-client, which ships no
 * types and resolves its promises with error replies: every reply is checked here (anchors report §1.4), so callers
 * only ever see `result: ok` (or `pong`) or an RtpengineError. Engines are pinged on an interval and chosen round robin
 * among the healthy ones; a call stays on the engine that took its offer.
 */
import rtpengineClient from 'rtpengine-client'
import type { Logger } from 'pino'

export interface NgReply {
  result: string
  'error-reason'?: string
  sdp?: string
  calls?: string[]
  [k: string]: unknown
}

type NgCommand = (port: number, host: string, opts?: Record<string, unknown>) => Promise<NgReply>

/** The part of rtpengine-client's Client we use, as it behaves at runtime. */
interface NgClient {
  offer: NgCommand
  answer: NgCommand
  delete: NgCommand
  ping: NgCommand
  list: NgCommand
  query: NgCommand
  close(): void
  on(event: 'error', listener: (err: Error) => void): void
}
type NgClientCtor = new (opts: { port: number; host: string; timeout: number }) => NgClient

export interface RtpengineAddress {
  host: string
  port: number
}

export class RtpengineError extends Error {
  override name = 'RtpengineError'
  constructor(
    message: string,
    readonly engine: string,
    readonly command: string,
  ) {
    super(message)
  }
}

export interface NgPoolOptions {
  engines: RtpengineAddress[]
  logger: Logger
  /** Reply timeout per command (ms). */
  timeoutMs?: number
  /** Health ping interval (ms); 0 disables the timer (tests call checkHealth()). */
  pingIntervalMs?: number
}

interface Member {
  address: RtpengineAddress
  name: string
  healthy: boolean
}

export type NgCommandName = 'offer' | 'answer' | 'delete' | 'ping' | 'list' | 'query'

export class NgPool {
  private readonly client: NgClient
  private readonly members: Member[]
  private readonly log: Logger
  private next = 0
  private timer: NodeJS.Timeout | undefined

  constructor(opts: NgPoolOptions) {
    if (opts.engines.length === 0) throw new RtpengineError('no rtpengine configured', '-', '-')
    const Client = (rtpengineClient as unknown as { Client: NgClientCtor }).Client
    this.client = new Client({ port: 0, host: '0.0.0.0', timeout: opts.timeoutMs ?? 2000 })
    this.client.on('error', (err) => this.log.error({ err: err.message }, 'rtpengine client socket error'))
    this.log = opts.logger.child({ component: 'rtpengine' })
    // until the first ping says otherwise, every engine is presumed healthy
    this.members = opts.engines.map((address) => ({ address, name: `${address.host}:${address.port}`, healthy: true }))
    const every = opts.pingIntervalMs ?? 10_000
    if (every > 0) {
      this.timer = setInterval(() => void this.checkHealth(), every)
      this.timer.unref()
    }
  }

  /** Pings every engine; returns how many answered. */
  async checkHealth(): Promise<number> {
    const results = await Promise.all(
      this.members.map(async (m) => {
        let ok = false
        try {
          ok = (await this.client.ping(m.address.port, m.address.host)).result === 'pong'
        } catch {
          ok = false
        }
        if (ok !== m.healthy) this.log[ok ? 'info' : 'error']({ engine: m.name }, ok ? 'rtpengine is back' : 'rtpengine stopped answering pings')
        m.healthy = ok
        return ok
      }),
    )
    return results.filter(Boolean).length
  }

  healthy(): RtpengineAddress[] {
    return this.members.filter((m) => m.healthy).map((m) => m.address)
  }

  /** The next healthy engine, round robin. */
  pick(): RtpengineAddress {
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[(this.next + i) % this.members.length]!
      if (m.healthy) {
        this.next = (this.next + i + 1) % this.members.length
        return m.address
      }
    }
    throw new RtpengineError('no healthy rtpengine', '-', 'pick')
  }

  /** Runs one ng command and checks its reply: anything but `ok` (`pong` for ping) is an RtpengineError. */
  async command(engine: RtpengineAddress, name: NgCommandName, opts: Record<string, unknown> = {}): Promise<NgReply> {
    const where = `${engine.host}:${engine.port}`
    let reply: NgReply
    try {
      reply = await this.client[name](engine.port, engine.host, opts)
    } catch (err) {
      throw new RtpengineError(`${name} to ${where}: ${err instanceof Error ? err.message : String(err)}`, where, name)
    }
    const expected = name === 'ping' ? 'pong' : 'ok'
    if (reply.result !== expected) {
      throw new RtpengineError(`${name} to ${where}: ${reply.result}${reply['error-reason'] ? ` (${reply['error-reason']})` : ''}`, where, name)
    }
    return reply
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.client.close()
  }
}
