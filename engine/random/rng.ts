/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so a simulated shift is reproducible from one integer.
 * `fork(label)` gives an independent stream per concern (carrier, agents, customers), so adding a draw in one
 * place does not reshuffle every other random quantity of the run.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  private spareNormal: number | undefined

  constructor(readonly seed: number) {
    let s = seed >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform in (0, 1): safe for logs. */
  nextOpen(): number {
    return (this.nextUint32() + 0.5) / 4294967296
  }

  /** Standard normal (Box-Muller, the spare kept). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal
      this.spareNormal = undefined
      return v
    }
    const u = this.nextOpen()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spareNormal = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** An independent stream derived from this seed and a label. */
  fork(label: string): Rng {
    let h = 2166136261 ^ this.seed
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619)
    return new Rng((h ^ Math.imul(this.seed, 0x27d4eb2d)) >>> 0)
  }
}
