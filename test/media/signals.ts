/** Synthetic telephone signals for the media tests: tones, silence and seeded noise at 8 kHz. */
import { SAMPLE_RATE } from '../../engine/media/frames.js'

export function tone(freqs: readonly number[], ms: number, amplitude = 8000, phase = 0): Int16Array {
  const n = Math.round((ms * SAMPLE_RATE) / 1000)
  const out = new Int16Array(n)
  for (let i = 0; i < n; i++) {
    let v = 0
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * i) / SAMPLE_RATE + phase)
    out[i] = Math.round((v * amplitude) / freqs.length)
  }
  return out
}

export const silence = (ms: number) => new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000))

/** Deterministic white-ish noise (mulberry32), so a failing case replays exactly. */
export function noise(ms: number, amplitude: number, seed = 1): Int16Array {
  let a = seed >>> 0
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const out = new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000))
  for (let i = 0; i < out.length; i++) out[i] = Math.round((rnd() * 2 - 1) * amplitude)
  return out
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, (a[i] ?? 0) + (b[i] ?? 0)))
  return out
}
