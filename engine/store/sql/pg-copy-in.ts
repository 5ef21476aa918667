/**
 * COPY ... FROM STDIN on one pg connection, as a pg Submittable (the interface pg gives queries that drive the
 * protocol themselves): send the statement, answer the server's CopyInResponse with the rows as one CopyData message
 * and CopyDone, settle at ReadyForQuery, or with the server's error. Written here rather than taken from
 * pg-copy-streams: it is these few protocol steps, and a new package would have to be installed by every checkout
 * before it typechecks.
 */
import type pg from 'pg'

/** The parts of pg's Connection a COPY uses; they exist on pg 8's Connection but @types/pg does not list them. */
interface CopyConnection {
  query(text: string): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
}

class CopyIn implements pg.Submittable {
  private settled = false

  constructor(
    private readonly text: string,
    private readonly rows: Buffer,
    private readonly settle: (err?: Error) => void,
  ) {}

  submit(connection: pg.Connection): void {
    ;(connection as unknown as CopyConnection).query(this.text)
  }

  handleCopyInResponse(connection: pg.Connection): void {
    const c = connection as unknown as CopyConnection
    if (this.rows.length > 0) c.sendCopyFromChunk(this.rows)
    c.endCopyFrom()
  }

  handleCommandComplete(): void {}

  /** pg calls this after CommandComplete; after an error it calls handleError and not this. */
  handleReadyForQuery(): void {
    this.done()
  }

  handleError(err: Error): void {
    this.done(err)
  }

  /** Called by pg for rows or notices a COPY does not produce; present so pg finds them. */
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}

  private done(err?: Error): void {
    if (this.settled) return
    this.settled = true
    this.settle(err)
  }
}

/** Run `sql` (a COPY ... FROM STDIN) on `client` with `rows` as its data. */
export function copyInto(client: pg.ClientBase, sql: string, rows: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    client.query(new CopyIn(sql, Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength), (err) => (err ? reject(err) : resolve())))
  })
}
