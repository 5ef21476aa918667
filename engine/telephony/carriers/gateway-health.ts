/**
 * OPTIONS health checks of every carrier gateway (issue 5), feeding the gateway circuit breaker: every `intervalMs`
 * each gateway of each trunk is pinged once (no second ping while one is in flight); a gateway that does not answer
 * or answers 5xx opens its breaker, so the dialer skips it (crank-back orders gateways by the breaker), and an answer
 * again closes it. How a ping is sent is injected (drachtio/options-prober.ts in production), and time comes from the
 * Clock, so the schedule runs on a VirtualClock in tests.
 *
 * While the SIP connection is down nothing is probed: a ping that cannot be sent says nothing about the gateway.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../clock.js'
import type { GatewayBreaker } from './gateway-breaker.js'
import type { TrunkConfig, TrunkGateway } from './trunk.js'

/** What came back for one OPTIONS: a final response (408 when the stack gave up), or nothing within the limit. */
export type ProbeResult = { kind: 'response'; status: number; reason: string } | { kind: 'no-response' } | { kind: 'not-sent'; detail: string }

export interface GatewayProber {
  probe(gateway: TrunkGateway): Promise<ProbeResult>
}

/**
 * Whether a gateway that gave `result` is up. Any answer below 500 except 408 counts (a 404 or 405 to OPTIONS still
 * proves a live SIP stack); 408 is what the stack reports when nothing came back; 5xx says the gateway cannot take
 * requests; 6xx is a living stack declining. `not-sent` is undefined: it says nothing about the gateway.
 */
export function gatewayUp(result: ProbeResult): boolean | undefined {
  if (result.kind === 'not-sent') return undefined
  if (result.kind === 'no-response') return false
  return result.status !== 408 && !(result.status >= 500 && result.status < 600)
}

export interface GatewayHealthOptions {
  trunks: readonly TrunkConfig[]
  breaker: GatewayBreaker
  prober: GatewayProber
  clock: Clock
  logger: Logger
  /** Time between rounds; default 30 s. */
  intervalMs?: number
  /** Whether pings can be sent now (the drachtio connection is up). */
  canProbe?: () => boolean
}

export interface ProbeReport {
  gateway: string
  result: ProbeResult
  up: boolean | undefined
}

export class GatewayHealth {
  private readonly gateways: TrunkGateway[]
  private readonly inFlight = new Set<string>()
  private readonly lastUp = new Map<string, boolean>()
  private readonly log: Logger
  private timer: TimerHandle | undefined
  private running = false

  constructor(private readonly opts: GatewayHealthOptions) {
    const seen = new Map<string, TrunkGateway>()
    for (const t of opts.trunks) for (const g of t.gateways) if (!seen.has(g.address)) seen.set(g.address, g)
    this.gateways = [...seen.values()]
    this.log = opts.logger.child({ component: 'gateway-health' })
  }

  get intervalMs(): number {
    return this.opts.intervalMs ?? 30_000
  }

  /** Starts the rounds: one now, then every intervalMs. */
  start(): void {
    if (this.running) return
    this.running = true
    this.tick()
  }

  stop(): void {
    this.running = false
    if (this.timer) this.opts.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  /** One round: pings every gateway not already being pinged, records the outcomes, reports them. */
  async probeAll(): Promise<ProbeReport[]> {
    if (this.opts.canProbe && !this.opts.canProbe()) {
      this.log.debug('not connected; skipping the OPTIONS round')
      return []
    }
    const due = this.gateways.filter((g) => !this.inFlight.has(g.address))
    return Promise.all(due.map((g) => this.probeOne(g)))
  }

  private tick(): void {
    if (!this.running) return
    void this.probeAll().catch((err: unknown) => this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'OPTIONS round failed'))
    this.timer = this.opts.clock.setTimeout(() => this.tick(), this.intervalMs)
  }

  private async probeOne(g: TrunkGateway): Promise<ProbeReport> {
    this.inFlight.add(g.address)
    let result: ProbeResult
    try {
      result = await this.opts.prober.probe(g)
    } catch (err) {
      result = { kind: 'not-sent', detail: err instanceof Error ? err.message : String(err) }
    } finally {
      this.inFlight.delete(g.address)
    }
    const up = gatewayUp(result)
    if (up !== undefined) {
      this.opts.breaker.recordProbe(g.address, up)
      // log changes, not every ping
      if (this.lastUp.get(g.address) !== up) {
        const detail = result.kind === 'response' ? { status: result.status, reason: result.reason } : { result: result.kind }
        if (up) this.log.info({ gateway: g.address, ...detail }, 'gateway answers OPTIONS')
        else this.log.warn({ gateway: g.address, ...detail }, 'gateway failed its OPTIONS check; skipping it')
        this.lastUp.set(g.address, up)
      }
    } else {
      this.log.debug({ gateway: g.address, result }, 'OPTIONS not sent')
    }
    return { gateway: g.address, result, up }
  }
}
