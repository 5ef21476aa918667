import { countAgents, type PacingPolicy, type PacingSnapshot } from './policy.js'

/**
 * Progressive (power) dialing: at most one call in flight per ready agent, so every answer has an agent waiting for
 * it. Agents sit idle for every ring and every unanswered call.
 */
export class ProgressivePolicy implements PacingPolicy {
  readonly name = 'progressive'
  decide(s: PacingSnapshot): number {
    return countAgents(s).ready - s.calls.length
  }
}
