import { sample } from '../../random/distribution.js'
import type { Rng } from '../../random/rng.js'
import type { Scenario } from './scenario.js'

/**
 * Simulated agent behaviour: how long a bridged call lasts, how long wrap-up takes, when breaks come. Used by the
 * simulated site and by the live campaign loop running on SimTelephony (which asks, for a bridged call, when it
 * ends and when the agent's wrap-up finishes).
 */
export class SimAgents {
  constructor(
    private readonly scenario: Scenario,
    private readonly rng: Rng,
  ) {}

  /** Length of a bridged call, ms: a conversation with a person, or an agent dealing with a machine. */
  callDurationMs(kind: 'human' | 'machine'): number {
    return Math.max(1000, sample(kind === 'human' ? this.scenario.talk : this.scenario.amHandling, this.rng) * 1000)
  }

  /** Wrap-up after a call, ms (none after a machine). */
  wrapUpMs(kind: 'human' | 'machine'): number {
    return kind === 'human' ? Math.max(0, sample(this.scenario.wrap, this.rng) * 1000) : 0
  }

  /** Who hangs up a finished conversation (for the port's `ended` event). */
  endedBy(): 'customer' | 'agent' {
    return this.rng.chance(0.6) ? 'customer' : 'agent'
  }

  /** Time to the agent's next break from now, ms; undefined when the scenario has no breaks. */
  nextBreakInMs(): number | undefined {
    const b = this.scenario.spec.agentBehaviour.breaks
    if (b === null || b.perHour <= 0) return undefined
    return (-Math.log(this.rng.nextOpen()) / b.perHour) * 3_600_000
  }

  breakDurationMs(): number {
    const d = this.scenario.breakDuration
    return d ? Math.max(0, sample(d, this.rng) * 1000) : 0
  }
}
