/**
 * The first worksheet of an XLSX byte stream as rows with their row numbers, read by exceljs's streaming reader (rows
 * are emitted as the zip entry inflates; the file is not loaded whole). A file exceljs cannot read is refused.
 * Known limit: text cells live in the workbook's shared-strings table, which exceljs caches whole before the rows;
 * numbers stored as numbers (the usual case for phone columns) cost nothing there.
 */
import type { Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import { ImportRefused, type SourceRow } from '../../engine/store/sql/lead-importer.js'

export const XlsxContentType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

function text(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : String(v)
  if (typeof v === 'boolean') return String(v)
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'object') {
    const o = v as { richText?: Array<{ text: string }>; text?: unknown; result?: unknown; error?: string }
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('')
    if (o.text !== undefined) return text(o.text)
    if (o.result !== undefined) return text(o.result)
    if (o.error !== undefined) return ''
  }
  return String(v)
}

export async function* xlsxRows(input: Readable): AsyncGenerator<SourceRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  })
  let sheets = 0
  try {
    for await (const sheet of reader) {
      if (sheets++ > 0) {
        // Only the first sheet is imported; the rest must still be consumed for the stream to finish.
        for await (const _row of sheet) void _row
        continue
      }
      for await (const row of sheet) {
        const values = Array.isArray(row.values) ? (row.values as unknown[]).slice(1) : []
        yield { line: row.number, cells: Array.from(values, text) }
      }
    }
  } catch (err) {
    if (err instanceof ImportRefused) throw err
    throw new ImportRefused(`not a readable XLSX file: ${err instanceof Error ? err.message : String(err)}`)
  }
}
