/**
 * An in-memory CampaignControl for the API's tests: a fixture of the interface with the engine's observable rules
 * (a campaign must be known to start; figures exist once the engine has loaded it), recording every call so tests
 * can check that the API reached the engine.
 */
import { AgentStates, type AgentState } from '../../engine/acd/agent-state.js'
import { applyEvent, newAgent, type Agent, type AgentEvent } from '../../engine/acd/agent-machine.js'
import type { Supervision } from '../../engine/telephony/supervisor/supervision.js'
import { AgentDeskNotFound, AgentDeskRefused, AgentDeskUnsupported, type AgentDesk } from '../../engine/campaign/agent-desk.js'
import type { AgentView, CampaignControl, CampaignFigures, CampaignRunState } from '../../engine/campaign/control.js'

/**
 * The agent desk as a fixture: agents move through the engine's own pure agent machine, kept in memory; everything
 * that needs telephony or a campaign loop is refused as the engine refuses what it cannot do. Route tests that need
 * the real thing use EngineRuntime over Redis (test/api/agent-desk.test.ts).
 */
export class MemoryAgentDesk implements AgentDesk {
  private readonly agents = new Map<string, Agent>()
  private now = 0

  private move(agentId: string, event: (at: number) => AgentEvent): AgentView {
    const agent = this.agents.get(agentId)
    if (!agent) throw new AgentDeskRefused(`agent ${agentId} is logged out`)
    const res = applyEvent(agent, event(++this.now))
    if (!res.ok) throw new AgentDeskRefused(res.error)
    this.agents.set(agentId, res.agent)
    return this.view(res.agent)
  }

  private view(a: Agent): AgentView {
    const v: AgentView = { agentId: a.id, name: a.id, state: a.state, since: a.since }
    if (a.pauseReason !== undefined) v.pauseReason = a.pauseReason
    if (a.callId !== undefined) v.callId = a.callId
    return v
  }

  async state(agentId: string): Promise<AgentView | undefined> {
    const a = this.agents.get(agentId)
    return a && this.view(a)
  }

  async login(agentId: string, options: { ready: boolean }): Promise<AgentView> {
    if (!this.agents.has(agentId)) this.agents.set(agentId, newAgent(agentId, this.now))
    return this.move(agentId, (at) => ({ type: 'login', at, ready: options.ready }))
  }

  async updateSkills(): Promise<void> {}

  async logout(agentId: string): Promise<AgentView> {
    return this.move(agentId, (at) => ({ type: 'logout', at }))
  }

  async ready(agentId: string): Promise<AgentView> {
    return this.move(agentId, (at) => ({ type: 'ready', at }))
  }

  async pause(agentId: string, code: string): Promise<AgentView> {
    return this.move(agentId, (at) => ({ type: 'pause', at, reason: code }))
  }

  async preview(_agentId: string, campaignId: string): Promise<undefined> {
    throw new AgentDeskRefused(`campaign ${campaignId} is not running on this engine`)
  }

  async dialPreview(_agentId: string, leadId: string): Promise<{ callId: string }> {
    throw new AgentDeskNotFound('preview lead', leadId)
  }

  async skipPreview(_agentId: string, leadId: string): Promise<void> {
    throw new AgentDeskNotFound('preview lead', leadId)
  }

  async screenNumber(campaignId: string): Promise<undefined> {
    throw new AgentDeskNotFound('campaign', campaignId)
  }

  async dial(_agentId: string, request: { campaignId: string }): Promise<{ callId: string }> {
    throw new AgentDeskNotFound('campaign', request.campaignId)
  }

  private async noCall(agentId: string, action: string): Promise<never> {
    const a = this.agents.get(agentId)
    if (a?.state !== 'on-call') throw new AgentDeskRefused(`agent ${agentId} is ${a?.state ?? 'logged-out'}, not on a call: nothing to ${action}`)
    throw new AgentDeskUnsupported(`${action}: no telephony in this fixture`)
  }

  hangup(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'hang up')
  }

  hold(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'hold')
  }

  record(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'record')
  }

  consult(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'consult')
  }

  completeConsult(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'complete consult')
  }

  cancelConsult(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'cancel consult')
  }

  transfer(agentId: string): Promise<AgentView> {
    return this.noCall(agentId, 'transfer')
  }

  async bookCallback(_campaignId: string, leadId: string): Promise<void> {
    throw new AgentDeskNotFound('lead', leadId)
  }

  async closeLead(_campaignId: string, leadId: string): Promise<void> {
    throw new AgentDeskNotFound('lead', leadId)
  }
}

export class MemoryCampaignControl implements CampaignControl {
  readonly calls: Array<{ action: 'start' | 'pause' | 'stop'; campaignId: string }> = []
  private readonly states = new Map<string, CampaignRunState>()
  private readonly agentList: AgentView[] = []
  readonly desk = new MemoryAgentDesk()
  /** Live-call supervision; unset, no call is live to a supervisor (as in an engine without SIP). */
  supervision: Supervision | undefined
  /** When set, the next command fails with it (the engine refusing or being unreachable). */
  failNext: Error | undefined

  addAgent(agent: AgentView, campaignIds?: string[]): void {
    this.agentList.push(agent)
    if (campaignIds) this.agentCampaigns.set(agent.agentId, campaignIds)
  }

  private readonly agentCampaigns = new Map<string, string[]>()

  private command(action: 'start' | 'pause' | 'stop', campaignId: string, state: CampaignRunState): Promise<void> {
    if (this.failNext) {
      const err = this.failNext
      this.failNext = undefined
      return Promise.reject(err)
    }
    this.calls.push({ action, campaignId })
    this.states.set(campaignId, state)
    return Promise.resolve()
  }

  start(campaignId: string): Promise<void> {
    return this.command('start', campaignId, 'running')
  }

  pause(campaignId: string): Promise<void> {
    return this.command('pause', campaignId, 'paused')
  }

  stop(campaignId: string): Promise<void> {
    return this.command('stop', campaignId, 'stopped')
  }

  async figures(campaignId: string): Promise<CampaignFigures | undefined> {
    const state = this.states.get(campaignId)
    if (state === undefined) return undefined
    const agents = Object.fromEntries(AgentStates.map((s) => [s, 0])) as Record<AgentState, number>
    for (const a of this.agentList) {
      if ((this.agentCampaigns.get(a.agentId) ?? [campaignId]).includes(campaignId)) agents[a.state]++
    }
    return {
      campaignId,
      state,
      dialMode: 'progressive',
      linesInFlight: state === 'running' ? agents.ready : 0,
      agents,
      dialsToday: this.calls.filter((c) => c.campaignId === campaignId && c.action === 'start').length * 10,
      liveAnswersToday: 3,
      machinesToday: 1,
      abandonsToday: 0,
      abandonRatio: { day: 0, rolling30d: 0, worstRollingHour: 0, denominator: 'live-answers' },
      dialRatio: 1,
      hopperSize: 42,
    }
  }

  async agents(campaignId?: string): Promise<AgentView[]> {
    if (campaignId === undefined) return [...this.agentList]
    return this.agentList.filter((a) => (this.agentCampaigns.get(a.agentId) ?? []).includes(campaignId))
  }
}
