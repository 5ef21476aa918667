/**
 * Rows in PostgreSQL's COPY text format (tab between fields, newline after each row, `\N` for NULL, backslash escapes),
 * written into one growing buffer while rows are added: what `Queryable.copyIn` sends. A bulk write this way costs the
 * server one COPY parse per row instead of decoding a text array per column (`unnest($1::text[], ...)`), and costs
 * Node one short-lived string per row: a batch of 10,000 rows held as JS strings (or a rope of them) survives young
 * collections and is copied and promoted; bytes outside the JS heap are not (measured: GC was a third of the import's
 * Node time with a string batch).
 */

/** Characters COPY's text format gives a meaning: they must be escaped inside a field. */
const Special = /[\\\t\n\r]/
const SpecialAll = /[\\\t\n\r]/g
const Escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** One field of a row: NULL for null, otherwise the text with COPY's specials escaped. */
export function copyField(value: string | number | null): string {
  if (value === null) return '\\N'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`COPY field: ${value} is not a finite number`)
    return String(value)
  }
  return Special.test(value) ? value.replace(SpecialAll, (c) => Escapes[c]!) : value
}

export class CopyRows {
  private buf: Buffer
  private used = 0
  private rows = 0

  /** `initialBytes`: the first buffer's size; it doubles as rows are added. */
  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  /** Append one row; each field as copyField takes it. */
  add(fields: ReadonlyArray<string | number | null>): void {
    let line = ''
    for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]!)
    line += '\n'
    // A UTF-16 code unit is at most 3 bytes of UTF-8: room for that means the write cannot be cut short.
    const room = line.length * 3
    if (this.used + room > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + room))
      this.buf.copy(next, 0, 0, this.used)
      this.buf = next
    }
    this.used += this.buf.write(line, this.used, 'utf8')
    this.rows++
  }

  get count(): number {
    return this.rows
  }

  /** The rows so far, ready to send (a view of the buffer: valid until the next add). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.used)
  }
}
