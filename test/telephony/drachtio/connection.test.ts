/**
 * The engine's drachtio connection survives a garbled admin stream (issue 5): the throw inside drachtio-srf is
 * contained, the connection says it is down and why, reconnects, and calls go through again. Runs against the double
 * (a real server cannot be made to garble its stream); with DRACHTIO_ADDRESS set only the connect part runs.
 */
import pino from 'pino'
import t from 'tap'
import { ConnectionEvents, DrachtioConnection, type ConnectionDown, type ConnectionUp } from '../../../engine/telephony/drachtio/connection.js'
import { bounded } from '../../doubles/drachtio/replay/replay.js'
import { startSipp } from '../../doubles/drachtio/replay/sipp.js'
import { APP_SDP, startTarget, until } from '../../doubles/drachtio/replay/target.js'

function captureLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) })
  return { logger, lines }
}

t.test('a corrupt admin frame: contained, reported, reconnected, and calls work again', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const { logger, lines } = captureLogger()
  const conn = new DrachtioConnection({ host: '127.0.0.1', port: target.recorder.port, secret: target.secret, logger })
  t.teardown(() => conn.stop())
  const ups: ConnectionUp[] = []
  const downs: ConnectionDown[] = []
  conn.on(ConnectionEvents.Up, (e: ConnectionUp) => ups.push(e))
  conn.on(ConnectionEvents.Down, (e: ConnectionDown) => downs.push(e))
  conn.srf.invite((_req, res) => res.send(486))

  const first = await conn.start()
  t.equal(first.generation, 1)
  t.ok(conn.connected, 'connected')
  t.ok(first.hostports.some((h) => h.startsWith('udp/')), 'the server told us its SIP transports')

  const double = target.double
  if (!double) {
    t.pass('real server configured: frame injection needs the double')
    return
  }
  double.injectCorruptFrame()
  await until(() => downs.length === 1, 'the connection to report it is down')
  t.strictSame(downs[0]?.reason, 'garbled-admin-stream', 'down, and why')
  t.match(downs[0]?.detail ?? '', /invalid message, missing length specifier/)
  await until(() => ups.length === 2, 'the reconnect')
  t.equal(ups[1]?.generation, 2, 'reconnected')
  t.ok(conn.connected, 'connected again')
  t.equal(double.connectionCount, 1, 'the broken connection is gone, one is left')

  // the admin and SIP paths work after the reconnect: an outbound call reaches sipp and its 486 comes back
  const sipp = await startSipp({ scenario: 'uas-reject-486.xml' })
  const status = await bounded(
    conn.srf.createUAC(`sip:service@127.0.0.1:${sipp.port}`, { localSdp: APP_SDP }).then(
      () => 200,
      (e: { status?: number }) => e.status,
    ),
    15000,
    'the call after the reconnect',
  )
  t.equal(status, 486, 'a call placed after the reconnect got its answer')
  t.equal((await sipp.done).code, 0, 'sipp saw the whole call')

  const log = lines.join('')
  t.match(log, /garbled drachtio admin stream/, 'the error is logged')
  t.match(log, /not dialing until it is back/, 'and the consequence')
  t.notMatch(log, new RegExp(`\\b${target.secret}\\b`), 'the secret is never logged')
})

t.test('stop() closes without reporting a loss and without reconnecting', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const { logger } = captureLogger()
  const conn = new DrachtioConnection({ host: '127.0.0.1', port: target.recorder.port, secret: target.secret, logger })
  const downs: ConnectionDown[] = []
  conn.on(ConnectionEvents.Down, (e: ConnectionDown) => downs.push(e))
  await conn.start()
  await conn.stop()
  t.notOk(conn.connected)
  if (target.double) {
    const double = target.double
    await until(() => double.connectionCount === 0, 'the server to see the close')
  }
  t.strictSame(downs, [], 'no down event for a stop we asked for')
})
