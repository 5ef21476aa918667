/**
 * HTTP Range requests (RFC 9110 §14) for one file of a known size: players seek in recordings by asking for byte
 * ranges. Only a single range is served; a header this does not understand, or several ranges, are ignored (the whole
 * file is sent, which the RFC allows), so an odd client still gets its audio. A well-formed range that starts past the
 * end is unsatisfiable (416).
 */

export type RangeAnswer =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

const SingleRe = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'full' }
  const m = SingleRe.exec(header)
  if (!m) return { kind: 'full' }
  const [, a, b] = m as unknown as [string, string, string]
  if (a === '' && b === '') return { kind: 'full' }
  if (a === '') {
    // Suffix: the last n bytes (all of them when n exceeds the size); the last 0 bytes cannot be served.
    const n = Number(b)
    if (!Number.isSafeInteger(n)) return { kind: 'full' }
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(a)
  const last = b === '' ? size - 1 : Number(b)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last)) return { kind: 'full' }
  // An invalid range (last before first) is ignored, but one that merely starts past the end is unsatisfiable.
  if (b !== '' && last < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: Math.min(last, size - 1) }
}
