/**
 * A circuit breaker per carrier gateway: after `threshold` consecutive gateway failures of calls (5xx, 408, silence
 * until the ring timeout) the gateway is skipped for `cooldownMs`, then tried again (half-open: one success closes it,
 * one failure opens it for another cooldown). Callee outcomes (busy, invalid, answered) count as the gateway working.
 *
 * OPTIONS health checks (gateway-health.ts) feed recordProbe(): a gateway that does not answer its OPTIONS (the stack
 * retransmitted it for 32 s before giving up with 408) or answers 5xx is down now, so one failed probe opens the
 * breaker, and each further failed probe keeps it open. A probe answered again closes a breaker that probes had
 * opened, without waiting for the cooldown; it does not close one that calls opened, since a gateway can answer
 * OPTIONS while refusing every INVITE.
 */
import type { Clock } from '../../clock.js'

interface State {
  failures: number
  openUntil: number
  openedBy?: 'calls' | 'probe'
}

export class GatewayBreaker {
  private readonly states = new Map<string, State>()

  constructor(
    private readonly clock: Clock,
    readonly threshold = 3,
    readonly cooldownMs = 30_000,
  ) {}

  /** The outcome of a call attempt through the gateway. */
  record(gateway: string, ok: boolean): void {
    const s = this.states.get(gateway) ?? { failures: 0, openUntil: 0 }
    if (ok) {
      this.states.delete(gateway)
      return
    }
    s.failures++
    if (s.failures >= this.threshold) {
      s.openUntil = this.clock.now() + this.cooldownMs
      s.openedBy = 'calls'
    }
    this.states.set(gateway, s)
  }

  /** The outcome of an OPTIONS health check of the gateway. */
  recordProbe(gateway: string, ok: boolean): void {
    const s = this.states.get(gateway)
    if (ok) {
      if (s?.openedBy === 'probe') this.states.delete(gateway)
      return
    }
    const next = s ?? { failures: 0, openUntil: 0 }
    // a breaker opened by calls keeps that reason (only a call success closes it); the probe extends its time
    next.openedBy = next.openUntil > this.clock.now() && next.openedBy === 'calls' ? 'calls' : 'probe'
    next.openUntil = Math.max(next.openUntil, this.clock.now() + this.cooldownMs)
    this.states.set(gateway, next)
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
