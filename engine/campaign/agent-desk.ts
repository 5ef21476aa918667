/**
 * What an agent desktop may ask of the running engine for one agent: log in and out, ready, pause, take a preview
 * lead, dial, and control the call the agent is on. The API checks who may act for which agent and validates codes
 * against the site's records; the engine applies each action through the real ACD and telephony port, and refuses
 * what the agent's state or the telephony cannot do with one of the errors below instead of pretending.
 */
import type { LeadStatus } from '../leads/lead.js'
import type { AgentView } from './control.js'
import type { QueueRoute } from './dialer.js'

/**
 * Where a blind transfer sends the customer; the customer id travels with it for the screen pop. A call queue's best
 * ready agent is chosen by the queue's routing (strategy, required skills with their tiers) when the transfer is asked.
 */
export type TransferTarget =
  | { kind: 'agent'; agentId: string }
  | { kind: 'queue'; queue: QueueRoute }
  | { kind: 'number'; number: string }

/** A lead held for one agent to read before dialing (preview mode). */
export interface PreviewOffer {
  campaignId: string
  leadId: string
  phone: string
  customerId?: string
  /** Leads taken and skipped because screening refused them right now (DNC, hours, caps). */
  screenedOut: number
}

export interface ScreenRefusal {
  code: string
  detail: string
}

export interface DialRequest {
  campaignId: string
  number: string
  customerId?: string
}

export interface AgentDesk {
  /** The agent's live state; undefined when the ACD has never seen it. */
  state(agentId: string): Promise<AgentView | undefined>
  /** Known to the ACD with these skills, then logged in (paused 'login', or ready). */
  login(agentId: string, options: { ready: boolean; skills: Record<string, number> }): Promise<AgentView>
  /** The agent's skills changed in its record: routing uses them from now on if the ACD knows the agent. */
  updateSkills(agentId: string, skills: Record<string, number>): Promise<void>
  logout(agentId: string): Promise<AgentView>
  ready(agentId: string): Promise<AgentView>
  /** `code` is already checked against the site's pause codes. */
  pause(agentId: string, code: string): Promise<AgentView>
  /** Take and hold the next dialable lead of a running preview campaign for this agent. */
  preview(agentId: string, campaignId: string): Promise<PreviewOffer | undefined>
  /** The agent confirmed the held preview lead: dial it. */
  dialPreview(agentId: string, leadId: string): Promise<{ callId: string }>
  /** The agent passed on the held preview lead: it goes back to the hopper at once. */
  skipPreview(agentId: string, leadId: string): Promise<void>
  /** Screen a number as the campaign would (DNC, calling hours, invalid numbers); undefined: dialable now. */
  screenNumber(campaignId: string, number: string): Promise<ScreenRefusal | undefined>
  /** Click-to-dial: screened first; a refused number is an AgentDeskScreenedOut. */
  dial(agentId: string, request: DialRequest): Promise<{ callId: string }>
  hangup(agentId: string): Promise<AgentView>
  hold(agentId: string, on: boolean): Promise<AgentView>
  /** Pause (`on` false: card details read out) or resume the recording of the agent's current call. */
  record(agentId: string, on: boolean): Promise<AgentView>
  transfer(agentId: string, target: TransferTarget, customerId?: string): Promise<AgentView>
  /** Attended transfer: the customer holds while the agent talks to another (ready) agent of the site. */
  consult(agentId: string, toAgentId: string): Promise<AgentView>
  /** The consulted agent takes the customer; this agent wraps up. */
  completeConsult(agentId: string, customerId?: string): Promise<AgentView>
  /** Back to the customer; the consulted agent drops out. */
  cancelConsult(agentId: string): Promise<AgentView>
  /**
   * Book a lead's callback (a whole minute, epoch ms) into its campaign's hopper, offered to `ownerAgentId` first or
   * to anyone; the dialer places it at that minute. Refused while the lead is being dialed.
   */
  bookCallback(campaignId: string, leadId: string, at: number, ownerAgentId?: string): Promise<void>
  /**
   * Close a lead for good after a disposition that says so (refused, dnc, done, invalid): it leaves the hopper and is
   * not dialed again by recycling. Refused while the lead is being dialed.
   */
  closeLead(campaignId: string, leadId: string, status: LeadStatus): Promise<void>
}

/**
 * Agents' phones where calls are bridged to a session kept up while the agent is logged in (SIP): the desk opens it
 * at login and closes it at logout. The simulated site has none.
 */
export interface AgentPhones {
  login(agentId: string): void
  logout(agentId: string): Promise<void>
  /** Whether the agent's session is up now (a customer can be bridged to them). */
  isUp(agentId: string): boolean
}

/** The agent's state does not allow the action (ready while on a call, hang up with no call): the API answers 409. */
export class AgentDeskRefused extends Error {
  override name = 'AgentDeskRefused'
}

/** The engine or its telephony cannot do this action (yet): the API answers 501, never a pretend success. */
export class AgentDeskUnsupported extends Error {
  override name = 'AgentDeskUnsupported'
}

/** A transfer to an outside number did not connect (busy, no answer...): the customer is still with the agent. */
export class AgentDeskNotConnected extends Error {
  override name = 'AgentDeskNotConnected'
  constructor(
    /** The port's failure cause (busy, no-answer, invalid-number...). */
    readonly failure: string,
    message: string,
    readonly sipStatus?: number,
  ) {
    super(message)
  }
}

/** A record the action names does not exist for this agent (a call, a lead, a campaign): the API answers 404. */
export class AgentDeskNotFound extends Error {
  override name = 'AgentDeskNotFound'
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${JSON.stringify(id)} does not exist`)
  }
}

/** Screening refused the number (DNC, outside calling hours...): the API answers 422 with the reason. */
export class AgentDeskScreenedOut extends Error {
  override name = 'AgentDeskScreenedOut'
  constructor(readonly refusal: ScreenRefusal) {
    super(`screening refused the number: ${refusal.code} (${refusal.detail})`)
  }
}
