/** Lead lists and leads: the numbers a campaign dials, with the contact history screening needs. */
import type { Lead, LeadStatus } from '../../leads/lead.js'
import type { LeadPage, LeadSource } from '../../leads/lead-source.js'
import type { Queryable } from './db.js'
import type { CopyRows } from './copy-rows.js'
import type { PiiCipher } from '../../security/pii-cipher.js'
import { LeadNumberCipher, leadNumberOf } from './lead-numbers.js'
import { dateOrNull, msOf, optionalMs } from './row-time.js'
import { TimeOrderedIds } from './time-ordered-ids.js'

export interface LeadList {
  id: string
  campaignId: string
  name: string
  source?: string
  createdAt: number
}

export interface NewLead {
  phone: string
  e164?: string
  region?: string
  timezone?: string
  priority?: number
  ownerAgentId?: string
  customerId?: string
}

/**
 * The columns of an import batch's rows, in this order (engine/store/sql/lead-importer.ts writes them): the row's
 * position in the batch, a fresh id, the number sealed to that id (lead-numbers.ts), its E.164 lookup hash, region,
 * time zone, priority, customer id.
 */
export const ImportedLeadRowColumns = ['n', 'id', 'number_enc', 'e164_hash', 'region', 'timezone', 'priority', 'customer'] as const

interface LeadRow {
  id: string
  campaign_id: string
  number_enc: string | null
  phone: string | null
  e164: string | null
  region: string | null
  timezone: string | null
  status: LeadStatus
  attempt_times: Date[]
  last_abandoned_at: Date | null
  owner_agent_id: string | null
  customer_id: string | null
  callback_at: Date | null
  priority: number
}

const columns =
  'id, campaign_id, number_enc, phone, e164, region, timezone, status, attempt_times, last_abandoned_at, owner_agent_id, customer_id, callback_at, priority'

function toLead(numbers: LeadNumberCipher, r: LeadRow): Lead {
  const n = leadNumberOf(numbers, r)
  const lead: Lead = {
    id: r.id,
    campaignId: r.campaign_id,
    phone: n.phone,
    status: r.status,
    attemptTimes: r.attempt_times.map(msOf),
    priority: r.priority,
  }
  if (n.e164 !== undefined) lead.e164 = n.e164
  if (r.region !== null) lead.region = r.region
  if (r.timezone !== null) lead.timezone = r.timezone
  const abandoned = optionalMs(r.last_abandoned_at)
  if (abandoned !== undefined) lead.lastAbandonedAt = abandoned
  if (r.owner_agent_id !== null) lead.ownerAgentId = r.owner_agent_id
  if (r.customer_id !== null) lead.customerId = r.customer_id
  const callback = optionalMs(r.callback_at)
  if (callback !== undefined) lead.callbackAt = callback
  return lead
}

export interface AttemptResult {
  /** Epoch ms the attempt was dialed. */
  at: number
  status: LeadStatus
  /** Set when the call was abandoned (lockout rules key on it). */
  abandonedAt?: number
}

/** Statuses a lead never leaves by itself: the hopper skips them. */
const FinalStatuses: readonly LeadStatus[] = ['contacted', 'invalid', 'dnc', 'refused', 'done']

/**
 * Also the hopper's LeadSource: pages of dialable leads in insertion order, and outcomes written back. Numbers are
 * sealed on the way in and opened on the way out (lead-numbers.ts): the Lead the engine holds carries them in clear.
 */
export class LeadRepository implements LeadSource {
  /** How its numbers are sealed (the hopper seals its working copies the same way). */
  readonly numbers: LeadNumberCipher
  private readonly ids = new TimeOrderedIds()

  constructor(
    private readonly db: Queryable,
    pii: PiiCipher,
  ) {
    this.numbers = new LeadNumberCipher(pii)
  }

  private toLead = (r: LeadRow): Lead => toLead(this.numbers, r)

  /**
   * Up to `limit` dialable leads after `cursor` in insertion order. The cursor is the last lead's sequence number
   * (opaque to callers); leads imported later always come after every cursor handed out before.
   */
  async fetch(campaignId: string, cursor: string | undefined, limit: number): Promise<LeadPage> {
    if (cursor !== undefined && !/^\d{1,18}$/.test(cursor)) {
      throw new Error(`bad lead source cursor ${JSON.stringify(cursor)}`)
    }
    // One row more than asked tells whether anything is left after this page.
    const r = await this.db.query<LeadRow & { seq: number }>(
      `SELECT ${columns}, seq FROM leads
       WHERE campaign_id = $1 AND seq > $2 AND NOT (status = ANY($3::text[]))
       ORDER BY seq LIMIT $4`,
      [campaignId, cursor ?? '0', [...FinalStatuses], limit + 1],
    )
    const rows = r.rows.slice(0, limit)
    const last = rows[rows.length - 1]
    return {
      leads: rows.map(this.toLead),
      nextCursor: last === undefined ? cursor : String(last.seq),
      exhausted: r.rows.length <= limit,
    }
  }

  /**
   * Persist the lead as the engine holds it after an attempt or a screening decision. A number screening normalized
   * (the lead came without its E.164 form) is sealed again with it and gets its lookup hash.
   */
  async recordOutcome(lead: Lead): Promise<void> {
    const times = lead.attemptTimes.map((ms) => new Date(ms))
    const sealed = lead.e164 === undefined ? null : this.numbers.seal(lead.id, { phone: lead.phone, e164: lead.e164 })
    const r = await this.db.query(
      `UPDATE leads SET status = $3, attempts = $4, attempt_times = $5::timestamptz[],
         last_attempt_at = $6, last_abandoned_at = $7, callback_at = $8, owner_agent_id = $9,
         number_enc = CASE WHEN $10::text IS NOT NULL AND e164_hash IS NULL THEN $12 ELSE number_enc END,
         phone = CASE WHEN $10::text IS NOT NULL AND e164_hash IS NULL THEN NULL ELSE phone END,
         e164 = CASE WHEN $10::text IS NOT NULL AND e164_hash IS NULL THEN NULL ELSE e164 END,
         e164_hash = coalesce(e164_hash, $10),
         timezone = coalesce($11, timezone), updated_at = now()
       WHERE id = $1 AND campaign_id = $2`,
      [
        lead.id,
        lead.campaignId,
        lead.status,
        times.length,
        times,
        times[times.length - 1] ?? null,
        dateOrNull(lead.lastAbandonedAt),
        dateOrNull(lead.callbackAt),
        lead.ownerAgentId ?? null,
        lead.e164 === undefined ? null : this.numbers.hash(lead.e164),
        lead.timezone ?? null,
        sealed,
      ],
    )
    if (r.rowCount !== 1) throw new Error(`unknown lead ${lead.id} in campaign ${lead.campaignId}`)
  }

  async createList(l: { campaignId: string; name: string; source?: string }): Promise<LeadList> {
    const r = await this.db.query<{ id: string; campaign_id: string; name: string; source: string | null; created_at: Date }>(
      `INSERT INTO lead_lists (campaign_id, name, source) VALUES ($1, $2, $3)
       RETURNING id, campaign_id, name, source, created_at`,
      [l.campaignId, l.name, l.source ?? null],
    )
    const row = r.rows[0]!
    return {
      id: row.id,
      campaignId: row.campaign_id,
      name: row.name,
      source: row.source ?? undefined,
      createdAt: msOf(row.created_at),
    }
  }

  /**
   * Insert leads in one statement; a number already in the campaign (same E.164) is skipped, not an error, and
   * counted as a duplicate. Returns the ids of the rows that landed, in input order of those rows.
   */
  async insertMany(
    campaignId: string,
    leads: readonly NewLead[],
    listId?: string,
  ): Promise<{ insertedIds: string[]; duplicates: number }> {
    if (leads.length === 0) return { insertedIds: [], duplicates: 0 }
    const col = <T>(f: (l: NewLead) => T | undefined) => leads.map((l) => f(l) ?? null)
    // The ids are made here: each number is sealed to its lead's id before the row exists.
    const ids = leads.map(() => this.ids.next())
    const r = await this.db.query<{ id: string }>(
      `INSERT INTO leads (id, campaign_id, list_id, number_enc, e164_hash, region, timezone, priority, owner_agent_id, customer_id)
       SELECT t.id, $1, $2, t.number_enc, t.e164_hash, t.region, t.timezone, coalesce(t.priority, 0), t.owner, t.customer
       FROM unnest($10::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[])
            WITH ORDINALITY AS t(id, number_enc, e164_hash, region, timezone, priority, owner, customer, n)
       ORDER BY t.n
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [
        campaignId,
        listId ?? null,
        leads.map((l, i) => this.numbers.seal(ids[i]!, l)),
        col((l) => (l.e164 === undefined ? undefined : this.numbers.hash(l.e164))),
        col((l) => l.region),
        col((l) => l.timezone),
        col((l) => l.priority),
        col((l) => l.ownerAgentId),
        col((l) => l.customerId),
        ids,
      ],
    )
    return { insertedIds: r.rows.map((x) => x.id), duplicates: leads.length - r.rowCount }
  }

  /**
   * An import's batch: its rows (ImportedLeadRows' columns, in file order) are COPYed into a temporary staging table,
   * then moved into leads by one INSERT ... SELECT in file order (seq follows the file); returns how many landed. A
   * number already in the campaign, or earlier in the batch, is skipped by the (campaign_id, e164_hash) unique index,
   * the only arbiter: the ids are fresh time-ordered UUIDs, and each number was sealed to its id by the importer. The staging table lives for the connection and is emptied at
   * each commit, so a batch never sees another's rows. Must run inside a transaction (the COPY and the INSERT must be
   * on one connection).
   */
  async insertImportBatch(campaignId: string, listId: string, batch: CopyRows): Promise<number> {
    if (batch.count === 0) return 0
    await this.db.query(
      `CREATE TEMP TABLE IF NOT EXISTS lead_import_rows (
         n int NOT NULL, id text NOT NULL, number_enc text NOT NULL, e164_hash text NOT NULL, region text,
         timezone text, priority int, customer text
       ) ON COMMIT DELETE ROWS`,
    )
    await this.db.copyIn('lead_import_rows', ImportedLeadRowColumns, batch.bytes)
    const r = await this.db.query(
      `INSERT INTO leads (id, campaign_id, list_id, number_enc, e164_hash, region, timezone, priority, customer_id)
       SELECT t.id, $1, $2, t.number_enc, t.e164_hash, t.region, t.timezone, coalesce(t.priority, 0), t.customer
       FROM lead_import_rows t ORDER BY t.n
       ON CONFLICT (campaign_id, e164_hash) WHERE e164_hash IS NOT NULL DO NOTHING`,
      [campaignId, listId],
    )
    return r.rowCount
  }

  /** Several leads in one query (BatchedLookup); unknown ids are absent from the map. */
  async getMany(ids: readonly string[]): Promise<Map<string, Lead>> {
    const r = await this.db.query<LeadRow>(`SELECT ${columns} FROM leads WHERE id = ANY($1::text[])`, [ids])
    return new Map(r.rows.map((row) => [row.id, this.toLead(row)]))
  }

  /** The campaign's lead with this number (found by its lookup hash: at most one, the hash is unique per campaign). */
  async findByNumber(campaignId: string, e164: string): Promise<Lead | undefined> {
    const r = await this.db.query<LeadRow>(`SELECT ${columns} FROM leads WHERE campaign_id = $1 AND e164_hash = $2`, [campaignId, this.numbers.hash(e164)])
    return r.rows[0] && this.toLead(r.rows[0])
  }

  async get(id: string): Promise<Lead | undefined> {
    const r = await this.db.query<LeadRow>(`SELECT ${columns} FROM leads WHERE id = $1`, [id])
    return r.rows[0] && this.toLead(r.rows[0])
  }

  /** Leads of a campaign in hopper order (priority, then id), optionally only some statuses; keyset paging by id. */
  async list(
    campaignId: string,
    options: { statuses?: readonly LeadStatus[]; limit: number; afterId?: string },
  ): Promise<Lead[]> {
    const r = await this.db.query<LeadRow>(
      `SELECT ${columns} FROM leads
       WHERE campaign_id = $1 AND ($2::text[] IS NULL OR status = ANY($2)) AND ($3::text IS NULL OR id > $3)
       ORDER BY priority DESC, id LIMIT $4`,
      [campaignId, options.statuses ? [...options.statuses] : null, options.afterId ?? null, options.limit],
    )
    return r.rows.map(this.toLead)
  }

  /** Callbacks due by `until` (epoch ms), earliest first. */
  async dueCallbacks(campaignId: string, until: number, limit: number): Promise<Lead[]> {
    const r = await this.db.query<LeadRow>(
      `SELECT ${columns} FROM leads
       WHERE campaign_id = $1 AND status = 'callback' AND callback_at <= $2
       ORDER BY callback_at, id LIMIT $3`,
      [campaignId, new Date(until), limit],
    )
    return r.rows.map(this.toLead)
  }

  /** Record one dial attempt and the status it left. Returns false when the lead does not exist. */
  async recordAttempt(id: string, a: AttemptResult): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE leads SET attempts = attempts + 1, attempt_times = attempt_times || $2::timestamptz,
         last_attempt_at = $2, status = $3, last_abandoned_at = coalesce($4, last_abandoned_at), updated_at = now()
       WHERE id = $1`,
      [id, new Date(a.at), a.status, dateOrNull(a.abandonedAt)],
    )
    return r.rowCount === 1
  }

  async setStatus(id: string, status: LeadStatus): Promise<boolean> {
    const r = await this.db.query('UPDATE leads SET status = $2, updated_at = now() WHERE id = $1', [id, status])
    return r.rowCount === 1
  }

  /** Book a callback to the minute; the owning agent (if any) is offered it first. */
  async bookCallback(id: string, at: number, ownerAgentId?: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE leads SET status = 'callback', callback_at = $2, owner_agent_id = coalesce($3, owner_agent_id),
         updated_at = now() WHERE id = $1`,
      [id, new Date(at), ownerAgentId ?? null],
    )
    return r.rowCount === 1
  }

  async countByStatus(campaignId: string): Promise<Partial<Record<LeadStatus, number>>> {
    const r = await this.db.query<{ status: LeadStatus; n: number }>(
      'SELECT status, count(*) AS n FROM leads WHERE campaign_id = $1 GROUP BY status',
      [campaignId],
    )
    return Object.fromEntries(r.rows.map((x) => [x.status, x.n]))
  }
}
