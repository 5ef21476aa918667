/**
 * NgPool under the faults bench/sip met (issue 5): an ng reply that comes after its command timed out, a datagram
 * that is not ng at all, a command that is never answered. A small UDP double plays rtpengine's side of the ng
 * protocol (cookie, space, bencoded dictionary) so each fault happens on cue; the real daemon is exercised by
 * anchored-calls.test.ts. Checked: the command is sent once more and succeeds, nothing of rtpengine-client reaches
 * console.log (our JSON log on stdout), and what happened is in our log instead.
 */
import dgram from 'node:dgram'
import pino from 'pino'
import t from 'tap'
import { NgPool, RtpengineError } from '../../../engine/telephony/rtpengine/ng-pool.js'

/** Just enough bencode for the replies of this double. */
function bencode(v: Record<string, string>): string {
  return `d${Object.entries(v)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, s]) => `${Buffer.byteLength(k)}:${k}${Buffer.byteLength(s)}:${s}`)
    .join('')}e`
}

interface Received {
  cookie: string
  command: string
  from: dgram.RemoteInfo
}

/** A UDP peer speaking ng; `onCommand` decides per datagram what to do. */
async function ngDouble(onCommand: (r: Received, all: Received[], reply: (to: Received, body: Record<string, string>) => void, raw: (to: Received, bytes: string) => void) => void) {
  const socket = dgram.createSocket('udp4')
  const all: Received[] = []
  const reply = (to: Received, body: Record<string, string>): void => {
    socket.send(`${to.cookie} ${bencode(body)}`, to.from.port, to.from.address)
  }
  const raw = (to: Received, bytes: string): void => {
    socket.send(bytes, to.from.port, to.from.address)
  }
  socket.on('message', (msg, from) => {
    const text = msg.toString()
    const cookie = text.slice(0, text.indexOf(' '))
    const command = /7:command(\d+):/.exec(text)
    const r = { cookie, command: command ? text.substr(command.index + command[0].length, Number(command[1])) : '?', from }
    all.push(r)
    onCommand(r, all, reply, raw)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return { address: { host: '127.0.0.1', port: socket.address().port }, all, close: () => socket.close() }
}

/** console.log calls made while `fn` runs (rtpengine-client's way of reporting). */
async function consoleDuring<T>(fn: () => Promise<T>): Promise<{ value: T; printed: unknown[][] }> {
  const printed: unknown[][] = []
  const original = console.log
  console.log = (...args: unknown[]) => void printed.push(args)
  try {
    return { value: await fn(), printed }
  } finally {
    console.log = original
  }
}

function capture(): { logger: pino.Logger; lines: () => Array<{ msg: string; [k: string]: unknown }> } {
  const out: string[] = []
  const logger = pino({ level: 'debug' }, { write: (l: string) => void out.push(l) })
  return { logger, lines: () => out.map((l) => JSON.parse(l) as { msg: string }) }
}

t.test('a reply that comes after the timeout: the command is sent once more, the late reply goes to our log', async (t) => {
  const log = capture()
  // the first copy is answered only once its retry has been answered: late by construction, no clock involved
  const double = await ngDouble((r, all, reply) => {
    if (all.length === 2) {
      reply(r, { result: 'ok' })
      reply(all[0]!, { result: 'ok' })
    }
  })
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, timeoutMs: 150, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  const { value, printed } = await consoleDuring(async () => {
    const reply = await pool.command(double.address, 'query', { 'call-id': 'c-1' })
    // the late reply arrives right after: wait until our log has it
    for (let i = 0; i < 200 && !log.lines().some((l) => l.msg.startsWith('late rtpengine reply')); i++) await new Promise((r) => setTimeout(r, 10))
    return reply
  })
  t.equal(value.result, 'ok')
  t.equal(double.all.length, 2, 'sent twice')
  t.equal(double.all[0]!.command, 'query')
  t.not(double.all[0]!.cookie, double.all[1]!.cookie, 'the retry is a new request')
  t.strictSame(printed, [], 'nothing printed by rtpengine-client')
  t.ok(log.lines().some((l) => l.msg.startsWith('rtpengine did not answer in time') && l['callId'] === 'c-1'), 'the retry is logged with its call')
  t.ok(log.lines().some((l) => l.msg.startsWith('late rtpengine reply')), 'the late reply is logged')
})

t.test('a datagram that is not ng is logged and ignored; the command still gets its reply', async (t) => {
  const log = capture()
  const double = await ngDouble((r, _all, reply, raw) => {
    raw(r, 'garbage without a cookie')
    reply(r, { result: 'pong' })
  })
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, timeoutMs: 2000, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  const { value, printed } = await consoleDuring(() => pool.command(double.address, 'ping'))
  t.equal(value.result, 'pong')
  t.strictSame(printed, [], 'nothing printed by rtpengine-client')
  t.ok(log.lines().some((l) => l.msg.startsWith('undecodable datagram from rtpengine')))
})

t.test('a command never answered fails after one retry with an RtpengineError naming the engine', async (t) => {
  const log = capture()
  const double = await ngDouble(() => undefined)
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, timeoutMs: 100, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  const err = await pool.command(double.address, 'offer', { 'call-id': 'c-2' }).catch((e: unknown) => e)
  t.type(err, RtpengineError)
  t.match((err as RtpengineError).message, /^offer to 127\.0\.0\.1:\d+: rtpengine timeout/)
  t.equal((err as RtpengineError).command, 'offer')
  t.equal(double.all.length, 2, 'sent twice, not more')
})

t.test('a retried delete whose first copy landed is a success', async (t) => {
  const log = capture()
  const double = await ngDouble((r, all, reply) => {
    if (all.length === 2) reply(r, { result: 'error', 'error-reason': 'Unknown call-id' })
  })
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, timeoutMs: 100, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  t.equal((await pool.command(double.address, 'delete', { 'call-id': 'c-3' })).result, 'ok')
  t.equal(double.all.length, 2)
})

t.test('an unknown call-id on a first delete is still an error', async (t) => {
  const log = capture()
  const double = await ngDouble((r, _all, reply) => reply(r, { result: 'error', 'error-reason': 'Unknown call-id' }))
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, timeoutMs: 1000, pingIntervalMs: 0 })
  t.teardown(() => pool.close())
  await t.rejects(pool.command(double.address, 'delete', { 'call-id': 'c-4' }), /Unknown call-id/)
})

t.test('the receive buffer option is applied without complaint', async (t) => {
  const log = capture()
  const double = await ngDouble((r, _all, reply) => reply(r, { result: 'pong' }))
  t.teardown(() => double.close())
  const pool = new NgPool({ engines: [double.address], logger: log.logger, pingIntervalMs: 0, recvBufferBytes: 1 << 20 })
  t.teardown(() => pool.close())
  const { value, printed } = await consoleDuring(() => pool.command(double.address, 'ping'))
  t.equal(value.result, 'pong')
  t.strictSame(printed, [])
  t.notOk(log.lines().some((l) => l.msg.startsWith('UDP receive buffer not set')))
})
