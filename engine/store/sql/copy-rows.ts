/**
 * Rows in PostgreSQL's COPY text format (tab between fields, newline after each row, `\N` for NULL, backslash escapes),
 * built as one string while rows are added: what `Queryable.copyIn` sends. A bulk write this way costs the server one
 * COPY parse per row instead of decoding a text array per column (`unnest($1::text[], ...)`), and costs Node a string
 * append instead of building and escaping the arrays.
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
  private body = ''
  private rows = 0

  /** Append one row; each field as copyField takes it. */
  add(fields: ReadonlyArray<string | number | null>): void {
    let line = ''
    for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]!)
    this.body += `${line}\n`
    this.rows++
  }

  get count(): number {
    return this.rows
  }

  /** The rows so far, ready to send. */
  get text(): string {
    return this.body
  }
}
