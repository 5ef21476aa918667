import { cdf, quantile, type Distribution } from '../random/distribution.js'
import { normalCdf } from '../random/special.js'
import type { PacingModel } from './model.js'
import type { PacingSnapshot } from './policy.js'

/**
 * The lookahead of pacing-anchors §4.3 B4, on a 1 s grid over the next ring-timeout + AMD seconds:
 * - supply(t): agents free by t = ready now + for each busy agent P(free by t | time already in talk / wrap-up);
 * - demand(t): answers needing an agent by t from calls in flight, each weighted by its chance given how long it
 *   has rung (Bayes on the outcome mix and ring-time distributions) or how long AMD has been running;
 * - for the k-th new call, the chance that its live answer finds no agent within the drop threshold, with a normal
 *   approximation of (supply - demand ahead of it) at each instant it may be answered.
 * Distribution look-ups go through tables rebuilt from the model (cheap enough to rebuild every few seconds).
 */

const QUAD = 5
const STEP = 0.25

interface Table {
  step: number
  values: Float64Array
}

function table(f: (x: number) => number, maxX: number, step: number): Table {
  const n = Math.ceil(maxX / step) + 1
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) values[i] = f(i * step)
  return { step, values }
}

function at(t: Table, x: number, fallback?: (x: number) => number): number {
  if (x <= 0) return t.values[0]!
  const i = x / t.step
  const k = Math.floor(i)
  if (k >= t.values.length - 1) return fallback ? fallback(x) : t.values[t.values.length - 1]!
  const f = i - k
  return t.values[k]! * (1 - f) + t.values[k + 1]! * f
}

function quadrature(d: Distribution): number[] {
  const pts: number[] = []
  for (let i = 0; i < QUAD; i++) pts.push(quantile(d, (i + 0.5) / QUAD))
  return pts
}

export interface LookaheadTables {
  builtAt: number
  /** P(ring <= x) truncated at the timeout, human / machine. */
  fh: Table
  fm: Table
  /** P(ring + AMD delay <= x, ring <= timeout): when a dial needs an agent, human / machine. */
  dh: Table
  dm: Table
  amdH: Table
  amdM: Table
  /** P(talk <= x), P(talk + wrap <= x), P(wrap <= x). */
  talk: Table
  talkWrap: Table
  wrap: Table
  talkDist: Distribution
  wrapDist: Distribution
  wrapPts: number[]
  horizonS: number
}

export function buildTables(m: PacingModel, now: number): LookaheadTables {
  const to = m.ringTimeoutS
  const amdOn = m.amd.enabled
  const ah = amdOn ? quadrature(m.amd.humanDelay) : [0]
  const am = amdOn ? quadrature(m.amd.machineDelay) : [0]
  const ringH = (x: number): number => cdf(m.ringTime.human, Math.min(x, to))
  const ringM = (x: number): number => cdf(m.ringTime.machine, Math.min(x, to))
  const maxAmd = Math.max(...ah, ...am) * 1.5 + 1
  const horizonS = Math.ceil(to + maxAmd + m.dropAfterS + 1)
  const wrapPts = quadrature(m.wrap)
  const talkMax = 1200
  return {
    builtAt: now,
    fh: table(ringH, horizonS + 5, STEP),
    fm: table(ringM, horizonS + 5, STEP),
    dh: table((x) => ah.reduce((s, a) => s + ringH(x - a), 0) / ah.length, horizonS + 5, STEP),
    dm: table((x) => am.reduce((s, a) => s + ringM(x - a), 0) / am.length, horizonS + 5, STEP),
    amdH: table((x) => (amdOn ? cdf(m.amd.humanDelay, x) : 1), 30, 0.05),
    amdM: table((x) => (amdOn ? cdf(m.amd.machineDelay, x) : 1), 30, 0.05),
    talk: table((x) => cdf(m.talk, x), talkMax, 2),
    talkWrap: table((x) => wrapPts.reduce((s, w) => s + cdf(m.talk, x - w), 0) / wrapPts.length, talkMax, 2),
    wrap: table((x) => cdf(m.wrap, x), 600, 0.5),
    talkDist: m.talk,
    wrapDist: m.wrap,
    wrapPts,
    horizonS,
  }
}

export interface LookaheadState {
  /** Grid times t_j = j s, j = 1..J. */
  grid: number[]
  supMean: Float64Array
  supVar: Float64Array
  demMean: Float64Array
  demVar: Float64Array
  /** Chance a new dial needs an agent by t_j (any kind), and the arrival distribution of a new live answer. */
  newDemand: Float64Array
  newLivePdf: Float64Array
  /** Chance a new dial becomes a live answer that reaches the dialer's agent queue. */
  liveChance: number
}

/** Supply, demand and new-call arrival profiles for the snapshot. `exactTalk` uses agents' remainingTalkMs. */
export function lookahead(s: PacingSnapshot, tb: LookaheadTables, exactTalk: boolean): LookaheadState {
  const m = s.model
  const J = tb.horizonS
  // 1 s steps while new answers are dense (the first ~16 s), then 2 s.
  const grid: number[] = []
  for (let t = 1; t <= J; t += t < 16 ? 1 : 2) grid.push(t)
  const G = grid.length
  const supMean = new Float64Array(G)
  const supVar = new Float64Array(G)
  const demMean = new Float64Array(G)
  const demVar = new Float64Array(G)
  const drop = m.dropAfterS
  // Inlined loops (no closures): this runs every second for every agent and call.
  const addP = (mean: Float64Array, vr: Float64Array, j: number, p: number): void => {
    const q = p < 0 ? 0 : p > 1 ? 1 : p
    mean[j]! += q
    vr[j]! += q * (1 - q)
  }
  let ready = 0
  for (const a of s.agents) {
    const el = Math.max(0, (s.now - a.sinceMs) / 1000)
    if (a.state === 'ready') {
      ready++
    } else if (a.state === 'on-call') {
      if (exactTalk && a.remainingTalkMs !== undefined) {
        const r = a.remainingTalkMs / 1000
        for (let j = 0; j < G; j++) addP(supMean, supVar, j, at(tb.wrap, grid[j]! + drop - r))
      } else {
        const ft = at(tb.talk, el, (x) => cdf(tb.talkDist, x))
        const surv = 1 - ft
        if (surv < 1e-9) {
          for (let j = 0; j < G; j++) addP(supMean, supVar, j, at(tb.wrap, grid[j]! + drop))
        } else {
          for (let j = 0; j < G; j++) {
            addP(supMean, supVar, j, (at(tb.talkWrap, el + grid[j]! + drop, (x) => talkWrapDirect(tb, x)) - ft) / surv)
          }
        }
      }
    } else if (a.state === 'wrap-up') {
      const fw = at(tb.wrap, el)
      const surv = 1 - fw
      for (let j = 0; j < G; j++) addP(supMean, supVar, j, surv < 1e-9 ? 1 : (at(tb.wrap, el + grid[j]! + drop) - fw) / surv)
    }
  }
  if (ready > 0) for (let j = 0; j < G; j++) supMean[j]! += ready
  const fp = m.amd.enabled ? m.amd.falsePositive : 0
  const fn = m.amd.enabled ? m.amd.falseNegative : 1
  const o = m.outcomes
  const wh = o.human * (1 - fp)
  const wm = o.machine * fn
  // Ringing calls are grouped by elapsed time (dials happen on decision ticks, so many share it).
  const ringing = new Map<number, number>()
  for (const c of s.calls) {
    if (c.phase === 'ringing') {
      const key = Math.round((s.now - c.dialedAt) / 250)
      ringing.set(key, (ringing.get(key) ?? 0) + 1)
    } else if (c.phase === 'waiting') {
      for (let j = 0; j < G; j++) demMean[j]! += 1
    } else if (c.phase === 'amd') {
      const ans = c.answeredAt ?? s.now
      const ring = Math.max(0, (ans - c.dialedAt) / 1000)
      const x = Math.max(0, (s.now - ans) / 1000)
      // Which kind of answer is this, given when it came and that AMD has not decided yet.
      const denH = Math.max(1e-9, at(tb.fh, ring + 0.5) - at(tb.fh, ring - 0.5))
      const denM = Math.max(1e-9, at(tb.fm, ring + 0.5) - at(tb.fm, ring - 0.5))
      const sh = 1 - at(tb.amdH, x)
      const sm = 1 - at(tb.amdM, x)
      const ph = o.human * denH * sh
      const pm = o.machine * denM * sm
      const tot = ph + pm
      if (tot <= 0) continue
      const fh0 = at(tb.amdH, x)
      const fm0 = at(tb.amdM, x)
      for (let j = 0; j < G; j++) {
        const t = grid[j]!
        const ch = sh > 1e-9 ? (at(tb.amdH, x + t) - fh0) / sh : 1
        const cm = sm > 1e-9 ? (at(tb.amdM, x + t) - fm0) / sm : 1
        addP(demMean, demVar, j, (ph * (1 - fp) * ch + pm * fn * cm) / tot)
      }
    }
  }
  for (const [key, count] of ringing) {
    const e = Math.max(0, key / 4)
    const feh = at(tb.fh, e)
    const fem = at(tb.fm, e)
    const total =
      o.human * (1 - feh) +
      o.machine * (1 - fem) +
      (e < 2 * m.failTimeS.busy ? o.busy : 0) +
      (e < 2 * m.failTimeS.invalid ? o.invalid : 0) +
      (e < m.ringTimeoutS ? o.noAnswer : 0)
    if (total <= 1e-12) continue
    for (let j = 0; j < G; j++) {
      const t = grid[j]!
      let p = (wh * Math.max(0, at(tb.dh, e + t) - feh) + wm * Math.max(0, at(tb.dm, e + t) - fem)) / total
      p = p < 0 ? 0 : p > 1 ? 1 : p
      demMean[j]! += count * p
      demVar[j]! += count * p * (1 - p)
    }
  }
  const newDemand = new Float64Array(G)
  const newLivePdf = new Float64Array(G)
  const liveTotal = at(tb.dh, J + 10)
  let prev = 0
  for (let j = 0; j < G; j++) {
    const t = grid[j]!
    newDemand[j] = wh * at(tb.dh, t) + wm * at(tb.dm, t)
    const cur = at(tb.dh, t)
    newLivePdf[j] = liveTotal > 0 ? (cur - prev) / liveTotal : 0
    prev = cur
  }
  return { grid, supMean, supVar, demMean, demVar, newDemand, newLivePdf, liveChance: wh * liveTotal }
}

function talkWrapDirect(tb: LookaheadTables, x: number): number {
  return tb.wrapPts.reduce((s, w) => s + cdf(tb.talkDist, x - w), 0) / tb.wrapPts.length
}

/**
 * Chance that the live answer of the (k+1)-th call placed now finds no agent within the drop threshold, given k
 * other new calls placed with it. With `knockOn`, an answer that is served but leaves the queue short later (it took
 * an agent a later answer needed) counts too: the risk at each instant is the worst risk from then to the horizon.
 */
export function marginalDropChance(la: LookaheadState, k: number, knockOn = false): number {
  const G = la.grid.length
  const risk = new Float64Array(G)
  for (let j = 0; j < G; j++) {
    const g = la.newDemand[j]!
    const mu = la.supMean[j]! - la.demMean[j]! - k * g
    const v = la.supVar[j]! + la.demVar[j]! + k * g * (1 - g)
    const sd = Math.sqrt(Math.max(v, 0.09))
    risk[j] = normalCdf((0.5 - mu) / sd)
  }
  if (knockOn) for (let j = G - 2; j >= 0; j--) risk[j] = Math.max(risk[j]!, risk[j + 1]!)
  let p = 0
  for (let j = 0; j < G; j++) p += la.newLivePdf[j]! * risk[j]!
  return Math.min(1, Math.max(0, p))
}
