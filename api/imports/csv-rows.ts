/**
 * A CSV byte stream as rows with their line numbers, split as the bytes arrive (CsvRecords); the stream is pulled,
 * so backpressure holds the upload while a batch commits. A record that cannot be read is reported at its line and
 * reading goes on. `csvRowChunks` hands over each chunk's rows at once (what the lead importer reads: one await per
 * chunk instead of per row); `csvRows` is the same one row at a time.
 */
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { SourceRow } from '../../engine/store/sql/lead-importer.js'
import { CsvRecords, type CsvRecordOptions } from './csv-records.js'

export type CsvRowsOptions = CsvRecordOptions

export async function* csvRowChunks(input: Readable, options: CsvRowsOptions = {}): AsyncGenerator<SourceRow[]> {
  const records = new CsvRecords(options)
  const decoder = new StringDecoder('utf8')
  // Not destroyed when the reader stops early (a refused header): the route drains the body and still answers.
  for await (const chunk of input.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
    const out: SourceRow[] = []
    records.push(typeof chunk === 'string' ? chunk : decoder.write(chunk), out)
    if (out.length > 0) yield out
  }
  const out: SourceRow[] = []
  const rest = decoder.end()
  if (rest !== '') records.push(rest, out)
  records.end(out)
  if (out.length > 0) yield out
}

export async function* csvRows(input: Readable, options: CsvRowsOptions = {}): AsyncGenerator<SourceRow> {
  for await (const chunk of csvRowChunks(input, options)) yield* chunk
}
