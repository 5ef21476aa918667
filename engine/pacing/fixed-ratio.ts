import { countAgents, type PacingPolicy, type PacingSnapshot } from './policy.js'

/**
 * Fixed ratio with VICIdial RATIO semantics (pacing-anchors §1.2): aim for round(ratio x (ready + talking agents))
 * lines, counting calls in flight and calls with agents. Ratio 1 is progressive.
 */
export class FixedRatioPolicy implements PacingPolicy {
  readonly name: string
  constructor(readonly ratio: number) {
    this.name = `fixed-ratio ${ratio}`
  }
  decide(s: PacingSnapshot): number {
    const c = countAgents(s)
    const agents = c.ready + c['on-call'] + c.reserved
    return Math.round(this.ratio * agents) - (s.calls.length + c['on-call'] + c.reserved)
  }
}
