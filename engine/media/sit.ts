/**
 * Special Information Tones: three steady tones in a row, each low or high in frequency and short (274 ms) or long
 * (380 ms), coding why a call failed (Telcordia GR-1162 / the Bell System intercept codes; ITU-T E.180 gives the
 * looser 950/1400/1800 Hz ±50, 330±70 ms, which these bands contain). Tolerances follow the published receiver
 * tables: frequencies ±4.5 %, short 220-320 ms, long 340-460 ms.
 */
import type { ToneSegment } from './tone-tracker.js'

export const SIT_FREQS = {
  first: { low: 913.8, high: 985.2 },
  second: { low: 1370.6, high: 1428.5 },
  third: 1776.7,
} as const

export const SitCodes = {
  /** Intercept: vacant number, changed number. */
  IC: 'intercept',
  /** Vacant code: the dialed code does not exist. */
  VC: 'vacant-code',
  /** No circuit (trunk blockage). */
  NC: 'no-circuit',
  /** Reorder (equipment irregularity). */
  RO: 'reorder',
  RESERVED: 'reserved',
} as const
export type SitCode = keyof typeof SitCodes

/** Code by the pattern "<1st freq><2nd freq>/<durations>", L/H for frequency and S/L for length. */
const PATTERNS: Record<string, SitCode> = {
  'LL/SSL': 'IC',
  'HL/LSL': 'VC',
  'HH/LLL': 'NC',
  'LL/LLL': 'NC',
  'LH/SLL': 'RO',
  'HL/SLL': 'RO',
  'LH/LSS': 'RESERVED',
  'HH/SSL': 'RESERVED',
}

export interface SitResult {
  code: SitCode
  meaning: (typeof SitCodes)[SitCode]
  pattern: string
  /** Stream time (ms) when the third tone ended: when we knew. */
  at: number
}

const within = (f: number, nominal: number, tol = 0.045) => Math.abs(f - nominal) <= nominal * tol

function band(f: number, lo: number, hi: number): 'L' | 'H' | undefined {
  if (!within(f, lo) && !within(f, hi)) return undefined
  return Math.abs(f - lo) <= Math.abs(f - hi) ? 'L' : 'H'
}

function length(ms: number): 'S' | 'L' | undefined {
  // Frame quantisation loses up to one 20 ms frame at each edge, so the measured bands start 40 ms lower.
  if (ms >= 180 && ms < 330) return 'S'
  if (ms >= 330 && ms <= 480) return 'L'
  return undefined
}

/** Longest silence or glitch allowed between two tones of one SIT. */
export const SIT_MAX_GAP_MS = 60

/** Is `segs` (the last three tone segments, oldest first) a SIT? */
export function matchSit(segs: readonly ToneSegment[]): SitResult | undefined {
  if (segs.length < 3) return undefined
  const [a, b, c] = segs.slice(-3) as [ToneSegment, ToneSegment, ToneSegment]
  if (a.kind !== 'single' || b.kind !== 'single' || c.kind !== 'single') return undefined
  if (b.startMs - a.endMs > SIT_MAX_GAP_MS || c.startMs - b.endMs > SIT_MAX_GAP_MS) return undefined
  const f1 = band(a.freqHz, SIT_FREQS.first.low, SIT_FREQS.first.high)
  const f2 = band(b.freqHz, SIT_FREQS.second.low, SIT_FREQS.second.high)
  if (!f1 || !f2 || !within(c.freqHz, SIT_FREQS.third)) return undefined
  const d1 = length(a.durationMs)
  const d2 = length(b.durationMs)
  const d3 = length(c.durationMs)
  if (!d1 || !d2 || !d3) return undefined
  const pattern = `${f1}${f2}/${d1}${d2}${d3}`
  const code = PATTERNS[pattern] ?? 'RESERVED'
  return { code, meaning: SitCodes[code], pattern, at: c.endMs }
}
