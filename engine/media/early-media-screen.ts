/**
 * Listens to early media (and the first seconds after a carrier "answers" with a recording) for the evidence that
 * a number is dead or unreachable: a SIT (coded, certain) or an enrolled carrier announcement (template match).
 * Ringback and speech never produce an event. The first event is the one the engine acts on (hang up, tell
 * screening); later ones are reported too, for the CDR.
 */
import { CallProgressDetector } from './call-progress.js'
import { FRAME_MS } from './frames.js'
import type { InvalidNumberEvent, InvalidNumberReason } from './invalid-number.js'
import { InvalidNumberReasons } from './invalid-number.js'
import type { SitCode } from './sit.js'
import { TemplateMatcher, type Template } from './template-matcher.js'

const SIT_REASON: Record<SitCode, InvalidNumberReason> = {
  IC: 'sit-vacant',
  VC: 'sit-vacant-code',
  NC: 'sit-no-circuit',
  RO: 'sit-reorder',
  RESERVED: 'sit-reserved',
}

/**
 * Normalised DTW cost under which an announcement template matches: midway between the worst true match (1.69) and
 * the best false one (1.87) on the corpus "tune" split.
 */
export const DEFAULT_ANNOUNCEMENT_THRESHOLD = 1.78

export interface EarlyMediaScreenOptions {
  /** Enrolled announcements; each template's label must be an InvalidNumberReason. */
  templates?: readonly Template[]
  threshold?: number
  startedAt?: number
  number?: string
  callId?: string
  onInvalidNumber?: (e: InvalidNumberEvent) => void
}

export class EarlyMediaScreen {
  private readonly tones = new CallProgressDetector()
  private readonly matcher: TemplateMatcher | undefined
  private frames = 0
  readonly events: InvalidNumberEvent[] = []

  constructor(private readonly opts: EarlyMediaScreenOptions = {}) {
    for (const t of opts.templates ?? []) {
      if (!(InvalidNumberReasons as readonly string[]).includes(t.label)) {
        throw new Error(`announcement template ${t.name}: label ${t.label} is not an invalid-number reason`)
      }
    }
    this.matcher = opts.templates?.length
      ? new TemplateMatcher(opts.templates, { threshold: opts.threshold ?? DEFAULT_ANNOUNCEMENT_THRESHOLD })
      : undefined
  }

  push(frame: Int16Array): InvalidNumberEvent[] {
    this.frames++
    const out: InvalidNumberEvent[] = []
    for (const ev of this.tones.push(frame)) {
      if (ev.type === 'sit') {
        out.push(this.event(SIT_REASON[ev.sit.code], ev.at, 1, `SIT ${ev.sit.code} ${ev.sit.pattern}`))
      }
    }
    for (const m of this.matcher?.push(frame) ?? []) {
      const confidence = Math.max(0, Math.min(1, 1 - m.cost / (2 * (this.opts.threshold ?? DEFAULT_ANNOUNCEMENT_THRESHOLD))))
      out.push(this.event(m.label as InvalidNumberReason, m.endFrame * FRAME_MS, confidence, `template ${m.name} cost ${m.cost.toFixed(2)}`))
    }
    for (const e of out) {
      this.events.push(e)
      this.opts.onInvalidNumber?.(e)
    }
    return out
  }

  private event(reason: InvalidNumberReason, streamMs: number, confidence: number, detail: string): InvalidNumberEvent {
    return {
      reason,
      at: (this.opts.startedAt ?? 0) + streamMs,
      confidence,
      detail,
      ...(this.opts.number !== undefined ? { number: this.opts.number } : {}),
      ...(this.opts.callId !== undefined ? { callId: this.opts.callId } : {}),
    }
  }
}
