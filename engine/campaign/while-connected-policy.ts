/**
 * A pacing policy that asks for no new calls while the site's signalling is down (drachtio lost): the dialer then
 * takes no lead from the hopper at all, instead of taking leads only to have every originate refused and recorded
 * as a failed attempt. The wrapped policy decides as usual once the connection is back.
 */
import type { PacingPolicy, PacingSnapshot } from '../pacing/policy.js'

export class WhileConnectedPolicy implements PacingPolicy {
  readonly name: string

  constructor(
    private readonly inner: PacingPolicy,
    private readonly connected: () => boolean,
  ) {
    this.name = inner.name
  }

  decide(snapshot: PacingSnapshot): number {
    return this.connected() ? this.inner.decide(snapshot) : 0
  }
}
