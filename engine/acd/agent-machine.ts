/**
 * The agent state machine, pure: an agent plus an event gives the next agent or a refusal. Time comes from the
 * events (`at`, from the injected Clock), never from the wall clock. Legal moves:
 *
 *   logged-out --login--> paused('login') or ready
 *   ready <--ready/pause--> paused (with a reason code)
 *   ready --reserve(call)--> reserved --answer--> on-call --hangup--> wrap-up --ready/pause--> ready | paused
 *   reserved --reserve-cancel--> ready          (the call went away before the agent answered)
 *   reserved --reserve-timeout--> paused('no-answer')   (invariant 3: never lost, made not-ready)
 *   ready | paused | wrap-up --logout--> logged-out
 *
 * An agent holds at most one call: only a ready agent can be reserved, and only the call it holds can move it.
 * Time spent in each state and per-agent call stats accumulate as the agent moves.
 */
import type { AgentState } from './agent-state.js'

/** Well-known pause reasons; sites may add their own codes. */
export const PauseReasons = ['login', 'break', 'lunch', 'training', 'meeting', 'no-answer'] as const
export type PauseReason = (typeof PauseReasons)[number] | (string & {})

export interface AgentStats {
  /** Calls answered by the agent. */
  calls: number
  talkMs: number
  wrapUpMs: number
  /** Reservations the agent let time out. */
  noAnswers: number
  /** Time spent in each state, closed spans only (see `timeInState` for the open one). */
  timeInState: Record<AgentState, number>
}

export interface Agent {
  id: string
  state: AgentState
  /** When the agent entered `state` (epoch ms); for a ready agent, the start of its idle time. */
  since: number
  /** The call the agent is reserved for, on, or wrapping up. */
  callId?: string
  pauseReason?: PauseReason
  lastCallEndedAt?: number
  stats: AgentStats
}

export type AgentEvent =
  | { type: 'login'; at: number; ready?: boolean }
  | { type: 'ready'; at: number }
  | { type: 'pause'; at: number; reason: PauseReason }
  | { type: 'reserve'; at: number; callId: string }
  | { type: 'answer'; at: number; callId: string }
  | { type: 'reserve-cancel'; at: number; callId: string }
  | { type: 'reserve-timeout'; at: number; callId: string }
  | { type: 'hangup'; at: number; callId: string }
  | { type: 'logout'; at: number }

export type AgentEventType = AgentEvent['type']

export type TransitionResult = { ok: true; agent: Agent } | { ok: false; agent: Agent; error: string }

function zeroTimes(): Record<AgentState, number> {
  return { 'logged-out': 0, ready: 0, reserved: 0, 'on-call': 0, 'wrap-up': 0, paused: 0 }
}

export function newAgent(id: string, at: number): Agent {
  return {
    id,
    state: 'logged-out',
    since: at,
    stats: { calls: 0, talkMs: 0, wrapUpMs: 0, noAnswers: 0, timeInState: zeroTimes() },
  }
}

/** Time in each state up to `now`, the current open span included. */
export function timeInState(agent: Agent, now: number): Record<AgentState, number> {
  const t = { ...agent.stats.timeInState }
  t[agent.state] += Math.max(0, now - agent.since)
  return t
}

/** Which events the agent's state accepts (the call-bound ones still need the agent's own callId). */
export const LEGAL: Readonly<Record<AgentState, readonly AgentEventType[]>> = {
  'logged-out': ['login'],
  ready: ['pause', 'reserve', 'logout', 'ready'],
  paused: ['ready', 'pause', 'logout'],
  reserved: ['answer', 'reserve-cancel', 'reserve-timeout'],
  'on-call': ['hangup'],
  'wrap-up': ['ready', 'pause', 'logout'],
}

function moveTo(agent: Agent, state: AgentState, at: number, patch: Partial<Agent> = {}): Agent {
  const timeInState = { ...agent.stats.timeInState }
  timeInState[agent.state] += at - agent.since
  const next: Agent = { ...agent, ...patch, state, since: at, stats: { ...agent.stats, ...patch.stats, timeInState } }
  if (state !== 'paused') delete next.pauseReason
  if (state === 'ready' || state === 'paused' || state === 'logged-out') delete next.callId
  return next
}

export function applyEvent(agent: Agent, event: AgentEvent): TransitionResult {
  const refuse = (error: string): TransitionResult => ({ ok: false, agent, error: `agent ${agent.id}: ${error}` })
  if (!Number.isFinite(event.at)) return refuse(`event ${event.type} has no valid time`)
  if (event.at < agent.since) return refuse(`event ${event.type} at ${event.at} is before the state began`)
  if (!LEGAL[agent.state].includes(event.type)) return refuse(`${event.type} is not allowed while ${agent.state}`)
  if ('callId' in event && agent.state !== 'ready' && event.callId !== agent.callId) {
    return refuse(`${event.type} for call ${event.callId}, but the agent holds ${agent.callId ?? 'none'}`)
  }
  const s = agent.stats
  switch (event.type) {
    case 'login':
      return {
        ok: true,
        agent: event.ready ? moveTo(agent, 'ready', event.at) : moveTo(agent, 'paused', event.at, { pauseReason: 'login' }),
      }
    case 'ready':
      // ready while ready is a no-op that keeps the idle start.
      if (agent.state === 'ready') return { ok: true, agent }
      return { ok: true, agent: moveTo(agent, 'ready', event.at, wrapUpPatch(agent, event.at)) }
    case 'pause':
      if (!event.reason) return refuse('a pause needs a reason code')
      return { ok: true, agent: moveTo(agent, 'paused', event.at, { ...wrapUpPatch(agent, event.at), pauseReason: event.reason }) }
    case 'logout':
      return { ok: true, agent: moveTo(agent, 'logged-out', event.at, wrapUpPatch(agent, event.at)) }
    case 'reserve':
      if (!event.callId) return refuse('a reservation needs a call id')
      return { ok: true, agent: moveTo(agent, 'reserved', event.at, { callId: event.callId }) }
    case 'answer':
      return { ok: true, agent: moveTo(agent, 'on-call', event.at, { stats: { ...s, calls: s.calls + 1 } }) }
    case 'reserve-cancel':
      return { ok: true, agent: moveTo(agent, 'ready', event.at) }
    case 'reserve-timeout':
      return {
        ok: true,
        agent: moveTo(agent, 'paused', event.at, {
          pauseReason: 'no-answer',
          stats: { ...s, noAnswers: s.noAnswers + 1 },
        }),
      }
    case 'hangup':
      return {
        ok: true,
        agent: moveTo(agent, 'wrap-up', event.at, {
          lastCallEndedAt: event.at,
          stats: { ...s, talkMs: s.talkMs + (event.at - agent.since) },
        }),
      }
  }
}

function wrapUpPatch(agent: Agent, at: number): Partial<Agent> {
  if (agent.state !== 'wrap-up') return {}
  return { stats: { ...agent.stats, wrapUpMs: agent.stats.wrapUpMs + (at - agent.since) } }
}
