/**
 * Answering-machine detection as a streaming state machine over 20 ms frames, from the moment of answer.
 *
 * The signal is the shape of the first utterance. A person answers with a short greeting ("喂?", "Hello?", "Hi, this
 * is Mark.") and then waits for us; a machine talks on ("you have reached ... please leave a message after the
 * tone") and ends in a beep or silence. So:
 *   - no speech within `initialSilenceMs`                                  → no-speech
 *   - a greeting of at most `maxHumanGreetingMs`, then `afterGreetingSilenceMs` of silence → human
 *   - a greeting still going after `maxHumanGreetingMs`                     → machine (the decision streams out at
 *     that moment; the greeting's end comes later as its own event)
 *   - after machine: `endOfGreetingSilenceMs` of silence                   → machine-end-of-greeting
 *   - a beep at any time (CallProgressDetector, which never takes ringback for one) → beep (leave the message now)
 *   - nothing decided within `totalAnalysisMs`                             → timeout
 * Pauses shorter than `afterGreetingSilenceMs` inside a greeting belong to it (between words and sentences).
 *
 * Pure: no clock, no I/O. Stream time is frame count × 20 ms, offset by `startedAt` (the answer time, from the
 * injected Clock of the shell that feeds it), so the same code runs live and at simulator speed.
 */
import type { AmdOutcome } from '../telephony/port.js'
import { CallProgressDetector } from './call-progress.js'
import { FRAME_MS } from './frames.js'
import { EnergyVad, type Vad } from './vad.js'

export interface AmdThresholds {
  initialSilenceMs: number
  maxHumanGreetingMs: number
  afterGreetingSilenceMs: number
  endOfGreetingSilenceMs: number
  totalAnalysisMs: number
  /** Speech bursts shorter than this (clicks, breath) do not start a greeting. */
  minSpeechMs: number
  /** After a machine decision, give up waiting for the greeting's end after this long (from answer). */
  maxEndOfGreetingMs: number
}

/** Defaults tuned on the "tune" split of the corpus (bench/amd); campaigns override any of them. */
export const DEFAULT_AMD_THRESHOLDS: Readonly<AmdThresholds> = Object.freeze({
  initialSilenceMs: 3500,
  maxHumanGreetingMs: 1900,
  afterGreetingSilenceMs: 800,
  endOfGreetingSilenceMs: 1200,
  totalAnalysisMs: 6000,
  minSpeechMs: 100,
  maxEndOfGreetingMs: 30000,
})

export function amdThresholds(overrides: Partial<AmdThresholds> = {}): AmdThresholds {
  const t = { ...DEFAULT_AMD_THRESHOLDS, ...overrides }
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`AMD threshold ${k} must be a positive number of ms, got ${String(v)}`)
  }
  if (t.afterGreetingSilenceMs >= t.totalAnalysisMs) throw new RangeError('afterGreetingSilenceMs must be below totalAnalysisMs')
  return t
}

export interface AmdDecision {
  outcome: AmdOutcome
  /** startedAt + stream time of the frame that decided. */
  at: number
  /** For the CDR and logs, e.g. "short greeting 640ms then 800ms silence". */
  reason: string
  /** False only for `machine`: the end of the greeting (or a beep) follows as another decision. */
  final: boolean
}

type Phase = 'initial-silence' | 'greeting' | 'machine' | 'done'

export interface AmdOptions {
  thresholds?: Partial<AmdThresholds>
  vad?: Vad
  /** Added to every decision time (ms); the answer time in the shell. */
  startedAt?: number
}

export class AmdDetector {
  readonly thresholds: AmdThresholds
  private readonly vad: Vad
  private readonly tones = new CallProgressDetector()
  private readonly startedAt: number
  private phase: Phase = 'initial-silence'
  private frames = 0
  private speechRunMs = 0
  private silenceRunMs = 0
  private greetingStartMs = 0
  private lastSpeechEndMs = 0

  constructor(opts: AmdOptions = {}) {
    this.thresholds = amdThresholds(opts.thresholds)
    this.vad = opts.vad ?? new EnergyVad()
    this.startedAt = opts.startedAt ?? 0
  }

  get done(): boolean {
    return this.phase === 'done'
  }

  /** Feed one 20 ms frame; returns the decisions it produced (usually none). */
  push(frame: Int16Array): AmdDecision[] {
    if (this.phase === 'done') return []
    const out: AmdDecision[] = []
    this.frames++
    const now = this.frames * FRAME_MS
    const th = this.thresholds
    const speech = this.vad.isSpeech(frame)

    for (const ev of this.tones.push(frame)) {
      if (ev.type === 'beep') {
        return this.finish(out, 'beep', now, `beep ${Math.round(ev.freqHz)}Hz ${ev.durationMs}ms`)
      }
    }

    if (speech) {
      this.speechRunMs += FRAME_MS
      if (this.speechRunMs >= th.minSpeechMs) {
        this.silenceRunMs = 0
        this.lastSpeechEndMs = now
      }
    } else {
      // A burst shorter than minSpeechMs neither starts speech nor breaks the silence around it.
      this.speechRunMs = 0
      this.silenceRunMs += FRAME_MS
    }

    switch (this.phase) {
      case 'initial-silence':
        if (this.speechRunMs >= th.minSpeechMs) {
          this.phase = 'greeting'
          this.greetingStartMs = now - this.speechRunMs
        } else if (now >= th.initialSilenceMs) {
          return this.finish(out, 'no-speech', now, `no speech in ${now}ms`)
        }
        break
      case 'greeting': {
        const talking = this.silenceRunMs === 0
        const span = (talking ? now : this.lastSpeechEndMs) - this.greetingStartMs
        if (talking && span > th.maxHumanGreetingMs) {
          out.push(this.decision('machine', now, `long greeting ${span}ms`, false))
          this.phase = 'machine'
        } else if (!talking && this.silenceRunMs >= th.afterGreetingSilenceMs) {
          return this.finish(out, 'human', now, `short greeting ${span}ms then ${this.silenceRunMs}ms silence`)
        }
        break
      }
      case 'machine':
        if (this.silenceRunMs >= th.endOfGreetingSilenceMs) {
          const greeting = this.lastSpeechEndMs - this.greetingStartMs
          return this.finish(out, 'machine-end-of-greeting', now, `greeting ended after ${greeting}ms, then ${this.silenceRunMs}ms silence`)
        }
        if (now >= th.maxEndOfGreetingMs) return this.finish(out, 'timeout', now, `greeting still going at ${now}ms`)
        return out
    }
    if (this.phase !== 'machine' && now >= th.totalAnalysisMs) {
      return this.finish(out, 'timeout', now, `undecided after ${now}ms`)
    }
    return out
  }

  private decision(outcome: AmdOutcome, streamMs: number, reason: string, final: boolean): AmdDecision {
    return { outcome, at: this.startedAt + streamMs, reason, final }
  }

  private finish(out: AmdDecision[], outcome: AmdOutcome, streamMs: number, reason: string): AmdDecision[] {
    this.phase = 'done'
    out.push(this.decision(outcome, streamMs, reason, true))
    return out
  }
}
