/**
 * Do-not-call lookup: whole numbers on the global list or a campaign's list, and prefixes (a whole area code such as
 * "+1201", a number range such as "+8613800138") on either. Screening reads a synchronous snapshot; the Redis
 * adapter (engine/store/redis/dnc-store.ts) builds one for the numbers about to be dialed.
 */

export type DncScope = 'global' | 'campaign'

export interface DncPrefixMatch {
  prefix: string
  scope: DncScope
}

export interface DncLookup {
  isGlobal(e164: string): boolean
  isCampaign(campaignId: string, e164: string): boolean
  /** The longest listed prefix (global or of this campaign) the number starts with, if any. */
  prefixMatch(campaignId: string, e164: string): DncPrefixMatch | undefined
}

/**
 * Normalize a DNC prefix entry to "+<digits>": accepts "+1 201", "1201", and VICIdial-style "1201XXXXXXX" (trailing
 * X's are wildcards). Returns undefined for anything else: a leading 0 (a national prefix never matches E.164), or
 * fewer than 2 digits (a one-digit prefix would block a whole numbering zone and is almost certainly a mistake).
 */
export function normalizeDncPrefix(entry: string): string | undefined {
  if (typeof entry !== 'string') return undefined
  const compact = entry.replace(/[\s\-().]/g, '').replace(/[xX]+$/, '')
  const m = /^\+?([1-9]\d{1,14})$/.exec(compact)
  return m ? `+${m[1]}` : undefined
}

/** Every prefix of an E.164 number from 2 digits up to the whole number, longest first. */
export function prefixesOf(e164: string): string[] {
  const digits = e164.startsWith('+') ? e164.slice(1) : e164
  const out: string[] = []
  for (let n = digits.length; n >= 2; n--) out.push(`+${digits.slice(0, n)}`)
  return out
}

/** An in-memory DNC list: tests, the simulator, and the snapshot the Redis adapter returns. */
export class MemoryDncList implements DncLookup {
  private readonly global = new Set<string>()
  private readonly campaigns = new Map<string, Set<string>>()
  private readonly globalPrefixes = new Set<string>()
  private readonly campaignPrefixes = new Map<string, Set<string>>()

  addGlobal(e164: string): this {
    this.global.add(e164)
    return this
  }

  addCampaign(campaignId: string, e164: string): this {
    let s = this.campaigns.get(campaignId)
    if (!s) this.campaigns.set(campaignId, (s = new Set()))
    s.add(e164)
    return this
  }

  /** Returns false (and adds nothing) when the prefix is malformed. */
  addPrefix(prefix: string, campaignId?: string): boolean {
    const p = normalizeDncPrefix(prefix)
    if (!p) return false
    if (campaignId === undefined) this.globalPrefixes.add(p)
    else {
      let s = this.campaignPrefixes.get(campaignId)
      if (!s) this.campaignPrefixes.set(campaignId, (s = new Set()))
      s.add(p)
    }
    return true
  }

  isGlobal(e164: string): boolean {
    return this.global.has(e164)
  }

  isCampaign(campaignId: string, e164: string): boolean {
    return this.campaigns.get(campaignId)?.has(e164) ?? false
  }

  prefixMatch(campaignId: string, e164: string): DncPrefixMatch | undefined {
    const own = this.campaignPrefixes.get(campaignId)
    for (const p of prefixesOf(e164)) {
      if (this.globalPrefixes.has(p)) return { prefix: p, scope: 'global' }
      if (own?.has(p)) return { prefix: p, scope: 'campaign' }
    }
    return undefined
  }
}
