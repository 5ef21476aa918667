/**
 * QA sampling: a percentage of each agent's calls of a day, chosen reproducibly. Every call gets a rank from a hash of
 * (seed, call id); each agent's calls are taken lowest rank first. The same seed over the same calls picks the same
 * calls in any order the database returns them, and a call added later does not reshuffle the others' ranks.
 * An agent with any call gets at least one sampled (ceil), so a quiet agent is not left unreviewed.
 */
import { createHash, randomBytes } from 'node:crypto'

export interface SampleCandidate {
  recordingId: string
  agentId: string | null
}

export function sampleRank(seed: string, recordingId: string): string {
  return createHash('sha256').update(`${seed}\u0000${recordingId}`, 'utf8').digest('hex')
}

/** How many of n calls a percentage takes: ceil, so 10% of 3 calls is 1 and any call at all gives at least one. */
export function sampleSize(n: number, percent: number): number {
  return Math.min(n, Math.ceil((n * percent) / 100 - 1e-9))
}

export function pickSample(candidates: readonly SampleCandidate[], percent: number, seed: string): SampleCandidate[] {
  const byAgent = new Map<string | null, Array<{ c: SampleCandidate; rank: string }>>()
  for (const c of candidates) {
    const list = byAgent.get(c.agentId) ?? []
    list.push({ c, rank: sampleRank(seed, c.recordingId) })
    byAgent.set(c.agentId, list)
  }
  const picked: SampleCandidate[] = []
  for (const list of byAgent.values()) {
    list.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    for (const x of list.slice(0, sampleSize(list.length, percent))) picked.push(x.c)
  }
  return picked
}

/** A seed for a run that named none; stored with the run so it can be repeated. */
export function newSampleSeed(): string {
  return randomBytes(12).toString('base64url')
}
