/**
 * Goertzel: the power of one frequency in a block, in O(N) with no FFT. Used where we test a handful of known
 * frequencies (SIT triads, ringback pairs) rather than scan the spectrum.
 */
import { SAMPLE_RATE } from './frames.js'

export function goertzelPower(samples: ArrayLike<number>, freqHz: number, sampleRate = SAMPLE_RATE): number {
  const w = (2 * Math.PI * freqHz) / sampleRate
  const coeff = 2 * Math.cos(w)
  let s1 = 0
  let s2 = 0
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coeff * s1 - s2
    s2 = s1
    s1 = s0
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2
}

export function blockEnergy(samples: ArrayLike<number>): number {
  let e = 0
  for (let i = 0; i < samples.length; i++) e += samples[i]! * samples[i]!
  return e
}

/**
 * Share of the block's energy carried by `freqHz`: about 1 for a pure tone at that frequency, near 0 for one more
 * than a bin away, small for speech. Scale-free, so the thresholds hold at any level.
 */
export function toneShare(samples: ArrayLike<number>, freqHz: number, energy = blockEnergy(samples)): number {
  if (energy <= 0) return 0
  return goertzelPower(samples, freqHz) / ((samples.length / 2) * energy)
}
