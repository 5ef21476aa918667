/**
 * a3/a4: the real server buffers an app frame in a 12228-byte ring; a payload of exactly 12228 bytes works, one byte
 * more stalls the connection for good. The double reproduces the limit (and emits `stalled`, which the real server
 * cannot tell anyone). Apps must keep their frames under 12 KB.
 */
import net from 'node:net'
import t from 'tap'
import { encodeFrame, SERVER_BUFFER_BYTES } from '../../doubles/drachtio/framing.js'
import { startTarget, until } from '../../doubles/drachtio/replay/target.js'

/** A MESSAGE frame whose payload is exactly `size` bytes, like the probes of capture a4. */
function messageFrame(id: string, size: number): Buffer {
  const head = `${id}|sip||\r\nMESSAGE sip:nobody@127.0.0.1:9\r\nContent-Type: text/plain\r\n\r\n`.replace(':9\r\n', ':9 SIP/2.0\r\n')
  return encodeFrame(head + 'a'.repeat(size - Buffer.byteLength(head)))
}

t.test('a frame of 12228 bytes is served, 12229 stalls the connection', async (t) => {
  const target = await startTarget()
  t.teardown(() => target.close())
  const double = target.double
  if (!double) {
    t.pass('real server configured: the stall cannot be observed without the double')
    return
  }
  const stalled: number[] = []
  double.on('stalled', (id: number) => stalled.push(id))
  const replies = (conn: number): string[] =>
    target.recorder.frames.filter((f) => f.conn === conn && f.dir === 'SRV=>APP').map((f) => f.payload.split('\r\n')[0]!)

  const s1 = net.connect(target.recorder.port, '127.0.0.1')
  s1.resume()
  t.teardown(() => s1.destroy())
  s1.write(encodeFrame(`p1-auth|authenticate|${target.secret}|`))
  s1.write(messageFrame('p1', SERVER_BUFFER_BYTES))
  s1.write(encodeFrame('p1-ping|ping'))
  await until(() => replies(1).length === 3, 'three replies on the first connection')
  t.match(replies(1)[1] ?? '', /\|response\|p1\|OK\|application\|/, 'the 12228-byte request was sent')
  t.match(replies(1)[2] ?? '', /\|response\|p1-ping\|OK\|pong$/, 'and the connection still answers')

  const s2 = net.connect(target.recorder.port, '127.0.0.1')
  s2.resume()
  t.teardown(() => s2.destroy())
  s2.write(encodeFrame(`p2-auth|authenticate|${target.secret}|`))
  s2.write(messageFrame('p2', SERVER_BUFFER_BYTES + 1))
  await until(() => stalled.length === 1, 'the stall')
  s2.write(encodeFrame('p2-ping|ping'))
  // the ping is the proof the stall is for good: it reached the double (recorded) but is never answered
  await until(() => target.recorder.frames.some((f) => f.conn === 2 && f.payload === 'p2-ping|ping'), 'the ping to reach the server')
  // a third connection's pong comes after the double has had every chance to answer the stalled one
  const s3 = net.connect(target.recorder.port, '127.0.0.1')
  s3.resume()
  t.teardown(() => s3.destroy())
  s3.write(encodeFrame('p3-ping|ping'))
  await until(() => replies(3).length === 1, 'the pong on a fresh connection')
  t.strictSame(replies(2).length, 1, 'only the authenticate reply; nothing after the oversized frame')
})
