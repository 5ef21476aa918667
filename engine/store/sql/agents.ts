/** Agents as records (identity, extension, team, skills). Their live state lives in Redis, owned by the ACD. */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface AgentRecord {
  id: string
  name: string
  extension?: string
  team?: string
  /** The agent's team (a team of its site, migration 0007). */
  teamId?: string
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
  team_id: string | null
  skills: Record<string, number>
  active: boolean
  site_id: string
  created_at: Date
}

const columns = 'id, name, extension, team, team_id, skills, active, site_id, created_at'

function toAgent(r: AgentRow): AgentRecord {
  return {
    id: r.id,
    name: r.name,
    extension: r.extension ?? undefined,
    team: r.team ?? undefined,
    teamId: r.team_id ?? undefined,
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
  teamId?: string
  active?: boolean
}

/** Fields an update may change; null clears extension / teamId. */
export interface AgentChanges {
  name?: string
  extension?: string | null
  teamId?: string | null
  skills?: Record<string, number>
  active?: boolean
}

export interface AgentListFilter {
  /** null: every site. */
  siteId: string | null
  teamId?: string
  active?: boolean
  /** Only this agent (an agent caller sees its own record). */
  onlyId?: string
  limit: number
  offset: number
}

/** An extension another agent has (the unique index); the caller answers 409. */
export class ExtensionTaken extends Error {
  override name = 'ExtensionTaken'
}

function rethrowExtension(err: unknown, extension: string | null | undefined): never {
  if ((err as { code?: string; constraint?: string }).code === '23505' && extension) {
    throw new ExtensionTaken(`extension ${extension} belongs to another agent`)
  }
  throw err
}

export class AgentRepository {
  constructor(private readonly db: Queryable) {}

  /** Throws ExtensionTaken when another agent has the extension. */
  async create(a: NewAgent): Promise<AgentRecord> {
    try {
      const r = await this.db.query<AgentRow>(
        `INSERT INTO agents (id, name, extension, team, skills, site_id, team_id, active)
         VALUES (coalesce($1, gen_random_uuid()::text), $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING ${columns}`,
        [
          a.id ?? null,
          a.name,
          a.extension ?? null,
          a.team ?? null,
          JSON.stringify(a.skills ?? {}),
          a.siteId ?? 'default',
          a.teamId ?? null,
          a.active ?? true,
        ],
      )
      return toAgent(r.rows[0]!)
    } catch (err) {
      rethrowExtension(err, a.extension)
    }
  }

  /** Only the fields given change. Throws ExtensionTaken on a clash; undefined when the agent does not exist. */
  async update(id: string, c: AgentChanges): Promise<AgentRecord | undefined> {
    try {
      const r = await this.db.query<AgentRow>(
        `UPDATE agents SET
           name = coalesce($2, name),
           extension = CASE WHEN $3 THEN $4::text ELSE extension END,
           team_id = CASE WHEN $5 THEN $6::text ELSE team_id END,
           skills = coalesce($7::jsonb, skills),
           active = coalesce($8, active),
           updated_at = now()
         WHERE id = $1 RETURNING ${columns}`,
        [
          id,
          c.name ?? null,
          c.extension !== undefined,
          c.extension ?? null,
          c.teamId !== undefined,
          c.teamId ?? null,
          c.skills === undefined ? null : JSON.stringify(c.skills),
          c.active ?? null,
        ],
      )
      return r.rows[0] && toAgent(r.rows[0])
    } catch (err) {
      rethrowExtension(err, c.extension)
    }
  }

  /** A page of a site's agents (or every site's), by name. */
  async page(f: AgentListFilter): Promise<{ items: AgentRecord[]; total: number }> {
    const where = `($1::text IS NULL OR site_id = $1) AND ($2::text IS NULL OR team_id = $2)
       AND ($3::boolean IS NULL OR active = $3) AND ($4::text IS NULL OR id = $4)`
    const params = [f.siteId, f.teamId ?? null, f.active ?? null, f.onlyId ?? null]
    const rows = await this.db.query<AgentRow>(
      `SELECT ${columns} FROM agents WHERE ${where} ORDER BY name, id LIMIT $5 OFFSET $6`,
      [...params, f.limit, f.offset],
    )
    const count = await this.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM agents WHERE ${where}`, params)
    return { items: rows.rows.map(toAgent), total: Number(count.rows[0]!.n) }
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
