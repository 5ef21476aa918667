/**
 * The campaign loop: the imperative shell around the pure cores. Every tick it asks the pacer how many calls to
 * place, takes leads from the hopper, screens each one just in time and originates through the telephony port;
 * port events drive each call's lifecycle machine, whose effects this loop carries out (reserve and bridge an agent,
 * play the safe-harbor message, write the CDR, return the lead with its new status).
 *
 * It owns no durable state: in-flight calls live in the lifecycle records here and in Redis through the lead
 * leases, so a dead instance's leads come back when their leases expire.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../clock.js'
import type { AgentState } from '../acd/agent-state.js'
import type { RoutingStrategy } from '../acd/routing.js'
import type { Lead, LeadStatus } from '../leads/lead.js'
import { maskPhone } from '../leads/lead.js'
import { newCall, step, type CallEffect, type CallInput, type CallRecord, type LifecycleOptions } from '../calls/lifecycle.js'
import { leadStatusFor, toCdr, type Cdr } from '../calls/cdr.js'
import { CallEvents, type CallEventMap, type TelephonyPort } from '../telephony/port.js'
import type { AmdThresholds } from '../media/amd.js'

/** Minimum ring time before we give up on an unanswered call (FCC 64.1200(a)(6), Ofcom: 15 s). */
export const MIN_RING_TIMEOUT_MS = 15_000

export interface AgentSnapshot {
  agentId: string
  state: AgentState
  since: number
}

export interface CallSnapshot {
  callId: string
  dialedAt: number
  state: CallRecord['state']
  answeredAt?: number
}

/** What the pacer sees each tick. */
export interface PacingInput {
  now: number
  agents: AgentSnapshot[]
  calls: CallSnapshot[]
}

/** Outcome facts the pacer learns from (answer rate, ring times, talk and wrap times, abandons). */
export type PacingObservation =
  | { type: 'dialed'; at: number; callId: string }
  | { type: 'answered'; at: number; callId: string; ringMs: number }
  | { type: 'failed'; at: number; callId: string; afterMs: number; cause: string }
  | { type: 'machine'; at: number; callId: string }
  | { type: 'human'; at: number; callId: string }
  /** A live answer reached an agent in time (the abandon denominator). */
  | { type: 'connected'; at: number; callId: string }
  /** A live answer found no agent in time, or left while waiting: counts against the ceiling. */
  | { type: 'abandoned'; at: number; callId: string }
  | { type: 'talk-ended'; at: number; callId: string; talkMs: number }
  | { type: 'wrap-ended'; at: number; agentId: string; wrapMs: number }

export interface Pacer {
  /** How many new calls to place now. */
  decide(input: PacingInput): number
  observe(observation: PacingObservation): void
  /** Lines per working agent the pacer is running at, for humans. */
  ratio(): number
}

export type ScreenVerdict = { ok: true; e164: string } | { ok: false; code: string; detail: string; retryAt?: number }

export interface Screener {
  screen(lead: Lead, now: number): Promise<ScreenVerdict>
}

export interface LeadSupply {
  /** Take the next dialable lead atomically (leased to this instance), or undefined when the hopper is empty. */
  take(campaignId: string, now: number): Promise<Lead | undefined>
  /** Give back a lead that failed screening, not to be offered again before retryAt (or ever, without one). */
  park(lead: Lead, now: number, code: string, retryAt?: number): Promise<void>
  /** The call on this lead is over: record the attempt and the status the outcome left behind. */
  complete(lead: Lead, status: LeadStatus, now: number): Promise<void>
  size(campaignId: string): Promise<number>
}

export interface AgentPool {
  snapshot(campaignId: string): Promise<AgentSnapshot[]>
  /** Atomically reserve a ready agent for this call (owner first when given), or undefined. */
  reserve(campaignId: string, callId: string, now: number, ownerAgentId?: string): Promise<string | undefined>
  /** Atomically reserve this agent for the call if they are ready (a transfer's target); false otherwise. */
  reserveAgent(agentId: string, callId: string, now: number): Promise<boolean>
  /** Atomically reserve the best ready agent of a call queue (its strategy and required skills), or undefined. */
  reserveInQueue(queue: QueueRoute, callId: string, now: number): Promise<string | undefined>
  onCall(agentId: string, callId: string, now: number): Promise<void>
  /** The reserved agent was not needed: back to ready. */
  release(agentId: string, now: number): Promise<void>
  wrapUp(agentId: string, now: number): Promise<void>
}

export interface CdrSink {
  /** Idempotent on callId: resolves false when a CDR for the call already existed. */
  write(cdr: Cdr): Promise<boolean>
}

/** Calls in flight, kept where another engine instance can find them if this one dies mid-call. */
export interface CallJournal {
  record(call: CallRecord): Promise<void>
  remove(call: CallRecord): Promise<void>
}

export interface CampaignDialerSettings {
  campaignId: string
  amd: boolean
  /** The campaign's AMD thresholds, passed to the telephony port with each call. */
  amdThresholds?: Partial<AmdThresholds>
  maxAgentWaitMs: number
  ringTimeoutMs: number
  tickMs: number
  safeHarborPrompt: string
  /** How many screening rejections one tick may skip before it gives up for this tick (an all-DNC hopper). */
  maxScreeningSkipsPerTick: number
  trunkId?: string
  callerId?: string
}

export interface CampaignDialerDeps {
  clock: Clock
  port: TelephonyPort
  pacer: Pacer
  leads: LeadSupply
  agents: AgentPool
  screener: Screener
  cdrs: CdrSink
  journal?: CallJournal
  logger: Logger
  /** Told after each finished call, for metrics and live figures. */
  onFinished?: (cdr: Cdr, call: CallRecord, lead: Lead) => void
  /** Told when a customer reaches an agent (the agent desktop's screen pop). */
  onBridged?: (call: CallRecord, lead: Lead) => void
}

interface Live {
  call: CallRecord
  lead: Lead
  /** The effects of the last input, being carried out (a transfer waits for its agent's wrap-up). */
  effects?: Promise<void>
  waitTimer?: TimerHandle
  log: Logger
}

/** An agent-initiated call this loop will not place (the lead is screened out, the agent not ready); nothing changed. */
export class AgentBoundRefused extends Error {
  override name = 'AgentBoundRefused'
  constructor(
    message: string,
    /** The screening code when the lead was screened out. */
    readonly screening?: string,
  ) {
    super(message)
  }
}

/** How a call queue picks its agent: what a transfer to the queue needs to know of it. */
export interface QueueRoute {
  queueId: string
  strategy: RoutingStrategy
  /** Skill name -> the worst tier accepted. */
  requiredSkills: Readonly<Record<string, number>>
}

/** Who a blind transfer hands the customer to: that agent if ready, or the best ready agent of a call queue. */
export type TransferTo = { agentId: string } | { queue: QueueRoute }

/** A blind transfer this loop will not do (the call is not with an agent, the target is not ready); nothing changed. */
export class TransferRefused extends Error {
  override name = 'TransferRefused'
}

export class CampaignDialer {
  private readonly live = new Map<string, Live>()
  /** Answered humans with no agent yet, oldest first: an agent freeing up serves them before any new dial. */
  private readonly waiting: string[] = []
  private timer?: TimerHandle
  private running = false
  private ticking = false
  private readonly lifecycle: LifecycleOptions
  private readonly log: Logger
  private readonly wrapStartedAt = new Map<string, number>()
  /** Attended transfers under way: call id -> the agent being consulted (on the call in the ACD meanwhile). */
  private readonly consults = new Map<string, string>()

  constructor(
    private readonly settings: CampaignDialerSettings,
    private readonly deps: CampaignDialerDeps,
  ) {
    if (settings.ringTimeoutMs < MIN_RING_TIMEOUT_MS) {
      throw new Error(`ringTimeoutMs must be at least ${MIN_RING_TIMEOUT_MS} ms (got ${settings.ringTimeoutMs})`)
    }
    this.lifecycle = { amd: settings.amd, maxAgentWaitMs: settings.maxAgentWaitMs }
    this.log = deps.logger.child({ campaignId: settings.campaignId })
    const port = deps.port
    port.on(CallEvents.Ringing, (e) => this.input(e.callId, { type: 'ringing', at: e.at }))
    port.on(CallEvents.EarlyMedia, (e) => this.input(e.callId, { type: 'early-media', at: e.at }))
    port.on(CallEvents.Answered, (e) => this.onAnswered(e))
    port.on(CallEvents.AmdResult, (e) =>
      this.input(e.callId, { type: 'amd-result', at: e.at, outcome: e.outcome, reason: e.reason }),
    )
    port.on(CallEvents.Bridged, (e) => this.input(e.callId, { type: 'bridged', at: e.at, agentId: e.agentId }))
    port.on(CallEvents.Failed, (e) =>
      this.input(e.callId, { type: 'failed', at: e.at, cause: e.cause, sipStatus: e.sipStatus, sipReason: e.sipReason, earlyMedia: e.earlyMedia }),
    )
    port.on(CallEvents.ConsultEnded, (e) => void this.consultEnded(e.callId, e.agentId))
    port.on(CallEvents.Ended, (e) => this.input(e.callId, { type: 'ended', at: e.at, endedBy: e.endedBy, earlyMedia: e.earlyMedia }))
  }

  get campaignId(): string {
    return this.settings.campaignId
  }

  isRunning(): boolean {
    return this.running
  }

  inFlight(): number {
    return this.live.size
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.log.info('campaign dialing started')
    this.schedule(0)
  }

  /** Stop placing new calls; calls in flight finish normally. */
  pause(): void {
    if (!this.running) return
    this.running = false
    if (this.timer) this.deps.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.log.info({ inFlight: this.live.size }, 'campaign dialing paused')
  }

  /** An agent became ready (logged in, finished wrap-up, came back from a pause): serve a waiting call first. */
  async agentReady(agentId: string, now: number): Promise<void> {
    const started = this.wrapStartedAt.get(agentId)
    if (started !== undefined) {
      this.wrapStartedAt.delete(agentId)
      this.deps.pacer.observe({ type: 'wrap-ended', at: now, agentId, wrapMs: now - started })
    }
    await this.serveWaiting(now)
  }

  /**
   * Blind transfer of a bridged call to another agent, or to a call queue's best ready agent (its routing strategy
   * and required skills; none ready: refused, the customer stays): the target is reserved atomically, the port
   * moves the customer's media to the target's session and tells their phone who it is, then the call goes on with the
   * target (one call, one CDR naming the last agent) while the first agent wraps up. The target hears of it like any
   * call (onBridged: the screen pop with the customer record). Refused with TransferRefused before anything moved.
   * Resolves with the agent who has the call now (undefined: the customer hung up meanwhile).
   */
  async transfer(callId: string, to: TransferTo, customerId?: string): Promise<string | undefined> {
    const l = this.live.get(callId)
    if (!l || l.call.state !== 'bridged' || !l.call.agentId) throw new TransferRefused(`call ${callId} is not with an agent`)
    const from = l.call.agentId
    const { clock, port, agents } = this.deps
    let toAgentId: string
    if ('agentId' in to) {
      toAgentId = to.agentId
      if (from === toAgentId) throw new TransferRefused(`call ${callId} is already with agent ${toAgentId}`)
      if (!(await agents.reserveAgent(toAgentId, callId, clock.now()))) throw new TransferRefused(`agent ${toAgentId} is not ready for a call`)
    } else {
      // the agent handing the call on is on it, so never ready: the queue cannot hand it back to them
      const chosen = await agents.reserveInQueue(to.queue, callId, clock.now())
      if (chosen === undefined) throw new TransferRefused(`no agent of queue ${to.queue.queueId} is ready for a call; the customer stays with agent ${from}`)
      toAgentId = chosen
    }
    const customer = customerId ?? l.lead.customerId
    try {
      await port.transfer(callId, toAgentId, {
        leadId: l.lead.id,
        campaignId: this.settings.campaignId,
        fromAgentId: from,
        ...(customer !== undefined ? { customerId: customer } : {}),
      })
    } catch (err) {
      await agents.release(toAgentId, clock.now())
      throw err
    }
    // the customer hung up while the media moved: the first agent has wrapped up already, the target is not needed
    if (l.call.state !== 'bridged' || l.call.agentId !== from) {
      await agents.release(toAgentId, clock.now())
      return undefined
    }
    await agents.onCall(toAgentId, callId, clock.now())
    this.input(callId, { type: 'transferred', at: clock.now(), toAgentId })
    await l.effects
    l.log.info({ fromAgentId: from, toAgentId, ...('queue' in to ? { queueId: to.queue.queueId } : {}) }, 'call transferred')
    this.deps.onBridged?.(l.call, l.lead)
    return toAgentId
  }

  /**
   * Blind transfer to an outside number: the port dials it with the customer on hold (the campaign's trunk, caller id
   * and ring timeout); answered, the agent wraps up and the call goes on to its end (one CDR naming that agent, never
   * an abandon). Not answered: the port's OutsideTransferFailed says why and the customer is back with the agent.
   */
  async transferOut(callId: string, number: string, customerId?: string): Promise<void> {
    const l = this.live.get(callId)
    if (!l || l.call.state !== 'bridged' || !l.call.agentId) throw new TransferRefused(`call ${callId} is not with an agent`)
    if (this.consults.has(callId)) throw new TransferRefused(`call ${callId} is in a consultation; complete or cancel it first`)
    const from = l.call.agentId
    const { clock, port } = this.deps
    const customer = customerId ?? l.lead.customerId
    await port.transferOut(
      callId,
      {
        number,
        ringTimeoutMs: this.settings.ringTimeoutMs,
        ...(this.settings.trunkId !== undefined ? { trunkId: this.settings.trunkId } : {}),
        ...(this.settings.callerId !== undefined ? { callerId: this.settings.callerId } : {}),
      },
      { leadId: l.lead.id, campaignId: this.settings.campaignId, fromAgentId: from, ...(customer !== undefined ? { customerId: customer } : {}) },
    )
    // the customer hung up as the number answered: the call ended with the agent, who wraps up as after any call
    if (l.call.state !== 'bridged' || l.call.agentId !== from) return
    this.input(callId, { type: 'transferred-out', at: clock.now() })
    await l.effects
    l.log.info({ agentId: from, to: maskPhone(number) }, 'call transferred to an outside number')
  }

  /**
   * Attended transfer, first step: the consulted agent is taken atomically if ready and put on the call (they are
   * talking to the first agent), the customer holds. Refused with TransferRefused before anything moved.
   */
  async consult(callId: string, toAgentId: string): Promise<void> {
    const l = this.live.get(callId)
    if (!l || l.call.state !== 'bridged' || !l.call.agentId) throw new TransferRefused(`call ${callId} is not with an agent`)
    if (this.consults.has(callId)) throw new TransferRefused(`call ${callId} is already in a consultation`)
    if (l.call.agentId === toAgentId) throw new TransferRefused(`call ${callId} is already with agent ${toAgentId}`)
    const { clock, port, agents } = this.deps
    if (!(await agents.reserveAgent(toAgentId, callId, clock.now()))) throw new TransferRefused(`agent ${toAgentId} is not ready for a call`)
    try {
      await port.consult(callId, toAgentId)
    } catch (err) {
      await agents.release(toAgentId, clock.now())
      throw err
    }
    if (l.call.state !== 'bridged') {
      await agents.release(toAgentId, clock.now())
      return
    }
    this.consults.set(callId, toAgentId)
    await agents.onCall(toAgentId, callId, clock.now())
    l.log.info({ agentId: l.call.agentId, consulting: toAgentId }, 'consultation started')
  }

  /** The consulted agent takes the call; the first wraps up (as after a blind transfer). */
  async completeConsult(callId: string, customerId?: string): Promise<void> {
    const l = this.live.get(callId)
    const to = this.consults.get(callId)
    if (!l || to === undefined || l.call.state !== 'bridged' || !l.call.agentId) throw new TransferRefused(`call ${callId} has no consultation`)
    const from = l.call.agentId
    const customer = customerId ?? l.lead.customerId
    await this.deps.port.completeConsult(callId, {
      leadId: l.lead.id,
      campaignId: this.settings.campaignId,
      fromAgentId: from,
      ...(customer !== undefined ? { customerId: customer } : {}),
    })
    this.consults.delete(callId)
    if (l.call.state !== 'bridged') return
    this.input(callId, { type: 'transferred', at: this.deps.clock.now(), toAgentId: to })
    await l.effects
    l.log.info({ fromAgentId: from, toAgentId: to }, 'consultation completed: call transferred')
    this.deps.onBridged?.(l.call, l.lead)
  }

  /** The consultation is dropped: the customer is back with their agent, the consulted agent wraps up their part. */
  async cancelConsult(callId: string): Promise<void> {
    const l = this.live.get(callId)
    const to = this.consults.get(callId)
    if (!l || to === undefined) throw new TransferRefused(`call ${callId} has no consultation`)
    await this.deps.port.cancelConsult(callId)
    this.consults.delete(callId)
    await this.deps.agents.wrapUp(to, this.deps.clock.now())
    l.log.info({ consulted: to }, 'consultation cancelled')
  }

  /** The consulted agent hung up (the port already put the customer back with their agent): their part ends. */
  private async consultEnded(callId: string, agentId: string): Promise<void> {
    if (this.consults.get(callId) !== agentId) return
    this.consults.delete(callId)
    const l = this.live.get(callId)
    await this.deps.agents
      .wrapUp(agentId, this.deps.clock.now())
      .catch((err: unknown) => (l?.log ?? this.log).warn({ err, consulted: agentId }, 'consulted agent not moved to wrap-up'))
    l?.log.info({ consulted: agentId }, 'consultation ended by the consulted agent hanging up')
  }

  /**
   * An agent-initiated call (preview dial): screened again just in time (hours move on while the agent reads), the
   * agent taken atomically if ready and put on the call from the dial (they hear it ring), the lead dialed without AMD
   * and the answer bridged to that agent only. Refused with AgentBoundRefused (nothing changed) when the lead is not
   * dialable now or the agent is not ready. Resolves with the call id once the attempt is placed.
   */
  async dialFor(agentId: string, lead: Lead): Promise<string> {
    const { clock, agents, screener } = this.deps
    const now = clock.now()
    const verdict = await screener.screen(lead, now)
    if (!verdict.ok) throw new AgentBoundRefused(`lead ${lead.id} is not dialable now: ${verdict.code}`, verdict.code)
    const callId = randomUUID()
    if (!(await agents.reserveAgent(agentId, callId, now))) throw new AgentBoundRefused(`agent ${agentId} is not ready for a call`)
    await agents.onCall(agentId, callId, now)
    await this.originate({ ...lead, e164: verdict.e164 }, now, { callId, agentId })
    return callId
  }

  snapshotCalls(): CallSnapshot[] {
    return [...this.live.values()].map(({ call }) => ({
      callId: call.callId,
      dialedAt: call.dialedAt,
      state: call.state,
      answeredAt: call.answeredAt,
    }))
  }

  private schedule(delayMs: number): void {
    if (!this.running) return
    this.timer = this.deps.clock.setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.settings.tickMs))
    }, delayMs)
  }

  /** One pacing decision. Errors are contained: a failed tick is logged and the next one runs. */
  async tick(): Promise<number> {
    if (this.ticking || !this.running) return 0
    this.ticking = true
    try {
      const now = this.deps.clock.now()
      const agents = await this.deps.agents.snapshot(this.settings.campaignId)
      const want = this.deps.pacer.decide({ now, agents, calls: this.snapshotCalls() })
      let placed = 0
      let skips = 0
      while (placed < want && this.running) {
        const lead = await this.deps.leads.take(this.settings.campaignId, now)
        if (!lead) break
        const verdict = await this.deps.screener.screen(lead, now)
        if (!verdict.ok) {
          await this.deps.leads.park(lead, now, verdict.code, verdict.retryAt)
          this.log.debug({ leadId: lead.id, code: verdict.code }, 'lead not dialable now')
          if (++skips >= this.settings.maxScreeningSkipsPerTick) break
          continue
        }
        await this.originate({ ...lead, e164: verdict.e164 }, now)
        placed++
      }
      return placed
    } catch (err) {
      this.log.error({ err }, 'pacing tick failed')
      return 0
    } finally {
      this.ticking = false
    }
  }

  private async originate(lead: Lead, now: number, bound?: { callId: string; agentId: string }): Promise<void> {
    const callId = bound?.callId ?? randomUUID()
    const call: CallRecord = { ...newCall(callId, this.settings.campaignId, lead.id, now), ...(bound ? { boundAgentId: bound.agentId } : {}) }
    const log = this.log.child({ callId, leadId: lead.id, ...(bound ? { agentId: bound.agentId } : {}) })
    this.live.set(callId, { call, lead, log })
    this.deps.pacer.observe({ type: 'dialed', at: now, callId })
    // Journaled before the carrier hears of it: a call this instance cannot finish is still closed by another.
    await this.journal(call, log)
    log.debug({ number: maskPhone(lead.e164 ?? lead.phone) }, 'originating')
    try {
      await this.deps.port.originate({
        callId,
        campaignId: this.settings.campaignId,
        leadId: lead.id,
        number: lead.e164 ?? lead.phone,
        ringTimeoutMs: this.settings.ringTimeoutMs,
        // the agent who dialed hears the greeting: no AMD on their own calls
        amd: this.settings.amd && !bound,
        ...(this.settings.amd && !bound && this.settings.amdThresholds ? { amdThresholds: this.settings.amdThresholds } : {}),
        trunkId: this.settings.trunkId,
        callerId: this.settings.callerId,
      })
    } catch (err) {
      log.warn({ err }, 'originate refused by the telephony adapter')
      this.input(callId, { type: 'failed', at: this.deps.clock.now(), cause: 'trunk-unavailable' })
    }
  }

  private onAnswered(e: CallEventMap['answered']): void {
    const l = this.live.get(e.callId)
    if (l) this.deps.pacer.observe({ type: 'answered', at: e.at, callId: e.callId, ringMs: e.at - l.call.dialedAt })
    this.input(e.callId, { type: 'answered', at: e.at })
  }

  /** Feed one input to a call's machine and carry out its effects, in order. */
  private input(callId: string, input: CallInput): void {
    const l = this.live.get(callId)
    if (!l) return
    const before = l.call
    const tr = step(before, input, this.lifecycle)
    l.call = tr.call
    if (tr.call.state !== before.state && (tr.call.state === 'answered' || tr.call.state === 'waiting-agent' || tr.call.state === 'bridged')) {
      void this.journal(tr.call, l.log)
    }
    if (input.type === 'bridged' && tr.call.state === 'bridged' && before.state !== 'bridged') {
      this.deps.pacer.observe({ type: 'connected', at: input.at, callId })
      this.deps.onBridged?.(tr.call, l.lead)
    }
    if (input.type === 'amd-result' && before.state === 'answered') {
      this.deps.pacer.observe({ type: tr.call.state === 'machine' ? 'machine' : 'human', at: input.at, callId })
    }
    l.effects = this.apply(l, tr.effects).catch((err: unknown) => l.log.error({ err }, 'call effect failed'))
  }

  private async apply(l: Live, effects: CallEffect[]): Promise<void> {
    const { clock, port, agents } = this.deps
    const callId = l.call.callId
    for (const effect of effects) {
      switch (effect.type) {
        case 'start-agent-wait-timer':
          l.waitTimer = clock.setTimeout(() => this.input(callId, { type: 'agent-wait-expired', at: clock.now() }), effect.ms)
          break
        case 'route-to-agent':
          this.waiting.push(callId)
          await this.serveWaiting(clock.now())
          break
        case 'bridge':
          this.dropWaiting(callId)
          if (l.waitTimer) clock.clearTimeout(l.waitTimer)
          try {
            await port.bridge(callId, effect.agentId)
            // an agent-bound call's agent has been on it since the dial
            if (!l.call.boundAgentId) await agents.onCall(effect.agentId, callId, clock.now())
          } catch (err) {
            l.log.warn({ err, agentId: effect.agentId }, 'bridge failed; hanging up the customer leg')
            if (!l.call.boundAgentId) await agents.release(effect.agentId, clock.now())
            await port.hangup(callId, 'bridge-failed').catch(() => undefined)
          }
          break
        case 'play-safe-harbor':
          this.dropWaiting(callId)
          l.log.info('no agent within the wait: playing the safe-harbor message')
          try {
            await port.play(callId, this.settings.safeHarborPrompt)
          } finally {
            await port.hangup(callId, 'safe-harbor-played').catch(() => undefined)
          }
          break
        case 'hangup':
          await port.hangup(callId, effect.cause).catch((err: unknown) => l.log.warn({ err }, 'hangup failed'))
          break
        case 'release-agent':
          await agents.release(effect.agentId, clock.now())
          break
        case 'agent-to-wrap':
          this.wrapStartedAt.set(effect.agentId, clock.now())
          await agents.wrapUp(effect.agentId, clock.now())
          break
        case 'finalize':
          await this.finalize(l)
          break
      }
    }
  }

  private async journal(call: CallRecord, log: Logger): Promise<void> {
    try {
      await this.deps.journal?.record(call)
    } catch (err) {
      log.warn({ err }, 'could not journal the call in flight')
    }
  }

  private async serveWaiting(now: number): Promise<void> {
    while (this.waiting.length > 0) {
      const callId = this.waiting[0]!
      const l = this.live.get(callId)
      if (!l || l.call.state !== 'waiting-agent' || l.call.agentId) {
        this.waiting.shift()
        continue
      }
      const agentId = await this.deps.agents.reserve(this.settings.campaignId, callId, now, l.lead.ownerAgentId)
      if (!agentId) return
      this.waiting.shift()
      this.input(callId, { type: 'agent-reserved', at: now, agentId })
      // The wait may have expired or the customer left while we were reserving: the agent goes straight back.
      if (l.call.agentId !== agentId) await this.deps.agents.release(agentId, now)
    }
  }

  private dropWaiting(callId: string): void {
    const i = this.waiting.indexOf(callId)
    if (i >= 0) this.waiting.splice(i, 1)
  }

  private async finalize(l: Live): Promise<void> {
    const { call, lead } = l
    this.live.delete(call.callId)
    const consulted = this.consults.get(call.callId)
    if (consulted !== undefined) {
      // the customer left during a consultation: the consulted agent's part of the call is over too
      this.consults.delete(call.callId)
      await this.deps.agents.wrapUp(consulted, this.deps.clock.now()).catch((err: unknown) => l.log.warn({ err, consulted }, 'consulted agent not moved to wrap-up'))
    }
    this.dropWaiting(call.callId)
    if (l.waitTimer) this.deps.clock.clearTimeout(l.waitTimer)
    const cdr = toCdr(call)
    const now = this.deps.clock.now()
    if (call.state === 'failed') {
      this.deps.pacer.observe({ type: 'failed', at: now, callId: call.callId, afterMs: (call.endedAt ?? now) - call.dialedAt, cause: cdr.outcome })
    }
    if (call.state === 'abandoned') this.deps.pacer.observe({ type: 'abandoned', at: now, callId: call.callId })
    if (call.state === 'completed' && call.bridgedAt !== undefined) {
      this.deps.pacer.observe({ type: 'talk-ended', at: now, callId: call.callId, talkMs: (call.endedAt ?? now) - call.bridgedAt })
    }
    try {
      const inserted = await this.deps.cdrs.write(cdr)
      if (!inserted) l.log.warn('a CDR for this call already existed; kept the first')
    } catch (err) {
      l.log.error({ err }, 'writing the CDR failed')
    }
    await this.deps.journal?.remove(call).catch((err: unknown) => l.log.warn({ err }, 'could not clear the call journal'))
    try {
      await this.deps.leads.complete(lead, leadStatusFor(cdr.outcome), now)
    } catch (err) {
      l.log.error({ err }, 'returning the lead failed; its lease will expire and bring it back')
    }
    l.log.debug({ outcome: cdr.outcome }, 'call finished')
    this.deps.onFinished?.(cdr, call, lead)
  }
}
