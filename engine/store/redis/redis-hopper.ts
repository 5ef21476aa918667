/**
 * The lead hopper on Redis (see engine/leads/hopper.ts for the contract). Every step that changes the hopper is one
 * Lua script (scripts/take-lead.lua, release-lead.lua, park-lead.lua, complete-lead.lua, renew-lead-lease.lua,
 * add-leads.lua), so engines sharing a campaign never take the same lead. Time comes from the caller (`now`),
 * never from Redis, so tests and the simulator drive lease expiry with their own clock.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Lead, LeadStatus } from '../../leads/lead.js'
import type { LeadSource } from '../../leads/lead-source.js'
import type {
  ClaimRefusal,
  Hopper,
  HopperCounts,
  HopperQueue,
  LeadRoute,
  RefillResult,
  TakeOptions,
  TakeResult,
  TakenLead,
} from '../../leads/hopper.js'
import {
  DEFAULT_RECYCLE_RULES,
  nextAfterAttempt,
  placementOf,
  type RecycleDecision,
  type RecycleRules,
} from '../../leads/recycling.js'
import type { LeadNumberCipher } from '../sql/lead-numbers.js'
import { HopperLeadCodec } from './hopper-lead-codec.js'
import { CadenceKeys, assertKeyId, type HopperKeys } from './keys.js'
import { ScriptRunner } from './script-loader.js'

export interface RedisHopperOptions {
  redis: Redis
  campaignId: string
  source: LeadSource
  /** Seals each lead's number in Redis as in PostgreSQL (every engine of a deployment has the same keys). */
  numbers: LeadNumberCipher
  keys?: CadenceKeys
  /** Identifies this engine in lease tokens (logs, debugging). Default: a random id. */
  instanceId?: string
  /** Lease of a taken lead; renew it during long calls. Default 5 minutes. */
  leaseMs?: number
  /** How long an owned callback waits for its owner after the booked time. Default 15 minutes. */
  ownerGraceMs?: number
  /** How long a final lead is remembered so a late refill cannot bring it back. Default 7 days. */
  tombstoneMs?: number
  /** Expired leases reclaimed / parks ended per take, at most. Default 100. */
  maintenanceLimit?: number
  rules?: RecycleRules
}

const QUEUES: ReadonlySet<string> = new Set(['callback', 'recycle', 'new'])

export class RedisHopper implements Hopper {
  readonly campaignId: string
  readonly instanceId: string
  readonly keys: HopperKeys
  private readonly scripts: ScriptRunner
  private readonly source: LeadSource
  private readonly leaseMs: number
  private readonly ownerGraceMs: number
  private readonly tombstoneMs: number
  private readonly maintenanceLimit: number
  private readonly rules: RecycleRules
  private readonly codec: HopperLeadCodec

  constructor(options: RedisHopperOptions) {
    this.codec = new HopperLeadCodec(options.numbers)
    this.campaignId = options.campaignId
    this.keys = (options.keys ?? new CadenceKeys()).hopper(options.campaignId)
    this.instanceId = options.instanceId ?? randomUUID()
    assertKeyId('instance', this.instanceId)
    this.scripts = new ScriptRunner(options.redis)
    this.source = options.source
    this.leaseMs = options.leaseMs ?? 5 * 60_000
    this.ownerGraceMs = options.ownerGraceMs ?? 15 * 60_000
    this.tombstoneMs = options.tombstoneMs ?? 7 * 24 * 3_600_000
    this.maintenanceLimit = options.maintenanceLimit ?? 100
    this.rules = options.rules ?? DEFAULT_RECYCLE_RULES
    for (const [name, v] of Object.entries({ leaseMs: this.leaseMs, ownerGraceMs: this.ownerGraceMs })) {
      if (!Number.isFinite(v) || v <= 0) throw new Error(`RedisHopper: ${name} must be a positive number, got ${v}`)
    }
  }

  private get redis(): Redis {
    return this.scripts.redis
  }

  async refill(limit: number): Promise<RefillResult> {
    const cursor = (await this.redis.get(this.keys.cursor)) ?? undefined
    const page = await this.source.fetch(this.campaignId, cursor, limit)
    const added = await this.addLeads(page.leads, cursor ?? '', page.nextCursor ?? '')
    return { fetched: page.leads.length, added, exhausted: page.exhausted }
  }

  /** Refill only when fewer than `minNew` new leads wait; the campaign loop calls this before each take. */
  async topUp(minNew: number, limit: number): Promise<RefillResult | undefined> {
    if ((await this.redis.zcard(this.keys.fresh)) >= minNew) return undefined
    return this.refill(limit)
  }

  add(leads: readonly Lead[]): Promise<number> {
    return this.addLeads(leads, '', '')
  }

  private async addLeads(leads: readonly Lead[], cursorRead: string, cursorNext: string): Promise<number> {
    const args: (string | number)[] = [this.keys.leadPrefix, cursorRead, cursorNext === cursorRead ? '' : cursorNext]
    for (const lead of leads) {
      if (lead.campaignId !== this.campaignId) {
        throw new Error(`lead ${lead.id} belongs to campaign ${lead.campaignId}, not ${this.campaignId}`)
      }
      assertKeyId('lead', lead.id)
      const place = placementOf(lead, this.rules)
      if (place.kind === 'final') continue
      const n = place.kind === 'new' ? (lead.priority ?? 0) : place.at
      args.push(lead.id, place.kind, n, lead.ownerAgentId ?? '', this.codec.encode(lead))
    }
    const k = this.keys
    const res = (await this.scripts.run('add-leads', [k.callbacks, k.recycle, k.fresh, k.seq, k.cursor], args)) as [
      number,
      number,
    ]
    return res[0]
  }

  /**
   * Book (or move) a callback for a lead that is not in flight, e.g. from the API: the lead, wherever it waits,
   * moves to the callbacks queue due at `at`, owned by `ownerAgentId` if given. The updated lead is written to the
   * source first. Returns false when the lead is in flight (its holder books it through `complete`).
   */
  async bookCallback(lead: Lead, at: number, ownerAgentId?: string): Promise<boolean> {
    if (lead.campaignId !== this.campaignId) {
      throw new Error(`lead ${lead.id} belongs to campaign ${lead.campaignId}, not ${this.campaignId}`)
    }
    assertKeyId('lead', lead.id)
    if (!Number.isFinite(at)) throw new Error(`lead ${lead.id}: callback time must be a number`)
    const k = this.keys
    const booked: Lead = { ...structuredClone(lead), status: 'callback', callbackAt: at }
    if (ownerAgentId !== undefined) booked.ownerAgentId = ownerAgentId
    const state = await this.redis.hget(`${k.leadPrefix}${lead.id}`, 'state')
    if (state === 'inflight') return false
    await this.source.recordOutcome(booked)
    const res = await this.scripts.run('book-callback', [k.callbacks, k.recycle, k.fresh, k.parked], [
      k.leadPrefix,
      lead.id,
      at,
      booked.ownerAgentId ?? '',
      this.codec.encode(booked),
    ])
    return res === 1
  }

  /**
   * Close a lead that is not in flight with a final status (an agent's disposition: refused, dnc, done, invalid): the
   * lead row first, then the lead leaves every queue. Returns false when the lead is in flight.
   */
  async close(lead: Lead, status: LeadStatus): Promise<boolean> {
    if (lead.campaignId !== this.campaignId) {
      throw new Error(`lead ${lead.id} belongs to campaign ${lead.campaignId}, not ${this.campaignId}`)
    }
    assertKeyId('lead', lead.id)
    const k = this.keys
    if ((await this.redis.hget(`${k.leadPrefix}${lead.id}`, 'state')) === 'inflight') return false
    const closed: Lead = { ...structuredClone(lead), status }
    delete closed.callbackAt
    await this.source.recordOutcome(closed)
    const res = await this.scripts.run('close-lead', [k.callbacks, k.recycle, k.fresh, k.parked], [
      k.leadPrefix,
      lead.id,
      this.codec.encode(closed),
      this.tombstoneMs,
    ])
    return res === 1
  }

  async take(options: TakeOptions): Promise<TakeResult> {
    const k = this.keys
    const able = options.ableAgents
    const raw = (await this.scripts.run(
      'take-lead',
      [k.callbacks, k.recycle, k.fresh, k.parked, k.inflight],
      [
        options.now,
        this.leaseMs,
        this.instanceId,
        k.leadPrefix,
        this.ownerGraceMs,
        options.count ?? 1,
        this.maintenanceLimit,
        able ? '1' : '0',
        ...(able ?? []),
      ],
    )) as (string | number)[]
    const [reclaimed, parksEnded, n] = raw as [number, number, number]
    const leads: TakenLead[] = []
    for (let i = 0; i < n; i++) {
      const f = raw.slice(3 + i * 9, 12 + i * 9).map(String)
      const [id, queue, data, token, leaseUntil, routeKind, agent, until, lost] = f as [
        string, string, string, string, string, string, string, string, string,
      ]
      const route: LeadRoute =
        routeKind === 'owner'
          ? { kind: 'owner', agentId: agent, until: Number(until) }
          : routeKind === 'prefer'
            ? { kind: 'prefer', agentId: agent }
            : { kind: 'any' }
      leads.push(this.takenOf(id, queue, data, token, leaseUntil, route, lost))
    }
    return { leads, reclaimed, parksEnded }
  }

  /**
   * Takes this lead (an agent's own call: click-to-dial) wherever it waits, or adds it taken when the hopper does
   * not hold it (scripts/claim-lead.lua); refused while another call has it or once it is done.
   */
  async claim(lead: Lead, now: number): Promise<TakenLead | ClaimRefusal> {
    const k = this.keys
    const raw = (await this.scripts.run(
      'claim-lead',
      [k.callbacks, k.recycle, k.fresh, k.parked, k.inflight],
      [now, this.leaseMs, this.instanceId, k.leadPrefix, lead.id, this.codec.encode(lead)],
    )) as string[]
    const [result, kind, data, token, leaseUntil, lost] = raw.map(String) as [string, string, string, string, string, string]
    if (result !== 'taken') return result as ClaimRefusal
    return this.takenOf(lead.id, kind, data, token, leaseUntil, { kind: 'any' }, lost)
  }

  /** A lead a script leased, from the fields it returned. */
  private takenOf(id: string, queue: string, data: string, token: string, leaseUntil: string, route: LeadRoute, lost: string): TakenLead {
    if (!QUEUES.has(queue)) throw new Error(`hopper ${this.campaignId}: lead ${id} has unknown queue ${queue}`)
    return { lead: this.codec.decode(data), queue: queue as HopperQueue, token, leaseUntil: Number(leaseUntil), route, lostLeases: Number(lost) }
  }

  async release(taken: TakenLead): Promise<boolean> {
    const k = this.keys
    const res = await this.scripts.run(
      'release-lead',
      [k.callbacks, k.recycle, k.fresh, k.inflight],
      [taken.lead.id, taken.token, k.leadPrefix],
    )
    return res === 1
  }

  async park(taken: TakenLead, until: number, reason: string): Promise<boolean> {
    const k = this.keys
    const res = await this.scripts.run(
      'park-lead',
      [k.parked, k.inflight],
      [taken.lead.id, taken.token, k.leadPrefix, until, reason],
    )
    return res === 1
  }

  async complete(
    taken: TakenLead,
    outcome: { status: LeadStatus; at: number; attempted: boolean; callbackAt?: number; ownerAgentId?: string },
  ): Promise<{ decision: RecycleDecision; lead: Lead; filed: boolean }> {
    const lead: Lead = structuredClone(taken.lead)
    if (outcome.attempted) lead.attemptTimes = [...lead.attemptTimes, outcome.at]
    // Screening's abandon lockout (Ofcom's 72-hour rule) reads this from the lead itself.
    if (outcome.status === 'abandoned') lead.lastAbandonedAt = outcome.at
    const callback =
      outcome.status === 'callback'
        ? {
            at: outcome.callbackAt ?? Number.NaN,
            ...(outcome.ownerAgentId !== undefined ? { ownerAgentId: outcome.ownerAgentId } : {}),
          }
        : undefined
    if (callback && !Number.isFinite(callback.at)) throw new Error(`lead ${lead.id}: a callback needs callbackAt`)
    const decision = nextAfterAttempt(outcome.status, lead.attemptTimes.length, outcome.at, this.rules, callback)
    lead.status = decision.kind === 'final' && decision.reason === 'max-attempts' ? 'done' : outcome.status
    if (decision.kind === 'callback') {
      lead.callbackAt = decision.at
      if (decision.ownerAgentId !== undefined) lead.ownerAgentId = decision.ownerAgentId
    } else {
      delete lead.callbackAt
    }
    // The attempt happened whatever became of the lease: the durable record comes first.
    await this.source.recordOutcome(lead)
    const k = this.keys
    const res = await this.scripts.run(
      'complete-lead',
      [k.callbacks, k.recycle, k.inflight],
      [
        lead.id,
        taken.token,
        k.leadPrefix,
        decision.kind,
        decision.kind === 'final' ? 0 : decision.at,
        decision.kind === 'callback' ? (lead.ownerAgentId ?? '') : '',
        this.codec.encode(lead),
        this.tombstoneMs,
      ],
    )
    return { decision, lead, filed: res === 1 }
  }

  async renew(taken: TakenLead, now: number): Promise<number | undefined> {
    const k = this.keys
    const res = await this.scripts.run('renew-lead-lease', [k.inflight], [
      taken.lead.id,
      taken.token,
      k.leadPrefix,
      now,
      this.leaseMs,
    ])
    const until = Number(res)
    return until > 0 ? until : undefined
  }

  async counts(): Promise<HopperCounts> {
    const k = this.keys
    const res = await this.redis
      .multi()
      .zcard(k.callbacks)
      .zcard(k.recycle)
      .zcard(k.fresh)
      .zcard(k.parked)
      .zcard(k.inflight)
      .exec()
    if (!res) throw new Error('hopper counts: transaction aborted')
    const n = res.map(([err, v]) => {
      if (err) throw err
      return Number(v)
    })
    return { callbacks: n[0]!, recycle: n[1]!, new: n[2]!, parked: n[3]!, inflight: n[4]! }
  }
}
