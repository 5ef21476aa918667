/** Campaigns: name, the run state operators asked for, and settings (dial mode, pacing, screening policy, caps). */
import type { CampaignRunState, DialMode } from '../../campaign/control.js'
import type { AmdThresholds } from '../../media/amd.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export const AbandonWindows = ['day', 'rolling-30d', 'rolling-hour'] as const
export type AbandonWindow = (typeof AbandonWindows)[number]

export const AbandonDenominators = ['live-answers', 'live-answers-plus-amd-false-positives'] as const
export type AbandonDenominator = (typeof AbandonDenominators)[number]

/** What a campaign persists about how to dial. The API's JSON schema (api/schemas/campaign.ts) mirrors it. */
export interface CampaignSettings {
  dialMode: DialMode
  pacing: {
    /** Abandon ceiling as a ratio (0.03 = 3%). */
    abandonCeiling: number
    abandonWindows: AbandonWindow[]
    abandonDenominator: AbandonDenominator
    maxLinesPerAgent: number
    /** Seconds an answered call may wait for an agent before the safe-harbor message. */
    safeHarborSeconds: number
    amd: boolean
    /** The campaign's own AMD thresholds (ms), over the defaults tuned on the corpus (engine/media/amd.ts). */
    amdThresholds?: Partial<AmdThresholds>
  }
  screening: {
    /** Local time of the lead, "HH:MM"; end exclusive. */
    callingHours: { start: string; end: string; weekdays: number[] }
    minRecallGapMinutes: number
    /** Hours a lead stays locked after an abandoned call (0: none, 72: the common rule). */
    abandonLockoutHours: number
  }
  caps: {
    maxAttemptsTotal: number
    maxAttemptsPer24h: number
    maxAttemptsPer7d: number
    /** Lines in flight for the whole campaign. */
    maxLines: number
    callsPerSecond: number
  }
}

/**
 * The settings a campaign gets when it names none: the same defaults the API's JSON schema fills in (a test holds the
 * two together). For the demo campaign and programmatic creation.
 */
export function defaultCampaignSettings(): CampaignSettings {
  return {
    dialMode: 'progressive',
    pacing: {
      abandonCeiling: 0.03,
      abandonWindows: ['day', 'rolling-30d'],
      abandonDenominator: 'live-answers',
      maxLinesPerAgent: 3,
      safeHarborSeconds: 2,
      amd: false,
    },
    screening: {
      callingHours: { start: '09:00', end: '21:00', weekdays: [1, 2, 3, 4, 5, 6, 7] },
      minRecallGapMinutes: 60,
      abandonLockoutHours: 72,
    },
    caps: { maxAttemptsTotal: 6, maxAttemptsPer24h: 2, maxAttemptsPer7d: 4, maxLines: 100, callsPerSecond: 10 },
  }
}

export interface Campaign {
  id: string
  name: string
  state: CampaignRunState
  settings: CampaignSettings
  siteId: string
  createdAt: number
  updatedAt: number
}

interface CampaignRow {
  id: string
  name: string
  state: CampaignRunState
  settings: CampaignSettings
  site_id: string
  created_at: Date
  updated_at: Date
}

const columns = 'id, name, state, settings, site_id, created_at, updated_at'

function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    settings: r.settings,
    siteId: r.site_id,
    createdAt: msOf(r.created_at),
    updatedAt: msOf(r.updated_at),
  }
}

export interface NewCampaign {
  name: string
  settings: CampaignSettings
  /** Optional fixed id (the demo and tests); a UUID otherwise. */
  id?: string
  /** Default: the default site. */
  siteId?: string
}

export class CampaignRepository {
  constructor(private readonly db: Queryable) {}

  async create(c: NewCampaign): Promise<Campaign> {
    const r = await this.db.query<CampaignRow>(
      `INSERT INTO campaigns (id, name, settings, site_id)
       VALUES (coalesce($1, gen_random_uuid()::text), $2, $3::jsonb, $4) RETURNING ${columns}`,
      [c.id ?? null, c.name, JSON.stringify(c.settings), c.siteId ?? 'default'],
    )
    return toCampaign(r.rows[0]!)
  }

  /** Several campaigns in one query (BatchedLookup), as get() sees them: unknown and archived ids are absent from the map. */
  async getMany(ids: readonly string[]): Promise<Map<string, Campaign>> {
    const r = await this.db.query<CampaignRow>(`SELECT ${columns} FROM campaigns WHERE id = ANY($1::text[]) AND archived_at IS NULL`, [ids])
    return new Map(r.rows.map((row) => [row.id, toCampaign(row)]))
  }

  /**
   * The (unarchived) campaign of each lead, by lead id, in one statement: a lead's route can read its lead and its
   * campaign at the same time instead of one after the other.
   */
  async getManyByLead(leadIds: readonly string[]): Promise<Map<string, Campaign>> {
    const r = await this.db.query<CampaignRow & { lead_id: string }>(
      `SELECT l.id AS lead_id, ${columns.split(', ').map((c) => `c.${c}`).join(', ')}
       FROM leads l JOIN campaigns c ON c.id = l.campaign_id
       WHERE l.id = ANY($1::text[]) AND c.archived_at IS NULL`,
      [leadIds],
    )
    return new Map(r.rows.map((row) => [row.lead_id, toCampaign(row)]))
  }

  async get(id: string): Promise<Campaign | undefined> {
    const r = await this.db.query<CampaignRow>(`SELECT ${columns} FROM campaigns WHERE id = $1 AND archived_at IS NULL`, [id])
    return r.rows[0] && toCampaign(r.rows[0])
  }

  /**
   * Oldest first, stable under inserts (keyset on created_at, id would replace offset when lists grow); archived
   * campaigns left out. `siteId` null: every site.
   */
  async list(page: { limit: number; offset: number; siteId?: string | null }): Promise<{ items: Campaign[]; total: number }> {
    const site = page.siteId ?? null
    const r = await this.db.query<CampaignRow>(
      `SELECT ${columns} FROM campaigns WHERE archived_at IS NULL AND ($3::text IS NULL OR site_id = $3)
       ORDER BY created_at, id LIMIT $1 OFFSET $2`,
      [page.limit, page.offset, site],
    )
    const n = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM campaigns WHERE archived_at IS NULL AND ($1::text IS NULL OR site_id = $1)',
      [site],
    )
    return { items: r.rows.map(toCampaign), total: Number(n.rows[0]?.n ?? 0) }
  }

  /** Archive a stopped campaign: gone from lists and from engines, its records kept. False if not stopped. */
  async archive(id: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE campaigns SET archived_at = now(), updated_at = now() WHERE id = $1 AND state = 'stopped' AND archived_at IS NULL`,
      [id],
    )
    return r.rowCount === 1
  }

  async rename(id: string, name: string): Promise<Campaign | undefined> {
    const r = await this.db.query<CampaignRow>(
      `UPDATE campaigns SET name = $2, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
      [id, name],
    )
    return r.rows[0] && toCampaign(r.rows[0])
  }

  /** Campaigns an engine should be running after a restart. */
  async listByState(state: CampaignRunState): Promise<Campaign[]> {
    const r = await this.db.query<CampaignRow>(`SELECT ${columns} FROM campaigns WHERE state = $1 ORDER BY id`, [state])
    return r.rows.map(toCampaign)
  }

  async setState(id: string, state: CampaignRunState): Promise<Campaign | undefined> {
    const r = await this.db.query<CampaignRow>(
      `UPDATE campaigns SET state = $2, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
      [id, state],
    )
    return r.rows[0] && toCampaign(r.rows[0])
  }

  async updateSettings(id: string, settings: CampaignSettings): Promise<Campaign | undefined> {
    const r = await this.db.query<CampaignRow>(
      `UPDATE campaigns SET settings = $2::jsonb, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
      [id, JSON.stringify(settings)],
    )
    return r.rows[0] && toCampaign(r.rows[0])
  }
}
