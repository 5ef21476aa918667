/** Notes on a customer: free text an agent writes during or after a call, stored encrypted (the note id as AAD). */
import { randomUUID } from 'node:crypto'
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { Queryable } from './db.js'
import { msOf } from './row-time.js'

export interface CustomerNote {
  id: string
  customerId: string
  agentId: string | null
  actor: string
  text: string
  createdAt: number
}

interface NoteRow {
  id: string
  customer_id: string
  agent_id: string | null
  actor: string
  text_enc: string
  created_at: Date
}

export class CustomerNoteRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii: PiiCipher,
  ) {}

  /** The caller checked the customer is in its scope. */
  async add(n: { customerId: string; siteId: string; agentId: string | null; actor: string; text: string }): Promise<CustomerNote> {
    const id = randomUUID()
    const r = await this.db.query<NoteRow>(
      `INSERT INTO customer_notes (id, customer_id, site_id, agent_id, actor, text_enc) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING id, customer_id, agent_id, actor, text_enc, created_at`,
      [id, n.customerId, n.siteId, n.agentId, n.actor, this.pii.encrypt(n.text, id)],
    )
    return this.toNote(r.rows[0]!)
  }

  /** Newest first, before `before` (epoch ms, exclusive) when given. */
  async list(customerId: string, limit: number, before?: number): Promise<CustomerNote[]> {
    const r = await this.db.query<NoteRow>(
      `SELECT id, customer_id, agent_id, actor, text_enc, created_at FROM customer_notes
       WHERE customer_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [customerId, before === undefined ? null : new Date(before), limit],
    )
    return r.rows.map((row) => this.toNote(row))
  }

  async remove(customerId: string, noteId: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM customer_notes WHERE id = $1 AND customer_id = $2', [noteId, customerId])
    return r.rowCount === 1
  }

  private toNote(r: NoteRow): CustomerNote {
    return {
      id: r.id,
      customerId: r.customer_id,
      agentId: r.agent_id,
      actor: r.actor,
      text: this.pii.decrypt(r.text_enc, r.id),
      createdAt: msOf(r.created_at),
    }
  }
}
