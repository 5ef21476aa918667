/**
 * Revocations of credentials told to every API process through Redis pub/sub, so each can keep an in-process cache of
 * credential lookups (api/plugins/api-key-cache.ts, token-cache.ts) and still refuse a revoked key or a logged-out
 * token on its next request. The revoking process tells its own listeners synchronously, then publishes; the others
 * hear it within a Redis round trip.
 *
 * A message lost is a revocation missed, so the caches trust this only while it is `live`: subscribed on a connection
 * that is up. While it is not (Redis down, reconnecting), caches answer from the database on every request; when it is
 * subscribed again, listeners get `reset` (drop everything: what was revoked meanwhile was not heard).
 */
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'

export type Revocation =
  /** An API key, by id. */
  | { kind: 'api-key'; id: string }
  /** One login token, by its SHA-256 (hashToken): the plaintext never leaves the process. */
  | { kind: 'token'; hash: string }
  /** Every login token of a user (disabled, or logged out everywhere). */
  | { kind: 'user'; id: string }

export interface RevocationListener {
  revoked(r: Revocation): void
  /** Revocations may have been missed: forget every cached credential. */
  reset(): void
}

/** What the caches need: whether to trust their entries, and to be told. */
export interface RevocationFeed {
  readonly live: boolean
  listen(l: RevocationListener): () => void
}

const isRevocation = (v: unknown): v is Revocation => {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  if (r['kind'] === 'token') return typeof r['hash'] === 'string'
  return (r['kind'] === 'api-key' || r['kind'] === 'user') && typeof r['id'] === 'string'
}

export class RedisAuthRevocations implements RevocationFeed {
  private readonly listeners = new Set<RevocationListener>()
  private readonly sub: Redis
  private subscribed = false
  private closed = false

  constructor(
    private readonly o: {
      /** Publishes on this connection; a duplicate of it subscribes. */
      redis: Redis
      channel: string
      log: FastifyBaseLogger
      /** The subscriber's CLIENT SETNAME; default cadence-auth-revocations. */
      connectionName?: string
    },
  ) {
    this.sub = o.redis.duplicate({ connectionName: o.connectionName ?? 'cadence-auth-revocations' })
    this.sub.on('error', (err: Error) => o.log.warn({ err: err.message }, 'auth revocations: Redis subscriber error'))
    const down = (): void => {
      if (this.subscribed) o.log.warn('auth revocations: Redis subscriber down; credential caches bypassed until it is back')
      this.subscribed = false
    }
    this.sub.on('close', down)
    this.sub.on('end', down)
    this.sub.on('reconnecting', down)
    this.sub.on('ready', () => void this.subscribe())
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== o.channel) return
      let r: unknown
      try {
        r = JSON.parse(message)
      } catch {
        r = undefined
      }
      if (!isRevocation(r)) {
        o.log.warn({ channel }, 'auth revocations: malformed message ignored')
        return
      }
      this.tell(r)
    })
  }

  /** Subscribed on a live connection: the caches may trust their entries. */
  get live(): boolean {
    return this.subscribed && !this.closed
  }

  /** Resolves once subscribed (the first time), so an app can start with its caches on. */
  async ready(): Promise<void> {
    if (this.sub.status === 'ready') await this.subscribe()
    else await new Promise<void>((resolve) => this.sub.once('ready', () => void this.subscribe().then(resolve, resolve)))
  }

  listen(l: RevocationListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  /**
   * A credential was revoked in the database (call after the change is committed): this process's caches drop it at
   * once, the others when the message reaches them. Throws when Redis refused the message; the revocation itself
   * stands, other processes hold it until their cache entries expire.
   */
  async revoked(r: Revocation): Promise<void> {
    this.tell(r)
    await this.o.redis.publish(this.o.channel, JSON.stringify(r))
  }

  async close(): Promise<void> {
    this.closed = true
    this.subscribed = false
    this.listeners.clear()
    this.sub.disconnect()
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return
    try {
      // Also after ioredis re-subscribed by itself: this reply comes after its, so the subscription is in place.
      await this.sub.subscribe(this.o.channel)
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'auth revocations: could not subscribe')
      return
    }
    if (this.closed || this.sub.status !== 'ready') return
    // Whatever was revoked while not subscribed went unheard.
    for (const l of this.listeners) l.reset()
    this.subscribed = true
  }

  private tell(r: Revocation): void {
    for (const l of this.listeners) l.revoked(r)
  }
}
