/**
 * A customer's timeline: its calls (CDRs of the leads that name the customer, in campaigns of its site), notes and
 * dispositions, newest first. Each kind is read with its own indexed query limited to the page size, then merged.
 */
import type { PiiCipher } from '../../security/pii-cipher.js'
import { CustomerDispositionRepository, type CustomerDisposition } from './customer-dispositions.js'
import { CustomerNoteRepository, type CustomerNote } from './customer-notes.js'
import type { Queryable } from './db.js'
import { msOf, optionalMs } from './row-time.js'

export interface TimelineCall {
  callId: string
  campaignId: string
  agentId: string | null
  outcome: string
  disposition: string
  dialedAt: number
  answeredAt?: number
  endedAt: number
  talkSeconds: number
}

export type TimelineEntry =
  | { kind: 'call'; at: number; id: string; call: TimelineCall }
  | { kind: 'note'; at: number; id: string; note: CustomerNote }
  | { kind: 'disposition'; at: number; id: string; disposition: CustomerDisposition }

// At the same millisecond a call comes before what was written about it.
const KindOrder: Record<TimelineEntry['kind'], number> = { disposition: 0, note: 1, call: 2 }

/** Newest first; ties by kind (dispositions, notes, then the call they follow) and id, so the order is stable. */
export function mergeTimeline(lists: ReadonlyArray<readonly TimelineEntry[]>, limit: number): TimelineEntry[] {
  return lists
    .flat()
    .sort((a, b) => b.at - a.at || KindOrder[a.kind] - KindOrder[b.kind] || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit)
}

interface CallRow {
  call_id: string
  campaign_id: string
  agent_id: string | null
  outcome: string
  disposition: string
  dialed_at: Date
  answered_at: Date | null
  ended_at: Date
  talk_seconds: number
}

export class CustomerTimelineRepository {
  private readonly notes: CustomerNoteRepository
  private readonly dispositions: CustomerDispositionRepository

  constructor(
    private readonly db: Queryable,
    pii: PiiCipher,
  ) {
    this.notes = new CustomerNoteRepository(db, pii)
    this.dispositions = new CustomerDispositionRepository(db)
  }

  /** Calls newest first, dialed before `before` (epoch ms, exclusive) when given. */
  async calls(customer: { id: string; siteId: string }, limit: number, before?: number): Promise<TimelineCall[]> {
    const r = await this.db.query<CallRow>(
      `SELECT d.call_id, d.campaign_id, d.agent_id, d.outcome, d.disposition, d.dialed_at, d.answered_at, d.ended_at, d.talk_seconds
       FROM leads l JOIN cdrs d ON d.lead_id = l.id JOIN campaigns k ON k.id = d.campaign_id
       WHERE l.customer_id = $1 AND k.site_id = $2 AND ($3::timestamptz IS NULL OR d.dialed_at < $3)
       ORDER BY d.dialed_at DESC, d.call_id DESC LIMIT $4`,
      [customer.id, customer.siteId, before === undefined ? null : new Date(before), limit],
    )
    return r.rows.map((x) => {
      const c: TimelineCall = {
        callId: x.call_id,
        campaignId: x.campaign_id,
        agentId: x.agent_id,
        outcome: x.outcome,
        disposition: x.disposition,
        dialedAt: msOf(x.dialed_at),
        endedAt: msOf(x.ended_at),
        talkSeconds: x.talk_seconds,
      }
      const answered = optionalMs(x.answered_at)
      if (answered !== undefined) c.answeredAt = answered
      return c
    })
  }

  /** Whether the call was made to one of this customer's leads (a disposition may name only such a call). */
  async hasCall(customer: { id: string; siteId: string }, callId: string): Promise<boolean> {
    const r = await this.db.query(
      `SELECT 1 FROM cdrs d JOIN leads l ON l.id = d.lead_id JOIN campaigns k ON k.id = d.campaign_id
       WHERE d.call_id = $1 AND l.customer_id = $2 AND k.site_id = $3`,
      [callId, customer.id, customer.siteId],
    )
    return r.rows.length === 1
  }

  /** Up to `limit` entries, newest first, older than `before` (epoch ms, exclusive) when given. */
  async page(customer: { id: string; siteId: string }, limit: number, before?: number): Promise<TimelineEntry[]> {
    const [calls, notes, dispositions] = await Promise.all([
      this.calls(customer, limit, before),
      this.notes.list(customer.id, limit, before),
      this.dispositions.list(customer.id, limit, before),
    ])
    return mergeTimeline(
      [
        calls.map((call): TimelineEntry => ({ kind: 'call', at: call.dialedAt, id: call.callId, call })),
        notes.map((note): TimelineEntry => ({ kind: 'note', at: note.createdAt, id: note.id, note })),
        dispositions.map((disposition): TimelineEntry => ({ kind: 'disposition', at: disposition.createdAt, id: disposition.id, disposition })),
      ],
      limit,
    )
  }
}
