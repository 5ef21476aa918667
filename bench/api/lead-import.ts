/**
 * The lead-import part of bench:api: a generated CSV streamed over HTTP into POST /v1/lead-lists/:id/imports of the
 * running app, as a client would send it. The file is made as it is sent (never held whole): mainland China mobiles in
 * national and E.164 form, a customer id and a priority, with 1 row in 100 bad (not a number) and 1 in 100 a repeat
 * of an earlier number. Memory is sampled while the import runs: the peak RSS above what the process held before,
 * and the heap still in use after a full garbage collection (forced every 500 ms) above the level before, the figure
 * that shows a leak; peak heapUsed without collection mostly measures how lazily V8 collects. 100,000 and 1,000,000
 * rows side by side show whether memory grows with the file. The sending client runs in the same process (its part
 * is the generator's 64 KiB chunk).
 */
import http from 'node:http'
import { loadavg } from 'node:os'
import { Readable } from 'node:stream'
import v8 from 'node:v8'
import vm from 'node:vm'
import type { Queryable } from '../../engine/store/sql/db.js'
import { BackendCpu } from './backend-cpu.js'

v8.setFlagsFromString('--expose-gc')
const collect = vm.runInNewContext('gc') as () => void

export interface ImportRun {
  rows: number
  seconds: number
  rowsPerSec: number
  inserted: number
  duplicates: number
  bad: number
  /** Peak resident set size above the level before the import, in MiB. */
  rssPeakMiB: number
  /** V8 heap in use after a full collection, above the level before the import, in MiB: median and peak while the
   * import runs (the peak catches a batch being serialized), and once it is done. */
  heapMedianMiB: number
  heapPeakMiB: number
  heapAfterMiB: number
  /** CPU per row of the PostgreSQL backends of the bench's database (null when /proc cannot show them), and of this
   * Node process (the API and the sending client), in microseconds. */
  pgCpuUsPerRow: number | null
  nodeCpuUsPerRow: number
  /** 1-minute load average when the import started and when it ended (2 cores here: above 2, CPUs are contended). */
  loadStart: number
  loadEnd: number
}

/** Row i of the generated file (i from 0), with the counts a correct import must report. */
function csvLine(i: number, offset: number): string {
  if (i % 100 === 37) return `not-a-number-${i},c-${i},1\n`
  // A repeat of the number 50 rows back, written the other way (E.164 vs national): a duplicate once normalized.
  const n = i % 100 === 73 ? i - 50 : i
  const digits = `13${String(offset + n).padStart(9, '0')}`
  return i % 2 === 0 ? `${digits},c-${i},${i % 10}\n` : `+86${digits},c-${i},${i % 10}\n`
}

export function expectedCounts(rows: number): { bad: number; duplicates: number } {
  let bad = 0
  let duplicates = 0
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 37) bad++
    else if (i % 100 === 73) duplicates++
  }
  return { bad, duplicates }
}

function* csvChunks(rows: number, offset: number): Generator<string> {
  yield 'phone,customer_id,priority\n'
  let chunk = ''
  for (let i = 0; i < rows; i++) {
    chunk += csvLine(i, offset)
    if (chunk.length >= 64 * 1024) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}

/** POST the generated file to the import route; `offset` keeps numbers of different runs apart (no cross-run duplicates). */
export async function runImport(
  baseUrl: string,
  listId: string,
  apiKey: string,
  rows: number,
  offset: number,
  db: Queryable,
): Promise<ImportRun> {
  collect()
  const before = process.memoryUsage()
  const backends = new BackendCpu(db)
  await backends.sample()
  const cpuSampler = setInterval(() => void backends.sample().catch(() => undefined), 250)
  const loadStart = loadavg()[0]!
  const cpuBefore = process.cpuUsage()
  let rssPeak = before.rss
  const retained: number[] = []
  let ticks = 0
  const sampler = setInterval(() => {
    if (++ticks % 10 === 0) {
      collect()
      retained.push(process.memoryUsage().heapUsed - before.heapUsed)
    }
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }, 50)
  const started = performance.now()
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        `${baseUrl}/v1/lead-lists/${encodeURIComponent(listId)}/imports`,
        { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' } },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (text += d))
          res.on('end', () => (res.statusCode === 201 ? resolve(text) : reject(new Error(`import answered ${res.statusCode}: ${text.slice(0, 500)}`))))
          res.on('error', reject)
        },
      )
      req.on('error', reject)
      Readable.from(csvChunks(rows, offset)).pipe(req)
    })
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    clearInterval(cpuSampler)
    await backends.sample()
    const r = JSON.parse(body) as { inserted: number; duplicates: number; bad: number; rowsRead: number }
    if (r.rowsRead !== rows) throw new Error(`import read ${r.rowsRead} rows of ${rows}`)
    const mib = (b: number) => Number((b / 1024 / 1024).toFixed(1))
    clearInterval(sampler)
    collect()
    const after = process.memoryUsage().heapUsed - before.heapUsed
    const sorted = [...retained].sort((a, b) => a - b)
    return {
      rows,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSec: Math.round(rows / seconds),
      inserted: r.inserted,
      duplicates: r.duplicates,
      bad: r.bad,
      rssPeakMiB: mib(rssPeak - before.rss),
      heapMedianMiB: mib(sorted[Math.floor(sorted.length / 2)] ?? 0),
      heapPeakMiB: mib(sorted[sorted.length - 1] ?? 0),
      heapAfterMiB: mib(after),
      pgCpuUsPerRow: backends.available ? Number(((backends.ms * 1000) / rows).toFixed(1)) : null,
      nodeCpuUsPerRow: Number(((cpu.user + cpu.system) / rows).toFixed(1)),
      loadStart: Number(loadStart.toFixed(1)),
      loadEnd: Number(loadavg()[0]!.toFixed(1)),
    }
  } finally {
    clearInterval(sampler)
    clearInterval(cpuSampler)
  }
}
