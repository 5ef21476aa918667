/**
 * Webhooks against a real HTTP receiver: deliveries are signed (the receiver's own check verifies them), retried
 * after failures until one succeeds, given up after the last attempt, enqueued once per event even when several
 * dispatchers see it, and events published while no dispatcher ran are caught up from the stored cursor.
 */
import t from 'tap'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventNames, type DomainEvent } from '../../engine/events/event-names.js'
import { RedisEventStream } from '../../engine/store/redis/event-stream.js'
import { WebhookRepository } from '../../engine/store/sql/webhooks.js'
import { exponentialBackoff } from '../../engine/webhooks/retry-schedule.js'
import { SignatureHeader, verifySignature } from '../../engine/webhooks/signature.js'
import { EventHub } from '../../api/events/event-hub.js'
import { WebhookDispatcher } from '../../api/events/webhook-dispatcher.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'

const settle = () => new Promise((r) => setTimeout(r, 20))

t.test('signed, retried, exactly-once-enqueued webhook deliveries', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const env = redisEnv('webhooks')
  t.teardown(() => env.cleanup())
  const redis = env.connect()
  const stream = new RedisEventStream(redis, env.keys)
  const h = await harness(test.db, { extra: { events: { redis, stream }, webhookTimers: false } })
  t.teardown(() => h.app.close())
  const dispatcher = h.app.webhookDispatcher!

  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = []
  let failFirst = 2
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString('utf8')))
    req.on('end', () => {
      received.push({ headers: req.headers, body })
      res.statusCode = failFirst-- > 0 ? 500 : 204
      res.end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  t.teardown(() => receiver.close())
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`

  const created = await h.app.inject({ method: 'POST', url: '/v1/webhooks', headers: h.auth('admin'), payload: { url, eventTypes: ['call.ended'] } })
  t.equal(created.statusCode, 201, created.body)
  const { secret, webhook } = created.json<{ secret: string; webhook: { id: string; siteId: string } }>()
  t.equal(webhook.siteId, 'default')
  const row = await test.db.query<{ secret_enc: string }>('SELECT secret_enc FROM webhooks WHERE id = $1', [webhook.id])
  t.notOk(row.rows[0]!.secret_enc.includes(secret.slice(6)), 'the signing secret is stored encrypted')

  const ev = (type: DomainEvent['type'], n: number): DomainEvent => ({ type, at: n, siteId: 'default', campaignId: 'c1', agentId: 'a1', data: { callId: `call-${n}` } })
  const repo = () => new WebhookRepository(test.db, h.pii)

  await stream.publish(ev(EventNames.CallOffered, 1))
  await stream.publish(ev(EventNames.CallEnded, 2))
  const deliveries = async () => (await test.db.query<{ id: string; status: string; attempts: number; event_type: string; last_status: number | null }>(
    'SELECT id, status, attempts, event_type, last_status FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id', [webhook.id])).rows
  while ((await deliveries()).length < 1) await settle()
  t.same((await deliveries()).map((d) => d.event_type), ['call.ended'], 'only the subscribed type becomes a delivery')

  await t.test('failures are retried until the receiver takes it; the signature verifies', async (t) => {
    t.equal(await dispatcher.deliverDue(), 1)
    let [d] = await deliveries()
    t.match(d, { status: 'pending', attempts: 1, last_status: 500 })
    t.equal(await dispatcher.deliverDue(), 0, 'not due again before its back-off')
    await test.db.query('UPDATE webhook_deliveries SET next_attempt_at = now()') // the back-off elapses
    await dispatcher.deliverDue()
    await test.db.query('UPDATE webhook_deliveries SET next_attempt_at = now()')
    await dispatcher.deliverDue()
    ;[d] = await deliveries()
    t.match(d, { status: 'delivered', attempts: 3, last_status: 204 })
    t.equal(received.length, 3)
    const last = received[2]!
    t.ok(verifySignature(secret, last.body, String(last.headers[SignatureHeader]), Math.floor(Date.now() / 1000)), 'signature verifies')
    t.notOk(verifySignature('whsec_wrong', last.body, String(last.headers[SignatureHeader]), Math.floor(Date.now() / 1000)))
    t.notOk(verifySignature(secret, last.body.replace('call-2', 'call-9'), String(last.headers[SignatureHeader]), Math.floor(Date.now() / 1000)))
    t.equal(last.headers['cadence-delivery-attempt'], '3')
    t.match(JSON.parse(last.body), { type: 'call.ended', data: { callId: 'call-2' }, siteId: 'default' })
    t.equal(await dispatcher.deliverDue(), 0, 'a delivered event is not sent again')
  })

  await t.test('a second dispatcher seeing the same events adds no delivery; missed events are caught up', async (t) => {
    dispatcher.stop()
    await stream.publish(ev(EventNames.CallEnded, 3)) // nobody follows the stream now
    const hub = new EventHub({ redis, stream, log: { warn: () => {} } })
    t.teardown(() => hub.close())
    const late = new WebhookDispatcher({ repo: repo(), hub, stream, redis, log: { info: () => {}, warn: () => {} }, schedule: exponentialBackoff({ baseMs: 1, maxMs: 1, maxAttempts: 1 }) })
    t.teardown(() => late.stop())
    await late.refresh()
    const again = new WebhookDispatcher({ repo: repo(), hub, stream, redis, log: { info: () => {}, warn: () => {} } })
    t.teardown(() => again.stop())
    await again.refresh()
    t.same((await deliveries()).map((d) => d.event_type), ['call.ended', 'call.ended'], 'the missed event once, despite two dispatchers')

    // The receiver now fails once more, and this dispatcher allows one attempt: the delivery fails for good.
    failFirst = 1
    await late.deliverDue()
    t.match((await deliveries())[1], { status: 'failed', attempts: 1, last_status: 500 })
    const list = await h.app.inject({ method: 'GET', url: `/v1/webhooks/${webhook.id}/deliveries`, headers: h.auth('supervisor') })
    t.match(list.json(), { items: [{ status: 'failed', lastError: 'HTTP 500' }, { status: 'delivered' }] })
  })

  await t.test('stop a webhook; another site cannot see it', async (t) => {
    const { repositories } = await import('../../engine/store/sql/repositories.js')
    const repos = repositories(test.db)
    await repos.sites.create({ id: 'xian', name: 'Xi’an' })
    const xian = { authorization: `Bearer ${(await repos.apiKeys.create({ name: 'x', role: 'admin', siteId: 'xian' })).key}` }
    t.equal((await h.app.inject({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}`, headers: xian })).statusCode, 404)
    t.same((await h.app.inject({ method: 'GET', url: '/v1/webhooks', headers: xian })).json(), { items: [] })
    t.equal((await h.app.inject({ method: 'DELETE', url: `/v1/webhooks/${webhook.id}`, headers: h.auth('admin') })).statusCode, 204)
    t.equal((await h.app.inject({ method: 'POST', url: '/v1/webhooks', headers: h.auth('admin'), payload: { url, eventTypes: ['nope'] } })).statusCode, 400)
  })
})

