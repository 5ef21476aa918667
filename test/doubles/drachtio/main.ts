/**
 * Runs the drachtio double in its own process (for bench/sip, or by hand with sipp):
 *   npx tsx test/doubles/drachtio/main.ts [--secret s] [--admin-port 9022] [--sip-port 5060] [--cdrs] [--t1 500]
 * Prints one JSON line with the ports once listening; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { DrachtioDouble } from './server.js'

const { values } = parseArgs({
  options: {
    secret: { type: 'string', default: 'cymru' },
    'admin-port': { type: 'string', default: '0' },
    'sip-port': { type: 'string', default: '0' },
    cdrs: { type: 'boolean', default: false },
    t1: { type: 'string', default: '500' },
  },
})

const double = await new DrachtioDouble({
  secret: values.secret,
  adminPort: Number(values['admin-port']),
  sipPort: Number(values['sip-port']),
  cdrs: values.cdrs,
  t1Ms: Number(values.t1),
}).start()
process.stdout.write(`${JSON.stringify({ admin: `${double.host}:${double.adminPort}`, sip: `${double.host}:${double.sipPort}` })}\n`)
const stop = (): void => {
  void double.stop().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
