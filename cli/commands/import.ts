/** `cadence import <listId> <file.csv|file.xlsx> [--region CN]`: streams the file with a progress bar, then the totals. */
import { createReadStream, statSync } from 'node:fs'
import { Readable } from 'node:stream'
import { api, apiTarget, CliError, expectOk } from '../api-client.js'
import { ProgressLine } from '../progress-bar.js'

interface ImportResult {
  id: string
  status: string
  rowsRead: number
  inserted: number
  duplicates: number
  bad: number
  badRows: Array<{ line: number; reason: string }>
}

export async function importCommand(args: string[], out: NodeJS.WriteStream = process.stderr): Promise<number> {
  const [listId, file, ...rest] = args
  if (listId === undefined || file === undefined) throw new CliError('usage: cadence import <listId> <file.csv|file.xlsx> [--region CN]', 2)
  const region = rest[0] === '--region' ? rest[1] : undefined
  let size: number
  try {
    size = statSync(file).size
  } catch {
    throw new CliError(`cannot read ${file}`, 2)
  }
  const xlsx = file.toLowerCase().endsWith('.xlsx')
  const progress = new ProgressLine(out, 'uploading', size)
  let sent = 0
  const source = createReadStream(file)
  source.on('data', (chunk: Buffer | string) => {
    sent += chunk.length
    progress.update(sent)
  })
  const target = apiTarget()
  const res = await api(target, 'POST', `/v1/lead-lists/${encodeURIComponent(listId)}/imports${region ? `?region=${encodeURIComponent(region)}` : ''}`, {
    body: Readable.toWeb(source),
    headers: { 'content-type': xlsx ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv' },
  })
  const result = await expectOk<ImportResult>(res)
  progress.finish(sent)
  process.stdout.write(
    `import ${result.id}: ${result.status}; ${result.rowsRead} rows read, ${result.inserted} leads added, ` +
      `${result.duplicates} duplicates, ${result.bad} bad rows\n`,
  )
  for (const b of result.badRows.slice(0, 20)) process.stdout.write(`  line ${b.line}: ${b.reason}\n`)
  if (result.bad > 20) process.stdout.write(`  ... every bad row: GET /v1/lead-lists/${listId}/imports/${result.id}/errors\n`)
  return 0
}
