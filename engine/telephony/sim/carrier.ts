import { sample } from '../../random/distribution.js'
import type { Rng } from '../../random/rng.js'
import { outcomeMixAt, type Scenario } from './scenario.js'

/**
 * The simulated carrier and the people (or machines) at the numbers it reaches: draws, at dial time, what will
 * happen to a call. All times in ms relative to the dial.
 */
export type TrueOutcome = 'human' | 'machine' | 'busy' | 'invalid' | 'no-answer'

export interface DialFate {
  outcome: TrueOutcome
  /** When the call is answered (human/machine) or fails (others), ms after the dial. */
  afterMs: number
  /** With AMD on, for answered calls: what AMD will say and when (ms after answer). */
  amd?: { saysHuman: boolean; delayMs: number }
  /** How long a person waits for an agent before hanging up (ms); humans only. */
  patienceMs?: number
}

export class SimCarrier {
  constructor(
    private readonly scenario: Scenario,
    private readonly rng: Rng,
    /** Epoch ms of the start of the current shift (the answer rate is a function of time into the shift). */
    public shiftStartMs: number,
  ) {}

  dial(atMs: number, amd: boolean = this.scenario.spec.amd.enabled): DialFate {
    const sc = this.scenario
    const spec = sc.spec
    const mix = outcomeMixAt(spec, (atMs - this.shiftStartMs) / 1000)
    const timeoutMs = spec.carrier.ringTimeoutS * 1000
    const r = this.rng.next()
    let outcome: TrueOutcome
    if (r < mix.human) outcome = 'human'
    else if (r < mix.human + mix.machine) outcome = 'machine'
    else if (r < mix.human + mix.machine + mix.busy) outcome = 'busy'
    else if (r < mix.human + mix.machine + mix.busy + mix.invalid) outcome = 'invalid'
    else outcome = 'no-answer'
    if (outcome === 'busy') return { outcome, afterMs: sample(sc.ring.busy, this.rng) * 1000 }
    if (outcome === 'invalid') return { outcome, afterMs: sample(sc.ring.invalid, this.rng) * 1000 }
    if (outcome === 'no-answer') return { outcome, afterMs: timeoutMs }
    const ringMs = sample(outcome === 'human' ? sc.ring.human : sc.ring.machine, this.rng) * 1000
    if (ringMs >= timeoutMs) return { outcome: 'no-answer', afterMs: timeoutMs }
    const fate: DialFate = { outcome, afterMs: Math.max(100, ringMs) }
    if (amd) {
      const human = outcome === 'human'
      const saysHuman = human ? !this.rng.chance(spec.amd.falsePositive) : this.rng.chance(spec.amd.falseNegative)
      // AMD's timing follows what it decides (a short greeting reads as a person).
      const delay = sample(saysHuman ? sc.amdHumanDelay : sc.amdMachineDelay, this.rng) * 1000
      fate.amd = { saysHuman, delayMs: delay }
    }
    if (outcome === 'human') fate.patienceMs = sample(sc.patience, this.rng) * 1000
    return fate
  }
}
