/**
 * Call recordings: one compressed file per call (workers/compress-recording), its place on disk, checksum and size,
 * and who and what the call was (site, campaign, agent, customer). The customer's number is stored encrypted with the
 * recording's id as additional data and found by the CRM's keyed phone hash, so a number searched for matches here
 * and in customer_phones alike. Every read takes a scope (site, agent): another site's or another agent's recording
 * is simply not found.
 */
import { randomUUID } from 'node:crypto'
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { Queryable } from './db.js'
import { HashDomains } from './customers.js'
import { msOf } from './row-time.js'

export const RecordingFormats = ['opus', 'ogg', 'wav'] as const
export type RecordingFormat = (typeof RecordingFormats)[number]

export interface RecordingScope {
  /** null: every site (platform admins). */
  siteId: string | null
  /** Set for agents: only this agent's recordings. */
  agentId: string | null
}

export interface NewRecording {
  callId: string
  siteId: string
  campaignId?: string | null
  agentId?: string | null
  customerId?: string | null
  startedAt: number
  durationMs: number
  path: string
  format: RecordingFormat
  checksumSha256: string
  sizeBytes: number
  channels?: number
  /** The customer's number, E.164; stored encrypted. */
  number?: string | null
}

export interface Recording {
  id: string
  callId: string
  siteId: string
  campaignId: string | null
  agentId: string | null
  customerId: string | null
  startedAt: number
  durationMs: number
  path: string
  format: RecordingFormat
  checksumSha256: string
  sizeBytes: number
  channels: number
  number: string | null
  /** The call's disposition from its CDR; null when the call has no CDR (yet). */
  disposition: string | null
  /** Required phrases not heard; null until the recording was analysed. */
  requiredMissing: string[] | null
  analysedAt: number | null
  createdAt: number
}

export interface RecordingFilter {
  from?: number
  to?: number
  /** E.164 of the number to find. */
  number?: string
  customerId?: string
  agentId?: string
  campaignId?: string
  disposition?: string
  /** Recordings with at least one hit of this keyword. */
  keyword?: string
}

interface RecordingRow {
  id: string
  call_id: string
  site_id: string
  campaign_id: string | null
  agent_id: string | null
  customer_id: string | null
  started_at: Date
  duration_ms: number
  path: string
  format: RecordingFormat
  checksum_sha256: string
  size_bytes: string | number
  channels: number
  number_enc: string | null
  disposition: string | null
  required_missing: string[] | null
  analysed_at: Date | null
  created_at: Date
}

const Columns = `r.id, r.call_id, r.site_id, r.campaign_id, r.agent_id, r.customer_id, r.started_at, r.duration_ms, r.path,
  r.format, r.checksum_sha256, r.size_bytes, r.channels, r.number_enc, c.disposition, r.required_missing, r.analysed_at,
  r.created_at`

export class RecordingRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii: PiiCipher,
  ) {}

  numberHash(e164: string): string {
    return this.pii.lookupHash(HashDomains.phone, e164)
  }

  private toRecording(r: RecordingRow): Recording {
    return {
      id: r.id,
      callId: r.call_id,
      siteId: r.site_id,
      campaignId: r.campaign_id,
      agentId: r.agent_id,
      customerId: r.customer_id,
      startedAt: msOf(r.started_at),
      durationMs: r.duration_ms,
      path: r.path,
      format: r.format,
      checksumSha256: r.checksum_sha256,
      sizeBytes: Number(r.size_bytes),
      channels: r.channels,
      number: r.number_enc === null ? null : this.pii.decrypt(r.number_enc, r.id),
      disposition: r.disposition,
      requiredMissing: r.required_missing,
      analysedAt: r.analysed_at === null ? null : msOf(r.analysed_at),
      createdAt: msOf(r.created_at),
    }
  }

  /**
   * Stores a call's recording unless the call has one; `created` is false when it did (a retried worker), and the
   * stored one is answered.
   */
  async add(n: NewRecording): Promise<{ created: boolean; recording: Recording }> {
    const id = randomUUID()
    const number = n.number ?? null
    const r = await this.db.query(
      `INSERT INTO recordings (id, call_id, site_id, campaign_id, agent_id, customer_id, started_at, duration_ms, path,
         format, checksum_sha256, size_bytes, channels, number_enc, number_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (call_id) DO NOTHING`,
      [
        id,
        n.callId,
        n.siteId,
        n.campaignId ?? null,
        n.agentId ?? null,
        n.customerId ?? null,
        new Date(n.startedAt),
        Math.round(n.durationMs),
        n.path,
        n.format,
        n.checksumSha256,
        n.sizeBytes,
        n.channels ?? 1,
        number === null ? null : this.pii.encrypt(number, id),
        number === null ? null : this.numberHash(number),
      ],
    )
    const recording = await this.getByCall(n.callId)
    if (!recording) throw new Error(`recording of call ${n.callId} vanished after insert`)
    return { created: r.rowCount === 1, recording }
  }

  async getByCall(callId: string): Promise<Recording | undefined> {
    const r = await this.db.query<RecordingRow>(
      `SELECT ${Columns} FROM recordings r LEFT JOIN cdrs c ON c.call_id = r.call_id WHERE r.call_id = $1`,
      [callId],
    )
    return r.rows[0] && this.toRecording(r.rows[0])
  }

  async get(id: string, scope: RecordingScope): Promise<Recording | undefined> {
    const r = await this.db.query<RecordingRow>(
      `SELECT ${Columns} FROM recordings r LEFT JOIN cdrs c ON c.call_id = r.call_id
       WHERE r.id = $1 AND ($2::text IS NULL OR r.site_id = $2) AND ($3::text IS NULL OR r.agent_id = $3)`,
      [id, scope.siteId, scope.agentId],
    )
    return r.rows[0] && this.toRecording(r.rows[0])
  }

  /** Newest first. */
  async search(f: RecordingFilter, scope: RecordingScope, page: { limit: number; offset: number }): Promise<{ items: Recording[]; total: number }> {
    const where = `($1::text IS NULL OR r.site_id = $1) AND ($2::text IS NULL OR r.agent_id = $2)
       AND ($3::timestamptz IS NULL OR r.started_at >= $3) AND ($4::timestamptz IS NULL OR r.started_at < $4)
       AND ($5::text IS NULL OR r.number_hash = $5) AND ($6::text IS NULL OR r.customer_id = $6)
       AND ($7::text IS NULL OR r.agent_id = $7) AND ($8::text IS NULL OR r.campaign_id = $8)
       AND ($9::text IS NULL OR c.disposition = $9)
       AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM keyword_hits k WHERE k.recording_id = r.id AND k.keyword = $10))`
    const params = [
      scope.siteId,
      scope.agentId,
      f.from === undefined ? null : new Date(f.from),
      f.to === undefined ? null : new Date(f.to),
      f.number === undefined ? null : this.numberHash(f.number),
      f.customerId ?? null,
      f.agentId ?? null,
      f.campaignId ?? null,
      f.disposition ?? null,
      f.keyword ?? null,
    ]
    const from = 'FROM recordings r LEFT JOIN cdrs c ON c.call_id = r.call_id'
    const rows = await this.db.query<RecordingRow>(
      `SELECT ${Columns} ${from} WHERE ${where} ORDER BY r.started_at DESC, r.id DESC LIMIT $11 OFFSET $12`,
      [...params, page.limit, page.offset],
    )
    const count = await this.db.query<{ n: string | number }>(`SELECT count(*) AS n ${from} WHERE ${where}`, params)
    return { items: rows.rows.map((x) => this.toRecording(x)), total: Number(count.rows[0]?.n ?? 0) }
  }

  /** A site's recordings that started in [from, to): what a sampling run chooses from. */
  async candidates(siteId: string, from: number, to: number): Promise<Array<{ recordingId: string; agentId: string | null }>> {
    const r = await this.db.query<{ id: string; agent_id: string | null }>(
      `SELECT id, agent_id FROM recordings WHERE site_id = $1 AND started_at >= $2 AND started_at < $3`,
      [siteId, new Date(from), new Date(to)],
    )
    return r.rows.map((x) => ({ recordingId: x.id, agentId: x.agent_id }))
  }
}
