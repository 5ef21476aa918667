/**
 * An in-memory CampaignControl for the API's tests: a fixture of the interface with the engine's observable rules
 * (a campaign must be known to start; figures exist once the engine has loaded it), recording every call so tests
 * can check that the API reached the engine.
 */
import { AgentStates, type AgentState } from '../../engine/acd/agent-state.js'
import type { AgentView, CampaignControl, CampaignFigures, CampaignRunState } from '../../engine/campaign/control.js'

export class MemoryCampaignControl implements CampaignControl {
  readonly calls: Array<{ action: 'start' | 'pause' | 'stop'; campaignId: string }> = []
  private readonly states = new Map<string, CampaignRunState>()
  private readonly agentList: AgentView[] = []
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
