/**
 * Import leads from a stream of rows (CSV or XLSX, parsed by the caller) into a list, in batches: each batch's leads,
 * its bad rows and the import's progress commit together, so what a poll shows is what landed. Numbers are
 * normalized to E.164 (LeadNumberNormalizer: a cached fast path for mainland China mobiles, the screening's own
 * parser for the rest); a number already in the campaign (from an earlier import or earlier in this file) is counted
 * as a duplicate and skipped by the unique index. Memory stays constant: one batch, whatever the file size.
 */
import { maskPhone } from '../../leads/lead.js'
import type { Db } from './db.js'
import type { BadRow, ImportCounts } from './lead-imports.js'
import { LeadImportRepository } from './lead-imports.js'
import { detachedCopy, LeadNumberNormalizer } from './lead-number-normalizer.js'
import { CopyRows } from './copy-rows.js'
import { LeadRepository } from './leads.js'
import { LeadNumberCipher } from './lead-numbers.js'
import type { PiiCipher } from '../../security/pii-cipher.js'
import { TimeOrderedIds } from './time-ordered-ids.js'

/** One row of the source: its line in the file (for the report) and its cells; or a row the parser could not read. */
export type SourceRow = { line: number; cells: readonly string[] } | { line: number; error: string }

/** The file as a whole cannot be imported (no phone column, empty file): nothing lands. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ImportRefused'
  }
}

type LeadColumn = 'phone' | 'region' | 'timezone' | 'priority' | 'customerId'

/** Header names accepted for each column, compared lower-cased without spaces, dashes or underscores. */
const HeaderAliases: Record<LeadColumn, readonly string[]> = {
  phone: ['phone', 'phonenumber', 'number', 'mobile', 'tel', 'telephone', 'msisdn', '电话', '手机', '手机号', '号码', '电话号码'],
  region: ['region', 'country', 'countrycode', 'iso'],
  timezone: ['timezone', 'tz', 'zone'],
  priority: ['priority'],
  customerId: ['customerid', 'customer', 'externalid'],
}

function columnOf(header: string): LeadColumn | undefined {
  const h = header.trim().toLowerCase().replace(/[\s_-]+/g, '').replace(/^\ufeff/, '')
  for (const [col, aliases] of Object.entries(HeaderAliases) as Array<[LeadColumn, readonly string[]]>) {
    if (aliases.includes(h)) return col
  }
  return undefined
}

const zoneCache = new Map<string, boolean>()
function isTimeZone(z: string): boolean {
  let ok = zoneCache.get(z)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: z })
      ok = true
    } catch {
      ok = false
    }
    if (zoneCache.size < 1000) zoneCache.set(detachedCopy(z), ok)
  }
  return ok
}

export interface LeadImportTarget {
  importId: string
  campaignId: string
  listId: string
  /** Region hint for national-format numbers when the row names none. */
  region?: string
  /** Rows per committed batch; default DefaultBatchSize. */
  batchSize?: number
}

/**
 * Rows per committed batch: large enough that a round trip and a commit are paid per 10,000 rows, small enough that
 * the batch in memory stays a few megabytes and a poll moves often.
 */
export const DefaultBatchSize = 10_000

/**
 * Rows read between two turns of the event loop. The batch being written needs a few round trips (COPY, INSERT,
 * progress, COMMIT), each sent when the reply before it is handled; a parser run of a few thousand rows (~10 us each
 * with the number sealed) held them back by tens of milliseconds, and PostgreSQL sat idle while Node read.
 */
const YieldEveryRows = 64
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const cut = (s: string): string => (s.length > 64 ? `${s.slice(0, 61)}...` : s)

/** The header's columns as indexes; throws ImportRefused without a phone column. */
function readHeader(cells: readonly string[]): Partial<Record<LeadColumn, number>> {
  const idx: Partial<Record<LeadColumn, number>> = {}
  cells.forEach((c, i) => {
    const col = columnOf(String(c))
    if (col !== undefined && idx[col] === undefined) idx[col] = i
  })
  if (idx.phone === undefined) {
    throw new ImportRefused(
      `the first line must be a header naming the phone column (one of: ${HeaderAliases.phone.join(', ')}); got ${JSON.stringify(cells.slice(0, 10))}`,
    )
  }
  return idx
}


/**
 * One batch: its leads as rows ready for COPY (the columns of ImportedLeadRowColumns; no per-row objects to build and
 * take apart again) and its bad rows.
 */
export class LeadBatch {
  // ~90 bytes a row in a default batch of 10,000: one buffer that rarely grows.
  readonly rows = new CopyRows(1 << 20)
  readonly bad: BadRow[] = []
  rowsRead = 0

  get leads(): number {
    return this.rows.count
  }
}

const RegionRe = /^[A-Z]{2}$/
const PriorityRe = /^-?\d{1,4}$/

/** The trimmed cell, or undefined when empty. */
function cellOf(cells: readonly string[], i: number | undefined): string | undefined {
  if (i === undefined) return undefined
  const v = cells[i]
  if (v === undefined || v === '') return undefined
  const t = v.trim()
  return t === '' ? undefined : t
}

function badRow(batch: LeadBatch, line: number, reason: string, value?: string): void {
  batch.bad.push(value === undefined ? { line, reason } : { line, reason, value: cut(value) })
}

/** Read one data row into the batch: a lead, or a bad row with its reason. */
function addRow(
  batch: LeadBatch,
  row: SourceRow,
  idx: Partial<Record<LeadColumn, number>>,
  defaultRegion: string | undefined,
  numbers: LeadNumberNormalizer,
  ids: TimeOrderedIds,
  sealer: LeadNumberCipher,
): void {
  batch.rowsRead++
  if ('error' in row) {
    batch.bad.push({ line: row.line, reason: row.error })
    return
  }
  const cells = row.cells
  const line = row.line
  const phone = cellOf(cells, idx.phone)
  if (phone === undefined) return badRow(batch, line, 'phone: empty')
  let region = cellOf(cells, idx.region)
  if (region !== undefined) {
    region = region.toUpperCase()
    if (!RegionRe.test(region)) return badRow(batch, line, 'region: expected an ISO 3166 alpha-2 code such as CN', region)
  }
  const parsed = numbers.normalize(phone, region ?? defaultRegion)
  // a number that does not parse may still be someone's (a digit too many): stored masked, the line finds it
  if (!parsed.ok) return badRow(batch, line, `phone: ${parsed.code}: ${parsed.reason}`, /(\d\D*){7}/.test(phone) ? maskPhone(phone) : phone)
  const tz = cellOf(cells, idx.timezone)
  if (tz !== undefined && !isTimeZone(tz)) return badRow(batch, line, 'timezone: not an IANA time zone such as Asia/Shanghai', tz)
  const priority = cellOf(cells, idx.priority)
  if (priority !== undefined && !PriorityRe.test(priority)) return badRow(batch, line, 'priority: expected an integer from -9999 to 9999', priority)
  const customer = cellOf(cells, idx.customerId)
  if (customer !== undefined && customer.length > 200) return badRow(batch, line, 'customerId: longer than 200 characters', customer)
  const id = ids.next()
  batch.rows.add([
    batch.rows.count,
    id,
    sealer.seal(id, { phone, e164: parsed.e164 }),
    sealer.hash(parsed.e164),
    parsed.region ?? region ?? defaultRegion ?? null,
    tz ?? null,
    priority === undefined ? null : Number(priority),
    customer ?? null,
  ])
}

/**
 * Run the import to the end of the rows. `rows` yields rows one by one or in runs (a parser hands over what one chunk
 * of bytes held). Returns the totals; throws ImportRefused for a file without a usable header and rethrows a broken
 * stream (the caller marks the import failed; batches committed before stay).
 *
 * One batch is written at a time, in file order: the hopper pages leads by insertion sequence, and a batch committing
 * after a later one would land behind cursors already handed out. While a batch is written the next one is read,
 * checked and built (PostgreSQL and Node work at once); a full batch waits for the write before it to commit, so at
 * most two batches are in memory, whatever the file size. A failed write is thrown when the next batch is handed
 * over or at the end, and nothing after it is written.
 */
export async function importLeads(
  db: Db,
  pii: PiiCipher,
  rows: AsyncIterable<SourceRow | readonly SourceRow[]>,
  target: LeadImportTarget,
): Promise<ImportCounts> {
  const batchSize = target.batchSize ?? DefaultBatchSize
  const totals: ImportCounts = { rowsRead: 0, inserted: 0, duplicates: 0, bad: 0 }
  const numbers = new LeadNumberNormalizer()
  const ids = new TimeOrderedIds()
  const sealer = new LeadNumberCipher(pii)
  let idx: Partial<Record<LeadColumn, number>> | undefined
  let batch = new LeadBatch()
  /** The write in flight: resolved when its batch committed, rejected with its error. */
  let writing: Promise<void> = Promise.resolve()

  const write = (b: LeadBatch, last: boolean): Promise<void> =>
    db.transaction(async (tx) => {
      // Batches before the last commit without waiting for their WAL to reach the disk (~10-20 ms a batch here, the
      // server idle meanwhile); the last one waits, and flushing the WAL up to its commit flushes every batch before
      // it, so the import is durable when this function returns. A crash mid-import loses at most the last few
      // batches together with their progress (same transaction), never one without the other.
      if (!last) await tx.query('SET LOCAL synchronous_commit = off')
      const inserted = b.leads > 0 ? await new LeadRepository(tx, pii).insertImportBatch(target.campaignId, target.listId, b.rows) : 0
      const delta = { rowsRead: b.rowsRead, inserted, duplicates: b.leads - inserted, bad: b.bad.length }
      await new LeadImportRepository(tx).addProgress(target.importId, delta, b.bad)
      totals.rowsRead += delta.rowsRead
      totals.inserted += delta.inserted
      totals.duplicates += delta.duplicates
      totals.bad += delta.bad
    })

  const flush = async (last: boolean): Promise<void> => {
    if (batch.rowsRead === 0 && !last) return
    const b = batch
    batch = new LeadBatch()
    await writing
    writing = write(b, last)
    // Observed at the next flush or at the end; until then it must not count as an unhandled rejection.
    writing.catch(() => {})
  }

  try {
    for await (const item of rows) {
      const run: readonly SourceRow[] = Array.isArray(item) ? item : [item as SourceRow]
      for (const row of run) {
        if (idx === undefined) {
          if ('error' in row) throw new ImportRefused(`line ${row.line}: the header cannot be read: ${row.error}`)
          idx = readHeader(row.cells)
          continue
        }
        addRow(batch, row, idx, target.region, numbers, ids, sealer)
        if (batch.rowsRead >= batchSize) await flush(false)
        else if (batch.rowsRead % YieldEveryRows === 0) await yieldToIo()
      }
    }
    if (idx === undefined) throw new ImportRefused('the file is empty: expected a header line naming the phone column')
    await flush(true)
    await writing
  } catch (err) {
    // The caller marks the import failed: the write in flight settles first, so no progress lands after that.
    await writing.catch(() => {})
    throw err
  }
  return totals
}
