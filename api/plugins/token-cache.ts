/**
 * An in-process cache of login-token lookups, used only with a live revocation feed (api/auth-revocations.ts): a
 * logout or a disabled user, in this process or another, drops the token from every process's cache on their next
 * request, so the database is not asked on each request yet a logout still takes effect at once. While the feed is
 * not live every lookup goes to the database, as it does without a feed. Keyed by the token's SHA-256 (the plaintext
 * is never kept); an entry lives `ttlMs` and never past the token's own expiry; unknown tokens are not cached.
 */
import { hashToken, type TokenOwner } from '../../engine/store/sql/user-tokens.js'
import type { RevocationFeed } from '../auth-revocations.js'
import type { TokenLookup } from './auth.js'

export interface TokenCacheOptions {
  /** Default 10 s: a backstop, revocations arrive through the feed. */
  ttlMs?: number
  /** Default 10,000 tokens. */
  maxEntries?: number
  now?: () => number
}

export class TokenCache implements TokenLookup {
  private readonly entries = new Map<string, { owner: TokenOwner; until: number }>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number
  /** Bumped by every revocation heard: a lookup that started before one must not cache what it read. */
  private generation = 0
  private readonly unlisten: () => void

  constructor(
    private readonly source: TokenLookup,
    private readonly revocations: RevocationFeed,
    options: TokenCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000
    this.maxEntries = options.maxEntries ?? 10_000
    this.now = options.now ?? Date.now
    this.unlisten = revocations.listen({
      revoked: (r) => {
        if (r.kind === 'token') this.drop((hash) => hash === r.hash)
        else if (r.kind === 'user') this.drop((_, e) => e.owner.user.id === r.id)
      },
      reset: () => this.drop(() => true),
    })
  }

  async findActive(token: string): Promise<TokenOwner | undefined> {
    if (!this.revocations.live) return this.source.findActive(token)
    const hash = hashToken(token)
    const t = this.now()
    const hit = this.entries.get(hash)
    if (hit && hit.until > t) return hit.owner
    if (hit) this.entries.delete(hash)
    const generation = this.generation
    const found = await this.source.findActive(token)
    if (found && generation === this.generation && this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
      this.entries.set(hash, { owner: found, until: Math.min(t + this.ttlMs, found.expiresAt) })
    }
    return found
  }

  get size(): number {
    return this.entries.size
  }

  close(): void {
    this.unlisten()
    this.entries.clear()
  }

  private drop(which: (hash: string, e: { owner: TokenOwner; until: number }) => boolean): void {
    this.generation++
    for (const [hash, e] of this.entries) if (which(hash, e)) this.entries.delete(hash)
  }
}
