/** One row of bench:api's table, whichever load generator measured it. */
import type autocannon from 'autocannon'
import type { PacedResult } from './paced-load.js'

export interface Measured {
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  errors: number
  non2xx: number
  /** A fixed offered rate (paced rows), or flat out (undefined): only flat-out rows compare with the bare route. */
  offeredPerSec?: number
}

export function fromAutocannon(r: autocannon.Result): Measured {
  return { reqPerSec: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors, non2xx: r.non2xx }
}

export function fromPaced(r: PacedResult, ratePerSec: number): Measured {
  return { reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, non2xx: r.non2xx, offeredPerSec: ratePerSec }
}
