/**
 * The DNC and learned-invalid snapshots the API's dialability reads, with the requests that arrive together sharing
 * one Redis pipeline per campaign (BatchedLookup) instead of two pipelines each. Both stores already answer for many
 * numbers at once; this only gathers the numbers. Nothing is cached: every snapshot is read after its request came in.
 */
import type { DncLookup, DncPrefixMatch } from '../../screening/dnc.js'
import type { InvalidNumberLookup, LearnedInvalid } from '../../screening/invalid-numbers.js'
import { BatchedLookup } from '../sql/batched-lookup.js'

export interface DncSnapshots {
  snapshot(campaignId: string, e164s: readonly string[]): Promise<DncLookup>
}
export interface InvalidNumberSnapshots {
  snapshot(e164s: readonly string[]): Promise<InvalidNumberLookup>
}

/** A DNC lookup that asks, for each number, the snapshot its batch read. */
class PerNumberDnc implements DncLookup {
  constructor(private readonly byNumber: ReadonlyMap<string, DncLookup>) {}
  isGlobal(e164: string): boolean {
    return this.byNumber.get(e164)?.isGlobal(e164) ?? false
  }
  isCampaign(campaignId: string, e164: string): boolean {
    return this.byNumber.get(e164)?.isCampaign(campaignId, e164) ?? false
  }
  prefixMatch(campaignId: string, e164: string): DncPrefixMatch | undefined {
    return this.byNumber.get(e164)?.prefixMatch(campaignId, e164)
  }
}

// Campaign ids and E.164 numbers never hold a NUL.
const Sep = '\u0000'

export function batchedDncSnapshots(store: DncSnapshots): DncSnapshots {
  const lookup = new BatchedLookup(async (keys: string[]) => {
    const byCampaign = new Map<string, string[]>()
    for (const k of keys) {
      const [campaignId, e164] = k.split(Sep) as [string, string]
      const list = byCampaign.get(campaignId)
      if (list) list.push(e164)
      else byCampaign.set(campaignId, [e164])
    }
    const out = new Map<string, DncLookup>()
    await Promise.all(
      [...byCampaign].map(async ([campaignId, e164s]) => {
        const snap = await store.snapshot(campaignId, e164s)
        for (const n of e164s) out.set(`${campaignId}${Sep}${n}`, snap)
      }),
    )
    return out
  })
  return {
    async snapshot(campaignId, e164s) {
      const unique = [...new Set(e164s)]
      const snaps = await Promise.all(unique.map((n) => lookup.load(`${campaignId}${Sep}${n}`)))
      return new PerNumberDnc(new Map(unique.map((n, i) => [n, snaps[i]!])))
    },
  }
}

export function batchedInvalidNumberSnapshots(store: InvalidNumberSnapshots): InvalidNumberSnapshots {
  const lookup = new BatchedLookup(async (e164s: string[]) => {
    const snap = await store.snapshot(e164s)
    return new Map(e164s.map((n) => [n, snap]))
  })
  return {
    async snapshot(e164s) {
      const unique = [...new Set(e164s)]
      const snaps = await Promise.all(unique.map((n) => lookup.load(n)))
      const byNumber = new Map(unique.map((n, i) => [n, snaps[i]!]))
      return { get: (e164: string): LearnedInvalid | undefined => byNumber.get(e164)?.get(e164) }
    },
  }
}
