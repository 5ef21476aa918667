import type { Distribution } from '../random/distribution.js'

/**
 * What a pacing policy believes about the campaign right now: outcome mix of a dial placed now, ring times to answer,
 * talk / wrap-up / answering-machine handling times, AMD behaviour. The estimators produce it from events; the
 * simulator produces the true one for the oracle. Durations are in seconds.
 */
export interface DialOutcomeMix {
  human: number
  machine: number
  busy: number
  invalid: number
  noAnswer: number
}

export interface PacingModel {
  outcomes: DialOutcomeMix
  /** Time from dial to answer, for calls that a human / a machine answers (before the ring timeout). */
  ringTime: { human: Distribution; machine: Distribution }
  /** Mean time from dial to the failure signal for busy and invalid numbers. */
  failTimeS: { busy: number; invalid: number }
  ringTimeoutS: number
  talk: Distribution
  wrap: Distribution
  /** Agent time spent on an answering machine that reached them (AMD off, or an AMD false negative). */
  amHandling: Distribution
  amd: {
    enabled: boolean
    /** Time from answer to the AMD decision. */
    humanDelay: Distribution
    machineDelay: Distribution
    /** P(AMD says machine | human): these calls are hung up, and count under Ofcom-style accounting. */
    falsePositive: number
    /** P(AMD says human | machine): these reach an agent. */
    falseNegative: number
  }
  /** An answered call that waits longer than this for an agent is abandoned (FCC/Ofcom: 2 s). */
  dropAfterS: number
}

/** Probability that a dial placed now ends up needing an agent (a person, or a machine AMD let through). */
export function demandChance(m: PacingModel): { human: number; machine: number } {
  const fp = m.amd.enabled ? m.amd.falsePositive : 0
  const fn = m.amd.enabled ? m.amd.falseNegative : 1
  return { human: m.outcomes.human * (1 - fp), machine: m.outcomes.machine * fn }
}
