/**
 * Call-progress tones in one stream: SIT, ringback and answering-machine beeps, as events in stream time.
 *
 * A beep is an isolated single tone: 120 ms to 3 s long, with no other tone within SIT_MAX_GAP_MS on either side
 * (so the three tones of a SIT never count as beeps) and not at a ringback frequency (440+480 Hz, 400+450 Hz, or
 * the single 425/450 Hz of European and Chinese ringback). The cost: a voicemail beep at exactly 425 or 450 Hz is
 * missed (the greeting's end of speech still gives machine-end-of-greeting).
 */
import { FRAME_MS } from './frames.js'
import { matchSit, SIT_MAX_GAP_MS, type SitResult } from './sit.js'
import { ToneTracker, type ToneSegment, type ToneTrackerOptions } from './tone-tracker.js'

export const SINGLE_RINGBACK_HZ = [425, 450] as const

export type CallProgressEvent =
  | { type: 'beep'; at: number; freqHz: number; durationMs: number }
  | { type: 'ringback'; at: number; variant: string; durationMs: number }
  | { type: 'sit'; at: number; sit: SitResult }

export interface CallProgressOptions extends ToneTrackerOptions {
  minBeepMs?: number
  maxBeepMs?: number
}

export function isRingbackSegment(s: ToneSegment): string | undefined {
  if (s.kind === 'dual') return s.dual?.startsWith('ringback') ? s.dual : undefined
  for (const f of SINGLE_RINGBACK_HZ) if (Math.abs(s.freqHz - f) <= 15) return `ringback-${f}`
  return undefined
}

export class CallProgressDetector {
  private readonly tracker: ToneTracker
  private readonly minBeepMs: number
  private readonly maxBeepMs: number
  private readonly recent: ToneSegment[] = []
  /** A beep candidate waits until SIT_MAX_GAP_MS of no tone proves it stands alone. */
  private candidate: ToneSegment | undefined
  private frameIndex = 0

  constructor(opts: CallProgressOptions = {}) {
    this.tracker = new ToneTracker(opts)
    this.minBeepMs = opts.minBeepMs ?? 120
    this.maxBeepMs = opts.maxBeepMs ?? 3000
  }

  push(frame: Int16Array): CallProgressEvent[] {
    this.frameIndex++
    const seg = this.tracker.push(frame)
    return this.after(seg, this.frameIndex * FRAME_MS)
  }

  flush(): CallProgressEvent[] {
    const seg = this.tracker.flush()
    const events = this.after(seg, this.frameIndex * FRAME_MS)
    if (this.candidate) events.push(this.beep(this.candidate))
    this.candidate = undefined
    return events
  }

  private after(seg: ToneSegment | undefined, nowMs: number): CallProgressEvent[] {
    const events: CallProgressEvent[] = []
    if (seg) {
      const prev = this.recent[this.recent.length - 1]
      const adjacent = prev !== undefined && seg.startMs - prev.endMs <= SIT_MAX_GAP_MS
      if (this.candidate && adjacent) this.candidate = undefined
      this.recent.push(seg)
      if (this.recent.length > 3) this.recent.shift()
      const ring = isRingbackSegment(seg)
      const sit = matchSit(this.recent)
      if (sit) {
        events.push({ type: 'sit', at: seg.endMs, sit })
        this.recent.length = 0
      } else if (ring) {
        events.push({ type: 'ringback', at: seg.endMs, variant: ring, durationMs: seg.durationMs })
      } else if (
        seg.kind === 'single' &&
        !adjacent &&
        seg.durationMs >= this.minBeepMs &&
        seg.durationMs <= this.maxBeepMs
      ) {
        this.candidate = seg
      }
    }
    // Judge the candidate only once a following tone could no longer be part of the same sequence.
    const c = this.candidate
    const active = this.tracker.activeStartMs
    if (c && active !== undefined && active > c.startMs && active - c.endMs <= SIT_MAX_GAP_MS) {
      this.candidate = undefined
    } else if (c && c !== seg && nowMs - c.endMs > SIT_MAX_GAP_MS) {
      this.candidate = undefined
      events.push(this.beep(c))
    }
    return events
  }

  private beep(c: ToneSegment): CallProgressEvent {
    return { type: 'beep', at: c.endMs, freqHz: c.freqHz, durationMs: c.durationMs }
  }
}
