/**
 * What the API (and the CLI) may ask of the running engine about campaigns and agents. The engine implements it;
 * api/ depends only on this interface, never on engine internals.
 */
import type { AgentState } from '../acd/agent-state.js'
import type { AgentDesk } from './agent-desk.js'
import type { Supervision } from '../telephony/supervisor/supervision.js'

export const DialModes = ['preview', 'progressive', 'predictive'] as const
export type DialMode = (typeof DialModes)[number]

export type CampaignRunState = 'stopped' | 'running' | 'paused'

/** Live figures of one campaign, as shown to supervisors and exported as metrics. */
export interface CampaignFigures {
  campaignId: string
  state: CampaignRunState
  dialMode: DialMode
  linesInFlight: number
  agents: Record<AgentState, number>
  dialsToday: number
  liveAnswersToday: number
  machinesToday: number
  abandonsToday: number
  /** Abandon ratios over the campaign's windows; denominator named (e.g. 'live-answers'). */
  abandonRatio: { day: number; rolling30d: number; worstRollingHour: number; denominator: string }
  /** The pacing policy's current view, for humans: lines per agent it is running at. */
  dialRatio: number
  hopperSize: number
}

export interface AgentView {
  agentId: string
  name: string
  state: AgentState
  since: number
  pauseReason?: string
  callId?: string
}

export interface CampaignControl {
  start(campaignId: string): Promise<void>
  pause(campaignId: string): Promise<void>
  stop(campaignId: string): Promise<void>
  figures(campaignId: string): Promise<CampaignFigures | undefined>
  agents(campaignId?: string): Promise<AgentView[]>
  /** Agents' own actions (log in, ready, pause, call control); absent, the API's desk routes answer 503. */
  readonly desk?: AgentDesk
  /** Listening to (whispering to, barging into) live calls; absent (no SIP engine here), no call is live to a supervisor. */
  readonly supervision?: Supervision
}

/** The engine refuses a control request for a reason the caller can act on (the API answers 409). */
export class CampaignControlRefused extends Error {
  override name = 'CampaignControlRefused'
}
