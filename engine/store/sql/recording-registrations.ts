/**
 * Recordings registered at the end of their call and waiting for (or done with) the media workers
 * (engine/recordings/recording-registry.ts decides, this stores). Claiming is one statement with FOR UPDATE SKIP
 * LOCKED and a lease, so engines share the work and a row whose engine died is taken again once its lease ran out.
 * Times come from the engine's clock, not the database's, so the virtual clock of tests and the simulator holds.
 * A call with no lead (inbound) keeps its far party's number here, encrypted and bound to the call id.
 */
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { Queryable } from './db.js'
import { msOf, optionalMs } from './row-time.js'

export const RegistrationStates = ['pending', 'processing', 'done', 'failed'] as const
export type RegistrationState = (typeof RegistrationStates)[number]

export interface RegisteredLeg {
  party: 'customer' | 'agent'
  id: string
  sessionId?: string
  source?: string
}

export interface NewRecordingRegistration {
  callId: string
  siteId: string
  campaignId: string | null
  leadId: string | null
  customerId: string | null
  agentId: string | null
  legs: RegisteredLeg[]
  startedAt: number
  durationMs: number
  recordedMs: number
  recordingDir: string
  segments: number
  /** E.164 of the far party when no lead holds it (an inbound caller); stored encrypted. */
  number?: string | null
}

/** The additional data a registration's number is sealed to: its call, and what the ciphertext is. */
export const registrationNumberAad = (callId: string): string => `${callId}#caller-number`

export interface RecordingRegistration extends NewRecordingRegistration {
  state: RegistrationState
  attempts: number
  nextAttemptAt: number
  claimedBy: string | null
  leaseUntil: number | undefined
  recordingId: string | null
  lastError: string | null
  createdAt: number
}

interface Row {
  call_id: string
  site_id: string
  campaign_id: string | null
  lead_id: string | null
  customer_id: string | null
  agent_id: string | null
  legs: RegisteredLeg[]
  started_at: Date
  duration_ms: number
  recorded_ms: number
  recording_dir: string
  segments: number
  state: RegistrationState
  attempts: number
  next_attempt_at: Date
  claimed_by: string | null
  lease_until: Date | null
  recording_id: string | null
  last_error: string | null
  created_at: Date
  number_enc: string | null
}

const columns =
  'call_id, site_id, campaign_id, lead_id, customer_id, agent_id, legs, started_at, duration_ms, recorded_ms, recording_dir, segments, ' +
  'state, attempts, next_attempt_at, claimed_by, lease_until, recording_id, last_error, created_at, number_enc'

function toRegistration(r: Row, pii: PiiCipher | undefined): RecordingRegistration {
  return {
    number: r.number_enc === null ? null : opener(pii).decrypt(r.number_enc, registrationNumberAad(r.call_id)),
    callId: r.call_id,
    siteId: r.site_id,
    campaignId: r.campaign_id,
    leadId: r.lead_id,
    customerId: r.customer_id,
    agentId: r.agent_id,
    legs: r.legs,
    startedAt: msOf(r.started_at),
    durationMs: r.duration_ms,
    recordedMs: r.recorded_ms,
    recordingDir: r.recording_dir,
    segments: r.segments,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: msOf(r.next_attempt_at),
    claimedBy: r.claimed_by,
    leaseUntil: optionalMs(r.lease_until),
    recordingId: r.recording_id,
    lastError: r.last_error,
    createdAt: msOf(r.created_at),
  }
}

/** Numbers are sealed and opened with the PiiCipher; a repository without one cannot hold them (and says so). */
function opener(pii: PiiCipher | undefined): PiiCipher {
  if (!pii) throw new Error('recording registrations: a number needs the PiiCipher (config.pii); none was given')
  return pii
}

export class RecordingRegistrationRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii?: PiiCipher,
  ) {}

  /**
   * Registers a recording as it starts, due only at `dueAt` (after the longest call allowed): if the engine dies
   * during the call, the next engine processes what rtpengine wrote once the call is surely over. Nothing if the call
   * is registered already (false).
   */
  async begin(r: NewRecordingRegistration, dueAt: number, now: number): Promise<boolean> {
    return this.insert(r, dueAt, now, false)
  }

  /**
   * Registers a finished call's recording, due at `now`: a new row, or the one `begin` made brought up to date. A
   * registration already claimed or processed is left alone (false).
   */
  async add(r: NewRecordingRegistration, now: number): Promise<boolean> {
    return this.insert(r, now, now, true)
  }

  private async insert(r: NewRecordingRegistration, dueAt: number, now: number, update: boolean): Promise<boolean> {
    const numberEnc = r.number ? opener(this.pii).encrypt(r.number, registrationNumberAad(r.callId)) : null
    const res = await this.db.query(
      `INSERT INTO recording_registrations (call_id, site_id, campaign_id, lead_id, customer_id, agent_id, legs, started_at,
         duration_ms, recorded_ms, recording_dir, segments, next_attempt_at, created_at, updated_at, number_enc)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $14, $15)
       ON CONFLICT (call_id) DO ${
         update
           ? `UPDATE SET agent_id = EXCLUDED.agent_id, legs = EXCLUDED.legs, duration_ms = EXCLUDED.duration_ms,
                number_enc = coalesce(EXCLUDED.number_enc, recording_registrations.number_enc),
                recorded_ms = EXCLUDED.recorded_ms, segments = EXCLUDED.segments, next_attempt_at = EXCLUDED.next_attempt_at,
                updated_at = EXCLUDED.updated_at
              WHERE recording_registrations.state = 'pending'`
           : 'NOTHING'
       }`,
      [
        r.callId,
        r.siteId,
        r.campaignId,
        r.leadId,
        r.customerId,
        r.agentId,
        JSON.stringify(r.legs),
        new Date(r.startedAt),
        Math.round(r.durationMs),
        Math.round(r.recordedMs),
        r.recordingDir,
        r.segments,
        new Date(dueAt),
        new Date(now),
        numberEnc,
      ],
    )
    return res.rowCount === 1
  }

  /**
   * Takes up to `limit` registrations due at `now` (pending, or processing under a lease that ran out) for `owner`,
   * each hidden from other engines until `now + leaseMs`.
   */
  async claim(owner: string, limit: number, now: number, leaseMs: number): Promise<RecordingRegistration[]> {
    const r = await this.db.query<Row>(
      `UPDATE recording_registrations SET state = 'processing', claimed_by = $2, lease_until = $4, updated_at = $3
       WHERE call_id IN (
         SELECT call_id FROM recording_registrations
         WHERE (state = 'pending' AND next_attempt_at <= $3) OR (state = 'processing' AND lease_until <= $3)
         ORDER BY next_attempt_at, call_id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${columns}`,
      [limit, owner, new Date(now), new Date(now + leaseMs)],
    )
    return r.rows.map((row) => toRegistration(row, this.pii)).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
  }

  /** Back to pending until `retryAt`; `failedAttempt` counts an attempt that failed (a busy pool does not). */
  async retryLater(callId: string, owner: string, retryAt: number, now: number, error: string | null, failedAttempt: boolean): Promise<void> {
    await this.db.query(
      `UPDATE recording_registrations SET state = 'pending', claimed_by = NULL, lease_until = NULL, next_attempt_at = $3,
         attempts = attempts + $5, last_error = coalesce($6, last_error), updated_at = $4
       WHERE call_id = $1 AND claimed_by = $2 AND state = 'processing'`,
      [callId, owner, new Date(retryAt), new Date(now), failedAttempt ? 1 : 0, error],
    )
  }

  async markDone(callId: string, owner: string, recordingId: string, now: number): Promise<void> {
    await this.db.query(
      `UPDATE recording_registrations SET state = 'done', recording_id = $3, claimed_by = NULL, lease_until = NULL,
         attempts = attempts + 1, last_error = NULL, updated_at = $4
       WHERE call_id = $1 AND claimed_by = $2`,
      [callId, owner, recordingId, new Date(now)],
    )
  }

  async markFailed(callId: string, owner: string, error: string, now: number): Promise<void> {
    await this.db.query(
      `UPDATE recording_registrations SET state = 'failed', last_error = $3, claimed_by = NULL, lease_until = NULL,
         attempts = attempts + 1, updated_at = $4
       WHERE call_id = $1 AND claimed_by = $2`,
      [callId, owner, error, new Date(now)],
    )
  }

  async get(callId: string): Promise<RecordingRegistration | undefined> {
    const r = await this.db.query<Row>(`SELECT ${columns} FROM recording_registrations WHERE call_id = $1`, [callId])
    return r.rows[0] ? toRegistration(r.rows[0], this.pii) : undefined
  }

  async countByState(): Promise<Partial<Record<RegistrationState, number>>> {
    const r = await this.db.query<{ state: RegistrationState; n: string | number }>(
      'SELECT state, count(*) AS n FROM recording_registrations GROUP BY state',
    )
    return Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]))
  }
}
