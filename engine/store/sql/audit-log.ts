/** The audit log: who changed what, appended in the same transaction as the change where the caller has one. */
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface AuditEntry {
  id: number
  at: number
  actor: string
  action: string
  entity: string
  entityId?: string
  detail: Record<string, unknown>
}

interface AuditRow {
  id: number
  at: Date
  actor: string
  action: string
  entity: string
  entity_id: string | null
  detail: Record<string, unknown>
}

export class AuditLogRepository {
  constructor(private readonly db: Queryable) {}

  async append(e: { actor: string; action: string; entity: string; entityId?: string; detail?: Record<string, unknown> }): Promise<void> {
    await this.db.query(
      'INSERT INTO audit_log (actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5::jsonb)',
      [e.actor, e.action, e.entity, e.entityId ?? null, JSON.stringify(e.detail ?? {})],
    )
  }

  /** Newest first. */
  async list(filter: { entity?: string; entityId?: string; limit: number }): Promise<AuditEntry[]> {
    const r = await this.db.query<AuditRow>(
      `SELECT id, at, actor, action, entity, entity_id, detail FROM audit_log
       WHERE ($1::text IS NULL OR entity = $1) AND ($2::text IS NULL OR entity_id = $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.entity ?? null, filter.entityId ?? null, filter.limit],
    )
    return r.rows.map((x) => {
      const entry: AuditEntry = { id: x.id, at: msOf(x.at), actor: x.actor, action: x.action, entity: x.entity, detail: x.detail }
      if (x.entity_id !== null) entry.entityId = x.entity_id
      return entry
    })
  }
}
