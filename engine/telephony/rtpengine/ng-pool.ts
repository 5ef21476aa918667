/**
 * A pool of rtpengine daemons spoken to over the ng protocol (UDP, bencode) through rtpengine-client, which ships no
 * types and resolves its promises with error replies: every reply is checked here (anchors report §1.4), so callers
 * only ever see `result: ok` (or `pong`) or an RtpengineError. Engines are pinged on an interval and chosen round robin
 * among the healthy ones; a call stays on the engine that took its offer.
 *
 * Under load a UDP reply can be late or lost (bench/sip): a command that timed out is sent once more (ng commands
 * with the same call-id and tags are idempotent in rtpengine: a repeated offer/answer returns the same ports, a
 * repeated delete finds nothing to delete). rtpengine-client prints late replies and undecodable datagrams with
 * console.log, which would corrupt our JSON log on stdout: those paths are routed to our logger instead.
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
  startRecording: NgCommand
  stopRecording: NgCommand
  subscribeRequest: NgCommand
  subscribeAnswer: NgCommand
  unsubscribe: NgCommand
  playMedia: NgCommand
  stopMedia: NgCommand
  blockMedia: NgCommand
  unblockMedia: NgCommand
  close(): void
  on(event: 'error' | 'listening', listener: (err: Error) => void): void
  /** rtpengine-client internals replaced below so nothing of it reaches stdout. */
  messages: Map<string, unknown>
  incomingMsgs: Buffer[]
  socket: { setRecvBufferSize(size: number): void }
  _onParsedMessage(obj: { id: string; data: unknown }): void
  _handleIncomingMessages(): void
}
type NgClientCtor = (new (opts: { port: number; host: string; timeout: number }) => NgClient) & {
  decodeMessage(msg: Buffer): { id: string; data: unknown }
}

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
  /** SO_RCVBUF of the client's UDP socket (bytes): replies queued behind a burst are not dropped by the kernel. */
  recvBufferBytes?: number
}

/** rtpengine-client's message for a command that got no reply in time. */
function isTimeout(err: unknown): boolean {
  return err instanceof Error && /rtpengine timeout/.test(err.message)
}

interface Member {
  address: RtpengineAddress
  name: string
  healthy: boolean
}

export type NgCommandName =
  | 'offer'
  | 'answer'
  | 'delete'
  | 'ping'
  | 'list'
  | 'query'
  | 'start recording'
  | 'stop recording'
  | 'subscribe request'
  | 'subscribe answer'
  | 'unsubscribe'
  | 'play media'
  | 'stop media'
  | 'block media'
  | 'unblock media'

/**
 * rtpengine-client's method for each ng command. rtpengine 10.5 (Debian 12) has no `pause recording`: a pause is a
 * `stop recording` (with `flags: [pause]`, which later versions honour by keeping the file open) and a resume a
 * `start recording`, which on 10.5 opens a new pcap beside the first (engine/recordings/rtpengine-files.ts gathers them).
 */
const CLIENT_METHOD = {
  offer: 'offer',
  answer: 'answer',
  delete: 'delete',
  ping: 'ping',
  list: 'list',
  query: 'query',
  'start recording': 'startRecording',
  'stop recording': 'stopRecording',
  'subscribe request': 'subscribeRequest',
  'subscribe answer': 'subscribeAnswer',
  unsubscribe: 'unsubscribe',
  'play media': 'playMedia',
  'stop media': 'stopMedia',
  'block media': 'blockMedia',
  'unblock media': 'unblockMedia',
} as const satisfies Record<NgCommandName, keyof NgClient>

export class NgPool {
  private readonly client: NgClient
  private readonly members: Member[]
  private readonly log: Logger
  private next = 0
  private timer: NodeJS.Timeout | undefined

  constructor(opts: NgPoolOptions) {
    if (opts.engines.length === 0) throw new RtpengineError('no rtpengine configured', '-', '-')
    const Client = (rtpengineClient as unknown as { Client: NgClientCtor }).Client
    this.log = opts.logger.child({ component: 'rtpengine' })
    this.client = new Client({ port: 0, host: '0.0.0.0', timeout: opts.timeoutMs ?? 2000 })
    this.client.on('error', (err) => this.log.error({ err: err.message }, 'rtpengine client socket error'))
    this.contain(Client)
    const recv = opts.recvBufferBytes
    if (recv !== undefined && recv > 0) {
      this.client.on('listening', () => {
        try {
          this.client.socket.setRecvBufferSize(recv)
        } catch (err) {
          this.log.warn({ err: err instanceof Error ? err.message : String(err), recvBufferBytes: recv }, 'UDP receive buffer not set (net.core.rmem_max?)')
        }
      })
    }
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

  /**
   * Runs one ng command and checks its reply: anything but `ok` (`pong` for ping) is an RtpengineError. A command that
   * timed out is sent once more to the same engine (a call's state lives there); a delete whose first copy did land
   * answers the second with "Unknown call-id", which is the outcome wanted.
   */
  async command(engine: RtpengineAddress, name: NgCommandName, opts: Record<string, unknown> = {}): Promise<NgReply> {
    const where = `${engine.host}:${engine.port}`
    let reply: NgReply
    let retried = false
    for (;;) {
      try {
        reply = await this.client[CLIENT_METHOD[name]](engine.port, engine.host, opts)
        break
      } catch (err) {
        if (!retried && isTimeout(err)) {
          retried = true
          this.log.warn({ engine: where, command: name, callId: opts['call-id'] }, 'rtpengine did not answer in time; sending the command once more')
          continue
        }
        throw new RtpengineError(`${name} to ${where}: ${err instanceof Error ? err.message : String(err)}`, where, name)
      }
    }
    if (retried && name === 'delete' && reply.result === 'error' && /unknown call/i.test(String(reply['error-reason'] ?? ''))) {
      return { result: 'ok' }
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

  /**
   * rtpengine-client 0.4 console.logs a reply whose request already timed out and a datagram it cannot decode (then
   * emits 'error' too): the same checks, our logger instead of stdout.
   */
  private contain(Client: NgClientCtor): void {
    const client = this.client
    const parsed = client._onParsedMessage.bind(client)
    client._onParsedMessage = (obj) => {
      if (!client.messages.has(obj.id)) {
        this.log.warn({ cookie: obj.id }, 'late rtpengine reply (its command had timed out); ignored')
        return
      }
      parsed(obj)
    }
    client._handleIncomingMessages = () => {
      while (client.incomingMsgs.length > 0) {
        const msg = client.incomingMsgs.shift()!
        let obj: { id: string; data: unknown }
        try {
          obj = Client.decodeMessage(msg)
        } catch (err) {
          this.log.warn({ err: err instanceof Error ? err.message : String(err), bytes: msg.length }, 'undecodable datagram from rtpengine; ignored')
          continue
        }
        client._onParsedMessage(obj)
      }
    }
  }
}
