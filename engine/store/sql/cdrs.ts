/**
 * Call detail records: exactly one per call (invariant 4). insert() is idempotent on the call id, so an engine that
 * reconciles a call another instance already closed, or retries after a lost reply, cannot write a second record.
 */
import type { Cdr } from '../../calls/cdr.js'
import type { CdrSink } from '../../campaign/dialer.js'
import type { Queryable } from './db.js'
import { dateOrNull, msOf, optionalMs } from './row-time.js'

/**
 * A stored CDR: the engine's Cdr (engine/calls/cdr.ts), read back with the outcome as plain text (rows written by
 * another version of the engine may carry an outcome this one does not know).
 */
export type CdrRecord = Omit<Cdr, 'outcome'> & { outcome: string }

interface CdrRow {
  call_id: string
  campaign_id: string
  lead_id: string
  agent_id: string | null
  outcome: string
  disposition: string
  dialed_at: Date
  answered_at: Date | null
  bridged_at: Date | null
  ended_at: Date
  talk_seconds: number
  wait_seconds: number | null
  abandoned: boolean
  abandon_kind: string | null
  amd_result: string | null
  amd_reason: string | null
  sip_status: number | null
  sip_reason: string | null
  early_media_reason: string | null
  early_media_detail: string | null
  ended_by: string | null
}

const columns = `call_id, campaign_id, lead_id, agent_id, outcome, disposition, dialed_at, answered_at, bridged_at,
  ended_at, talk_seconds, wait_seconds, abandoned, abandon_kind, amd_result, amd_reason, sip_status, sip_reason, ended_by,
  early_media_reason, early_media_detail`

function toCdr(r: CdrRow): CdrRecord {
  const c: CdrRecord = {
    callId: r.call_id,
    campaignId: r.campaign_id,
    leadId: r.lead_id,
    outcome: r.outcome,
    disposition: r.disposition,
    dialedAt: msOf(r.dialed_at),
    endedAt: msOf(r.ended_at),
    talkSeconds: r.talk_seconds,
    abandoned: r.abandoned,
  }
  if (r.agent_id !== null) c.agentId = r.agent_id
  const answered = optionalMs(r.answered_at)
  if (answered !== undefined) c.answeredAt = answered
  const bridged = optionalMs(r.bridged_at)
  if (bridged !== undefined) c.bridgedAt = bridged
  if (r.wait_seconds !== null) c.waitSeconds = r.wait_seconds
  if (r.abandon_kind !== null) c.abandonKind = r.abandon_kind
  if (r.amd_result !== null) c.amdOutcome = r.amd_result
  if (r.amd_reason !== null) c.amdReason = r.amd_reason
  if (r.sip_status !== null) c.sipStatus = r.sip_status
  if (r.sip_reason !== null) c.sipReason = r.sip_reason
  if (r.ended_by !== null) c.endedBy = r.ended_by
  if (r.early_media_reason !== null) c.earlyMediaReason = r.early_media_reason
  if (r.early_media_detail !== null) c.earlyMediaDetail = r.early_media_detail
  return c
}

/** Also the dialer's CdrSink. */
export class CdrRepository implements CdrSink {
  constructor(private readonly db: Queryable) {}

  /** CdrSink: true when this call's CDR was written now, false when one already existed. */
  async write(cdr: Cdr): Promise<boolean> {
    return (await this.insert(cdr)).inserted
  }

  /** Insert the call's CDR unless one exists; `inserted` is false for the second and later attempts. */
  async insert(c: CdrRecord): Promise<{ inserted: boolean }> {
    const r = await this.db.query(
      `INSERT INTO cdrs (call_id, campaign_id, lead_id, agent_id, outcome, disposition, dialed_at, answered_at,
         bridged_at, ended_at, talk_seconds, wait_seconds, abandoned, abandon_kind, amd_result, amd_reason,
         sip_status, sip_reason, ended_by, early_media_reason, early_media_detail, direction)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
       ON CONFLICT (call_id) DO NOTHING`,
      [
        c.callId,
        c.campaignId,
        c.leadId,
        c.agentId ?? null,
        c.outcome,
        c.disposition,
        new Date(c.dialedAt),
        dateOrNull(c.answeredAt),
        dateOrNull(c.bridgedAt),
        new Date(c.endedAt),
        c.talkSeconds,
        c.waitSeconds ?? null,
        c.abandoned,
        c.abandonKind ?? null,
        c.amdOutcome ?? null,
        c.amdReason ?? null,
        c.sipStatus ?? null,
        c.sipReason ?? null,
        c.endedBy ?? null,
        c.earlyMediaReason ?? null,
        c.earlyMediaDetail ?? null,
        c.direction ?? 'outbound',
      ],
    )
    return { inserted: r.rowCount === 1 }
  }

  async get(callId: string): Promise<CdrRecord | undefined> {
    const r = await this.db.query<CdrRow>(`SELECT ${columns} FROM cdrs WHERE call_id = $1`, [callId])
    return r.rows[0] && toCdr(r.rows[0])
  }

  /** The agent's disposition replaces the system one; false when the call has no CDR. */
  async setDisposition(callId: string, disposition: string): Promise<boolean> {
    const r = await this.db.query('UPDATE cdrs SET disposition = $2 WHERE call_id = $1', [callId, disposition])
    return r.rowCount === 1
  }

  /** A campaign's CDRs that ended in [from, to), oldest first. */
  async listByCampaign(campaignId: string, range: { from: number; to: number; limit: number }): Promise<CdrRecord[]> {
    const r = await this.db.query<CdrRow>(
      `SELECT ${columns} FROM cdrs WHERE campaign_id = $1 AND ended_at >= $2 AND ended_at < $3
       ORDER BY ended_at, call_id LIMIT $4`,
      [campaignId, new Date(range.from), new Date(range.to), range.limit],
    )
    return r.rows.map(toCdr)
  }

  async countByOutcome(campaignId: string, range: { from: number; to: number }): Promise<Record<string, number>> {
    const r = await this.db.query<{ outcome: string; n: number }>(
      `SELECT outcome, count(*) AS n FROM cdrs WHERE campaign_id = $1 AND ended_at >= $2 AND ended_at < $3
       GROUP BY outcome`,
      [campaignId, new Date(range.from), new Date(range.to)],
    )
    return Object.fromEntries(r.rows.map((x) => [x.outcome, x.n]))
  }
}
