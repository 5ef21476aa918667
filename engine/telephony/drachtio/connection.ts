/**
 * The engine's connection to drachtio-server: one drachtio-srf client that reconnects on its own (drachtio-srf backs
 * off 150 ms x 1.7^n), says when it is up or down and why, and survives a garbled admin stream (see wire-guard.ts).
 * While `connected` is false the dialer must not originate; the telephony adapter checks it and listens for `down`.
 */
import { EventEmitter } from 'node:events'
import Srf from 'drachtio-srf'
import type { Logger } from 'pino'
import { installWireGuard, onGarbledStream } from './wire-guard.js'

export const ConnectionEvents = {
  Up: 'up',
  Down: 'down',
} as const

export interface ConnectionUp {
  /** SIP transports the server listens on, e.g. `udp/10.0.0.5:5060`. */
  hostports: string[]
  /** 1 on the first connect, then one more per reconnect. */
  generation: number
}

export interface ConnectionDown {
  reason: 'garbled-admin-stream' | 'closed'
  detail?: string
}

export interface DrachtioConnectionOptions {
  host: string
  port: number
  secret: string
  logger: Logger
  /** Tags for drachtio-server's HTTP routing (`new Srf(tags)`). */
  tags?: string[]
}

export class DrachtioConnection extends EventEmitter {
  readonly srf: Srf
  private readonly log: Logger
  private readonly opts: DrachtioConnectionOptions
  private up = false
  private generation = 0
  private stopping = false
  private pendingReason: ConnectionDown | undefined
  private readonly unsubscribe: () => void

  constructor(opts: DrachtioConnectionOptions) {
    super()
    installWireGuard()
    this.opts = opts
    this.log = opts.logger.child({ component: 'drachtio', server: `${opts.host}:${opts.port}` })
    this.srf = opts.tags && opts.tags.length > 0 ? new Srf(opts.tags) : new Srf()
    this.unsubscribe = onGarbledStream(({ error, peer }) => {
      if (!peer.endsWith(`:${opts.port}`)) return
      this.pendingReason = { reason: 'garbled-admin-stream', detail: error.message.slice(0, 200) }
      this.log.error({ err: error.message.slice(0, 200), peer }, 'garbled drachtio admin stream; dropping the connection to reconnect')
    })
    this.srf.on('connect', (err: Error | null, hostport: string) => {
      if (err) {
        this.log.error({ err: err.message }, 'drachtio rejected the connection')
        return
      }
      this.up = true
      this.generation++
      this.pendingReason = undefined
      const event: ConnectionUp = { hostports: hostport.split(','), generation: this.generation }
      this.log.info(event, this.generation === 1 ? 'connected to drachtio' : 'reconnected to drachtio')
      this.emit(ConnectionEvents.Up, event)
    })
    this.srf.on('error', (err: Error) => this.log.warn({ err: err.message }, 'drachtio connection error'))
    // drachtio-srf forwards its wire layer's 'close' (typed there as 'disconnect')
    ;(this.srf as unknown as EventEmitter).on('close', () => this.onClose())
  }

  /** True while the admin connection is authenticated; originate nothing while false. */
  get connected(): boolean {
    return this.up
  }

  /** Connects; resolves on the first successful authentication. */
  async start(): Promise<ConnectionUp> {
    const first = new Promise<ConnectionUp>((resolve) => this.once(ConnectionEvents.Up, resolve))
    void this.srf.connect({ host: this.opts.host, port: this.opts.port, secret: this.opts.secret })
    return first
  }

  /** Idempotent: drachtio-srf asserts when disconnect() finds no socket. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.unsubscribe()
    this.srf.disconnect()
    this.up = false
  }

  private onClose(): void {
    if (!this.up) return
    this.up = false
    const down: ConnectionDown = this.pendingReason ?? { reason: 'closed' }
    this.pendingReason = undefined
    if (this.stopping) return
    this.log.warn(down, 'lost drachtio; not dialing until it is back')
    this.emit(ConnectionEvents.Down, down)
  }
}
