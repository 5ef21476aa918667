/**
 * An incremental CSV record splitter (RFC 4180 quoting, the dialect spreadsheets and CRMs export): text goes in as it
 * arrives, complete records come out with the line each starts on. Written for lead imports of millions of rows: a
 * line without a quote (nearly all of them) is cut with indexOf and split natively; only a line with a quote walks
 * character by character. csv-parse, used before, spent ~10 us a record with line info and error skipping on.
 *
 * Dialect: `\n` or `\r\n` ends a record; empty lines are skipped; a field that starts with `"` is quoted (`""` is a
 * quote, delimiters and newlines inside are data); a quote inside an unquoted field is data; rows may have any
 * number of fields. A record that cannot be read (text after a closing quote, a quote never closed, longer than the
 * limit) is reported at its first line and reading resumes on the next line, so one stray quote costs one row, not
 * the rest of the file.
 */
import type { SourceRow } from '../../engine/store/sql/lead-importer.js'

export interface CsvRecordOptions {
  delimiter?: string
  /** Longest record accepted, in characters; a longer one is a bad row, not a memory problem. */
  maxRecordSize?: number
}

const Quote = 34 // "
const Cr = 13
const Lf = 10

export class CsvRecords {
  private readonly delimiter: string
  private readonly maxRecordSize: number
  /** Text not yet consumed; always starts at the beginning of a record (or of a line being skipped). */
  private buf = ''
  /** Line number (1-based) where buf starts. */
  private line = 1
  private started = false
  /** An over-long line with no end in sight: drop text up to its newline. */
  private skipping = false

  constructor(options: CsvRecordOptions = {}) {
    this.delimiter = options.delimiter ?? ','
    if (this.delimiter === '' || this.delimiter.includes('"') || /[\r\n]/.test(this.delimiter)) {
      throw new Error(`bad CSV delimiter ${JSON.stringify(this.delimiter)}`)
    }
    this.maxRecordSize = options.maxRecordSize ?? 64 * 1024
  }

  /** Add text; the complete records in it are appended to `out`. */
  push(text: string, out: SourceRow[]): void {
    if (!this.started) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    this.buf = this.buf.length === 0 ? text : this.buf + text
    this.drain(false, out)
  }

  /** The text has ended: what is left is the last record. */
  end(out: SourceRow[]): void {
    this.drain(true, out)
    this.buf = ''
  }

  private drain(eof: boolean, out: SourceRow[]): void {
    const buf = this.buf
    const delim = this.delimiter
    let p = 0
    let line = this.line
    while (p < buf.length) {
      const nl = buf.indexOf('\n', p)
      if (this.skipping) {
        if (nl === -1) {
          p = buf.length
          break
        }
        this.skipping = false
        p = nl + 1
        line++
        continue
      }
      if (nl === -1 && !eof) {
        if (buf.length - p > this.maxRecordSize) {
          out.push({ line, error: `unreadable CSV: record longer than ${this.maxRecordSize} characters` })
          this.skipping = true
          p = buf.length
        }
        break
      }
      const e = nl === -1 ? buf.length : nl
      const q = buf.indexOf('"', p)
      if (q === -1 || q >= e) {
        // The fast path: one physical line, no quotes.
        let end = e
        if (end > p && buf.charCodeAt(end - 1) === Cr) end--
        if (end > p) {
          if (end - p > this.maxRecordSize) {
            out.push({ line, error: `unreadable CSV: record longer than ${this.maxRecordSize} characters` })
          } else {
            out.push({ line, cells: buf.slice(p, end).split(delim) })
          }
        }
        p = e + 1
        line++
        continue
      }
      const r = this.quoted(buf, p, eof)
      if (r === undefined) {
        // The record runs past the text so far: wait for more, unless it is already too long to be one.
        if (buf.length - p > this.maxRecordSize) {
          out.push({ line, error: `unreadable CSV: record longer than ${this.maxRecordSize} characters (a quote never closed?)` })
          p = e + 1
          line++
          continue
        }
        break
      }
      if ('error' in r) {
        out.push({ line, error: `unreadable CSV: ${r.error}` })
        // Resume on the line after the record's first: the lines a stray quote swallowed are read as rows again.
        p = e + 1
        line++
        continue
      }
      if (r.next - p > this.maxRecordSize) {
        out.push({ line, error: `unreadable CSV: record longer than ${this.maxRecordSize} characters` })
      } else {
        out.push({ line, cells: r.cells })
      }
      p = r.next
      line += r.lines
    }
    this.buf = p >= buf.length ? '' : buf.slice(p)
    this.line = line
  }

  /**
   * One record that has a quote somewhere, from `p`: its cells, where the next record starts and how many lines it
   * spans; an error; or undefined when the text ends inside it before `eof`.
   */
  private quoted(
    buf: string,
    p: number,
    eof: boolean,
  ): { cells: string[]; next: number; lines: number } | { error: string } | undefined {
    const delim = this.delimiter
    const d0 = delim.charCodeAt(0)
    const cells: string[] = []
    let i = p
    let lines = 1
    for (;;) {
      // At the start of a field.
      if (i < buf.length && buf.charCodeAt(i) === Quote) {
        let value = ''
        let from = i + 1
        for (;;) {
          const q = buf.indexOf('"', from)
          if (q === -1) {
            if (!eof) return undefined
            return { error: 'a quoted field is never closed' }
          }
          value += buf.slice(from, q)
          if (q + 1 < buf.length && buf.charCodeAt(q + 1) === Quote) {
            value += '"'
            from = q + 2
            continue
          }
          if (q + 1 >= buf.length && !eof) return undefined
          i = q + 1
          break
        }
        for (let k = value.indexOf('\n'); k !== -1; k = value.indexOf('\n', k + 1)) lines++
        cells.push(value)
        if (i >= buf.length) return { cells, next: i, lines }
        const c = buf.charCodeAt(i)
        if (c === d0 && buf.startsWith(delim, i)) {
          i += delim.length
          continue
        }
        if (c === Lf) return { cells, next: i + 1, lines }
        if (c === Cr && i + 1 < buf.length && buf.charCodeAt(i + 1) === Lf) return { cells, next: i + 2, lines }
        if (c === Cr && i + 1 >= buf.length && !eof) return undefined
        return { error: `text after the closing quote of field ${cells.length}` }
      }
      // An unquoted field: up to the delimiter or the end of the line; quotes in it are data.
      const nl = buf.indexOf('\n', i)
      const d = buf.indexOf(delim, i)
      if (d !== -1 && (nl === -1 || d < nl)) {
        cells.push(buf.slice(i, d))
        i = d + delim.length
        continue
      }
      if (nl === -1 && !eof) return undefined
      let end = nl === -1 ? buf.length : nl
      if (end > i && buf.charCodeAt(end - 1) === Cr) end--
      cells.push(buf.slice(i, end))
      return { cells, next: nl === -1 ? buf.length : nl + 1, lines }
    }
  }
}
