/**
 * Import leads from a stream of rows (CSV or XLSX, parsed by the caller) into a list, in batches: each batch's leads,
 * its bad rows and the import's progress commit together, so what a poll shows is what landed. Numbers are
 * normalized to E.164 with the screening's own parser; a number already in the campaign (from an earlier import or
 * earlier in this file) is counted as a duplicate and skipped by the unique index. Memory stays constant: one batch.
 */
import { parsePhone } from '../../screening/number.js'
import type { Db } from './db.js'
import type { BadRow, ImportCounts } from './lead-imports.js'
import { LeadImportRepository } from './lead-imports.js'
import { LeadRepository, type NewLead } from './leads.js'

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
    if (zoneCache.size < 1000) zoneCache.set(z, ok)
  }
  return ok
}

export interface LeadImportTarget {
  importId: string
  campaignId: string
  listId: string
  /** Region hint for national-format numbers when the row names none. */
  region?: string
  /** Rows per committed batch; default 2000. */
  batchSize?: number
}

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

/** A data row to a lead, or the reason it is bad. */
function toLead(cells: readonly string[], idx: Partial<Record<LeadColumn, number>>, defaultRegion: string | undefined): NewLead | BadRow['reason'] | { reason: string; value: string } {
  const cell = (c: LeadColumn): string | undefined => {
    const i = idx[c]
    const v = i === undefined ? undefined : cells[i]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }
  const phone = cell('phone')
  if (phone === undefined) return 'phone: empty'
  const region = cell('region')?.toUpperCase()
  if (region !== undefined && !/^[A-Z]{2}$/.test(region)) return { reason: 'region: expected an ISO 3166 alpha-2 code such as CN', value: region }
  const parsed = parsePhone(phone, region ?? defaultRegion)
  if (!parsed.ok) return { reason: `phone: ${parsed.code}: ${parsed.reason}`, value: phone }
  const lead: NewLead = { phone, e164: parsed.phone.e164 }
  const numberRegion = parsed.phone.region ?? region ?? defaultRegion
  if (numberRegion !== undefined) lead.region = numberRegion
  const tz = cell('timezone')
  if (tz !== undefined) {
    if (!isTimeZone(tz)) return { reason: 'timezone: not an IANA time zone such as Asia/Shanghai', value: tz }
    lead.timezone = tz
  }
  const priority = cell('priority')
  if (priority !== undefined) {
    if (!/^-?\d{1,4}$/.test(priority)) return { reason: 'priority: expected an integer from -9999 to 9999', value: priority }
    lead.priority = Number(priority)
  }
  const customer = cell('customerId')
  if (customer !== undefined) {
    if (customer.length > 200) return { reason: 'customerId: longer than 200 characters', value: customer }
    lead.customerId = customer
  }
  return lead
}

/**
 * Run the import to the end of the rows. Returns the totals; throws ImportRefused for a file without a usable header
 * and rethrows a broken stream (the caller marks the import failed; batches committed before stay).
 */
export async function importLeads(db: Db, rows: AsyncIterable<SourceRow>, target: LeadImportTarget): Promise<ImportCounts> {
  const batchSize = target.batchSize ?? 2000
  const totals: ImportCounts = { rowsRead: 0, inserted: 0, duplicates: 0, bad: 0 }
  let idx: Partial<Record<LeadColumn, number>> | undefined
  let leads: NewLead[] = []
  let bad: BadRow[] = []
  let read = 0

  const flush = async (): Promise<void> => {
    if (read === 0) return
    const batch = leads
    const badRows = bad
    const rowsRead = read
    leads = []
    bad = []
    read = 0
    await db.transaction(async (tx) => {
      const r = batch.length > 0 ? await new LeadRepository(tx).insertMany(target.campaignId, batch, target.listId) : { insertedIds: [], duplicates: 0 }
      const delta = { rowsRead, inserted: r.insertedIds.length, duplicates: r.duplicates, bad: badRows.length }
      await new LeadImportRepository(tx).addProgress(target.importId, delta, badRows)
      totals.rowsRead += delta.rowsRead
      totals.inserted += delta.inserted
      totals.duplicates += delta.duplicates
      totals.bad += delta.bad
    })
  }

  for await (const row of rows) {
    if (idx === undefined) {
      if ('error' in row) throw new ImportRefused(`line ${row.line}: the header cannot be read: ${row.error}`)
      idx = readHeader(row.cells)
      continue
    }
    read++
    if ('error' in row) bad.push({ line: row.line, reason: row.error })
    else {
      const lead = toLead(row.cells, idx, target.region)
      if (typeof lead === 'string') bad.push({ line: row.line, reason: lead })
      else if ('reason' in lead) bad.push({ line: row.line, reason: lead.reason, value: cut(lead.value) })
      else leads.push(lead)
    }
    if (read >= batchSize) await flush()
  }
  if (idx === undefined) throw new ImportRefused('the file is empty: expected a header line naming the phone column')
  await flush()
  return totals
}
