/**
 * The engine's AgentDesk: agents' state changes go through the real ACD (RedisAcd runs the pure agent machine and
 * stores the result atomically), call control goes to the telephony port for the call this engine instance holds,
 * screening is the campaign's own (DNC, calling hours, learned-invalid numbers), and callbacks are booked into the
 * campaign's Redis hopper so the dialer offers them at the minute (the API records the disposition itself). What the campaign loop cannot do yet (dial a
 * number or a previewed lead for one agent, move a bridged call to another agent, queue or number) is refused with
 * AgentDeskUnsupported, which the API turns into a 501, never a pretend success.
 */
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { Agent, AgentEvent } from '../acd/agent-machine.js'
import type { Lead, LeadStatus } from '../leads/lead.js'
import { maskPhone } from '../leads/lead.js'
import type { RedisAcd, StoredAgent } from '../store/redis/redis-acd.js'
import type { RedisHopper } from '../store/redis/redis-hopper.js'
import type { Campaign } from '../store/sql/campaigns.js'
import type { Repositories } from '../store/sql/repositories.js'
import type { TelephonyPort } from '../telephony/port.js'
import { OutsideTransferFailed } from '../telephony/outside-transfer-failed.js'
import {
  AgentDeskNotConnected,
  AgentDeskNotFound,
  AgentDeskRefused,
  AgentDeskScreenedOut,
  AgentDeskUnsupported,
  type AgentDesk,
  type AgentPhones,
  type DialRequest,
  type PreviewOffer,
  type ScreenRefusal,
  type TransferTarget,
} from './agent-desk.js'
import type { AgentView } from './control.js'
import type { CampaignDialer, Screener, ScreenVerdict, TransferTo } from './dialer.js'
import type { HopperLeadSupply } from './hopper-lead-supply.js'

/** A campaign this instance runs: its lead supply (leases held here) for preview. */
export interface DeskCampaign {
  campaign: Campaign
  supply: HopperLeadSupply
  /** Its campaign loop: places the calls agents start themselves (preview dial). */
  dialer: Pick<CampaignDialer, 'dialFor'>
}

export interface EngineAgentDeskOptions {
  clock: Clock
  acd: RedisAcd
  port: TelephonyPort
  repos: Repositories
  logger: Logger
  /** The campaign if this instance runs it. */
  running(campaignId: string): DeskCampaign | undefined
  /** The campaign's Redis hopper (the running one's, or one made for this booking). */
  hopperFor(campaign: Campaign): RedisHopper
  /** The campaign's screening, as its dialer screens. */
  screenerFor(campaign: Campaign): Screener
  /** Whether this instance's campaign loops hold the call (call control reaches only calls held here). */
  holdsCall(callId: string): boolean
  /** Tell the campaign loops an agent became ready (a call may be waiting for one). */
  agentReady(agentId: string): Promise<void>
  /**
   * Blind-transfer a call held here to another agent or a queue's best ready agent (a TransferRefused when it cannot):
   * false when no loop holds it.
   */
  transfer(callId: string, to: TransferTo, customerId?: string): Promise<boolean>
  /** Blind-transfer a call held here to an outside number (E.164) the same way. */
  transferOut(callId: string, number: string, customerId?: string): Promise<boolean>
  /** The attended-transfer steps, the same way. */
  consult(callId: string, toAgentId: string): Promise<boolean>
  completeConsult(callId: string, customerId?: string): Promise<boolean>
  cancelConsult(callId: string): Promise<boolean>
  /** The agents' phone sessions (SIP), opened at login and closed at logout. */
  phones?: AgentPhones
}

/** How many screened-out leads one preview request skips before it reports that nothing is dialable now. */
const MaxPreviewSkips = 20

interface HeldPreview {
  lead: Lead
  supply: HopperLeadSupply
}

/** The campaign loop's refusal of an agent-bound dial, as the desk reports it: screened out (422) or refused (409). */
function deskError(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'AgentBoundRefused') return err
  const code = (err as Error & { screening?: string }).screening
  return code !== undefined ? new AgentDeskScreenedOut({ code, detail: err.message }) : new AgentDeskRefused(err.message)
}

export class EngineAgentDesk implements AgentDesk {
  private readonly previews = new Map<string, HeldPreview>()
  private readonly log: Logger

  constructor(private readonly o: EngineAgentDeskOptions) {
    this.log = o.logger.child({ component: 'agent-desk' })
  }

  async state(agentId: string): Promise<AgentView | undefined> {
    const stored = await this.o.acd.get(agentId)
    return stored && this.view(stored)
  }

  async login(agentId: string, options: { ready: boolean; skills: Record<string, number> }): Promise<AgentView> {
    const now = this.o.clock.now()
    await this.o.acd.register(agentId, now, options.skills)
    const phones = this.o.phones
    // With phone sessions, an agent is ready only once their phone is up: a customer routed to an agent without one
    // could not be bridged and would be abandoned. Until then the agent waits paused 'phone-down'; the SIP engine
    // makes them ready when the session comes up.
    const waitForPhone = phones !== undefined && options.ready && !phones.isUp(agentId)
    let view = await this.apply(agentId, { type: 'login', at: now, ready: options.ready && !waitForPhone })
    if (waitForPhone) view = await this.apply(agentId, { type: 'pause', at: now, reason: 'phone-down' })
    phones?.login(agentId)
    if (options.ready && !waitForPhone) await this.o.agentReady(agentId)
    return view
  }

  async updateSkills(agentId: string, skills: Record<string, number>): Promise<void> {
    // An agent the ACD has never seen gets its skills at login; registering it here would only add a logged-out hash.
    if (!(await this.o.acd.get(agentId))) return
    await this.o.acd.register(agentId, this.o.clock.now(), skills)
  }

  async logout(agentId: string): Promise<AgentView> {
    this.releasePreviewQuietly(agentId)
    const view = await this.apply(agentId, { type: 'logout', at: this.o.clock.now() })
    await this.o.phones?.logout(agentId)
    return view
  }

  async ready(agentId: string): Promise<AgentView> {
    if (this.o.phones !== undefined && !this.o.phones.isUp(agentId)) {
      throw new AgentDeskRefused(`agent ${agentId}'s phone is not connected: a customer could not be put through`)
    }
    const view = await this.apply(agentId, { type: 'ready', at: this.o.clock.now() })
    await this.o.agentReady(agentId)
    return view
  }

  async pause(agentId: string, code: string): Promise<AgentView> {
    return this.apply(agentId, { type: 'pause', at: this.o.clock.now(), reason: code })
  }

  async preview(agentId: string, campaignId: string): Promise<PreviewOffer | undefined> {
    const agent = await this.known(agentId)
    if (agent.state === 'logged-out') throw new AgentDeskRefused(`agent ${agentId} is logged out`)
    if (agent.state === 'reserved' || agent.state === 'on-call') throw new AgentDeskRefused(`agent ${agentId} is ${agent.state}`)
    const held = this.previews.get(agentId)
    if (held) {
      if (held.lead.campaignId !== campaignId) {
        throw new AgentDeskRefused(`agent ${agentId} holds lead ${held.lead.id} of campaign ${held.lead.campaignId}: dial or skip it first`)
      }
      return this.offer(held.lead, 0)
    }
    const r = this.o.running(campaignId)
    if (!r) throw new AgentDeskRefused(`campaign ${campaignId} is not running on this engine`)
    if (r.campaign.settings.dialMode !== 'preview') {
      throw new AgentDeskRefused(`campaign ${campaignId} dials in ${r.campaign.settings.dialMode} mode; preview needs a preview campaign`)
    }
    const screener = this.o.screenerFor(r.campaign)
    let skipped = 0
    for (;;) {
      const now = this.o.clock.now()
      const lead = await r.supply.take(campaignId, now)
      if (!lead) return undefined
      const verdict = await screener.screen(lead, now)
      if (verdict.ok) {
        const ready: Lead = { ...lead, e164: verdict.e164 }
        this.previews.set(agentId, { lead: ready, supply: r.supply })
        this.log.info({ agentId, campaignId, leadId: lead.id, phone: maskPhone(verdict.e164) }, 'preview lead held for agent')
        return this.offer(ready, skipped)
      }
      await r.supply.park(lead, now, verdict.code, verdict.retryAt)
      if (++skipped >= MaxPreviewSkips) return undefined
    }
  }

  async dialPreview(agentId: string, leadId: string): Promise<{ callId: string }> {
    const held = this.previews.get(agentId)
    if (!held || held.lead.id !== leadId) throw new AgentDeskNotFound('preview lead', leadId)
    const r = this.o.running(held.lead.campaignId)
    if (!r) throw new AgentDeskRefused(`campaign ${held.lead.campaignId} is not running on this engine instance; the lead stays held for you`)
    try {
      const callId = await r.dialer.dialFor(agentId, held.lead)
      // the call owns the lead's lease now: it returns to the hopper with the call's outcome
      this.previews.delete(agentId)
      this.log.info({ agentId, callId, leadId }, 'preview lead dialed by the agent')
      return { callId }
    } catch (err) {
      throw deskError(err)
    }
  }

  async skipPreview(agentId: string, leadId: string): Promise<void> {
    const held = this.previews.get(agentId)
    if (!held || held.lead.id !== leadId) throw new AgentDeskNotFound('preview lead', leadId)
    this.previews.delete(agentId)
    const now = this.o.clock.now()
    // Parked until now: dialable again at once, for another agent or later.
    await held.supply.park(held.lead, now, 'preview-skipped', now)
  }

  async screenNumber(campaignId: string, number: string): Promise<ScreenRefusal | undefined> {
    const verdict = (await this.screenAsked(campaignId, number, this.o.clock.now())).verdict
    return verdict.ok ? undefined : { code: verdict.code, detail: verdict.detail }
  }

  /** A number an agent asked for, screened as the campaign would screen a fresh lead with it. */
  private async screenAsked(campaignId: string, number: string, now: number): Promise<{ campaign: Campaign; verdict: ScreenVerdict }> {
    const campaign = await this.o.repos.campaigns.get(campaignId)
    if (!campaign) throw new AgentDeskNotFound('campaign', campaignId)
    const lead: Lead = { id: 'click-to-dial', campaignId, phone: number, status: 'new', attemptTimes: [] }
    return { campaign, verdict: await this.o.screenerFor(campaign).screen(lead, now) }
  }

  /**
   * Click-to-dial: the number becomes (or is found as) a lead of the campaign, is taken from the hopper by name (so
   * no predictive dial can have it at the same time, and its attempts count against its caps like any lead's), and is
   * dialed as a preview lead is: screened again at dial, the agent on the call from the dial, no AMD, never an abandon.
   */
  async dial(agentId: string, request: DialRequest): Promise<{ callId: string }> {
    const agent = await this.known(agentId)
    if (agent.state === 'logged-out' || agent.state === 'reserved' || agent.state === 'on-call') {
      throw new AgentDeskRefused(`agent ${agentId} is ${agent.state}: dialing needs an agent logged in and free`)
    }
    const now = this.o.clock.now()
    const { campaign, verdict: first } = await this.screenAsked(request.campaignId, request.number, now)
    if (!first.ok) throw new AgentDeskScreenedOut({ code: first.code, detail: first.detail })
    const r = this.o.running(campaign.id)
    if (!r) throw new AgentDeskRefused(`campaign ${campaign.id} is not running on this engine instance`)
    const leads = this.o.repos.leads
    let lead = await leads.findByNumber(campaign.id, first.e164)
    if (!lead) {
      await leads.insertMany(campaign.id, [{ phone: request.number, e164: first.e164, ...(request.customerId !== undefined ? { customerId: request.customerId } : {}) }])
      // inserted, or another request inserted it first: found either way
      lead = await leads.findByNumber(campaign.id, first.e164)
      if (!lead) throw new Error(`click-to-dial: lead for ${maskPhone(first.e164)} neither inserted nor found`)
    }
    const claimed = await r.supply.claim(lead, now)
    if (claimed === 'in-flight') throw new AgentDeskRefused('this number is on a call already')
    if (claimed === 'done') throw new AgentDeskRefused(`lead ${lead.id} is closed for campaign ${campaign.id} (contacted, refused or do-not-call)`)
    try {
      const callId = await r.dialer.dialFor(agentId, { ...claimed, e164: claimed.e164 ?? first.e164 })
      this.log.info({ agentId, callId, leadId: lead.id, phone: maskPhone(first.e164) }, 'click-to-dial: number dialed by the agent')
      return { callId }
    } catch (err) {
      // not placed: the lead goes back, dialable again at once (for this agent or the campaign)
      await r.supply.park(claimed, this.o.clock.now(), 'click-to-dial-refused', this.o.clock.now())
      throw deskError(err)
    }
  }

  async hangup(agentId: string): Promise<AgentView> {
    const callId = await this.callOf(agentId, 'hang up')
    await this.telephony(() => this.o.port.hangup(callId, 'agent-hangup'))
    this.log.info({ agentId, callId }, 'agent hung up')
    return this.current(agentId)
  }

  async hold(agentId: string, on: boolean): Promise<AgentView> {
    const callId = await this.callOf(agentId, on ? 'hold' : 'unhold')
    await this.telephony(() => this.o.port.hold(callId, on))
    return this.current(agentId)
  }

  async consult(agentId: string, toAgentId: string): Promise<AgentView> {
    const callId = await this.callOf(agentId, 'consult')
    if (toAgentId === agentId) throw new AgentDeskRefused(`agent ${agentId} already has call ${callId}`)
    await this.loopStep(callId, () => this.o.consult(callId, toAgentId))
    this.log.info({ agentId, callId, toAgentId }, 'consultation started by the agent')
    return this.current(agentId)
  }

  async completeConsult(agentId: string, customerId?: string): Promise<AgentView> {
    const callId = await this.callOf(agentId, 'complete the consultation of')
    await this.loopStep(callId, () => this.o.completeConsult(callId, customerId))
    return this.current(agentId)
  }

  async cancelConsult(agentId: string): Promise<AgentView> {
    const callId = await this.callOf(agentId, 'cancel the consultation of')
    await this.loopStep(callId, () => this.o.cancelConsult(callId))
    return this.current(agentId)
  }

  /** A transfer step through the campaign loop: its refusals are 409s, a call held elsewhere too. */
  private async loopStep(callId: string, step: () => Promise<boolean>): Promise<void> {
    await this.telephony(async () => {
      try {
        if (!(await step())) throw new AgentDeskRefused(`call ${callId} is handled by another engine instance; try again through that one`)
      } catch (err) {
        if (err instanceof Error && err.name === 'TransferRefused') throw new AgentDeskRefused(err.message)
        throw err
      }
    })
  }

  async record(agentId: string, on: boolean): Promise<AgentView> {
    const callId = await this.callOf(agentId, on ? 'resume recording' : 'pause recording')
    await this.telephony(() => this.o.port.record(callId, on))
    this.log.info({ agentId, callId, recording: on }, on ? 'recording resumed by the agent' : 'recording paused by the agent')
    return this.current(agentId)
  }

  async transfer(agentId: string, target: TransferTarget, customerId?: string): Promise<AgentView> {
    const callId = await this.callOf(agentId, 'transfer')
    if (target.kind === 'number') {
      await this.loopStep(callId, () => this.o.transferOut(callId, target.number, customerId))
      this.log.info({ agentId, callId, to: maskPhone(target.number) }, 'call transferred to an outside number by the agent')
      return this.current(agentId)
    }
    if (target.kind === 'agent' && target.agentId === agentId) throw new AgentDeskRefused(`agent ${agentId} already has call ${callId}`)
    const to: TransferTo = target.kind === 'agent' ? { agentId: target.agentId } : { queue: target.queue }
    await this.loopStep(callId, () => this.o.transfer(callId, to, customerId))
    this.log.info({ agentId, callId, ...to }, 'call transferred by the agent')
    return this.current(agentId)
  }

  async bookCallback(campaignId: string, leadId: string, at: number, ownerAgentId?: string): Promise<void> {
    const campaign = await this.o.repos.campaigns.get(campaignId)
    const lead = await this.o.repos.leads.get(leadId)
    if (!campaign || !lead || lead.campaignId !== campaignId) throw new AgentDeskNotFound('lead', leadId)
    // Through the hopper: the lead row (status callback, due time, owner) and the Redis callbacks queue together,
    // so the dialer offers it at the minute, to the owner first.
    const booked = await this.o.hopperFor(campaign).bookCallback(lead, at, ownerAgentId)
    if (!booked) throw new AgentDeskRefused(`lead ${leadId} is being dialed right now; book the callback after that call`)
    this.log.info({ campaignId, leadId, at, ownerAgentId }, 'callback booked')
  }

  async closeLead(campaignId: string, leadId: string, status: LeadStatus): Promise<void> {
    const campaign = await this.o.repos.campaigns.get(campaignId)
    const lead = await this.o.repos.leads.get(leadId)
    if (!campaign || !lead || lead.campaignId !== campaignId) throw new AgentDeskNotFound('lead', leadId)
    const closed = await this.o.hopperFor(campaign).close(lead, status)
    if (!closed) throw new AgentDeskRefused(`lead ${leadId} is being dialed right now`)
    this.log.info({ campaignId, leadId, status }, 'lead closed by disposition')
  }

  private offer(lead: Lead, screenedOut: number): PreviewOffer {
    const offer: PreviewOffer = { campaignId: lead.campaignId, leadId: lead.id, phone: lead.e164 ?? lead.phone, screenedOut }
    if (lead.customerId !== undefined) offer.customerId = lead.customerId
    return offer
  }

  private releasePreviewQuietly(agentId: string): void {
    const held = this.previews.get(agentId)
    if (!held) return
    this.previews.delete(agentId)
    const now = this.o.clock.now()
    void held.supply.park(held.lead, now, 'preview-released', now).catch((err: unknown) => {
      this.log.warn({ err, agentId, leadId: held.lead.id }, 'could not give back a held preview lead; its lease will expire')
    })
  }

  private async known(agentId: string): Promise<StoredAgent> {
    const agent = await this.o.acd.get(agentId)
    // Never seen by the ACD: it has never logged in, which is what a desk sees as logged out.
    if (!agent) throw new AgentDeskRefused(`agent ${agentId} is logged out`)
    return agent
  }

  private async apply(agentId: string, event: AgentEvent): Promise<AgentView> {
    await this.known(agentId)
    const res = await this.o.acd.apply(agentId, event)
    if (!res.ok) throw new AgentDeskRefused(res.error)
    return this.view(res.agent)
  }

  private async callOf(agentId: string, action: string): Promise<string> {
    const agent = await this.known(agentId)
    if (agent.state !== 'on-call' || agent.callId === undefined) {
      throw new AgentDeskRefused(`agent ${agentId} is ${agent.state}, not on a call: nothing to ${action}`)
    }
    if (!this.o.holdsCall(agent.callId)) {
      throw new AgentDeskRefused(`call ${agent.callId} is handled by another engine instance; try again through that one`)
    }
    return agent.callId
  }

  /** Telephony that cannot do an action (a TelephonyRefused from an adapter) is unsupported, not a server fault. */
  private async telephony(fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      if (err instanceof Error && err.name === 'TelephonyRefused') throw new AgentDeskUnsupported(err.message)
      if (err instanceof OutsideTransferFailed) throw new AgentDeskNotConnected(err.failure, err.message, err.sipStatus)
      if (err instanceof Error && err.name === 'SimTelephonyError') throw new AgentDeskRefused(err.message)
      throw err
    }
  }

  private async current(agentId: string): Promise<AgentView> {
    return this.view(await this.known(agentId))
  }

  private async view(a: Agent): Promise<AgentView> {
    const record = await this.o.repos.agents.get(a.id)
    const v: AgentView = { agentId: a.id, name: record?.name ?? a.id, state: a.state, since: a.since }
    if (a.pauseReason !== undefined && a.state === 'paused') v.pauseReason = a.pauseReason
    if (a.callId !== undefined) v.callId = a.callId
    return v
  }
}
