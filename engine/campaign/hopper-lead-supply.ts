/**
 * The campaign loop's LeadSupply over the Redis hopper. The hopper proves a lease with a token; this adapter keeps
 * the token of every lead this instance holds, renews the leases of long calls, and turns the hopper's owner routing
 * into the lead's owning agent for the ACD.
 */
import type { Logger } from 'pino'
import type { Lead, LeadStatus } from '../leads/lead.js'
import type { ClaimRefusal, Hopper, TakenLead } from '../leads/hopper.js'
import type { LeadSupply } from './dialer.js'

export interface HopperLeadSupplyOptions {
  hopper: Hopper & {
    topUp(minNew: number, limit: number): Promise<unknown>
    /** Takes one named lead (click-to-dial). */
    claim(lead: Lead, now: number): Promise<TakenLead | ClaimRefusal>
  }
  logger: Logger
  /** Ready agents right now: an owned callback is only taken while its owner can take it. */
  readyAgents?: () => Promise<readonly string[]>
  /** Keep at least this many new leads in the hopper, refilling from the lead source in batches of `refillBatch`. */
  minNew: number
  refillBatch: number
}

export class HopperLeadSupply implements LeadSupply {
  private readonly held = new Map<string, TakenLead>()

  constructor(private readonly o: HopperLeadSupplyOptions) {}

  async take(_campaignId: string, now: number): Promise<Lead | undefined> {
    await this.o.hopper.topUp(this.o.minNew, this.o.refillBatch)
    const ableAgents = this.o.readyAgents ? await this.o.readyAgents() : undefined
    const res = await this.o.hopper.take({ now, count: 1, ableAgents })
    const taken = res.leads[0]
    if (res.reclaimed > 0) this.o.logger.warn({ reclaimed: res.reclaimed }, 'leads came back from expired leases')
    if (!taken) return undefined
    this.held.set(taken.lead.id, taken)
    const lead: Lead = { ...taken.lead }
    if (taken.route.kind === 'owner' || taken.route.kind === 'prefer') lead.ownerAgentId = taken.route.agentId
    return lead
  }

  /** Takes this lead for an agent's own call; held like a taken one, so the call's end files it. */
  async claim(lead: Lead, now: number): Promise<Lead | ClaimRefusal> {
    const taken = await this.o.hopper.claim(lead, now)
    if (typeof taken === 'string') return taken
    this.held.set(taken.lead.id, taken)
    return { ...taken.lead }
  }

  async park(lead: Lead, _now: number, code: string, retryAt?: number): Promise<void> {
    const taken = this.held.get(lead.id)
    if (!taken) return
    this.held.delete(lead.id)
    // A rejection that no time clears (DNC, invalid, refused) ends the lead for this campaign.
    if (retryAt === undefined) {
      await this.o.hopper.complete(taken, { status: statusForRejection(code), at: _now, attempted: false })
      return
    }
    await this.o.hopper.park(taken, retryAt, code)
  }

  async complete(lead: Lead, status: LeadStatus, now: number): Promise<void> {
    const taken = this.held.get(lead.id)
    if (!taken) return
    this.held.delete(lead.id)
    const res = await this.o.hopper.complete(taken, { status, at: now, attempted: true })
    if (!res.filed) this.o.logger.warn({ leadId: lead.id }, 'lead lease was lost before the call ended')
  }

  /** Extend the leases of leads whose calls are still going; the campaign loop calls it every tick. */
  async renew(now: number): Promise<void> {
    for (const taken of this.held.values()) {
      if (taken.leaseUntil - now > 60_000) continue
      const until = await this.o.hopper.renew(taken, now)
      if (until === undefined) this.o.logger.warn({ leadId: taken.lead.id }, 'lead lease lost while its call was up')
      else taken.leaseUntil = until
    }
  }

  async size(_campaignId: string): Promise<number> {
    const c = await this.o.hopper.counts()
    return c.callbacks + c.recycle + c.new
  }
}

function statusForRejection(code: string): LeadStatus {
  if (code.startsWith('dnc-') || code === 'lead-dnc') return 'dnc'
  if (code === 'lead-refused' || code === 'no-consent') return 'refused'
  if (code === 'invalid-format' || code === 'invalid-number' || code === 'learned-invalid') return 'invalid'
  return 'done'
}
