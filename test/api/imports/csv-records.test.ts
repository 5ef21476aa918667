import { Readable } from 'node:stream'
import fc from 'fast-check'
import t from 'tap'
import { CsvRecords } from '../../../api/imports/csv-records.js'
import { csvRowChunks, csvRows } from '../../../api/imports/csv-rows.js'
import type { SourceRow } from '../../../engine/store/sql/lead-importer.js'

function parse(text: string, options: { delimiter?: string; maxRecordSize?: number } = {}, cuts: number[] = []): SourceRow[] {
  const r = new CsvRecords(options)
  const out: SourceRow[] = []
  let at = 0
  for (const c of [...cuts].sort((a, b) => a - b)) {
    r.push(text.slice(at, c), out)
    at = c
  }
  r.push(text.slice(at), out)
  r.end(out)
  return out
}

t.test('plain, quoted, escaped and multi-line fields with the line each record starts on', async (t) => {
  const text = '\ufeffphone,note\r\n13800000001,plain\n\n"13800000002","say ""hi"", then go"\n13800000003,"two\nlines"\n13800000004,a"b\n,\n'
  t.same(parse(text), [
    { line: 1, cells: ['phone', 'note'] },
    { line: 2, cells: ['13800000001', 'plain'] },
    { line: 4, cells: ['13800000002', 'say "hi", then go'] },
    { line: 5, cells: ['13800000003', 'two\nlines'] },
    { line: 7, cells: ['13800000004', 'a"b'] },
    { line: 8, cells: ['', ''] },
  ])
})

t.test('a record that cannot be read costs its line only; reading resumes on the next line', async (t) => {
  const text = 'phone\n"138"x,1\n13800000001\n"13800000002,unclosed\n13800000003\n13800000004'
  const rows = parse(text)
  t.same(
    rows.map((r) => ('error' in r ? [r.line, 'bad'] : [r.line, r.cells[0]])),
    [
      [1, 'phone'],
      [2, 'bad'],
      [3, '13800000001'],
      [4, 'bad'],
      [5, '13800000003'],
      [6, '13800000004'],
    ],
  )
  t.match((rows[1] as { error: string }).error, /^unreadable CSV: text after the closing quote/)
  t.match((rows[3] as { error: string }).error, /^unreadable CSV: a quoted field is never closed/)
})

t.test('an over-long record is a bad row, whether or not its line has ended yet', async (t) => {
  const long = 'x'.repeat(100)
  const rows = parse(`phone\n${long}\n13800000001\n"${long}\n13800000002\n`, { maxRecordSize: 50 }, [10, 30, 60])
  t.same(
    rows.map((r) => ('error' in r ? [r.line, 'bad'] : [r.line, r.cells[0]])),
    [
      [1, 'phone'],
      [2, 'bad'],
      [3, '13800000001'],
      [4, 'bad'],
      [5, '13800000002'],
    ],
  )
})

t.test('other delimiters', async (t) => {
  t.same(parse('a;b\n1;"x;y"\n', { delimiter: ';' }), [
    { line: 1, cells: ['a', 'b'] },
    { line: 2, cells: ['1', 'x;y'] },
  ])
  t.throws(() => new CsvRecords({ delimiter: '"' }))
})

t.test('however the text is cut into chunks, the records are the same as read whole', async (t) => {
  const cell = fc.oneof(fc.constantFrom('', '"', '""', ',', '\n', '\r\n', 'a"b', ' x '), fc.string({ maxLength: 6 }))
  const row = fc.array(cell, { minLength: 1, maxLength: 4 })
  const quote = (v: string) => (/[",\r\n]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v)
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (rows, cutSeeds, crlf) => {
      const text = rows.map((r) => r.map(quote).join(',')).join(crlf ? '\r\n' : '\n')
      const whole = parse(text)
      t.same(
        whole.map((r) => ('cells' in r ? r.cells : r.error)),
        rows,
        'every row read back as written',
      )
      const cuts = cutSeeds.map((s) => s % (text.length + 1))
      t.same(parse(text, {}, cuts), whole, `cut at ${JSON.stringify(cuts)}`)
    }),
    { numRuns: 300 },
  )
})

t.test('a byte stream, multi-byte characters split across chunks included', async (t) => {
  const bytes = Buffer.from('手机,备注\n13800000001,你好\n13800000002,"再见\n朋友"\n', 'utf8')
  const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
  const rows: SourceRow[] = []
  for await (const r of csvRows(Readable.from(chunks))) rows.push(r)
  t.same(rows, [
    { line: 1, cells: ['手机', '备注'] },
    { line: 2, cells: ['13800000001', '你好'] },
    { line: 3, cells: ['13800000002', '再见\n朋友'] },
  ])
  let runs = 0
  for await (const run of csvRowChunks(Readable.from([bytes]))) runs += run.length > 0 ? 1 : 0
  t.equal(runs, 1, 'one chunk of bytes, one run of rows')
})
