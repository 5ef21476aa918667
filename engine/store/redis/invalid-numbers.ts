/**
 * Numbers learned invalid, on Redis: one HASH per number (reason, source, learnedAt, expiresAt, detail) and a ZSET
 * of expiry times. Expiry is judged by the engine's clock (screening checks `expiresAt` against the instant it is
 * given, and `purgeExpired(now)` sweeps), never by Redis TTLs, so the simulator's virtual time works the same.
 * A number is personal data: keys and members name it by its keyed hash (the CRM's phone hash), never in the clear;
 * screening always asks about a number it has, so nothing needs it back.
 *
 * Keys share the `{invalid}` hash tag so each script touches one cluster slot:
 *   <prefix>:{invalid}:n:<hash of e164>   HASH
 *   <prefix>:{invalid}:expiry             ZSET hash of e164 -> expiresAt
 */
import type { Redis } from 'ioredis'
import { ScriptRunner } from './script-loader.js'
import {
  EvidenceSources,
  InvalidNumberMemory,
  InvalidReasons,
  type EvidenceSource,
  type InvalidNumberLookup,
  type InvalidReason,
  type LearnedInvalid,
} from '../../screening/invalid-numbers.js'

const E164 = /^\+[1-9]\d{3,14}$/

export class RedisInvalidNumberStore {
  private readonly scripts: ScriptRunner
  private readonly entryPrefix: string
  private readonly expiryKey: string

  constructor(
    redis: Redis,
    prefix: string,
    /** The keyed hash of an E.164 number (phoneHasher(pii)): the same in every process of a deployment. */
    private readonly hash: (e164: string) => string,
  ) {
    this.scripts = new ScriptRunner(redis)
    this.entryPrefix = `${prefix}:{invalid}:n:`
    this.expiryKey = `${prefix}:{invalid}:expiry`
  }

  private get redis(): Redis {
    return this.scripts.redis
  }

  /** Store an entry unless one that blocks at least as long is there. Returns whether it was stored. */
  async learn(entry: LearnedInvalid): Promise<boolean> {
    if (!E164.test(entry.e164)) throw new Error(`learned-invalid: ${JSON.stringify(entry.e164)} is not E.164`)
    const res = await this.scripts.run(
      'invalid-learn',
      [this.entryPrefix + this.hash(entry.e164), this.expiryKey],
      [
        this.hash(entry.e164),
        entry.reason,
        entry.source,
        entry.learnedAt,
        entry.expiresAt === undefined ? '' : entry.expiresAt,
        entry.detail ?? '',
      ],
    )
    return res === 1
  }

  async forget(e164: string): Promise<void> {
    const h = this.hash(e164)
    await this.redis.multi().del(this.entryPrefix + h).zrem(this.expiryKey, h).exec()
  }

  async get(e164: string): Promise<LearnedInvalid | undefined> {
    return parseEntry(e164, await this.redis.hgetall(this.entryPrefix + this.hash(e164)))
  }

  /**
   * Entries an earlier version keyed by the number in the clear: each is learned again under its hash (kept if a
   * hashed entry already blocks as long) and the clear one deleted. Run at start-up; returns how many were moved.
   */
  async rehashClearEntries(): Promise<number> {
    let moved = 0
    let cursor = '0'
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.entryPrefix}+*`, 'COUNT', 1000)
      cursor = next
      for (const key of keys) {
        const e164 = key.slice(this.entryPrefix.length)
        const entry = parseEntry(e164, await this.redis.hgetall(key))
        if (entry && E164.test(e164)) await this.learn(entry)
        await this.redis.multi().del(key).zrem(this.expiryKey, e164).exec()
        moved++
      }
    } while (cursor !== '0')
    return moved
  }

  /** Entries for these numbers as a synchronous lookup for screening (expired ones included; screen() judges). */
  async snapshot(e164s: readonly string[]): Promise<InvalidNumberLookup> {
    const book = new InvalidNumberMemory()
    const unique = [...new Set(e164s)]
    if (unique.length === 0) return book
    const pipe = this.redis.pipeline()
    for (const n of unique) pipe.hgetall(this.entryPrefix + this.hash(n))
    const results = (await pipe.exec()) ?? []
    results.forEach(([err, v], i) => {
      if (err) throw err
      const entry = parseEntry(unique[i]!, v as Record<string, string>)
      if (entry) book.learn(entry)
    })
    return book
  }

  /** Delete entries expired at `nowMs`, at most `limit` per call. Returns how many were deleted. */
  async purgeExpired(nowMs: number, limit = 1000): Promise<number> {
    return Number(await this.scripts.run('invalid-purge', [this.expiryKey], [nowMs, this.entryPrefix, limit]))
  }
}

function parseEntry(e164: string, h: Record<string, string>): LearnedInvalid | undefined {
  if (!h || h.reason === undefined) return undefined
  if (!(InvalidReasons as readonly string[]).includes(h.reason)) return undefined
  const source = (EvidenceSources as readonly string[]).includes(h.source ?? '') ? (h.source as EvidenceSource) : 'manual'
  const entry: LearnedInvalid = { e164, reason: h.reason as InvalidReason, source, learnedAt: Number(h.learnedAt) }
  if (h.expiresAt) entry.expiresAt = Number(h.expiresAt)
  if (h.detail) entry.detail = h.detail
  return entry
}
