/** Teams: groups of a site's agents (a team lead's floor, a report's rows). Names are unique within a site. */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface Team {
  id: string
  siteId: string
  name: string
  createdAt: number
  updatedAt: number
}

interface TeamRow {
  id: string
  site_id: string
  name: string
  created_at: Date
  updated_at: Date
}

const columns = 'id, site_id, name, created_at, updated_at'

const toTeam = (r: TeamRow): Team => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  createdAt: msOf(r.created_at),
  updatedAt: msOf(r.updated_at),
})

export class TeamRepository {
  constructor(private readonly db: Queryable) {}

  /** undefined when the site already has a team of that name (case-insensitive). */
  async create(t: { siteId: string; name: string }): Promise<Team | undefined> {
    const r = await this.db.query<TeamRow>(
      `INSERT INTO teams (site_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ${columns}`,
      [t.siteId, t.name],
    )
    return r.rows[0] && toTeam(r.rows[0])
  }

  async get(id: string): Promise<Team | undefined> {
    const r = await this.db.query<TeamRow>(`SELECT ${columns} FROM teams WHERE id = $1`, [id])
    return r.rows[0] && toTeam(r.rows[0])
  }

  /** The teams of one site, or of every site (null). */
  async list(siteId: string | null): Promise<Team[]> {
    const r = await this.db.query<TeamRow>(
      `SELECT ${columns} FROM teams WHERE ($1::text IS NULL OR site_id = $1) ORDER BY site_id, lower(name), id`,
      [siteId],
    )
    return r.rows.map(toTeam)
  }

  /** 'taken' when another team of the site has the name; undefined when the team does not exist. */
  async rename(id: string, name: string): Promise<Team | 'taken' | undefined> {
    try {
      const r = await this.db.query<TeamRow>(
        `UPDATE teams SET name = $2, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
        [id, name],
      )
      return r.rows[0] && toTeam(r.rows[0])
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return 'taken'
      throw err
    }
  }

  /** Its agents become teamless (the foreign key sets NULL); false when it did not exist. */
  async delete(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM teams WHERE id = $1', [id])
    return r.rowCount === 1
  }
}
