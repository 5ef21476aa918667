import type { AgentState } from '../acd/agent-state.js'
import type { AbandonStatus } from './abandon.js'
import type { PacingModel } from './model.js'

/**
 * The one interface every pacing policy implements, and the snapshot it decides from.
 *
 * The campaign loop (live: engine/campaign/, simulated: engine/telephony/sim/) builds a PacingSnapshot about once a
 * second (and may also do so when an agent frees up), calls `callsToPlace(policy, snapshot)` and places that many
 * calls. Policies are plain objects with at most a little internal state (a controller's level); they never read a
 * clock or do I/O: `now` and everything else arrive in the snapshot, so the same code runs live and in the simulator.
 */

export interface AgentView {
  id: string
  /** engine/acd/agent-state.ts: `ready` is free now; `on-call` and `wrap-up` free up later; `reserved` is taken. */
  state: AgentState
  /** When the agent entered `state` (epoch ms). */
  sinceMs: number
  /**
   * Exact remaining talk time of an on-call agent. Only the simulator knows it; only the oracle reads it. Live code
   * leaves it undefined.
   */
  remainingTalkMs?: number
}

/** An outbound call placed and not yet with an agent. */
export interface CallView {
  id: string
  dialedAt: number
  /** `ringing`: not answered yet; `amd`: answered, detection running; `waiting`: needs an agent, none yet. */
  phase: 'ringing' | 'amd' | 'waiting'
  answeredAt?: number
}

export interface PacingCaps {
  /** Concurrent lines (calls placed and not ended, connected ones included) per logged-in, unpaused agent. */
  linesPerAgent: number
  /** Concurrent lines for the whole campaign. */
  campaignLines: number
  /** Channels on the trunk available to this campaign. */
  trunkChannels: number
  /** New calls per second on the trunk. */
  trunkCps: number
}

export interface PacingSnapshot {
  now: number
  agents: AgentView[]
  calls: CallView[]
  /** Channels in use now: calls in `calls` plus calls bridged to agents. */
  linesInUse: number
  /** Calls placed in the last 1000 ms (for the CPS cap). */
  dialsLastSecond: number
  /** What the estimators believe (or, for the oracle, the truth). */
  model: PacingModel
  abandon: AbandonStatus
  /** FCC-style ceiling for the day and the 30 days, e.g. 0.03. */
  abandonCeiling: number
  /** Ceiling for any rolling hour, e.g. 0.04. */
  hourCeiling: number
  caps: PacingCaps
}

export interface PacingPolicy {
  readonly name: string
  /** How many new calls to place now (before caps). */
  decide(snapshot: PacingSnapshot): number
}

export const defaultCaps: PacingCaps = { linesPerAgent: 3, campaignLines: 10_000, trunkChannels: 10_000, trunkCps: 1_000 }

/** Agents who count for line caps: logged in and not paused. */
export function activeAgents(s: PacingSnapshot): number {
  let n = 0
  for (const a of s.agents) if (a.state !== 'logged-out' && a.state !== 'paused') n++
  return n
}

/** The most calls any policy may place now under the caps. */
export function capRoom(s: PacingSnapshot): number {
  const c = s.caps
  const lines = Math.min(Math.floor(c.linesPerAgent * activeAgents(s)), c.campaignLines, c.trunkChannels)
  return Math.max(0, Math.min(lines - s.linesInUse, Math.floor(c.trunkCps) - s.dialsLastSecond))
}

/** The policy's answer, made a whole number and cut to the caps. The only way callers should ask a policy. */
export function callsToPlace(policy: PacingPolicy, s: PacingSnapshot): number {
  const n = policy.decide(s)
  if (!Number.isFinite(n) || n <= 0) return 0
  return Math.min(Math.floor(n), capRoom(s))
}

export function countAgents(s: PacingSnapshot): Record<AgentState, number> {
  const out: Record<AgentState, number> = { 'logged-out': 0, ready: 0, reserved: 0, 'on-call': 0, 'wrap-up': 0, paused: 0 }
  for (const a of s.agents) out[a.state]++
  return out
}
