/**
 * G.711 µ-law (PCMU) and A-law (PCMA), the payloads carriers send us. Decoding is a 256-entry table lookup (one per
 * RTP byte, the hot path); encoding follows ITU-T G.711 segment by segment and is bit-exact with sox and libspandsp.
 */

const MULAW_BIAS = 0x84
const MULAW_CLIP = 32635

function mulawDecodeByte(u: number): number {
  const v = ~u & 0xff
  const sign = v & 0x80
  const exponent = (v >> 4) & 0x07
  const mantissa = v & 0x0f
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS
  return sign ? -magnitude : magnitude
}

function alawDecodeByte(a: number): number {
  const v = a ^ 0x55
  const sign = v & 0x80
  const exponent = (v >> 4) & 0x07
  const mantissa = v & 0x0f
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1)
  return sign ? magnitude : -magnitude
}

export const MULAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => mulawDecodeByte(i))
export const ALAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawDecodeByte(i))

export function mulawEncodeSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)))
  const sign = s < 0 ? 0x80 : 0
  if (sign) s = -s
  if (s > MULAW_CLIP) s = MULAW_CLIP
  s += MULAW_BIAS
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = (s >> (exponent + 3)) & 0x0f
  return ~(sign | (exponent << 4) | mantissa) & 0xff
}

export function alawEncodeSample(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)))
  const sign = s >= 0 ? 0x80 : 0
  if (!sign) s = -s - 1
  if (s < 0) s = 0
  let exponent = 7
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--
  const mantissa = exponent === 0 ? (s >> 4) & 0x0f : (s >> (exponent + 3)) & 0x0f
  return (sign | (exponent << 4) | mantissa) ^ 0x55
}

export type G711Law = 'mulaw' | 'alaw'

export function decodeG711(bytes: Uint8Array, law: G711Law, out?: Int16Array): Int16Array {
  const table = law === 'mulaw' ? MULAW_TO_LINEAR : ALAW_TO_LINEAR
  const pcm = out ?? new Int16Array(bytes.length)
  if (pcm.length < bytes.length) throw new RangeError(`output holds ${pcm.length} samples, input has ${bytes.length}`)
  for (let i = 0; i < bytes.length; i++) pcm[i] = table[bytes[i]!]!
  return pcm
}

export function encodeG711(pcm: Int16Array, law: G711Law): Uint8Array {
  const enc = law === 'mulaw' ? mulawEncodeSample : alawEncodeSample
  const out = new Uint8Array(pcm.length)
  for (let i = 0; i < pcm.length; i++) out[i] = enc(pcm[i]!)
  return out
}
