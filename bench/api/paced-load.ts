/**
 * An open-loop load at a fixed rate, for the latency target "p99 <= 10 ms at 5,000 req/s". autocannon's overallRate
 * does not pace: each connection sends its share of the second as fast as it can and then waits for the next second,
 * so the load comes in bursts at the top of each second; with a list of requests it also sent more than asked and
 * measured a bare Fastify route at p99 1.3 s on this machine. Here requests are due at even intervals (1/rate apart),
 * sent on the first free keep-alive connection, and each latency runs from when its request was due, not from when a
 * connection was free to send it (so a stalled server cannot hide its queue: no coordinated omission).
 *
 * HTTP/1.1 with content-length bodies only (what Fastify answers); anything else is counted as an error.
 */
import { connect, type Socket } from 'node:net'

export interface PacedOptions {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  base: string
  /** Paths to cycle through. */
  paths: readonly string[]
  headers?: Record<string, string>
  ratePerSec: number
  seconds: number
  connections: number
  /** Seconds at the same rate before measuring (JIT, pools, caches warm up); default 1. */
  warmupSeconds?: number
}

export interface PacedResult {
  /** Requests due in the run (rate x seconds). */
  offered: number
  completed: number
  /** Completed requests per second of the run. */
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  errors: number
  non2xx: number
}

interface Conn {
  socket: Socket
  buf: Buffer
  /** When the request in flight was due (ms, performance clock); undefined: idle. */
  dueAt: number | undefined
  /** Whether it is measured (not warm-up). */
  measured: boolean
}

const HeaderEnd = Buffer.from('\r\n\r\n')

export function pacedLoad(o: PacedOptions): Promise<PacedResult> {
  const url = new URL(o.base)
  const extra = Object.entries(o.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')
  const requests = o.paths.map((p) => Buffer.from(`GET ${p} HTTP/1.1\r\nhost: ${url.host}\r\n${extra}\r\n`))
  const warmup = Math.round(o.ratePerSec * (o.warmupSeconds ?? 1))
  const offered = Math.round(o.ratePerSec * o.seconds)
  const total = warmup + offered
  const latencies: number[] = []
  let non2xx = 0
  let issued = 0
  let next = 0
  const queue: number[] = []
  const idle: Conn[] = []
  const conns: Conn[] = []
  let start = 0
  let measureFrom = Infinity

  return new Promise((resolve) => {
    let finished = false
    const finish = (): void => {
      if (finished) return
      finished = true
      clearInterval(ticker)
      for (const c of conns) c.socket.destroy()
      const sorted = Float64Array.from(latencies).sort()
      const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
      const round = (v: number): number => Math.round(v * 100) / 100
      // Requests never answered (refused, cut off, or not answered within the grace period) are the errors: a server
      // that stops answering must not look fast.
      const errors = offered - latencies.length
      resolve({
        offered,
        completed: latencies.length,
        reqPerSec: Math.round(latencies.length / o.seconds),
        p50Ms: round(at(0.5)),
        p99Ms: round(at(0.99)),
        maxMs: round(sorted.length === 0 ? NaN : sorted[sorted.length - 1]!),
        errors,
        non2xx,
      })
    }

    const dispatch = (): void => {
      while (queue.length > 0 && idle.length > 0) {
        const c = idle.pop()!
        c.dueAt = queue.shift()!
        c.measured = c.dueAt >= measureFrom
        c.socket.write(requests[next++ % requests.length]!)
      }
      if (issued >= total && queue.length === 0 && conns.every((c) => c.dueAt === undefined)) finish()
    }

    const onData = (c: Conn, chunk: Buffer): void => {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk])
      for (;;) {
        const end = c.buf.indexOf(HeaderEnd)
        if (end < 0) return
        const head = c.buf.subarray(0, end).toString('latin1')
        const len = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        if (!len) {
          c.socket.destroy()
          return
        }
        const size = end + 4 + Number(len[1])
        if (c.buf.length < size) return
        const status = Number(head.slice(9, 12))
        if (c.measured && (status < 200 || status > 299)) non2xx++
        if (c.measured) latencies.push(performance.now() - c.dueAt!)
        c.dueAt = undefined
        c.buf = c.buf.subarray(size)
        idle.push(c)
      }
    }

    let opened = 0
    for (let i = 0; i < o.connections; i++) {
      const c: Conn = { socket: connect(Number(url.port), url.hostname), buf: Buffer.alloc(0), dueAt: undefined, measured: false }
      c.socket.setNoDelay(true)
      c.socket.on('data', (chunk: Buffer) => {
        onData(c, chunk)
        dispatch()
      })
      // A broken connection is dropped; its request in flight stays unanswered.
      c.socket.on('error', () => {
        c.dueAt = undefined
      })
      c.socket.once('connect', () => {
        idle.push(c)
        if (++opened === o.connections) begin()
      })
      conns.push(c)
    }

    let ticker: NodeJS.Timeout | undefined
    // Past the run, in-flight requests get this long to answer before they count as errors.
    const graceMs = 5000
    const begin = (): void => {
      start = performance.now()
      measureFrom = start + (warmup * 1000) / o.ratePerSec
      ticker = setInterval(() => {
        const now = performance.now()
        const due = Math.min(total, Math.floor(((now - start) / 1000) * o.ratePerSec))
        while (issued < due) queue.push(start + (issued++ * 1000) / o.ratePerSec)
        dispatch()
        if (now - measureFrom > o.seconds * 1000 + graceMs) finish()
      }, 1)
    }
  })
}
