/**
 * A CSV byte stream as rows with their line numbers, parsed by csv-parse as the bytes arrive (backpressure holds the
 * upload while a batch commits). A record the parser cannot read is reported at its line and parsing goes on.
 */
import type { Readable } from 'node:stream'
import { parse, type CsvError } from 'csv-parse'
import type { SourceRow } from '../../engine/store/sql/lead-importer.js'

export interface CsvRowsOptions {
  delimiter?: string
  /** Longest record accepted, in characters; a longer one is a bad row, not a memory problem. */
  maxRecordSize?: number
}

export async function* csvRows(input: Readable, options: CsvRowsOptions = {}): AsyncGenerator<SourceRow> {
  const skipped: SourceRow[] = []
  let lastSkipLine = -1
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    info: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    max_record_size: options.maxRecordSize ?? 64 * 1024,
    on_skip: (err: CsvError | undefined) => {
      const line = typeof err?.['lines'] === 'number' ? err['lines'] : lastSkipLine
      // One bad record can raise several errors; report it once.
      if (line === lastSkipLine) return undefined
      lastSkipLine = line
      skipped.push({ line, error: `unreadable CSV: ${err?.message ?? 'bad record'}` })
      return undefined
    },
  })
  input.on('error', (err) => parser.destroy(err))
  input.pipe(parser)
  for await (const item of parser as AsyncIterable<{ info: { lines: number }; record: string[] }>) {
    while (skipped.length > 0 && skipped[0]!.line < item.info.lines) yield skipped.shift()!
    yield { line: item.info.lines, cells: item.record }
  }
  while (skipped.length > 0) yield skipped.shift()!
}
