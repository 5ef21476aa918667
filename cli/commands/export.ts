/** `cadence export <listId> [--out file.csv]`: a lead list as CSV, streamed to a file (or stdout) with a progress count. */
import { createWriteStream } from 'node:fs'
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { api, apiTarget, CliError, expectOk } from '../api-client.js'
import { ProgressLine } from '../progress-bar.js'

export async function exportCommand(args: string[], out: NodeJS.WriteStream = process.stderr): Promise<number> {
  const [listId, flag, path] = args
  if (listId === undefined || (flag !== undefined && flag !== '--out')) throw new CliError('usage: cadence export <listId> [--out file.csv]', 2)
  const res = await api(apiTarget(), 'GET', `/v1/lead-lists/${encodeURIComponent(listId)}/export`)
  if (!res.ok || !res.body) await expectOk(res)
  const progress = new ProgressLine(out, 'downloading', undefined)
  let bytes = 0
  const counter = new TransformCounter((n) => {
    bytes += n
    progress.update(bytes)
  })
  const sink: Writable = path ? createWriteStream(path) : process.stdout
  await pipeline(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>), counter, sink)
  progress.finish(bytes)
  return 0
}

/** Counts bytes on their way to the file. */
class TransformCounter extends Transform {
  constructor(private readonly onBytes: (n: number) => void) {
    super()
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.onBytes(chunk.length)
    done(null, chunk)
  }
}
