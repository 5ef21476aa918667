/**
 * Routing strategies, pure: given the ready agents and a call's needs, who gets the call. Owner first (sticky):
 * the customer's owning agent takes the call when ready; otherwise (unless the call is owner-only) the strategy
 * picks among agents with the required skill, best tier first (tier 1 beats tier 2), then by the strategy's
 * measure, then longest idle, then agent id, so every engine and the Redis script (reserve-agent.lua) agree.
 * A call queue may require several skills, each with the worst tier it still accepts: an agent lacking one, or below
 * its tier, is never chosen, and an agent's tier for the call is its worst over the required skills.
 */

export const RoutingStrategies = ['longest-idle', 'fewest-calls', 'least-talk-time'] as const
export type RoutingStrategy = (typeof RoutingStrategies)[number]

export interface RoutingCandidate {
  agentId: string
  /** When the agent became ready (start of idle time). */
  readySince: number
  calls: number
  talkMs: number
  /** Skill name -> tier (1 is the best tier). */
  skills?: Readonly<Record<string, number>>
}

export interface RoutingRequest {
  strategy: RoutingStrategy
  /** Required skill; candidates without it are never chosen. */
  skill?: string
  /** Required skills -> the worst tier accepted for each (a call queue's needs), with `skill` if both are given. */
  skills?: Readonly<Record<string, number>>
  /** The customer's owning agent: chosen first when among the candidates. */
  ownerAgentId?: string
  /** Only the owner may take the call (an owned callback inside its grace). */
  ownerOnly?: boolean
}

function measure(c: RoutingCandidate, strategy: RoutingStrategy): number {
  switch (strategy) {
    case 'longest-idle':
      return c.readySince
    case 'fewest-calls':
      return c.calls
    case 'least-talk-time':
      return c.talkMs
  }
}

/** Candidates able to take the call, best first (the owner, if present, is handled by chooseAgent). */
export function rankAgents(candidates: readonly RoutingCandidate[], request: RoutingRequest): RoutingCandidate[] {
  const needs: [string, number][] = Object.entries(request.skills ?? {})
  if (request.skill !== undefined) needs.push([request.skill, Infinity])
  const tierOf = (c: RoutingCandidate): number | undefined => {
    let worst = 0
    for (const [skill, maxTier] of needs) {
      const tier = c.skills?.[skill]
      if (tier === undefined || tier > maxTier) return undefined
      worst = Math.max(worst, tier)
    }
    return worst
  }
  return candidates
    .filter((c) => tierOf(c) !== undefined)
    .sort(
      (a, b) =>
        tierOf(a)! - tierOf(b)! ||
        measure(a, request.strategy) - measure(b, request.strategy) ||
        a.readySince - b.readySince ||
        (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0),
    )
}

export function chooseAgent(candidates: readonly RoutingCandidate[], request: RoutingRequest): string | undefined {
  if (request.ownerAgentId !== undefined) {
    const owner = candidates.find((c) => c.agentId === request.ownerAgentId)
    if (owner) return owner.agentId
    if (request.ownerOnly) return undefined
  }
  return rankAgents(candidates, request)[0]?.agentId
}
