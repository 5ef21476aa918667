/**
 * The hopper: a campaign's queue of leads ready to dial, shared by every engine instance. This module holds the
 * contract the campaign loop codes against; `engine/store/redis/redis-hopper.ts` implements it on Redis.
 *
 * Order of a take: due callbacks (an owned one is offered to its owner first, to anyone after a grace), then
 * recycled leads whose retry time has come (see recycling.ts), then new leads by priority and arrival. A taken
 * lead is in flight under a lease; exactly one of release / park / complete ends it, and a lease that runs out
 * (its engine died) brings the lead back. Screening runs just in time on the taken lead: a lead that fails is
 * parked until its retryAt, or completed as final.
 */
import type { Lead, LeadStatus } from './lead.js'
import type { RecycleDecision } from './recycling.js'

export type HopperQueue = 'callback' | 'recycle' | 'new'

/**
 * Where the engine must send the call once answered:
 * - `owner`: only to `agentId` (an owned callback inside its grace, up to `until`);
 * - `prefer`: to `agentId` if ready, else anyone (sticky routing);
 * - `any`: anyone.
 */
export type LeadRoute =
  | { kind: 'owner'; agentId: string; until: number }
  | { kind: 'prefer'; agentId: string }
  | { kind: 'any' }

/** Why a named lead could not be claimed: another call has it, or it is done for this campaign. */
export type ClaimRefusal = 'in-flight' | 'done'

export interface TakenLead {
  lead: Lead
  queue: HopperQueue
  /** Proof of the lease: pass it to release / park / complete / renew. */
  token: string
  leaseUntil: number
  route: LeadRoute
  /** Times an engine took this lead and its lease ran out (its engine died mid-attempt, outcome unknown). */
  lostLeases: number
}

export interface TakeOptions {
  now: number
  /** Leads wanted (default 1). 0 runs only the upkeep: expired leases and ended parks come back to their queues. */
  count?: number
  /**
   * Agents who could take an owned callback right now (e.g. the ready agents). When given, an owned callback inside
   * its grace is taken only if its owner is listed; when omitted, it is taken and routed `owner` regardless.
   */
  ableAgents?: readonly string[]
}

export interface TakeResult {
  leads: TakenLead[]
  /** Expired leases brought back during this take. */
  reclaimed: number
  /** Screening parks that ended during this take. */
  parksEnded: number
}

export interface HopperCounts {
  callbacks: number
  recycle: number
  new: number
  parked: number
  inflight: number
}

export interface RefillResult {
  fetched: number
  added: number
  exhausted: boolean
}

export interface Hopper {
  readonly campaignId: string
  /** Pull up to `limit` leads from the lead source into the hopper (idempotent: a lead already held is skipped). */
  refill(limit: number): Promise<RefillResult>
  /** Add leads directly (e.g. a booked callback); returns how many were new to the hopper. */
  add(leads: readonly Lead[]): Promise<number>
  /** Book or move a callback for a lead not in flight (false when it is in flight). */
  bookCallback(lead: Lead, at: number, ownerAgentId?: string): Promise<boolean>
  take(options: TakeOptions): Promise<TakeResult>
  /** Give a lead back untouched (no attempt made). False when the lease was lost. */
  release(taken: TakenLead): Promise<boolean>
  /** Park a lead that failed screening until `until`. False when the lease was lost. */
  park(taken: TakenLead, until: number, reason: string): Promise<boolean>
  /**
   * Record the attempt's outcome: the lead (with its new status and, when `attempted`, the attempt time) is written
   * to the lead source and filed in the hopper per the recycling rules (a lead over its attempt cap ends as
   * `done`). Returns the decision and the lead as recorded; `filed` is false when the lease was lost (the source
   * still records the attempt, which did happen).
   */
  complete(
    taken: TakenLead,
    outcome: { status: LeadStatus; at: number; attempted: boolean; callbackAt?: number; ownerAgentId?: string },
  ): Promise<{ decision: RecycleDecision; lead: Lead; filed: boolean }>
  /** Extend the lease during a long call. Returns the new expiry, or undefined when the lease was lost. */
  renew(taken: TakenLead, now: number): Promise<number | undefined>
  counts(): Promise<HopperCounts>
}
