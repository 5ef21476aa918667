/**
 * Customer callbacks booked in the CRM: due to the whole minute (the database refuses seconds), offered to the owning
 * agent (agentId) or to anyone (null). The dialer's own lead callbacks live in the same table with a lead_id and no
 * customer; this repository reads and writes only customer callbacks.
 *
 * Agents reach the callbacks of the customers they own, like the customers themselves.
 */
import { randomUUID } from 'node:crypto'
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { CustomerScope } from './customers.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export const CallbackStatuses = ['pending', 'offered', 'done', 'cancelled'] as const
export type CallbackStatus = (typeof CallbackStatuses)[number]
/** Statuses still waiting for a call. */
export const OpenCallbackStatuses: readonly CallbackStatus[] = ['pending', 'offered']

export interface CustomerCallback {
  id: string
  siteId: string
  customerId: string
  /** The agent it is offered to; null: anyone. */
  agentId: string | null
  /** Epoch ms, a whole minute. */
  dueAt: number
  status: CallbackStatus
  note: string | null
  createdBy: string | null
  createdAt: number
  updatedAt: number
}

export class CallbackNotOnMinute extends Error {
  constructor(dueAt: number) {
    super(`callbacks are booked to the minute; ${new Date(dueAt).toISOString()} has seconds`)
    this.name = 'CallbackNotOnMinute'
  }
}

interface CallbackRow {
  id: string
  site_id: string
  customer_id: string
  agent_id: string | null
  due_at: Date
  status: CallbackStatus
  note_enc: string | null
  created_by: string | null
  created_at: Date
  updated_at: Date
}

const columns = 'cb.id, cb.site_id, cb.customer_id, cb.agent_id, cb.due_at, cb.status, cb.note_enc, cb.created_by, cb.created_at, cb.updated_at'
const noteAad = (id: string): string => `${id}#callback-note`

export class CallbackRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii: PiiCipher,
  ) {}

  /** The caller checked the customer is in its scope. Throws CallbackNotOnMinute for a time with seconds. */
  async book(c: { siteId: string; customerId: string; agentId: string | null; dueAt: number; note?: string; createdBy: string }): Promise<CustomerCallback> {
    if (c.dueAt % 60_000 !== 0) throw new CallbackNotOnMinute(c.dueAt)
    const id = randomUUID()
    const r = await this.db.query<CallbackRow>(
      `INSERT INTO callbacks AS cb (id, site_id, customer_id, agent_id, due_at, note_enc, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columns}`,
      [id, c.siteId, c.customerId, c.agentId, new Date(c.dueAt), c.note === undefined ? null : this.pii.encrypt(c.note, noteAad(id)), c.createdBy],
    )
    return this.toCallback(r.rows[0]!)
  }

  async get(id: string, scope: CustomerScope): Promise<CustomerCallback | undefined> {
    const r = await this.db.query<CallbackRow>(
      `SELECT ${columns} FROM callbacks cb JOIN customers c ON c.id = cb.customer_id
       WHERE cb.id = $1 AND ($2::text IS NULL OR cb.site_id = $2) AND ($3::text IS NULL OR c.owner_agent_id = $3)`,
      [id, scope.siteId, scope.agentId],
    )
    return r.rows[0] && this.toCallback(r.rows[0])
  }

  /**
   * Open callbacks due up to `dueBefore` (epoch ms, inclusive), soonest first. `assignee`: only those offered to
   * this agent or to anyone ('anyone' rows), or every one (undefined).
   */
  async listDue(
    scope: CustomerScope,
    q: { dueBefore: number; dueAfter?: number; assignee?: string; statuses?: readonly CallbackStatus[]; limit: number },
  ): Promise<CustomerCallback[]> {
    const r = await this.db.query<CallbackRow>(
      `SELECT ${columns} FROM callbacks cb JOIN customers c ON c.id = cb.customer_id
       WHERE cb.customer_id IS NOT NULL AND ($1::text IS NULL OR cb.site_id = $1) AND ($2::text IS NULL OR c.owner_agent_id = $2)
         AND cb.status = ANY($3::text[]) AND cb.due_at <= $4 AND ($5::timestamptz IS NULL OR cb.due_at >= $5)
         AND ($6::text IS NULL OR cb.agent_id = $6 OR cb.agent_id IS NULL)
       ORDER BY cb.due_at, cb.id LIMIT $7`,
      [
        scope.siteId,
        scope.agentId,
        [...(q.statuses ?? OpenCallbackStatuses)],
        new Date(q.dueBefore),
        q.dueAfter === undefined ? null : new Date(q.dueAfter),
        q.assignee ?? null,
        q.limit,
      ],
    )
    return r.rows.map((row) => this.toCallback(row))
  }

  /** A customer's callbacks, newest due first, due before `before` when given (the timeline). */
  async listForCustomer(customerId: string, limit: number, before?: number): Promise<CustomerCallback[]> {
    const r = await this.db.query<CallbackRow>(
      `SELECT ${columns} FROM callbacks cb WHERE cb.customer_id = $1 AND ($2::timestamptz IS NULL OR cb.due_at < $2)
       ORDER BY cb.due_at DESC, cb.id DESC LIMIT $3`,
      [customerId, before === undefined ? null : new Date(before), limit],
    )
    return r.rows.map((row) => this.toCallback(row))
  }

  /** Change status and/or rebook; false when not in scope. Throws CallbackNotOnMinute for a time with seconds. */
  async update(id: string, scope: CustomerScope, patch: { status?: CallbackStatus; dueAt?: number; agentId?: string | null }): Promise<boolean> {
    if (patch.dueAt !== undefined && patch.dueAt % 60_000 !== 0) throw new CallbackNotOnMinute(patch.dueAt)
    const r = await this.db.query(
      `UPDATE callbacks cb SET status = coalesce($4, cb.status), due_at = coalesce($5, cb.due_at),
         agent_id = CASE WHEN $6::boolean THEN $7 ELSE cb.agent_id END, updated_at = now()
       FROM customers c
       WHERE cb.id = $1 AND c.id = cb.customer_id AND ($2::text IS NULL OR cb.site_id = $2)
         AND ($3::text IS NULL OR c.owner_agent_id = $3)`,
      [id, scope.siteId, scope.agentId, patch.status ?? null, patch.dueAt === undefined ? null : new Date(patch.dueAt), patch.agentId !== undefined, patch.agentId ?? null],
    )
    return r.rowCount === 1
  }

  /** A customer changed owner: its open callbacks offered to the old owner follow to the new one (or to anyone). */
  async followOwner(customerId: string, from: string | null, to: string | null): Promise<number> {
    if (from === null) return 0
    const r = await this.db.query(
      `UPDATE callbacks SET agent_id = $3, updated_at = now()
       WHERE customer_id = $1 AND agent_id = $2 AND status = ANY($4::text[])`,
      [customerId, from, to, [...OpenCallbackStatuses]],
    )
    return r.rowCount
  }

  private toCallback(r: CallbackRow): CustomerCallback {
    return {
      id: r.id,
      siteId: r.site_id,
      customerId: r.customer_id,
      agentId: r.agent_id,
      dueAt: msOf(r.due_at),
      status: r.status,
      note: r.note_enc === null ? null : this.pii.decrypt(r.note_enc, noteAad(r.id)),
      createdBy: r.created_by,
      createdAt: msOf(r.created_at),
      updatedAt: msOf(r.updated_at),
    }
  }
}
