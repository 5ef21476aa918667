/** Redis stream ids (`<ms>-<seq>`) compared in order, so replay and live delivery never repeat or skip an event. */
export function streamIdAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(Number) as [number, number]
  const [bm, bs] = b.split('-').map(Number) as [number, number]
  return am > bm || (am === bm && as > bs)
}

export const StreamIdRe = /^\d{1,20}-\d{1,20}$/
