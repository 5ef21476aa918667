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
import { EnergyVad, frameDbfs } from './vad.js'
import { FRAME_SAMPLES } from './frames.js'

/** Raw per-frame measurements of an enrolled example; normalised by the matcher that uses it. */
export interface Template {
  /** What a match means, e.g. "announcement-empty-number" or a keyword. */
  label: string
  /** Where it came from, for logs ("zh cmn-latn-pinyin+m1"). */
  name: string
  mfcc: Float64Array[]
  dbfs: number[]
  speech: boolean[]
  /** Feature hop: 20 ms (one feature per frame) or 10 ms (a second, overlapping window between frames). */
  hopMs: HopMs
}

export type HopMs = 10 | 20
const HALF = FRAME_SAMPLES / 2

/** The 20 ms window straddling two frames: the second half of one and the first half of the next. */
function straddle(prev: Int16Array | undefined, cur: Int16Array): Int16Array {
  const w = new Int16Array(FRAME_SAMPLES)
  if (prev) w.set(prev.subarray(HALF), 0)
  w.set(cur.subarray(0, HALF), HALF)
  return w
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

/**
 * MFCCs, levels and speech flags of an example. Give the whole recording and the frame range of the phrase: the
 * speech detector then sees the same lead-in (line noise, ringback) as it will on a live stream, so the speech
 * flags of template and stream agree.
 */
export function enrol(label: string, name: string, frames: Int16Array[], from?: number, to?: number, hopMs: HopMs = 20): Template {
  const vad = new EnergyVad(MATCHER_VAD)
  const flags = frames.map((f) => vad.isSpeech(f))
  // Without a range, the phrase is the first to the last speech frame: silence at the ends of a template would
  // match the silence of any stream.
  from ??= Math.max(0, flags.indexOf(true))
  to ??= flags.lastIndexOf(true) + 1
  if (flags.slice(from, to).filter(Boolean).length < 10) throw new Error(`template ${name}: under 200 ms of speech to enrol`)
  const t: Template = { label, name, mfcc: [], dbfs: [], speech: [], hopMs }
  for (let k = from; k < to; k++) {
    const f = frames[k]!
    // The same windows, in the same order, as TemplateMatcher.push() takes from a stream.
    if (hopMs === 10) {
      const w = straddle(frames[k - 1], f)
      t.mfcc.push(mfcc(w))
      t.dbfs.push(frameDbfs(w))
      t.speech.push(flags[k]! || (flags[k - 1] ?? false))
    }
    t.mfcc.push(mfcc(f))
    t.dbfs.push(frameDbfs(f))
    t.speech.push(flags[k]!)
  }
  return t
}

/** Quieter speech counts here than in AMD: a syllable lost to "silence" costs a template match more than a late AMD call. */
const MATCHER_VAD = { marginDb: 6 }

export const FEATURE_DIMS = MFCC_COEFFS + 1

/**
 * Turns raw MFCCs into matching features: each coefficient minus a running mean over speech frames (cepstral mean
 * normalisation, which removes most of the line's and the speaker's spectral tilt) and divided by the template
 * set's spread, plus a level dimension. Non-speech frames become one fixed "silence" point, so silence matches
 * silence and never speech. Templates and the stream go through the same normaliser, so they stay comparable.
 */
class FeatureNormalizer {
  private readonly mean: Float64Array
  private speechDb = -20

  /** Adaptation rates per feature, scaled so that the time constants stay the same at a 10 ms hop. */
  private readonly meanRate: number
  private readonly levelRate: number

  constructor(
    init: Float64Array,
    private readonly std: Float64Array,
    hopMs: HopMs,
  ) {
    this.mean = Float64Array.from(init)
    this.meanRate = (0.02 * hopMs) / 20
    this.levelRate = (0.05 * hopMs) / 20
  }

  next(raw: Float64Array, db: number, speech: boolean): Float64Array {
    const out = new Float64Array(FEATURE_DIMS)
    for (let i = 0; i < MFCC_COEFFS; i++) {
      if (speech) this.mean[i] = this.mean[i]! + this.meanRate * (raw[i]! - this.mean[i]!)
      out[i] = ((raw[i]! - this.mean[i]!) / this.std[i]!) * (speech ? 1 : 0.5)
    }
    if (!speech) {
      out[MFCC_COEFFS] = -2
      return out
    }
    this.speechDb += this.levelRate * (db - this.speechDb)
    out[MFCC_COEFFS] = Math.max(-2, Math.min(1, (db - this.speechDb) / 6))
    return out
  }
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0
  for (let i = 0; i < FEATURE_DIMS; i++) {
    const d = a[i]! - b[i]!
    s += d * d
  }
  return Math.sqrt(s)
}

/** DTW state of one template against the stream: costs and path lengths of the last two stream frames. */
class Aligner {
  private cost: Float64Array
  private len: Float64Array
  private start: Float64Array
  private prevCost: Float64Array
  private prevLen: Float64Array
  private prevStart: Float64Array
  private prev2Cost: Float64Array
  private prev2Len: Float64Array
  private prev2Start: Float64Array
  private dist: Float64Array
  private prevDist: Float64Array

  constructor(
    readonly template: Template,
    readonly feats: Float64Array[],
  ) {
    const m = feats.length
    const inf = () => new Float64Array(m).fill(Number.POSITIVE_INFINITY)
    this.cost = inf()
    this.prevCost = inf()
    this.prev2Cost = inf()
    this.len = new Float64Array(m)
    this.prevLen = new Float64Array(m)
    this.prev2Len = new Float64Array(m)
    this.start = new Float64Array(m)
    this.prevStart = new Float64Array(m)
    this.prev2Start = new Float64Array(m)
    this.dist = new Float64Array(m)
    this.prevDist = new Float64Array(m).fill(Number.POSITIVE_INFINITY)
  }

  /** Advance by one stream frame; returns the normalised cost of the best path ending at the template's end. */
  step(feat: Float64Array, t: number): { cost: number; start: number } {
    const tf = this.feats
    const m = tf.length
    ;[this.prev2Cost, this.prevCost, this.cost] = [this.prevCost, this.cost, this.prev2Cost]
    ;[this.prev2Len, this.prevLen, this.len] = [this.prevLen, this.len, this.prev2Len]
    ;[this.prev2Start, this.prevStart, this.start] = [this.prevStart, this.start, this.prev2Start]
    ;[this.prevDist, this.dist] = [this.dist, this.prevDist]
    const dist = this.dist
    const pc = this.prevCost
    const pl = this.prevLen
    const ps = this.prevStart
    const p2c = this.prev2Cost
    const p2l = this.prev2Len
    const p2s = this.prev2Start
    const pd = this.prevDist
    for (let j = 0; j < m; j++) dist[j] = distance(feat, tf[j]!)
    // Open begin: a path may start at any stream frame.
    this.cost[0] = dist[0]!
    this.len[0] = 1
    this.start[0] = t
    for (let j = 1; j < m; j++) {
      const d = dist[j]!
      // (1,1): one stream frame on the next template frame.
      let bc = pc[j - 1]! + d
      let bl = pl[j - 1]! + 1
      let bs = ps[j - 1]!
      // (1,2): the stream runs faster than the template; one frame covers two template frames.
      if (j >= 2) {
        const c = pc[j - 2]! + dist[j - 1]! + d
        const l = pl[j - 2]! + 2
        if (c * bl < bc * l || !Number.isFinite(bc)) {
          bc = c
          bl = l
          bs = ps[j - 2]!
        }
      }
      // (2,1): the stream runs slower; two stream frames on one template frame.
      {
        const c = p2c[j - 1]! + pd[j]! + d
        const l = p2l[j - 1]! + 2
        if (c * bl < bc * l || !Number.isFinite(bc)) {
          bc = c
          bl = l
          bs = p2s[j - 1]!
        }
      }
      this.cost[j] = bc
      this.len[j] = bl
      this.start[j] = bs
    }
    const c = this.cost[m - 1]!
    return { cost: Number.isFinite(c) ? c / this.len[m - 1]! : Number.POSITIVE_INFINITY, start: this.start[m - 1]! }
  }
}

export interface TemplateMatcherOptions {
  /** Report a match when the normalised cost falls below this. */
  threshold: number
  /** Per-label thresholds (calibrated: labels differ in how well they fit other speech); `threshold` for the rest. */
  thresholds?: Readonly<Record<string, number>>
  /**
   * A label's cost is the mean of its `topK` best templates' costs (default 1: the best alone). With many enrolled
   * examples per label, one example that happens to fit other speech no longer fires on its own, while the label's
   * true occurrences fit several examples at once.
   */
  topK?: number
  /** Every template's cost at every frame, for tuning thresholds (bench). */
  trace?: (template: Template, cost: number, frame: number) => void
  /** Every label's (top-k) cost at every frame. */
  traceLabel?: (label: string, cost: number, frame: number) => void
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

  private readonly vad = new EnergyVad(MATCHER_VAD)
  private readonly norm: FeatureNormalizer
  private readonly topK: number
  private readonly init: Float64Array
  private readonly std: Float64Array
  private readonly hopMs: HopMs
  private prevFrame: Int16Array | undefined
  private prevSpeech = false

  constructor(
    templates: readonly Template[],
    private readonly opts: TemplateMatcherOptions,
  ) {
    if (templates.length === 0) throw new Error('TemplateMatcher needs at least one template')
    this.topK = opts.topK ?? 1
    if (!Number.isInteger(this.topK) || this.topK < 1) throw new RangeError(`topK must be a positive integer, got ${opts.topK}`)
    this.hopMs = templates[0]!.hopMs
    const odd = templates.find((t) => t.hopMs !== this.hopMs)
    if (odd) throw new Error(`template ${odd.name} has a ${odd.hopMs} ms hop, ${templates[0]!.name} ${this.hopMs} ms: enrol all alike`)
    // The spread and starting mean of each coefficient over the templates' speech frames.
    const sum = new Float64Array(MFCC_COEFFS)
    const sq = new Float64Array(MFCC_COEFFS)
    let n = 0
    for (const t of templates) {
      t.mfcc.forEach((c, k) => {
        if (!t.speech[k]) return
        n++
        for (let i = 0; i < MFCC_COEFFS; i++) {
          sum[i] = sum[i]! + c[i]!
          sq[i] = sq[i]! + c[i]! * c[i]!
        }
      })
    }
    this.init = sum.map((s) => s / n)
    this.std = sq.map((q, i) => Math.sqrt(Math.max(q / n - this.init[i]! ** 2, 1e-6)))
    this.aligners = templates.map((t) => {
      const norm = new FeatureNormalizer(this.init, this.std, this.hopMs)
      return new Aligner(t, t.mfcc.map((c, k) => norm.next(c, t.dbfs[k]!, t.speech[k]!)))
    })
    this.norm = new FeatureNormalizer(this.init, this.std, this.hopMs)
  }

  /** One 20 ms frame of the stream; matches are reported in 20 ms frame indices whatever the hop. */
  push(frame: Int16Array): TemplateMatch[] {
    const speech = this.vad.isSpeech(frame)
    const done: TemplateMatch[] = []
    if (this.hopMs === 10) {
      const w = straddle(this.prevFrame, frame)
      done.push(...this.step(this.norm.next(mfcc(w), frameDbfs(w), speech || this.prevSpeech)))
    }
    done.push(...this.step(this.norm.next(mfcc(frame), frameDbfs(frame), speech)))
    this.prevFrame = frame
    this.prevSpeech = speech
    return done.map((m) => this.inFrames(m))
  }

  private inFrames(m: TemplateMatch): TemplateMatch {
    if (this.hopMs === 20) return m
    return { ...m, startFrame: Math.floor(m.startFrame / 2), endFrame: Math.ceil(m.endFrame / 2) }
  }

  private step(feat: Float64Array): TemplateMatch[] {
    const t = this.frameIndex++
    const byLabel = new Map<string, Array<{ cost: number; start: number; name: string }>>()
    for (const a of this.aligners) {
      const { cost, start } = a.step(feat, t)
      this.opts.trace?.(a.template, cost, t)
      const l = byLabel.get(a.template.label)
      if (l) l.push({ cost, start, name: a.template.name })
      else byLabel.set(a.template.label, [{ cost, start, name: a.template.name }])
    }
    const current = new Map<string, TemplateMatch>()
    for (const [label, list] of byLabel) {
      list.sort((x, y) => x.cost - y.cost)
      const k = Math.min(this.topK, list.length)
      let cost = 0
      for (let i = 0; i < k; i++) cost += list[i]!.cost
      cost /= k
      this.opts.traceLabel?.(label, cost, t)
      if (!(cost < (this.opts.thresholds?.[label] ?? this.opts.threshold))) continue
      const best = list[0]!
      current.set(label, { label, name: best.name, cost, endFrame: t + 1, startFrame: best.start })
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
    return done.map((m) => this.inFrames(m))
  }
}
