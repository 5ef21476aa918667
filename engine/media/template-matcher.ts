/**
 * Spotting enrolled audio in a stream: each template (MFCC frames of one enrolled example) is aligned against the
 * incoming frames by open-begin subsequence dynamic time warping, one column per frame, so a match is reported the
 * moment the stream has played the whole phrase, wherever it started. Used for carrier announcements ("您拨打的号码是
 * 空号") in early media and for keyword spotting in recordings; no model to download, only examples to enrol.
 *
 * Local steps (1,1), (1,2), (2,1) bound the warp to speeds between half and double the template's. The cost of a
 * path is the sum of frame distances divided by its length, so long and short templates compare on one scale.
 */
import { mfcc, MFCC_COEFFS } from './mfcc.js'

export interface Template {
  /** What a match means, e.g. "announcement-empty-number" or a keyword. */
  label: string
  /** Where it came from, for logs ("zh cmn-latn-pinyin+m1"). */
  name: string
  frames: Float64Array[]
}

export interface TemplateMatch {
  label: string
  name: string
  /** Mean frame distance along the best path; lower is closer. */
  cost: number
  /** Stream frame index (exclusive) where the match ended, and where it began. */
  endFrame: number
  startFrame: number
}

/** Frames quieter than this (mean abs sample) are silence and trimmed from enrolled examples. */
const SILENT_MEAN_ABS = 60

function frameLevel(frame: Int16Array): number {
  let s = 0
  for (let i = 0; i < frame.length; i++) s += Math.abs(frame[i]!)
  return s / frame.length
}

/** MFCCs of an example with its leading and trailing silence cut. */
export function enrol(label: string, name: string, frames: Int16Array[]): Template {
  let a = 0
  let b = frames.length
  while (a < b && frameLevel(frames[a]!) < SILENT_MEAN_ABS) a++
  while (b > a && frameLevel(frames[b - 1]!) < SILENT_MEAN_ABS) b--
  if (b - a < 10) throw new Error(`template ${name}: under 200 ms of sound to enrol`)
  return { label, name, frames: frames.slice(a, b).map((f) => mfcc(f)) }
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < MFCC_COEFFS; i++) {
    const d = a[i]! - b[i]!
    s += d * d
  }
  return Math.sqrt(s)
}

/** DTW state of one template against the stream. */
class Aligner {
  // Cost and length of the best path ending at (now, j) and (now-1, j).
  private cost: Float64Array
  private len: Float64Array
  private start: Float64Array
  private prevCost: Float64Array
  private prevLen: Float64Array
  private prevStart: Float64Array
  private prev2Cost: Float64Array
  private prev2Len: Float64Array
  private prev2Start: Float64Array
  private readonly dist: Float64Array

  constructor(readonly template: Template) {
    const m = template.frames.length
    const mk = () => new Float64Array(m).fill(Number.POSITIVE_INFINITY)
    this.cost = mk()
    this.len = new Float64Array(m)
    this.start = new Float64Array(m)
    this.prevCost = mk()
    this.prevLen = new Float64Array(m)
    this.prevStart = new Float64Array(m)
    this.prev2Cost = mk()
    this.prev2Len = new Float64Array(m)
    this.prev2Start = new Float64Array(m)
    this.dist = new Float64Array(m)
  }

  /** Advance by one stream frame; returns the normalised cost of a path ending at the template's last frame. */
  step(feat: Float64Array, t: number): { cost: number; start: number } {
    const tf = this.template.frames
    const m = tf.length
    // Rotate: prev2 ← prev ← cur ← (recycled prev2).
    ;[this.prev2Cost, this.prevCost, this.cost] = [this.prevCost, this.cost, this.prev2Cost]
    ;[this.prev2Len, this.prevLen, this.len] = [this.prevLen, this.len, this.prev2Len]
    ;[this.prev2Start, this.prevStart, this.start] = [this.prevStart, this.start, this.prev2Start]
    for (let j = 0; j < m; j++) this.dist[j] = distance(feat, tf[j]!)
    for (let j = 0; j < m; j++) {
      const d = this.dist[j]!
      if (j === 0) {
        // Open begin: a path may start at any stream frame.
        this.cost[0] = d
        this.len[0] = 1
        this.start[0] = t
        continue
      }
      let best = Number.POSITIVE_INFINITY
      let bl = 0
      let bs = 0
      const consider = (c: number, l: number, s: number, add: number, addLen: number) => {
        if (!Number.isFinite(c)) return
        const nc = c + add
        const nl = l + addLen
        if (nc / nl < best / Math.max(bl, 1) || !Number.isFinite(best)) {
          best = nc
          bl = nl
          bs = s
        }
      }
      // (1,1): one stream frame, one template frame.
      consider(this.prevCost[j - 1]!, this.prevLen[j - 1]!, this.prevStart[j - 1]!, d, 1)
      // (1,2): one stream frame covers two template frames (stream faster than the template).
      if (j >= 2) consider(this.prevCost[j - 2]!, this.prevLen[j - 2]!, this.prevStart[j - 2]!, this.dist[j - 1]! + d, 2)
      // (2,1): two stream frames on one template frame (stream slower).
      consider(this.prev2Cost[j - 1]!, this.prev2Len[j - 1]!, this.prev2Start[j - 1]!, this.prevDistAt(j) + d, 2)
      this.cost[j] = best
      this.len[j] = bl
      this.start[j] = bs
    }
    const c = this.cost[m - 1]!
    return { cost: Number.isFinite(c) ? c / this.len[m - 1]! : Number.POSITIVE_INFINITY, start: this.start[m - 1]! }
  }

  // The distance of the previous stream frame to template frame j, kept from the last step.
  private lastDist: Float64Array | undefined
  private prevDistAt(j: number): number {
    return this.lastDist ? this.lastDist[j]! : Number.POSITIVE_INFINITY
  }

  endStep(): void {
    this.lastDist = Float64Array.from(this.dist)
  }
}

export interface TemplateMatcherOptions {
  /** Report a match when the normalised cost falls below this. */
  threshold: number
}

/**
 * Streams frames against every template. push() returns the matches completed at this frame: for each label, the
 * best template once its cost dips under the threshold and stops improving (the next frame is worse).
 */
export class TemplateMatcher {
  private readonly aligners: Aligner[]
  private frameIndex = 0
  private pending = new Map<string, TemplateMatch>()
  /** Labels reported and still under the threshold: one occurrence is reported once. */
  private readonly fired = new Set<string>()

  constructor(
    templates: readonly Template[],
    private readonly opts: TemplateMatcherOptions,
  ) {
    this.aligners = templates.map((t) => new Aligner(t))
  }

  push(frame: Int16Array): TemplateMatch[] {
    const feat = mfcc(frame)
    const t = this.frameIndex++
    const current = new Map<string, TemplateMatch>()
    for (const a of this.aligners) {
      const { cost, start } = a.step(feat, t)
      a.endStep()
      if (cost >= this.opts.threshold) continue
      const prev = current.get(a.template.label)
      if (!prev || cost < prev.cost) {
        current.set(a.template.label, { label: a.template.label, name: a.template.name, cost, endFrame: t + 1, startFrame: start })
      }
    }
    const done: TemplateMatch[] = []
    for (const [label, p] of this.pending) {
      const c = current.get(label)
      if (!c || c.cost >= p.cost) {
        done.push(p)
        this.pending.delete(label)
      }
    }
    for (const label of this.fired) if (!current.has(label)) this.fired.delete(label)
    for (const p of done) this.fired.add(p.label)
    for (const [label, c] of current) {
      if (this.fired.has(label)) continue
      const p = this.pending.get(label)
      if (!p || c.cost < p.cost) this.pending.set(label, c)
    }
    return done
  }

  /** End of stream: matches still improving at the last frame. */
  flush(): TemplateMatch[] {
    const done = [...this.pending.values()]
    this.pending.clear()
    return done
  }
}
