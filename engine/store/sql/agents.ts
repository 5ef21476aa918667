/** Agents as records (identity, extension, team, skills). Their live state lives in Redis, owned by the ACD. */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface AgentRecord {
  id: string
  name: string
  extension?: string
  team?: string
  /** Skill name -> tier (1 best). */
  skills: Record<string, number>
  active: boolean
  siteId: string
  createdAt: number
}

interface AgentRow {
  id: string
  name: string
  extension: string | null
  team: string | null
  skills: Record<string, number>
  active: boolean
  site_id: string
  created_at: Date
}

const columns = 'id, name, extension, team, skills, active, site_id, created_at'

function toAgent(r: AgentRow): AgentRecord {
  return {
    id: r.id,
    name: r.name,
    extension: r.extension ?? undefined,
    team: r.team ?? undefined,
    skills: r.skills,
    active: r.active,
    siteId: r.site_id,
    createdAt: msOf(r.created_at),
  }
}

export interface NewAgent {
  id?: string
  name: string
  extension?: string
  team?: string
  skills?: Record<string, number>
  /** Default: the default site. */
  siteId?: string
}

export class AgentRepository {
  constructor(private readonly db: Queryable) {}

  async create(a: NewAgent): Promise<AgentRecord> {
    const r = await this.db.query<AgentRow>(
      `INSERT INTO agents (id, name, extension, team, skills, site_id)
       VALUES (coalesce($1, gen_random_uuid()::text), $2, $3, $4, $5::jsonb, $6) RETURNING ${columns}`,
      [a.id ?? null, a.name, a.extension ?? null, a.team ?? null, JSON.stringify(a.skills ?? {}), a.siteId ?? 'default'],
    )
    return toAgent(r.rows[0]!)
  }

  async get(id: string): Promise<AgentRecord | undefined> {
    const r = await this.db.query<AgentRow>(`SELECT ${columns} FROM agents WHERE id = $1`, [id])
    return r.rows[0] && toAgent(r.rows[0])
  }

  async list(options: { activeOnly?: boolean } = {}): Promise<AgentRecord[]> {
    const r = await this.db.query<AgentRow>(
      `SELECT ${columns} FROM agents ${options.activeOnly === true ? 'WHERE active' : ''} ORDER BY name, id`,
    )
    return r.rows.map(toAgent)
  }

  async setActive(id: string, active: boolean): Promise<boolean> {
    const r = await this.db.query('UPDATE agents SET active = $2 WHERE id = $1', [id, active])
    return r.rowCount === 1
  }
}
