/**
 * The engine's CampaignControl: it starts, pauses and stops campaign loops, assembling each one from the shared
 * adapters (Redis hopper fed by PostgreSQL, Redis ACD, DNC and invalid-number stores, CDRs in PostgreSQL), holds the
 * campaign's pacing lease while it runs, and keeps the upkeep going (lease renewals, lead lease renewals, expired
 * agent reservations, metrics). It is the one place that knows how the pieces fit.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Clock, TimerHandle } from '../clock.js'
import type { AgentState } from '../acd/agent-state.js'
import { AgentStates } from '../acd/agent-state.js'
import type { RoutingStrategy } from '../acd/routing.js'
import type { Cdr } from '../calls/cdr.js'
import type { CallRecord } from '../calls/lifecycle.js'
import type { Lead } from '../leads/lead.js'
import { AbandonLedger, DAY_MS } from '../pacing/abandon.js'
import { defaultEstimatorOptions, PacingEstimators } from '../pacing/estimators.js'
import type { PacingPolicy } from '../pacing/policy.js'
import { PredictivePolicy } from '../pacing/predictive.js'
import { PreviewPolicy } from '../pacing/preview.js'
import { ProgressivePolicy } from '../pacing/progressive.js'
import { learnedFromCdr } from './invalid-number-learning.js'
import type { Campaign, CampaignSettings } from '../store/sql/campaigns.js'
import type { Repositories } from '../store/sql/repositories.js'
import { CampaignLease } from '../store/redis/campaign-lease.js'
import { RedisCallJournal, type JournaledCall } from '../store/redis/call-journal.js'
import type { RedisDncStore } from '../store/redis/dnc-store.js'
import type { RedisInvalidNumberStore } from '../store/redis/invalid-numbers.js'
import { RedisHopper } from '../store/redis/redis-hopper.js'
import type { RedisAcd } from '../store/redis/redis-acd.js'
import type { CadenceKeys } from '../store/redis/keys.js'
import type { TelephonyPort } from '../telephony/port.js'
import { AcdAgentPool } from './acd-agent-pool.js'
import { dialerSettingsOf, pacingCapsOf, screeningPolicyOf } from './campaign-policies.js'
import { CampaignControlRefused, type AgentView, type CampaignControl, type CampaignFigures } from './control.js'
import { CampaignDialer, type TransferTo } from './dialer.js'
import { EngineAgentDesk } from './engine-agent-desk.js'
import type { AgentPhones } from './agent-desk.js'
import type { Supervision } from '../telephony/supervisor/supervision.js'
import { HopperLeadSupply } from './hopper-lead-supply.js'
import type { EngineMetrics } from './metrics.js'
import { PolicyPacer } from './policy-pacer.js'
import { PolicyScreener } from './policy-screener.js'
import { EventNames, type DomainEvent, type EventPublisher } from '../events/event-names.js'
import { PiiCipher } from '../security/pii-cipher.js'

export interface EngineRuntimeOptions {
  clock: Clock
  port: TelephonyPort
  redis: Redis
  keys: CadenceKeys
  repos: Repositories
  acd: RedisAcd
  dnc: RedisDncStore
  invalidNumbers: RedisInvalidNumberStore
  metrics: EngineMetrics
  logger: Logger
  /** This process's id in leases. */
  instanceId: string
  trunk: { channels: number; cps: number }
  ringTimeoutMs: number
  tickMs: number
  upkeepMs: number
  safeHarborPrompt: string
  routing: RoutingStrategy
  /** Hook for the simulated desk: an agent entered wrap-up. */
  onWrapUp?: (agentId: string, callId: string, now: number) => void
  /** Override the policy chosen from the dial mode (the bench and tests). */
  policyFor?: (settings: CampaignSettings) => PacingPolicy
  /** Where real-time events go (agent desktops, supervisors, webhooks); omitted, none are published. */
  events?: EventPublisher
  /** The agents' phone sessions (SIP): the desk opens one at login and closes it at logout. */
  agentPhones?: AgentPhones
  /** Supervisors listening to live calls (SIP). */
  supervision?: Supervision
  /**
   * Told of each call a dead instance left in flight, once its CDR is written: the SIP engine gives back what the
   * dead engine held for it (trunk channel, rtpengine session) instead of waiting for leases and timeouts.
   */
  onLostCall?: (call: JournaledCall) => Promise<void>
}

interface Running {
  campaign: Campaign
  dialer: CampaignDialer
  pacer: PolicyPacer
  supply: HopperLeadSupply
  hopper: RedisHopper
  upkeep?: TimerHandle
  lastLeaseAt: number
}

const HOUR_CEILING = 0.04

function lostCdr(c: JournaledCall, now: number): Cdr {
  const answered = c.answeredAt !== undefined
  const bridged = c.bridgedAt !== undefined
  return {
    callId: c.callId,
    campaignId: c.campaignId,
    leadId: c.leadId,
    agentId: bridged ? c.agentId : undefined,
    outcome: answered && !bridged ? 'abandoned' : 'engine-lost',
    disposition: 'system:engine-lost',
    dialedAt: c.dialedAt,
    answeredAt: c.answeredAt,
    bridgedAt: c.bridgedAt,
    endedAt: Math.max(now, c.dialedAt),
    talkSeconds: 0,
    abandoned: answered && !bridged,
    abandonKind: answered && !bridged ? 'engine-lost' : undefined,
    endedBy: 'system',
  }
}

export function defaultPolicy(settings: CampaignSettings): PacingPolicy {
  switch (settings.dialMode) {
    case 'preview':
      return new PreviewPolicy()
    case 'progressive':
      return new ProgressivePolicy()
    case 'predictive':
      return new PredictivePolicy()
  }
}

export class EngineRuntime implements CampaignControl {
  private readonly running = new Map<string, Running>()
  private readonly lease: CampaignLease
  private readonly pool: AcdAgentPool
  private readonly journal: RedisCallJournal
  private readonly log: Logger
  private adoption?: TimerHandle
  private agentDesk?: EngineAgentDesk
  /** Every campaign loop this instance assembled, stopped ones too: their calls in flight still end normally. */
  private readonly dialers = new Set<CampaignDialer>()

  constructor(private readonly o: EngineRuntimeOptions) {
    this.log = o.logger.child({ component: 'runtime' })
    this.lease = new CampaignLease(o.redis, o.keys.prefix, o.instanceId, Math.max(3 * o.upkeepMs, 5_000))
    this.pool = new AcdAgentPool({ acd: o.acd, redis: o.redis, strategy: o.routing, logger: o.logger, onWrapUp: o.onWrapUp })
    this.journal = new RedisCallJournal(o.redis, o.keys.prefix)
  }

  private heartbeatKey(instanceId: string): string {
    return `${this.o.keys.prefix}:instance:${instanceId}`
  }

  /** This instance is alive while its heartbeat key exists; calls journaled by an instance without one are orphans. */
  private async heartbeat(): Promise<void> {
    await this.o.redis.set(this.heartbeatKey(this.o.instanceId), '1', 'PX', Math.max(3 * this.o.upkeepMs, 5_000))
  }

  /**
   * Close the calls of dead instances with one CDR each (outcome engine-lost; an answered call that never reached an
   * agent counts as abandoned, the conservative reading). Their leads come back when their hopper leases expire.
   */
  async reconcile(campaignId: string): Promise<number> {
    const foreign = await this.journal.foreign(campaignId, this.o.instanceId)
    let closed = 0
    const alive = new Map<string, boolean>()
    for (const c of foreign) {
      let isAlive = alive.get(c.instanceId)
      if (isAlive === undefined) {
        isAlive = (await this.o.redis.exists(this.heartbeatKey(c.instanceId))) === 1
        alive.set(c.instanceId, isAlive)
      }
      if (isAlive) continue
      const now = this.o.clock.now()
      if (await this.o.repos.cdrs.write(lostCdr(c, now))) closed++
      await this.o.onLostCall?.(c).catch((err: unknown) =>
        this.log.warn({ err, callId: c.callId, campaignId }, 'resources of a lost call not released; their leases and timeouts will'),
      )
      // The agent's conversation went down with the engine: into wrap-up, so the agent is neither lost nor stuck.
      if (c.agentId !== undefined) {
        const agent = await this.o.acd.get(c.agentId)
        if (agent?.state === 'on-call' && agent.callId === c.callId) {
          await this.o.acd.apply(c.agentId, { type: 'hangup', at: Math.max(now, agent.since), callId: c.callId })
          this.o.onWrapUp?.(c.agentId, c.callId, now)
        }
      }
      await this.journal.remove(campaignId, c.callId)
    }
    if (closed > 0) this.log.warn({ campaignId, closed }, 'closed calls left in flight by a dead engine instance')
    return closed
  }

  get agentPool(): AcdAgentPool {
    return this.pool
  }

  get supervision(): Supervision | undefined {
    return this.o.supervision
  }

  /** Agents' desk actions through this instance's ACD, port and campaign loops. */
  get desk(): EngineAgentDesk {
    const o = this.o
    this.agentDesk ??= new EngineAgentDesk({
      clock: o.clock,
      acd: o.acd,
      port: o.port,
      repos: o.repos,
      logger: o.logger,
      running: (id) => this.running.get(id),
      hopperFor: (campaign) =>
        this.running.get(campaign.id)?.hopper ??
        new RedisHopper({ redis: o.redis, campaignId: campaign.id, source: o.repos.leads, numbers: o.repos.leads.numbers, keys: o.keys, instanceId: o.instanceId }),
      screenerFor: (campaign) => this.screenerOf(campaign.settings),
      holdsCall: (callId) => this.holdsCall(callId),
      transfer: (callId, to, customerId) => this.transfer(callId, to, customerId),
      transferOut: (callId, number, customerId) => this.consultStep(callId, (d) => d.transferOut(callId, number, customerId)),
      consult: (callId, toAgentId) => this.consultStep(callId, (d) => d.consult(callId, toAgentId)),
      completeConsult: (callId, customerId) => this.consultStep(callId, (d) => d.completeConsult(callId, customerId)),
      cancelConsult: (callId) => this.consultStep(callId, (d) => d.cancelConsult(callId)),
      agentReady: (agentId) => this.agentReady(agentId),
      ...(o.agentPhones ? { phones: o.agentPhones } : {}),
    })
    return this.agentDesk
  }

  /** A call-control step (attended transfer, transfer out) through the campaign loop holding the call; false when no loop here holds it. */
  private async consultStep(callId: string, step: (d: CampaignDialer) => Promise<void>): Promise<boolean> {
    for (const d of this.dialers) {
      if (!d.snapshotCalls().some((c) => c.callId === callId)) continue
      await step(d)
      return true
    }
    return false
  }

  /** Blind transfer through the campaign loop holding the call; false when no loop here holds it. */
  private async transfer(callId: string, to: TransferTo, customerId?: string): Promise<boolean> {
    for (const d of this.dialers) {
      if (!d.snapshotCalls().some((c) => c.callId === callId)) continue
      await d.transfer(callId, to, customerId)
      return true
    }
    return false
  }

  /** Whether one of this instance's campaign loops, running or stopped with calls still up, holds the call. */
  private holdsCall(callId: string): boolean {
    for (const d of this.dialers) {
      if (d.snapshotCalls().some((c) => c.callId === callId)) return true
      if (d.inFlight() === 0 && ![...this.running.values()].some((r) => r.dialer === d)) this.dialers.delete(d)
    }
    return false
  }

  /** The campaign's just-in-time screening (DNC, invalid numbers, the policy), as its dialer and the desk use it. */
  private screenerOf(s: CampaignSettings): PolicyScreener {
    return new PolicyScreener({
      policy: screeningPolicyOf(s),
      dncFor: (campaignId, e164) => this.o.dnc.snapshot(campaignId, [e164]),
      invalidFor: (e164) => this.o.invalidNumbers.snapshot([e164]),
      transientParkMs: 5 * 60_000,
    })
  }

  isRunning(campaignId: string): boolean {
    return this.running.get(campaignId)?.dialer.isRunning() ?? false
  }

  async start(campaignId: string): Promise<void> {
    const existing = this.running.get(campaignId)
    if (existing) {
      existing.dialer.start()
      return
    }
    const campaign = await this.o.repos.campaigns.get(campaignId)
    if (!campaign) throw new CampaignControlRefused(`campaign ${campaignId} does not exist`)
    if (!(await this.lease.acquire(campaignId))) {
      throw new CampaignControlRefused(`campaign ${campaignId} is paced by another engine instance`)
    }
    await this.heartbeat()
    await this.reconcile(campaignId)
    const r = await this.assemble(campaign)
    this.running.set(campaignId, r)
    r.dialer.start()
    this.scheduleUpkeep(r)
    this.log.info({ campaignId, dialMode: campaign.settings.dialMode, policy: r.pacer.policyName }, 'campaign started')
  }

  async pause(campaignId: string): Promise<void> {
    this.running.get(campaignId)?.dialer.pause()
  }

  async stop(campaignId: string): Promise<void> {
    const r = this.running.get(campaignId)
    if (!r) return
    r.dialer.pause()
    if (r.upkeep) this.o.clock.clearTimeout(r.upkeep)
    this.running.delete(campaignId)
    this.o.metrics.forgetCampaign(campaignId)
    await this.lease.release(campaignId)
    this.log.info({ campaignId, inFlight: r.dialer.inFlight() }, 'campaign stopped; calls in flight finish normally')
  }

  /** An agent became ready: every running campaign may have an answered call waiting for one. */
  async agentReady(agentId: string): Promise<void> {
    const now = this.o.clock.now()
    for (const r of this.running.values()) await r.dialer.agentReady(agentId, now)
  }

  async figures(campaignId: string): Promise<CampaignFigures | undefined> {
    const campaign = this.running.get(campaignId)?.campaign ?? (await this.o.repos.campaigns.get(campaignId))
    if (!campaign) return undefined
    const r = this.running.get(campaignId)
    const now = this.o.clock.now()
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS
    const byOutcome = await this.o.repos.cdrs.countByOutcome(campaignId, { from: dayStart, to: now + 1 })
    const n = (k: string): number => Number(byOutcome[k] ?? 0)
    const dials = Object.values(byOutcome).reduce((a, b) => a + Number(b), 0)
    const agents = Object.fromEntries(AgentStates.map((s) => [s, 0])) as Record<AgentState, number>
    for (const a of await this.pool.snapshot(campaignId)) agents[a.state]++
    const ratios = r?.pacer.ratios(now) ?? { day: 0, rolling30d: 0, worstRollingHour: 0 }
    return {
      campaignId,
      state: r ? (r.dialer.isRunning() ? 'running' : 'paused') : campaign.state === 'running' ? 'paused' : campaign.state,
      dialMode: campaign.settings.dialMode,
      linesInFlight: r?.dialer.inFlight() ?? 0,
      agents,
      dialsToday: dials,
      liveAnswersToday: n('connected') + n('abandoned'),
      machinesToday: n('machine'),
      abandonsToday: n('abandoned'),
      abandonRatio: { ...ratios, denominator: campaign.settings.pacing.abandonDenominator },
      dialRatio: r?.pacer.ratio() ?? 0,
      hopperSize: r ? await r.supply.size(campaignId) : 0,
    }
  }

  async agents(campaignId?: string): Promise<AgentView[]> {
    const [snap, records] = await Promise.all([this.pool.snapshot(campaignId ?? ''), this.o.repos.agents.list()])
    const names = new Map(records.map((a) => [a.id, a.name]))
    const out: AgentView[] = []
    for (const a of snap) {
      const stored = await this.o.acd.get(a.agentId)
      const view: AgentView = { agentId: a.agentId, name: names.get(a.agentId) ?? a.agentId, state: a.state, since: a.since }
      if (stored?.pauseReason !== undefined && a.state === 'paused') view.pauseReason = stored.pauseReason
      if (stored?.callId !== undefined) view.callId = stored.callId
      out.push(view)
    }
    return out
  }

  /**
   * Take over campaigns operators left running whose pacing lease no instance holds (their engine died): the lease
   * moves to whichever live instance asks first. Returns the campaigns this instance took.
   */
  async adoptRunning(): Promise<string[]> {
    const adopted: string[] = []
    for (const c of await this.o.repos.campaigns.listByState('running')) {
      if (this.running.has(c.id)) continue
      try {
        await this.start(c.id)
        adopted.push(c.id)
      } catch (err) {
        if (!(err instanceof CampaignControlRefused)) this.log.error({ err, campaignId: c.id }, 'could not adopt a running campaign')
      }
    }
    if (adopted.length > 0) this.log.warn({ campaigns: adopted }, 'took over running campaigns whose engine is gone')
    return adopted
  }

  /** Keep adopting orphaned running campaigns every `everyMs` until shutdown. */
  startAdoption(everyMs: number): void {
    const loop = (): void => {
      this.adoption = this.o.clock.setTimeout(() => {
        void this.adoptRunning().finally(loop)
      }, everyMs)
    }
    loop()
  }

  /** Stop every campaign loop (calls in flight are left to finish) and release the leases. */
  async shutdown(): Promise<void> {
    if (this.adoption) this.o.clock.clearTimeout(this.adoption)
    this.adoption = undefined
    for (const id of [...this.running.keys()]) await this.stop(id)
  }

  private async assemble(campaign: Campaign): Promise<Running> {
    const o = this.o
    const s = campaign.settings
    const log = o.logger.child({ campaignId: campaign.id })
    const leads = o.repos.leads
    const hopper = new RedisHopper({
      redis: o.redis,
      campaignId: campaign.id,
      source: leads,
      numbers: leads.numbers,
      keys: o.keys,
      instanceId: o.instanceId,
    })
    const supply = new HopperLeadSupply({
      hopper,
      logger: log,
      readyAgents: () => o.acd.readyAgents(),
      minNew: 200,
      refillBatch: 1000,
    })
    const now = o.clock.now()
    const ledger = new AbandonLedger({ minHourAnswers: 20 })
    await this.seedLedger(campaign.id, ledger, now)
    const pacer = new PolicyPacer({
      policy: (o.policyFor ?? defaultPolicy)(s),
      estimators: new PacingEstimators({
        ...defaultEstimatorOptions,
        ringTimeoutS: o.ringTimeoutMs / 1000,
        dropAfterS: s.pacing.safeHarborSeconds,
        amdEnabled: s.pacing.amd,
      }),
      ledger,
      caps: pacingCapsOf(s, o.trunk),
      abandonCeiling: s.pacing.abandonCeiling,
      hourCeiling: Math.max(s.pacing.abandonCeiling, HOUR_CEILING),
    })
    const screener = this.screenerOf(s)
    const dialer = new CampaignDialer(
      dialerSettingsOf(campaign.id, s, { ringTimeoutMs: o.ringTimeoutMs, tickMs: o.tickMs, safeHarborPrompt: o.safeHarborPrompt }),
      {
        clock: o.clock,
        port: o.port,
        pacer,
        leads: supply,
        agents: this.pool,
        screener,
        cdrs: o.repos.cdrs,
        journal: {
          record: (call) =>
            this.journal.record({
              callId: call.callId,
              campaignId: call.campaignId,
              leadId: call.leadId,
              instanceId: o.instanceId,
              dialedAt: call.dialedAt,
              state: call.state,
              answeredAt: call.answeredAt,
              bridgedAt: call.bridgedAt,
              agentId: call.agentId,
            }),
          remove: (call) => this.journal.remove(call.campaignId, call.callId),
        },
        logger: o.logger,
        onFinished: (cdr, _call, lead) => {
          this.onFinished(cdr, lead)
          this.announceEnd(campaign, cdr)
        },
        onBridged: (call, lead) => this.announceOffer(campaign, call, lead),
      },
    )
    this.dialers.add(dialer)
    return { campaign, dialer, pacer, supply, hopper, lastLeaseAt: now }
  }

  /** The abandon windows outlive a restart: rebuild the ledger from the last 30 days of CDRs. */
  private async seedLedger(campaignId: string, ledger: AbandonLedger, now: number): Promise<void> {
    const cdrs = await this.o.repos.cdrs.listByCampaign(campaignId, { from: now - 30 * DAY_MS, to: now + 1, limit: 1_000_000 })
    const events: Array<{ at: number; dropped: boolean }> = []
    for (const c of cdrs) {
      if (c.outcome === 'connected') events.push({ at: c.bridgedAt ?? c.endedAt, dropped: false })
      else if (c.outcome === 'abandoned') events.push({ at: c.endedAt, dropped: true })
    }
    events.sort((a, b) => a.at - b.at)
    for (const e of events) ledger.record(e.at, e.dropped)
  }

  private emit(event: DomainEvent): void {
    void this.o.events
      ?.publish(event)
      .catch((err: unknown) => this.log.warn({ err, event: event.type, campaignId: event.campaignId }, 'could not publish an event'))
  }

  /** The screen pop: ids and a masked number only; the desktop reads the record through the (agent-scoped) API. */
  private announceOffer(campaign: Campaign, call: CallRecord, lead: Lead): void {
    if (call.agentId === undefined) return
    this.emit({
      type: EventNames.CallOffered,
      at: call.bridgedAt ?? this.o.clock.now(),
      siteId: campaign.siteId,
      campaignId: campaign.id,
      agentId: call.agentId,
      data: { callId: call.callId, leadId: lead.id, number: lead.e164 ? PiiCipher.maskPhone(lead.e164) : null, waitMs: call.bridgedAt !== undefined && call.answeredAt !== undefined ? call.bridgedAt - call.answeredAt : null },
    })
  }

  private announceEnd(campaign: Campaign, cdr: Cdr): void {
    const base = { at: cdr.endedAt, siteId: campaign.siteId, campaignId: campaign.id, ...(cdr.agentId !== undefined ? { agentId: cdr.agentId } : {}) }
    this.emit({ ...base, type: EventNames.CallEnded, data: { callId: cdr.callId, leadId: cdr.leadId, outcome: cdr.outcome, talkSeconds: cdr.talkSeconds } })
    if (cdr.agentId !== undefined && cdr.outcome === 'connected') {
      this.emit({ ...base, type: EventNames.DispositionDue, data: { callId: cdr.callId, leadId: cdr.leadId } })
    }
  }

  private onFinished(cdr: Cdr, lead: Lead): void {
    this.o.metrics.callFinished(cdr)
    // A number the network says does not exist (SIP status, or the SIT/announcement of its early media) is
    // remembered, so no campaign dials it again soon.
    if (lead.e164) {
      const entry = learnedFromCdr(cdr, lead.e164)
      if (entry) {
        void this.o.invalidNumbers.learn(entry).catch((err: unknown) => this.log.warn({ err }, 'could not store a learned-invalid number'))
      }
    }
  }

  private scheduleUpkeep(r: Running): void {
    r.upkeep = this.o.clock.setTimeout(() => {
      void this.upkeep(r).finally(() => {
        if (this.running.get(r.campaign.id) === r) this.scheduleUpkeep(r)
      })
    }, this.o.upkeepMs)
  }

  private async upkeep(r: Running): Promise<void> {
    const o = this.o
    const now = o.clock.now()
    const id = r.campaign.id
    try {
      if (!(await this.lease.acquire(id))) {
        // Another instance took the campaign (we stalled past the lease): stop dialing at once.
        this.log.error({ campaignId: id }, 'pacing lease lost to another instance; this instance stops dialing it')
        r.dialer.pause()
        this.running.delete(id)
        o.metrics.forgetCampaign(id)
        return
      }
      await this.heartbeat()
      await this.reconcile(id)
      await r.supply.renew(now)
      const expired = await o.acd.expireReservations(now)
      for (const e of expired) this.log.warn({ agentId: e.agentId, callId: e.callId }, 'agent did not answer a reserved call: paused')
      // Stopped while this round awaited: its gauges are gone and must stay gone.
      if (this.running.get(id) !== r) return
      const m = o.metrics
      m.setLinesInFlight(id, r.dialer.inFlight())
      const ratios = r.pacer.ratios(now)
      m.setAbandonRatio(id, 'day', ratios.day)
      m.setAbandonRatio(id, '30d', ratios.rolling30d)
      m.setAbandonRatio(id, 'worst-rolling-hour', ratios.worstRollingHour)
      const ceiling = r.campaign.settings.pacing.abandonCeiling
      m.setAbandonCeiling(id, 'day', ceiling)
      m.setAbandonCeiling(id, '30d', ceiling)
      m.setAbandonCeiling(id, 'worst-rolling-hour', Math.max(ceiling, HOUR_CEILING))
      m.setDialRatio(id, r.pacer.ratio())
      m.setHopperLeads(id, await r.supply.size(id))
      m.setCampaignDialing(id, r.dialer.isRunning())
      const counts: Record<string, number> = Object.fromEntries(AgentStates.map((s) => [s, 0]))
      const agents = await this.pool.snapshot(id)
      for (const a of agents) counts[a.state] = (counts[a.state] ?? 0) + 1
      m.setAgents(id, counts)
      if (o.events) {
        const site = { at: now, siteId: r.campaign.siteId, campaignId: id }
        this.emit({ ...site, type: EventNames.AgentStates, data: { counts, agents: agents.map((a) => ({ agentId: a.agentId, state: a.state, since: a.since })) } })
        const figures = await this.figures(id)
        if (figures) this.emit({ ...site, type: EventNames.CampaignFigures, data: { ...figures } })
      }
    } catch (err) {
      this.log.error({ err, campaignId: id }, 'campaign upkeep failed; retrying next round')
    }
  }
}
