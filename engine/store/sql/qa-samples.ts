/**
 * QA sampling runs: which of a day's recorded calls were chosen for review (engine/qa/sample.ts picks them), with the
 * seed that chose them so the run can be repeated. A day is the site's own calendar day (sites.time_zone).
 */
import { randomUUID } from 'node:crypto'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface QaSampleItem {
  recordingId: string
  agentId: string | null
}

export interface QaSample {
  id: string
  siteId: string
  /** YYYY-MM-DD in the site's zone. */
  day: string
  timeZone: string
  percent: number
  seed: string
  createdBy: string
  createdAt: number
  /** The chosen recordings and whose calls they are (null: a call no agent took). */
  items: QaSampleItem[]
}

interface SampleRow {
  id: string
  site_id: string
  day: string
  time_zone: string
  percent: number
  seed: string
  created_by: string
  created_at: Date
}

const Columns = `id, site_id, to_char(day, 'YYYY-MM-DD') AS day, time_zone, percent, seed, created_by, created_at`

const toSample = (r: SampleRow, items: QaSampleItem[]): QaSample => ({
  id: r.id,
  siteId: r.site_id,
  day: r.day,
  timeZone: r.time_zone,
  percent: Number(r.percent),
  seed: r.seed,
  createdBy: r.created_by,
  createdAt: msOf(r.created_at),
  items,
})

export class QaSampleRepository {
  constructor(private readonly db: Queryable) {}

  /** The instants a calendar day in a zone starts and ends ([from, to)); DST-correct because PostgreSQL does it. */
  async dayBounds(day: string, timeZone: string): Promise<{ from: number; to: number }> {
    const r = await this.db.query<{ f: Date; t: Date }>(
      `SELECT ($1::date::timestamp AT TIME ZONE $2) AS f, (($1::date + 1)::timestamp AT TIME ZONE $2) AS t`,
      [day, timeZone],
    )
    return { from: msOf(r.rows[0]!.f), to: msOf(r.rows[0]!.t) }
  }

  /** Yesterday in the zone, as YYYY-MM-DD. */
  async yesterday(timeZone: string): Promise<string> {
    const r = await this.db.query<{ d: string }>(`SELECT to_char((now() AT TIME ZONE $1)::date - 1, 'YYYY-MM-DD') AS d`, [timeZone])
    return r.rows[0]!.d
  }

  /** Stores the run and its items; call inside a transaction. */
  async create(s: Omit<QaSample, 'id' | 'createdAt'>): Promise<QaSample> {
    const id = randomUUID()
    const r = await this.db.query<SampleRow>(
      `INSERT INTO qa_samples (id, site_id, day, time_zone, percent, seed, created_by) VALUES ($1, $2, $3::date, $4, $5, $6, $7)
       RETURNING ${Columns}`,
      [id, s.siteId, s.day, s.timeZone, s.percent, s.seed, s.createdBy],
    )
    for (let i = 0; i < s.items.length; i += 500) {
      const chunk = s.items.slice(i, i + 500)
      const params: unknown[] = [id]
      const values = chunk.map((x) => {
        params.push(x.recordingId, x.agentId)
        return `($1, $${params.length - 1}, $${params.length})`
      })
      await this.db.query(`INSERT INTO qa_sample_items (sample_id, recording_id, agent_id) VALUES ${values.join(', ')}`, params)
    }
    return toSample(r.rows[0]!, [...s.items])
  }

  /** siteId null: any site. Items ordered by agent then recording, the same for every read. */
  async get(id: string, siteId: string | null): Promise<QaSample | undefined> {
    const r = await this.db.query<SampleRow>(`SELECT ${Columns} FROM qa_samples WHERE id = $1 AND ($2::text IS NULL OR site_id = $2)`, [id, siteId])
    const row = r.rows[0]
    if (!row) return undefined
    const items = await this.db.query<{ recording_id: string; agent_id: string | null }>(
      'SELECT recording_id, agent_id FROM qa_sample_items WHERE sample_id = $1 ORDER BY agent_id NULLS LAST, recording_id',
      [id],
    )
    return toSample(row, items.rows.map((x) => ({ recordingId: x.recording_id, agentId: x.agent_id })))
  }

  /** Newest first, without their items (get one for them). */
  async list(siteId: string | null, page: { limit: number; offset: number }): Promise<{ items: Array<Omit<QaSample, 'items'> & { size: number }>; total: number }> {
    const r = await this.db.query<SampleRow & { size: string | number }>(
      `SELECT ${Columns}, (SELECT count(*) FROM qa_sample_items i WHERE i.sample_id = s.id) AS size FROM qa_samples s
       WHERE ($1::text IS NULL OR site_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
      [siteId, page.limit, page.offset],
    )
    const n = await this.db.query<{ n: string | number }>('SELECT count(*) AS n FROM qa_samples WHERE ($1::text IS NULL OR site_id = $1)', [siteId])
    return {
      items: r.rows.map((x) => {
        const { items: _items, ...rest } = toSample(x, [])
        return { ...rest, size: Number(x.size) }
      }),
      total: Number(n.rows[0]?.n ?? 0),
    }
  }
}
