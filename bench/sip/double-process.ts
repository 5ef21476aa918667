/**
 * The drachtio double in its own process for bench:sip (test/doubles/README.md: one process cannot be both the
 * server and a loaded app past ~300 calls/s). Prints `{"admin":"host:port","sip":"host:port","pid":n}` once
 * listening; answers a `dialogs` line on stdin with `{"dialogs":n}` so the bench can check nothing was left behind.
 *   npx tsx bench/sip/double-process.ts --secret s [--t1 500]
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { DrachtioDouble } from '../../test/doubles/drachtio/server.js'

const { values } = parseArgs({
  options: {
    secret: { type: 'string', default: 'cymru' },
    t1: { type: 'string', default: '500' },
  },
})

const double = await new DrachtioDouble({ secret: values.secret, t1Ms: Number(values.t1) }).start()
const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`)
say({ admin: `${double.host}:${double.adminPort}`, sip: `${double.host}:${double.sipPort}`, pid: process.pid })
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'dialogs') say({ dialogs: double.dialogCount })
})
const stop = (): void => {
  void double.stop().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
