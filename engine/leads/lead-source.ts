/**
 * Where the hopper gets its leads from. The PostgreSQL repository implements `LeadSource` (keyset pagination over a
 * campaign's dialable leads); `MemoryLeadSource` serves tests and the demo. The source is the durable record: the
 * hopper reads from it in pages and writes every outcome back through `recordOutcome`.
 */
import type { Lead } from './lead.js'

export interface LeadPage {
  leads: Lead[]
  /** Opaque position to continue from (after the last lead scanned); the input cursor when nothing was new. */
  nextCursor: string | undefined
  /** True when the source has nothing after `nextCursor` right now (more may be imported later). */
  exhausted: boolean
}

export interface LeadSource {
  /**
   * Up to `limit` dialable leads of the campaign (new, callback, or recycled statuses; never final ones), in the
   * source's stable order, strictly after `cursor` (from the start when undefined).
   */
  fetch(campaignId: string, cursor: string | undefined, limit: number): Promise<LeadPage>
  /** Persist the lead as it stands after an attempt or a screening decision (status, attempts, callback). */
  recordOutcome(lead: Lead): Promise<void>
}

const FINAL = new Set(['contacted', 'invalid', 'dnc', 'refused', 'done'])

/** In-memory source, ordered by insertion. Cursors are decimal positions in that order. */
export class MemoryLeadSource implements LeadSource {
  private readonly byCampaign = new Map<string, Lead[]>()
  readonly recorded: Lead[] = []

  constructor(leads: Iterable<Lead> = []) {
    for (const lead of leads) this.add(lead)
  }

  add(lead: Lead): void {
    const list = this.byCampaign.get(lead.campaignId) ?? []
    list.push(structuredClone(lead))
    this.byCampaign.set(lead.campaignId, list)
  }

  get(campaignId: string, leadId: string): Lead | undefined {
    return this.byCampaign.get(campaignId)?.find((l) => l.id === leadId)
  }

  async fetch(campaignId: string, cursor: string | undefined, limit: number): Promise<LeadPage> {
    const list = this.byCampaign.get(campaignId) ?? []
    let pos = cursor === undefined ? 0 : Number(cursor)
    if (!Number.isInteger(pos) || pos < 0) throw new Error(`bad lead source cursor ${JSON.stringify(cursor)}`)
    const leads: Lead[] = []
    while (pos < list.length && leads.length < limit) {
      const lead = list[pos++]!
      if (!FINAL.has(lead.status)) leads.push(structuredClone(lead))
    }
    return { leads, nextCursor: pos === 0 ? cursor : String(pos), exhausted: pos >= list.length }
  }

  async recordOutcome(lead: Lead): Promise<void> {
    const list = this.byCampaign.get(lead.campaignId)
    const i = list?.findIndex((l) => l.id === lead.id) ?? -1
    if (!list || i < 0) throw new Error(`unknown lead ${lead.id} in campaign ${lead.campaignId}`)
    list[i] = structuredClone(lead)
    this.recorded.push(structuredClone(lead))
  }
}
