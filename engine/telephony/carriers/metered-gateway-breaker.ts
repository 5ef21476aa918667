/**
 * A GatewayBreaker that also tells the engine metrics about every gateway attempt and exports its open/closed state
 * at each scrape: what the "trunk failing" alert and the SRE dashboard read. Pass it to DrachtioTelephony as
 * `breaker`.
 */
import type { Clock } from '../../clock.js'
import type { EngineMetrics, TrunkGateways } from '../../campaign/metrics.js'
import { GatewayBreaker } from './gateway-breaker.js'

export class MeteredGatewayBreaker extends GatewayBreaker {
  private readonly trunkOf = new Map<string, string>()
  /** Stops exporting the breaker state (the telephony adapter is gone). */
  readonly unwatch: () => void

  constructor(
    clock: Clock,
    private readonly metrics: EngineMetrics,
    trunks: readonly TrunkGateways[],
    threshold?: number,
    cooldownMs?: number,
  ) {
    super(clock, threshold, cooldownMs)
    for (const t of trunks) for (const g of t.gateways) if (!this.trunkOf.has(g.address)) this.trunkOf.set(g.address, t.id)
    this.unwatch = metrics.watchGatewayBreaker(this, trunks)
  }

  override record(gateway: string, ok: boolean): void {
    super.record(gateway, ok)
    // A gateway outside the configured trunks still counts, under trunk "unknown", rather than vanishing.
    this.metrics.gatewayAttempt(this.trunkOf.get(gateway) ?? 'unknown', gateway, ok)
  }
}
