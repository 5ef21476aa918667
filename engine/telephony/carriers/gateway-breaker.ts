/**
 * A circuit breaker per carrier gateway: after `threshold` consecutive gateway failures (5xx, 408, silence until the
 * ring timeout) the gateway is skipped for `cooldownMs`, then tried again (half-open: one success closes it, one
 * failure opens it for another cooldown). Callee outcomes (busy, invalid, answered) count as the gateway working.
 * OPTIONS pings (not built yet) would feed the same record().
 */
import type { Clock } from '../../clock.js'

interface State {
  failures: number
  openUntil: number
}

export class GatewayBreaker {
  private readonly states = new Map<string, State>()

  constructor(
    private readonly clock: Clock,
    readonly threshold = 3,
    readonly cooldownMs = 30_000,
  ) {}

  record(gateway: string, ok: boolean): void {
    const s = this.states.get(gateway) ?? { failures: 0, openUntil: 0 }
    if (ok) {
      this.states.delete(gateway)
      return
    }
    s.failures++
    if (s.failures >= this.threshold) s.openUntil = this.clock.now() + this.cooldownMs
    this.states.set(gateway, s)
  }

  isOpen(gateway: string): boolean {
    const s = this.states.get(gateway)
    return s !== undefined && s.openUntil > this.clock.now()
  }

  /** The gateways to try, in order: closed ones first; when every one is open, all of them (better than no call). */
  order<G extends { address: string }>(gateways: readonly G[]): G[] {
    const closed = gateways.filter((g) => !this.isOpen(g.address))
    return closed.length > 0 ? closed : [...gateways]
  }
}
