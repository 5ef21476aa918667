/**
 * The DNC lists on Redis: whole numbers (global and per campaign) as SETs of their keyed hashes (PiiCipher's lookup
 * hash of the E.164 form, as the CRM and leads hash numbers: Redis never holds a listed number in the clear), prefixes
 * (whole area codes, number ranges: nobody's number) as SETs of "+<digits>". A lookup asks, in one pipelined round
 * trip, whether each number or any of its prefixes is listed (SMISMEMBER over the at most 15 prefixes of a number),
 * and hands screening a synchronous snapshot: the pure core never waits on Redis.
 *
 * Keys (all under the deployment prefix):
 *   <prefix>:dnc:global                       SET  hash of E.164
 *   <prefix>:dnc:campaign:<campaignId>        SET  hash of E.164
 *   <prefix>:dnc:prefix:global                SET  +digits
 *   <prefix>:dnc:prefix:campaign:<campaignId> SET  +digits
 */
import type { Redis } from 'ioredis'
import { assertKeyId } from './keys.js'
import { MemoryDncList, normalizeDncPrefix, prefixesOf, type DncLookup } from '../../screening/dnc.js'
import { parsePhone } from '../../screening/number.js'
import type { PiiCipher } from '../../security/pii-cipher.js'
import { HashDomains } from '../sql/customers.js'

export interface DncScopeRef {
  /** Omit for the global list. */
  campaignId?: string
}

export interface DncWriteResult {
  /** Entries newly added (or removed); entries already there (or absent) are not counted. */
  changed: number
  /** Entries refused, by position in the input, with the reason: the good ones still land. */
  rejected: Array<{ index: number; value: string; reason: string }>
}

const CHUNK = 5000

/** The hash a deployment's DNC lists keep numbers as: PiiCipher's lookup hash of the E.164 form, as the CRM's. */
export function phoneHasher(pii: Pick<PiiCipher, 'lookupHash'>): (e164: string) => string {
  return (e164) => pii.lookupHash(HashDomains.phone, e164)
}

export class RedisDncStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /**
     * The keyed hash of an E.164 number (phoneHasher(pii), or a repository's numberHash): every engine and API process
     * of a deployment has the same lookup key, so they agree on it.
     */
    private readonly hash: (e164: string) => string,
  ) {}

  private numbersKey(scope: DncScopeRef): string {
    if (scope.campaignId === undefined) return `${this.prefix}:dnc:global`
    assertKeyId('campaign', scope.campaignId)
    return `${this.prefix}:dnc:campaign:${scope.campaignId}`
  }

  private prefixesKey(scope: DncScopeRef): string {
    if (scope.campaignId === undefined) return `${this.prefix}:dnc:prefix:global`
    assertKeyId('campaign', scope.campaignId)
    return `${this.prefix}:dnc:prefix:campaign:${scope.campaignId}`
  }

  /** Add numbers (any format libphonenumber reads; national ones need `region`). */
  addNumbers(scope: DncScopeRef, numbers: readonly string[], region?: string): Promise<DncWriteResult> {
    return this.write('sadd', this.numbersKey(scope), numbers, (n) => this.hashed(toE164(n, region)))
  }

  removeNumbers(scope: DncScopeRef, numbers: readonly string[], region?: string): Promise<DncWriteResult> {
    return this.write('srem', this.numbersKey(scope), numbers, (n) => this.hashed(toE164(n, region)))
  }

  private hashed(n: string | { error: string }): string | { error: string } {
    return typeof n === 'string' ? this.hash(n) : n
  }

  /**
   * Numbers an earlier version listed in the clear (members in E.164 form; hashes never start with "+"): removed once
   * the lists were mirrored again as hashes (main.ts, after syncDncMirror). Returns how many went.
   */
  async purgeClearNumbers(): Promise<number> {
    let removed = 0
    const keys = [`${this.prefix}:dnc:global`]
    let cursor = '0'
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:dnc:campaign:*`, 'COUNT', 1000)
      keys.push(...found)
      cursor = next
    } while (cursor !== '0')
    for (const key of keys) {
      let c = '0'
      do {
        const [next, members] = await this.redis.sscan(key, c, 'MATCH', '+*', 'COUNT', 5000)
        if (members.length > 0) removed += await this.redis.srem(key, ...members)
        c = next
      } while (c !== '0')
    }
    return removed
  }

  /** Add prefixes: "+1201", "1201XXXXXXX", "+86 1065" (see normalizeDncPrefix). */
  addPrefixes(scope: DncScopeRef, prefixes: readonly string[]): Promise<DncWriteResult> {
    return this.write('sadd', this.prefixesKey(scope), prefixes, toPrefix)
  }

  removePrefixes(scope: DncScopeRef, prefixes: readonly string[]): Promise<DncWriteResult> {
    return this.write('srem', this.prefixesKey(scope), prefixes, toPrefix)
  }

  async count(scope: DncScopeRef): Promise<{ numbers: number; prefixes: number }> {
    const [numbers, prefixes] = await Promise.all([this.redis.scard(this.numbersKey(scope)), this.redis.scard(this.prefixesKey(scope))])
    return { numbers, prefixes }
  }

  /**
   * What the lists say about these E.164 numbers for this campaign, as a snapshot screening can read synchronously.
   * Numbers not in E.164 are looked up as given (they cannot match) - screening parses before it asks.
   */
  async snapshot(campaignId: string, e164s: readonly string[]): Promise<DncLookup> {
    const snap = new MemoryDncList()
    if (e164s.length === 0) return snap
    const keys = {
      global: this.numbersKey({}),
      campaign: this.numbersKey({ campaignId }),
      globalPrefixes: this.prefixesKey({}),
      campaignPrefixes: this.prefixesKey({ campaignId }),
    }
    const unique = [...new Set(e164s)]
    const hashes = unique.map((n) => this.hash(n))
    const pipe = this.redis.pipeline()
    pipe.smismember(keys.global, ...hashes)
    pipe.smismember(keys.campaign, ...hashes)
    const prefixLists = unique.map((n) => prefixesOf(n))
    const allPrefixes = [...new Set(prefixLists.flat())]
    if (allPrefixes.length > 0) {
      pipe.smismember(keys.globalPrefixes, ...allPrefixes)
      pipe.smismember(keys.campaignPrefixes, ...allPrefixes)
    }
    const results = await pipe.exec()
    if (!results) throw new Error('DNC lookup: pipeline returned nothing')
    const values = results.map(([err, v]) => {
      if (err) throw err
      return v as number[]
    })
    const [inGlobal, inCampaign, inGlobalPrefix, inCampaignPrefix] = values
    unique.forEach((n, i) => {
      if (inGlobal?.[i] === 1) snap.addGlobal(n)
      if (inCampaign?.[i] === 1) snap.addCampaign(campaignId, n)
    })
    allPrefixes.forEach((p, i) => {
      if (inGlobalPrefix?.[i] === 1) snap.addPrefix(p)
      if (inCampaignPrefix?.[i] === 1) snap.addPrefix(p, campaignId)
    })
    return snap
  }

  /** Drop a campaign's own lists (the campaign was deleted). */
  async dropCampaign(campaignId: string): Promise<void> {
    await this.redis.del(this.numbersKey({ campaignId }), this.prefixesKey({ campaignId }))
  }

  private async write(
    op: 'sadd' | 'srem',
    key: string,
    entries: readonly string[],
    normalize: (s: string) => string | { error: string },
  ): Promise<DncWriteResult> {
    const rejected: DncWriteResult['rejected'] = []
    const good: string[] = []
    entries.forEach((value, index) => {
      const n = normalize(value)
      if (typeof n === 'string') good.push(n)
      else rejected.push({ index, value: String(value).slice(0, 64), reason: n.error })
    })
    let changed = 0
    for (let i = 0; i < good.length; i += CHUNK) {
      const chunk = good.slice(i, i + CHUNK)
      changed += op === 'sadd' ? await this.redis.sadd(key, ...chunk) : await this.redis.srem(key, ...chunk)
    }
    return { changed, rejected }
  }
}

function toE164(raw: string, region?: string): string | { error: string } {
  const p = parsePhone(raw, region)
  return p.ok ? p.phone.e164 : { error: `${p.code}: ${p.reason}` }
}

function toPrefix(raw: string): string | { error: string } {
  return normalizeDncPrefix(raw) ?? { error: 'not a number prefix: want "+<2-15 digits>" (trailing X wildcards allowed)' }
}
