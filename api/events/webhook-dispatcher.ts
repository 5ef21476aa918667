/**
 * Delivers a site's events to its webhooks: every event a webhook asked for becomes one delivery row (idempotent per
 * webhook and event id), then deliveries are POSTed signed, and failures retried with back-off until they succeed or
 * run out of attempts. The dispatcher remembers in Redis the last event it enqueued per site, so events published
 * while no API process ran are enqueued when one starts; the unique key makes several processes harmless.
 */
import type { Redis } from 'ioredis'
import type { StoredEvent } from '../../engine/events/event-names.js'
import type { RedisEventStream } from '../../engine/store/redis/event-stream.js'
import type { Delivery, WebhookRepository, WebhookWithSecret } from '../../engine/store/sql/webhooks.js'
import { DefaultRetrySchedule, type RetrySchedule } from '../../engine/webhooks/retry-schedule.js'
import { SignatureHeader, signPayload } from '../../engine/webhooks/signature.js'
import type { EventHub } from './event-hub.js'

export interface DispatcherLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export interface WebhookDispatcherOptions {
  repo: WebhookRepository
  hub: EventHub
  stream: RedisEventStream
  redis: Redis
  log: DispatcherLog
  schedule?: RetrySchedule
  /** Per attempt; default 10 s. */
  timeoutMs?: number
  now?: () => number
}

export class WebhookDispatcher {
  private hooks: WebhookWithSecret[] = []
  private readonly unsubscribe = new Map<string, () => void>()
  private timers: NodeJS.Timeout[] = []
  private delivering = false

  constructor(private readonly o: WebhookDispatcherOptions) {}

  private cursorKey(siteId: string): string {
    return `${this.o.stream.key(siteId)}:webhook-cursor`
  }

  /** Reload the active webhooks; follow the sites that have one (catching up on what was missed), drop the others. */
  async refresh(): Promise<void> {
    this.hooks = await this.o.repo.active()
    const sites = new Set(this.hooks.map((h) => h.siteId))
    for (const [site, off] of this.unsubscribe) {
      if (!sites.has(site)) {
        off()
        this.unsubscribe.delete(site)
      }
    }
    for (const site of sites) {
      if (this.unsubscribe.has(site)) continue
      const off = await this.o.hub.subscribe({
        siteId: site,
        accept: (e) => this.hooks.some((h) => h.siteId === e.siteId && h.eventTypes.includes(e.type)),
        deliver: (e) => void this.enqueue(e),
      })
      this.unsubscribe.set(site, off)
      const cursor = await this.o.redis.get(this.cursorKey(site))
      if (cursor !== null) for (const e of await this.o.stream.since(site, cursor)) await this.enqueue(e)
    }
  }

  /** Turn one event into deliveries for the webhooks that asked for it. */
  async enqueue(e: StoredEvent): Promise<number> {
    let n = 0
    try {
      for (const h of this.hooks) {
        if (h.siteId !== e.siteId || !h.eventTypes.includes(e.type)) continue
        const { id, ...rest } = e
        if (await this.o.repo.enqueue({ webhookId: h.id, eventId: id, eventType: e.type, payload: { id, ...rest } })) n++
      }
      await this.o.redis.set(this.cursorKey(e.siteId), e.id)
    } catch (err) {
      this.o.log.warn({ err, eventId: e.id }, 'could not enqueue webhook deliveries; the next start catches up from the cursor')
    }
    return n
  }

  /** Try every due delivery once; returns how many were tried. */
  async deliverDue(limit = 50): Promise<number> {
    const due = await this.o.repo.claimDue(limit, (this.o.timeoutMs ?? 10_000) * 2)
    await Promise.all(due.map((d) => this.attempt(d)))
    return due.length
  }

  private async attempt(d: Delivery): Promise<void> {
    // A webhook stopped since the last refresh is no longer in the list: its pending deliveries still go out.
    const known = this.hooks.find((h) => h.id === d.webhookId)
    const secret = known?.secret ?? (await this.o.repo.secretOf(d.webhookId))
    const hook = known ?? (await this.o.repo.get(d.webhookId))
    if (secret === undefined || hook === undefined) return
    const body = JSON.stringify(d.payload)
    const now = Math.floor((this.o.now ?? Date.now)() / 1000)
    const schedule = this.o.schedule ?? DefaultRetrySchedule
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SignatureHeader]: signPayload(secret, body, now),
          'cadence-event-id': d.eventId,
          'cadence-event-type': d.eventType,
          'cadence-delivery-attempt': String(d.attempts + 1),
        },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        redirect: 'manual',
      })
      await res.body?.cancel().catch(() => undefined)
      if (res.status >= 200 && res.status < 300) {
        await this.o.repo.markDelivered(d.id, res.status)
        return
      }
      await this.failed(d, schedule, { status: res.status, error: `HTTP ${res.status}` })
    } catch (err) {
      await this.failed(d, schedule, { error: (err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message })
    }
  }

  private async failed(d: Delivery, schedule: RetrySchedule, e: { status?: number; error: string }): Promise<void> {
    const retryIn = schedule.delayAfter(d.attempts + 1)
    await this.o.repo.markFailed(d.id, e, retryIn)
    const log = { webhookId: d.webhookId, eventId: d.eventId, attempt: d.attempts + 1, status: e.status, error: e.error }
    if (retryIn === undefined) this.o.log.warn(log, 'webhook delivery failed for good')
    else this.o.log.info({ ...log, retryInMs: retryIn }, 'webhook delivery failed; will retry')
  }

  start(o: { refreshMs?: number; deliverMs?: number } = {}): void {
    void this.refresh().catch((err: unknown) => this.o.log.warn({ err }, 'loading webhooks failed'))
    this.timers.push(
      setInterval(() => void this.refresh().catch((err: unknown) => this.o.log.warn({ err }, 'reloading webhooks failed')), o.refreshMs ?? 30_000),
      setInterval(() => {
        if (this.delivering) return
        this.delivering = true
        void this.deliverDue()
          .catch((err: unknown) => this.o.log.warn({ err }, 'webhook delivery round failed'))
          .finally(() => {
            this.delivering = false
          })
      }, o.deliverMs ?? 1000),
    )
    for (const t of this.timers) t.unref()
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    for (const off of this.unsubscribe.values()) off()
    this.unsubscribe.clear()
  }
}
