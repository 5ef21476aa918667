/**
 * Power spectrum of a 20 ms frame: Hann window, zero-padded to 256 points (31.25 Hz bins at 8 kHz). Shared by the
 * tone tracker (peak frequency and tonality) and the log-mel features of the announcement matcher.
 */
import { SAMPLE_RATE } from './frames.js'

export const FFT_SIZE = 256
export const BIN_HZ = SAMPLE_RATE / FFT_SIZE

const hannCache = new Map<number, Float64Array>()
function hann(n: number): Float64Array {
  let w = hannCache.get(n)
  if (!w) {
    w = new Float64Array(n)
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1))
    hannCache.set(n, w)
  }
  return w
}

const COS = new Float64Array(FFT_SIZE / 2)
const SIN = new Float64Array(FFT_SIZE / 2)
for (let i = 0; i < FFT_SIZE / 2; i++) {
  COS[i] = Math.cos((2 * Math.PI * i) / FFT_SIZE)
  SIN[i] = -Math.sin((2 * Math.PI * i) / FFT_SIZE)
}
const BITREV = new Uint16Array(FFT_SIZE)
for (let i = 0, bits = Math.log2(FFT_SIZE); i < FFT_SIZE; i++) {
  let r = 0
  for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b)
  BITREV[i] = r
}

/** Power per bin 0..FFT_SIZE/2 of a frame (at most FFT_SIZE samples). */
export function powerSpectrum(frame: ArrayLike<number>): Float64Array {
  const n = Math.min(frame.length, FFT_SIZE)
  const w = hann(n)
  const re = new Float64Array(FFT_SIZE)
  const im = new Float64Array(FFT_SIZE)
  for (let i = 0; i < n; i++) re[BITREV[i]!] = frame[i]! * w[i]!
  for (let size = 2; size <= FFT_SIZE; size <<= 1) {
    const half = size >> 1
    const step = FFT_SIZE / size
    for (let start = 0; start < FFT_SIZE; start += size) {
      for (let k = 0; k < half; k++) {
        const c = COS[k * step]!
        const s = SIN[k * step]!
        const a = start + k
        const b = a + half
        const tr = re[b]! * c - im[b]! * s
        const ti = re[b]! * s + im[b]! * c
        re[b] = re[a]! - tr
        im[b] = im[a]! - ti
        re[a] = re[a]! + tr
        im[a] = im[a]! + ti
      }
    }
  }
  const out = new Float64Array(FFT_SIZE / 2 + 1)
  for (let k = 0; k <= FFT_SIZE / 2; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!
  return out
}

export interface SpectralPeak {
  /** Interpolated frequency of the strongest bin in the band. */
  freqHz: number
  /** Share of the band's power within ±2 bins of the peak: near 1 for a pure tone, well below for speech. */
  tonality: number
}

export function spectralPeak(power: Float64Array, loHz = 250, hiHz = 3500): SpectralPeak {
  const lo = Math.max(1, Math.floor(loHz / BIN_HZ))
  const hi = Math.min(power.length - 2, Math.ceil(hiHz / BIN_HZ))
  let best = lo
  let total = 0
  for (let k = lo; k <= hi; k++) {
    total += power[k]!
    if (power[k]! > power[best]!) best = k
  }
  let around = 0
  for (let k = Math.max(lo, best - 2); k <= Math.min(hi, best + 2); k++) around += power[k]!
  // Parabolic interpolation on log power: a Hann main lobe is close to a parabola there.
  const a = Math.log(power[best - 1]! + 1e-9)
  const b = Math.log(power[best]! + 1e-9)
  const c = Math.log(power[best + 1]! + 1e-9)
  const denom = a - 2 * b + c
  const delta = denom === 0 ? 0 : Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom))
  return { freqHz: (best + delta) * BIN_HZ, tonality: total > 0 ? around / total : 0 }
}
