/** Sites: the call-center floors one platform runs. Every scoped record names its site. */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface Site {
  id: string
  name: string
  timeZone: string
  createdAt: number
}

interface SiteRow {
  id: string
  name: string
  time_zone: string
  created_at: Date
}

const toSite = (r: SiteRow): Site => ({ id: r.id, name: r.name, timeZone: r.time_zone, createdAt: msOf(r.created_at) })

export const DefaultSiteId = 'default'

export class SiteRepository {
  constructor(private readonly db: Queryable) {}

  /** undefined when the id is taken. */
  async create(s: { id: string; name: string; timeZone?: string }): Promise<Site | undefined> {
    const r = await this.db.query<SiteRow>(
      `INSERT INTO sites (id, name, time_zone) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING
       RETURNING id, name, time_zone, created_at`,
      [s.id, s.name, s.timeZone ?? 'UTC'],
    )
    return r.rows[0] && toSite(r.rows[0])
  }

  async get(id: string): Promise<Site | undefined> {
    const r = await this.db.query<SiteRow>('SELECT id, name, time_zone, created_at FROM sites WHERE id = $1', [id])
    return r.rows[0] && toSite(r.rows[0])
  }

  /** Every site, or only `onlyId` (a site-bound caller sees its own). */
  async list(onlyId: string | null = null): Promise<Site[]> {
    const r = await this.db.query<SiteRow>(
      'SELECT id, name, time_zone, created_at FROM sites WHERE ($1::text IS NULL OR id = $1) ORDER BY id',
      [onlyId],
    )
    return r.rows.map(toSite)
  }
}
