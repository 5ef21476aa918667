/** Webhooks and their deliveries. Claiming due deliveries is one statement with SKIP LOCKED, so instances share work. */
import type { PiiCipher } from '../../security/pii-cipher.js'
import type { Queryable } from './db.js'
import { msOf, optionalMs } from './row-time.js'

export interface Webhook {
  id: string
  siteId: string
  url: string
  eventTypes: string[]
  active: boolean
  createdAt: number
}

export interface WebhookWithSecret extends Webhook {
  secret: string
}

export interface Delivery {
  id: string
  webhookId: string
  eventId: string
  eventType: string
  payload: Record<string, unknown>
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  nextAttemptAt: number
  lastStatus?: number
  lastError?: string
  deliveredAt?: number
}

interface WebhookRow {
  id: string
  site_id: string
  url: string
  secret_enc: string
  event_types: string[]
  active: boolean
  created_at: Date
}

interface DeliveryRow {
  id: string
  webhook_id: string
  event_id: string
  event_type: string
  payload: Record<string, unknown>
  status: Delivery['status']
  attempts: number
  next_attempt_at: Date
  last_status: number | null
  last_error: string | null
  delivered_at: Date | null
}

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  siteId: r.site_id,
  url: r.url,
  eventTypes: r.event_types,
  active: r.active,
  createdAt: msOf(r.created_at),
})

function toDelivery(r: DeliveryRow): Delivery {
  const d: Delivery = {
    id: String(r.id),
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: msOf(r.next_attempt_at),
  }
  if (r.last_status !== null) d.lastStatus = r.last_status
  if (r.last_error !== null) d.lastError = r.last_error
  const at = optionalMs(r.delivered_at)
  if (at !== undefined) d.deliveredAt = at
  return d
}

const hookColumns = 'id, site_id, url, secret_enc, event_types, active, created_at'
const deliveryColumns =
  'id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, last_status, last_error, delivered_at'

export class WebhookRepository {
  constructor(
    private readonly db: Queryable,
    private readonly pii: PiiCipher,
  ) {}

  async create(w: { siteId: string; url: string; secret: string; eventTypes: string[] }): Promise<Webhook> {
    const id = crypto.randomUUID()
    const r = await this.db.query<WebhookRow>(
      `INSERT INTO webhooks (id, site_id, url, secret_enc, event_types) VALUES ($1, $2, $3, $4, $5::text[]) RETURNING ${hookColumns}`,
      [id, w.siteId, w.url, this.pii.encrypt(w.secret, `webhook:${id}`), w.eventTypes],
    )
    return toWebhook(r.rows[0]!)
  }

  async get(id: string): Promise<Webhook | undefined> {
    const r = await this.db.query<WebhookRow>(`SELECT ${hookColumns} FROM webhooks WHERE id = $1`, [id])
    return r.rows[0] && toWebhook(r.rows[0])
  }

  async list(siteId: string | null): Promise<Webhook[]> {
    const r = await this.db.query<WebhookRow>(
      `SELECT ${hookColumns} FROM webhooks WHERE ($1::text IS NULL OR site_id = $1) ORDER BY created_at, id`,
      [siteId],
    )
    return r.rows.map(toWebhook)
  }

  /** Active webhooks with their secrets, for the dispatcher only. */
  async active(): Promise<WebhookWithSecret[]> {
    const r = await this.db.query<WebhookRow>(`SELECT ${hookColumns} FROM webhooks WHERE active ORDER BY id`)
    return r.rows.map((row) => ({ ...toWebhook(row), secret: this.pii.decrypt(row.secret_enc, `webhook:${row.id}`) }))
  }

  async secretOf(id: string): Promise<string | undefined> {
    const r = await this.db.query<{ secret_enc: string }>('SELECT secret_enc FROM webhooks WHERE id = $1', [id])
    return r.rows[0] && this.pii.decrypt(r.rows[0].secret_enc, `webhook:${id}`)
  }

  async deactivate(id: string): Promise<boolean> {
    const r = await this.db.query('UPDATE webhooks SET active = false WHERE id = $1 AND active', [id])
    return r.rowCount === 1
  }

  /** One delivery per (webhook, event); false when it was already there. */
  async enqueue(d: { webhookId: string; eventId: string; eventType: string; payload: Record<string, unknown> }): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload) VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (webhook_id, event_id) DO NOTHING`,
      [d.webhookId, d.eventId, d.eventType, JSON.stringify(d.payload)],
    )
    return r.rowCount === 1
  }

  /** Take up to `limit` due deliveries; each is hidden from other claimers for `leaseMs` while it is tried. */
  async claimDue(limit: number, leaseMs: number): Promise<Delivery[]> {
    const r = await this.db.query<DeliveryRow>(
      `UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2 / 1000.0)
       WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${deliveryColumns}`,
      [limit, leaseMs],
    )
    return r.rows.map(toDelivery)
  }

  async markDelivered(id: string, status: number): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_status = $2, last_error = NULL,
         delivered_at = now() WHERE id = $1`,
      [id, status],
    )
  }

  /** A failed attempt: try again after `retryInMs`, or give up (undefined). */
  async markFailed(id: string, err: { status?: number; error: string }, retryInMs: number | undefined): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
         status = CASE WHEN $4::float8 IS NULL THEN 'failed' ELSE 'pending' END,
         next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $4::float8 / 1000.0) END
       WHERE id = $1`,
      [id, err.status ?? null, err.error.slice(0, 500), retryInMs ?? null],
    )
  }

  async deliveries(webhookId: string, limit = 100): Promise<Delivery[]> {
    const r = await this.db.query<DeliveryRow>(
      `SELECT ${deliveryColumns} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`,
      [webhookId, limit],
    )
    return r.rows.map(toDelivery)
  }
}
