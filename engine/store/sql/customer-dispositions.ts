/**
 * Dispositions on a customer: what an agent concluded (interested, refused, complaint ...), on a call or outside one.
 * Codes follow the dispositions table's format; the call's CDR keeps its own (system or agent) disposition.
 */
import { randomUUID } from 'node:crypto'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface CustomerDisposition {
  id: string
  customerId: string
  callId: string | null
  code: string
  agentId: string | null
  actor: string
  createdAt: number
}

interface DispositionRow {
  id: string
  customer_id: string
  call_id: string | null
  code: string
  agent_id: string | null
  actor: string
  created_at: Date
}

const columns = 'id, customer_id, call_id, code, agent_id, actor, created_at'

const toDisposition = (r: DispositionRow): CustomerDisposition => ({
  id: r.id,
  customerId: r.customer_id,
  callId: r.call_id,
  code: r.code,
  agentId: r.agent_id,
  actor: r.actor,
  createdAt: msOf(r.created_at),
})

export class CustomerDispositionRepository {
  constructor(private readonly db: Queryable) {}

  /** The caller checked the customer is in its scope. */
  async add(d: { customerId: string; siteId: string; callId: string | null; code: string; agentId: string | null; actor: string }): Promise<CustomerDisposition> {
    const r = await this.db.query<DispositionRow>(
      `INSERT INTO customer_dispositions (id, customer_id, site_id, call_id, code, agent_id, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columns}`,
      [randomUUID(), d.customerId, d.siteId, d.callId, d.code, d.agentId, d.actor],
    )
    return toDisposition(r.rows[0]!)
  }

  /** Newest first, before `before` (epoch ms, exclusive) when given. */
  async list(customerId: string, limit: number, before?: number): Promise<CustomerDisposition[]> {
    const r = await this.db.query<DispositionRow>(
      `SELECT ${columns} FROM customer_dispositions
       WHERE customer_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [customerId, before === undefined ? null : new Date(before), limit],
    )
    return r.rows.map(toDisposition)
  }
}
