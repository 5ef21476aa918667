/**
 * A bare drachtio-srf client in its own process, for the corrupt-frame test: an exception thrown from drachtio-srf's
 * socket handler is uncaught and kills the process, which a test process must not suffer. Prints `connected` once
 * authenticated. argv: host port secret.
 */
import Srf from 'drachtio-srf'

const [host, port, secret] = process.argv.slice(2)
const srf = new Srf()
srf.on('connect', (err: Error) => {
  if (err) {
    console.error(`connect failed: ${err.message}`)
    process.exit(2)
  }
  process.stdout.write('connected\n')
})
srf.on('error', (err: Error) => console.error(`srf error event: ${err.message}`))
void srf.connect({ host: host!, port: Number(port), secret: secret! })
