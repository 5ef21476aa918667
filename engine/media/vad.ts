/**
 * Voice activity detection per 20 ms frame. Two implementations behind one interface so the AMD can be measured
 * with either (bench/amd): an energy detector with an adaptive noise floor (no dependency, the classic telephony
 * approach) and the WebRTC VAD (libfvad via WASM, a GMM over sub-band energies).
 */
import { blockEnergy } from './goertzel.js'

export interface Vad {
  readonly name: string
  /** True when the frame holds speech (or any voiced sound: the AMD tells tones apart itself). */
  isSpeech(frame: Int16Array): boolean
}

export interface EnergyVadOptions {
  /** dB above the tracked noise floor for a frame to count as speech. */
  marginDb?: number
  /** Frames quieter than this (dBFS) are never speech. */
  minDbfs?: number
}

export const frameDbfs = (frame: Int16Array): number =>
  10 * Math.log10(blockEnergy(frame) / frame.length / (32768 * 32768) + 1e-12)

export class EnergyVad implements Vad {
  readonly name = 'energy'
  private floorDb = Number.NaN
  private readonly marginDb: number
  private readonly minDbfs: number

  constructor(opts: EnergyVadOptions = {}) {
    this.marginDb = opts.marginDb ?? 12
    this.minDbfs = opts.minDbfs ?? -50
  }

  isSpeech(frame: Int16Array): boolean {
    const db = frameDbfs(frame)
    if (Number.isNaN(this.floorDb)) this.floorDb = Math.min(db, -40)
    // The floor falls at once to a quieter frame and creeps up slowly (0.05 dB a frame, 2.5 dB/s), so a
    // greeting of several seconds does not become the "noise" it is compared with.
    if (db < this.floorDb) this.floorDb = db
    else this.floorDb += 0.05
    return db > this.minDbfs && db > this.floorDb + this.marginDb
  }
}
