/**
 * Call queues of a site: how calls waiting for an agent are ordered against other queues (priority), which agent a
 * call goes to (routing strategy), what an agent must be able to do (required skills, each with the worst tier still
 * accepted), how long a caller may wait, and where the call overflows to after that.
 */
import type { RoutingStrategy } from '../../acd/routing.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface CallQueueRecord {
  id: string
  siteId: string
  name: string
  priority: number
  strategy: RoutingStrategy
  /** Skill name -> worst tier accepted (1 best). */
  requiredSkills: Record<string, number>
  /** null: no limit. */
  maxWaitSeconds: number | null
  /** The queue a call moves to after maxWaitSeconds; null: the call ends as lost. */
  overflowQueueId: string | null
  active: boolean
  createdAt: number
  updatedAt: number
}

interface QueueRow {
  id: string
  site_id: string
  name: string
  priority: number
  strategy: RoutingStrategy
  required_skills: Record<string, number>
  max_wait_seconds: number | null
  overflow_queue_id: string | null
  active: boolean
  created_at: Date
  updated_at: Date
}

const columns =
  'id, site_id, name, priority, strategy, required_skills, max_wait_seconds, overflow_queue_id, active, created_at, updated_at'

const toQueue = (r: QueueRow): CallQueueRecord => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  priority: r.priority,
  strategy: r.strategy,
  requiredSkills: r.required_skills,
  maxWaitSeconds: r.max_wait_seconds,
  overflowQueueId: r.overflow_queue_id,
  active: r.active,
  createdAt: msOf(r.created_at),
  updatedAt: msOf(r.updated_at),
})

export interface NewCallQueue {
  siteId: string
  name: string
  priority?: number
  strategy?: RoutingStrategy
  requiredSkills?: Record<string, number>
  maxWaitSeconds?: number | null
  overflowQueueId?: string | null
}

export type CallQueueChanges = Partial<Omit<NewCallQueue, 'siteId'>> & { active?: boolean }

function uniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505'
}

export class QueueRepository {
  constructor(private readonly db: Queryable) {}

  /** 'taken' when the site has a queue of that name. */
  async create(q: NewCallQueue): Promise<CallQueueRecord | 'taken'> {
    try {
      const r = await this.db.query<QueueRow>(
        `INSERT INTO queues (site_id, name, priority, strategy, required_skills, max_wait_seconds, overflow_queue_id)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING ${columns}`,
        [
          q.siteId,
          q.name,
          q.priority ?? 0,
          q.strategy ?? 'longest-idle',
          JSON.stringify(q.requiredSkills ?? {}),
          q.maxWaitSeconds ?? null,
          q.overflowQueueId ?? null,
        ],
      )
      return toQueue(r.rows[0]!)
    } catch (err) {
      if (uniqueViolation(err)) return 'taken'
      throw err
    }
  }

  async get(id: string): Promise<CallQueueRecord | undefined> {
    const r = await this.db.query<QueueRow>(`SELECT ${columns} FROM queues WHERE id = $1`, [id])
    return r.rows[0] && toQueue(r.rows[0])
  }

  async list(siteId: string | null): Promise<CallQueueRecord[]> {
    const r = await this.db.query<QueueRow>(
      `SELECT ${columns} FROM queues WHERE ($1::text IS NULL OR site_id = $1) ORDER BY site_id, priority DESC, lower(name), id`,
      [siteId],
    )
    return r.rows.map(toQueue)
  }

  /** Only the fields given change; null clears maxWaitSeconds / overflowQueueId. 'taken' on a name clash. */
  async update(id: string, c: CallQueueChanges): Promise<CallQueueRecord | 'taken' | undefined> {
    try {
      const r = await this.db.query<QueueRow>(
        `UPDATE queues SET
           name = coalesce($2, name),
           priority = coalesce($3, priority),
           strategy = coalesce($4, strategy),
           required_skills = coalesce($5::jsonb, required_skills),
           max_wait_seconds = CASE WHEN $6 THEN $7::integer ELSE max_wait_seconds END,
           overflow_queue_id = CASE WHEN $8 THEN $9::text ELSE overflow_queue_id END,
           active = coalesce($10, active),
           updated_at = now()
         WHERE id = $1 RETURNING ${columns}`,
        [
          id,
          c.name ?? null,
          c.priority ?? null,
          c.strategy ?? null,
          c.requiredSkills === undefined ? null : JSON.stringify(c.requiredSkills),
          c.maxWaitSeconds !== undefined,
          c.maxWaitSeconds ?? null,
          c.overflowQueueId !== undefined,
          c.overflowQueueId ?? null,
          c.active ?? null,
        ],
      )
      return r.rows[0] && toQueue(r.rows[0])
    } catch (err) {
      if (uniqueViolation(err)) return 'taken'
      throw err
    }
  }

  /** Queues overflowing into it stop overflowing (the foreign key sets NULL). False when it did not exist. */
  async delete(id: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM queues WHERE id = $1', [id])
    return r.rowCount === 1
  }
}
