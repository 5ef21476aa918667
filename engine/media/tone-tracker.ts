/**
 * Finds steady tones in a stream of 20 ms frames and reports each one as a segment when it ends: a single pure tone
 * (beeps, SIT segments, China's 450 Hz ringback) or a known dual tone (440+480 Hz North American ringback, 400+450 Hz
 * UK ringback). Dual tones are tested with Goertzel before the single-tone test because their two components fall
 * inside one FFT main lobe and would otherwise look like a single tone near 460 Hz: the mode-1 mod_avmd mistake that
 * took ringback for a voicemail beep (team-telnyx/freeswitch#653).
 */
import { FRAME_MS } from './frames.js'
import { blockEnergy, toneShare } from './goertzel.js'
import { powerSpectrum, spectralPeak } from './spectrum.js'

export const DUAL_TONES = [
  { name: 'ringback-nanp', lo: 440, hi: 480 },
  { name: 'ringback-uk', lo: 400, hi: 450 },
  { name: 'busy-nanp', lo: 480, hi: 620 },
  { name: 'dial-nanp', lo: 350, hi: 440 },
] as const
export type DualToneName = (typeof DUAL_TONES)[number]['name']

export interface ToneSegment {
  kind: 'single' | 'dual'
  /** Mean frequency for a single tone; the lower component for a dual one. */
  freqHz: number
  dual?: DualToneName
  /** Stream time in ms (frame index × 20) of the first and one past the last tonal frame. */
  startMs: number
  endMs: number
  durationMs: number
  /** Mean frame RMS, in 16-bit units. */
  rms: number
}

export interface ToneTrackerOptions {
  /** Frames quieter than this RMS are never tonal (about -50 dBFS by default). */
  minRms?: number
  /** Share of the 250-3500 Hz power within ±2 bins of the peak for a frame to count as a pure tone. */
  minTonality?: number
  /** Drift allowed inside one tone, Hz. */
  maxDriftHz?: number
  /** Shortest segment reported. */
  minDurationMs?: number
}

interface Run {
  kind: 'single' | 'dual'
  dual?: DualToneName
  freqSum: number
  rmsSum: number
  frames: number
  startFrame: number
}

export class ToneTracker {
  private readonly minRms: number
  private readonly minTonality: number
  private readonly maxDriftHz: number
  private readonly minFrames: number
  private run: Run | undefined
  private frameIndex = 0

  constructor(opts: ToneTrackerOptions = {}) {
    this.minRms = opts.minRms ?? 100
    this.minTonality = opts.minTonality ?? 0.8
    this.maxDriftHz = opts.maxDriftHz ?? 25
    this.minFrames = Math.max(1, Math.round((opts.minDurationMs ?? 60) / FRAME_MS))
  }

  /** Feed one frame; returns the segment that this frame ended, if any. */
  push(frame: Int16Array): ToneSegment | undefined {
    const idx = this.frameIndex++
    const energy = blockEnergy(frame)
    const rms = Math.sqrt(energy / frame.length)
    let kind: 'single' | 'dual' | undefined
    let freq = 0
    let dual: DualToneName | undefined
    if (rms >= this.minRms) {
      for (const d of DUAL_TONES) {
        const a = toneShare(frame, d.lo, energy)
        const b = toneShare(frame, d.hi, energy)
        if (a > 0.2 && b > 0.2 && a + b > 0.75) {
          kind = 'dual'
          dual = d.name
          freq = d.lo
          break
        }
      }
      if (!kind) {
        const peak = spectralPeak(powerSpectrum(frame))
        if (peak.tonality >= this.minTonality) {
          kind = 'single'
          freq = peak.freqHz
        }
      }
    }
    const r = this.run
    if (r && kind === r.kind && dual === r.dual && Math.abs(freq - r.freqSum / r.frames) <= this.maxDriftHz) {
      r.freqSum += freq
      r.rmsSum += rms
      r.frames++
      return undefined
    }
    const ended = this.close(idx)
    if (kind) this.run = { kind, freqSum: freq, rmsSum: rms, frames: 1, startFrame: idx, ...(dual ? { dual } : {}) }
    return ended
  }

  /** Stream time (ms) when the tone sounding now began, if one is. */
  get activeStartMs(): number | undefined {
    return this.run ? this.run.startFrame * FRAME_MS : undefined
  }

  /** End of stream: report a tone still sounding. */
  flush(): ToneSegment | undefined {
    return this.close(this.frameIndex)
  }

  private close(endFrame: number): ToneSegment | undefined {
    const r = this.run
    this.run = undefined
    if (!r || r.frames < this.minFrames) return undefined
    return {
      kind: r.kind,
      freqHz: r.freqSum / r.frames,
      ...(r.dual ? { dual: r.dual } : {}),
      startMs: r.startFrame * FRAME_MS,
      endMs: endFrame * FRAME_MS,
      durationMs: (endFrame - r.startFrame) * FRAME_MS,
      rms: r.rmsSum / r.frames,
    }
  }
}
