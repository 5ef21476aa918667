/**
 * An in-process cache of API-key lookups, so authenticated requests do not query the database each time. Entries are
 * keyed by the key's SHA-256 (the plaintext is never kept), live `ttlMs`, and are bounded in number. A revocation made
 * in this process drops the key at once (onApiKeyRevoked); one made by another API process reaches this one through
 * `revocations` (Redis pub/sub), and while that feed is not live the cache is bypassed, so a revocation never waits for
 * the TTL. Without a feed, another process's revocation takes effect within the TTL. Unknown keys are not cached.
 */
import { hashApiKey, onApiKeyRevoked, type ApiKey } from '../../engine/store/sql/api-keys.js'
import type { RevocationFeed } from '../auth-revocations.js'

export interface ApiKeyLookup {
  findActiveByKey(key: string): Promise<ApiKey | undefined>
}

export interface ApiKeyCacheOptions {
  /** Default 10 s. */
  ttlMs?: number
  /** Default 10,000 keys. */
  maxEntries?: number
  now?: () => number
  /** Revocations from other processes; entries are trusted only while it is live. */
  revocations?: RevocationFeed
}

export class ApiKeyCache implements ApiKeyLookup {
  private readonly entries = new Map<string, { key: ApiKey; expiresAt: number }>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number
  /** Bumped by every revocation: a lookup that started before one must not cache what it read. */
  private generation = 0
  private readonly unsubscribe: () => void
  private readonly unlisten: () => void
  private readonly revocations: RevocationFeed | undefined

  constructor(
    private readonly source: ApiKeyLookup,
    options: ApiKeyCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000
    this.maxEntries = options.maxEntries ?? 10_000
    this.now = options.now ?? Date.now
    this.unsubscribe = onApiKeyRevoked((id) => this.invalidate(id))
    this.revocations = options.revocations
    this.unlisten =
      options.revocations?.listen({
        revoked: (r) => {
          if (r.kind === 'api-key') this.invalidate(r.id)
        },
        reset: () => this.clear(),
      }) ?? (() => undefined)
  }

  async findActiveByKey(key: string): Promise<ApiKey | undefined> {
    // Revocations may go unheard: ask the database every time.
    if (this.revocations !== undefined && !this.revocations.live) return this.source.findActiveByKey(key)
    const hash = hashApiKey(key)
    const hit = this.entries.get(hash)
    const t = this.now()
    if (hit && hit.expiresAt > t) return hit.key
    if (hit) this.entries.delete(hash)
    const generation = this.generation
    const found = await this.source.findActiveByKey(key)
    if (found && generation === this.generation && this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
      this.entries.set(hash, { key: found, expiresAt: t + this.ttlMs })
    }
    return found
  }

  /** Drop a key (by id) from the cache. */
  invalidate(apiKeyId: string): void {
    this.generation++
    for (const [hash, e] of this.entries) if (e.key.id === apiKeyId) this.entries.delete(hash)
  }

  /** Drop every key (revocations may have been missed). */
  clear(): void {
    this.generation++
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }

  /** Stop listening for revocations (the app closes). */
  close(): void {
    this.unsubscribe()
    this.unlisten()
    this.entries.clear()
  }
}
