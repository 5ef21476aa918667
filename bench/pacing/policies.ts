import { FixedRatioPolicy } from '../../engine/pacing/fixed-ratio.js'
import type { PacingPolicy } from '../../engine/pacing/policy.js'
import { PredictivePolicy, oraclePolicy, type PredictiveOptions } from '../../engine/pacing/predictive.js'
import { ProgressivePolicy } from '../../engine/pacing/progressive.js'
import { VicidialAdaptPolicy } from '../../engine/pacing/vicidial-adapt.js'
import type { Scenario } from '../../engine/telephony/sim/scenario.js'

/** The policies the bench compares, by the short names the command line accepts. */
export const policyNames = ['progressive', 'fixed-ratio', 'vicidial', 'predictive', 'oracle'] as const
export type PolicyName = (typeof policyNames)[number]

/**
 * Fixed ratios tuned on seeds 1001-1003 (never the reported ones): the largest ratio, in steps of 0.05, whose mean
 * daily abandon stayed under 3% in the default scenario at that team size. A scenario may set its own.
 */
export function tunedRatio(agents: number): number {
  const table: [number, number][] = [[5, 1.05], [10, 1.2], [20, 1.4], [50, 1.57], [100, 1.62]]
  let best = table[0]!
  for (const row of table) if (Math.abs(row[0] - agents) < Math.abs(best[0] - agents)) best = row
  return best[1]
}

/** Overrides for the predictive policy and the oracle (for tuning runs: `--predictive-options '{...}'`). */
export type PredictiveOverrides = Partial<PredictiveOptions>

export function makePolicy(name: PolicyName, sc: Scenario, overrides: PredictiveOverrides = {}): { policy: PacingPolicy; clairvoyant: boolean } {
  const spec = sc.spec
  switch (name) {
    case 'progressive':
      return { policy: new ProgressivePolicy(), clairvoyant: false }
    case 'fixed-ratio':
      return { policy: new FixedRatioPolicy(spec.bench.fixedRatio ?? tunedRatio(spec.agents)), clairvoyant: false }
    case 'vicidial': {
      // Latest server time at the end of the shift, as pacing-anchors §4.3 B2 sets it.
      const endMin = Math.round(spec.startHour * 60 + spec.shiftHours * 60) % 1440
      return {
        policy: new VicidialAdaptPolicy({
          mode: 'ADAPT_TAPERED',
          droppedPercentage: spec.abandon.ceiling * 100,
          latestServerTime: Math.floor(endMin / 60) * 100 + (endMin % 60),
          utcOffsetMinutes: spec.utcOffsetMinutes,
        }),
        clairvoyant: false,
      }
    }
    case 'predictive':
      return { policy: new PredictivePolicy(overrides), clairvoyant: false }
    case 'oracle':
      return { policy: oraclePolicy(overrides), clairvoyant: true }
  }
}
