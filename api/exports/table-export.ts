/**
 * A report table as CSV or XLSX: the same columns and rows either way, written by csv-stringify and exceljs (never
 * hand-written), with a header row of human column names. Numbers stay numbers in XLSX so a manager can sum them.
 */
import ExcelJS from 'exceljs'
import { stringify } from 'csv-stringify/sync'

export type ExportFormat = 'csv' | 'xlsx'

export interface ExportColumn<Row> {
  header: string
  value(row: Row): string | number
  /** Excel number format, e.g. '0.0%' for ratios. */
  numFmt?: string
}

export const ExportContentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
}

export async function exportTable<Row>(
  format: ExportFormat,
  sheetName: string,
  columns: readonly ExportColumn<Row>[],
  rows: readonly Row[],
): Promise<Buffer> {
  if (format === 'csv') {
    // A BOM so Excel opens UTF-8 (Chinese names) correctly when a manager double-clicks the file.
    const text = stringify([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => c.value(r)))])
    return Buffer.from(`\ufeff${text}`, 'utf8')
  }
  const workbook = new ExcelJS.Workbook()
  workbook.creator = 'Cadence'
  const sheet = workbook.addWorksheet(sheetName.slice(0, 31))
  sheet.columns = columns.map((c) => ({ header: c.header, width: Math.max(12, c.header.length + 2), style: c.numFmt ? { numFmt: c.numFmt } : {} }))
  for (const r of rows) sheet.addRow(columns.map((c) => c.value(r)))
  sheet.getRow(1).font = { bold: true }
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
