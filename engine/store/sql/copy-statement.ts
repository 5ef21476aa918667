/** The `COPY table (columns) FROM <source>` both drivers run for Queryable.copyIn. */
const Identifier = /^[a-z_][a-z0-9_]*$/

export function copyStatement(table: string, columns: readonly string[], source: string): string {
  for (const name of [table, ...columns]) {
    if (!Identifier.test(name)) throw new Error(`copyIn: ${JSON.stringify(name)} is not a plain lower-case identifier`)
  }
  if (columns.length === 0) throw new Error('copyIn: no columns')
  return `COPY ${table} (${columns.join(', ')}) FROM ${source}`
}
