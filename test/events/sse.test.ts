/**
 * Real-time events end to end over real HTTP and a real Redis stream: an agent's desktop gets its own calls only, a
 * supervisor gets the site's events with filters, another site's events never cross, and a reconnect with
 * Last-Event-ID gets exactly the missed events, none twice.
 */
import t from 'tap'
import { EventNames, type DomainEvent } from '../../engine/events/event-names.js'
import { RedisEventStream } from '../../engine/store/redis/event-stream.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { redisEnv } from '../store/redis/fixtures/redis-env.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { harness } from '../api/harness.js'
import { SseClient } from './sse-client.js'

t.test('SSE streams per agent and per supervisor', async (t) => {
  const test = await createPgTestDb()
  t.teardown(() => test.dispose())
  const env = redisEnv('sse')
  t.teardown(() => env.cleanup())
  const redis = env.connect()
  const stream = new RedisEventStream(redis, env.keys)
  const h = await harness(test.db, { extra: { events: { redis, stream } } })
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => h.app.close())
  const repos = repositories(test.db)
  await repos.sites.create({ id: 'nanjing', name: 'Nanjing' })
  const ann = await repos.agents.create({ id: 'ann', name: 'Ann' })
  await repos.agents.create({ id: 'ben', name: 'Ben' })
  const bearer = async (o: Parameters<typeof repos.apiKeys.create>[0]) => ({ authorization: `Bearer ${(await repos.apiKeys.create(o)).key}` })
  const annKey = await bearer({ name: 'ann', role: 'agent', agentId: ann.id })
  const supKey = await bearer({ name: 'sup', role: 'supervisor' })

  const ev = (type: DomainEvent['type'], agentId: string | undefined, n: number, siteId = 'default'): DomainEvent => ({
    type, at: 1_000 + n, siteId, campaignId: 'c1', ...(agentId ? { agentId } : {}), data: { callId: `call-${n}` },
  })

  const annStream = new SseClient(`${base}/v1/agent/events`, annKey)
  const supStream = new SseClient(`${base}/v1/events?types=call.offered,call.ended`, supKey)
  t.teardown(() => Promise.all([annStream.close(), supStream.close()]))
  await annStream.ready()
  await supStream.ready()
  t.equal(annStream.status, 200)

  await stream.publish(ev(EventNames.CallOffered, 'ben', 1))
  await stream.publish(ev(EventNames.CallOffered, 'ann', 2, 'nanjing'))
  await stream.publish(ev(EventNames.AgentStates, undefined, 3))
  await stream.publish(ev(EventNames.CallOffered, 'ann', 4))
  await stream.publish(ev(EventNames.CallEnded, 'ann', 5))
  await stream.publish(ev(EventNames.DispositionDue, 'ann', 6))

  await annStream.until(3)
  t.same(annStream.events.map((e) => [e.event, e.data['data']]), [
    ['call.offered', { callId: 'call-4' }],
    ['call.ended', { callId: 'call-5' }],
    ['disposition.due', { callId: 'call-6' }],
  ], 'Ann sees her own calls, not Ben’s, not another site’s, not the supervisor-only states')

  await supStream.until(3)
  t.same(supStream.events.map((e) => e.data['data']), [{ callId: 'call-1' }, { callId: 'call-4' }, { callId: 'call-5' }],
    'the supervisor gets the site’s call.offered and call.ended only, as filtered')

  await t.test('a reconnect with Last-Event-ID gets what it missed, once, then live events', async (t) => {
    const seen = annStream.events[0]!.id
    await annStream.close()
    await stream.publish(ev(EventNames.CallOffered, 'ann', 7))
    const again = new SseClient(`${base}/v1/agent/events`, { ...annKey, 'last-event-id': seen })
    t.teardown(() => again.close())
    await again.ready()
    await stream.publish(ev(EventNames.CallEnded, 'ann', 8))
    await again.until(4)
    t.same(again.events.map((e) => (e.data['data'] as { callId: string }).callId), ['call-5', 'call-6', 'call-7', 'call-8'])
  })

  await t.test('refusals: an agent key without an agent, a supervisor naming another site, an unknown type', async (t) => {
    const orphan = await bearer({ name: 'orphan', role: 'agent' })
    const r1 = await fetch(`${base}/v1/agent/events`, { headers: orphan })
    t.equal(r1.status, 409)
    const r2 = await fetch(`${base}/v1/events?siteId=nanjing`, { headers: supKey })
    t.equal(r2.status, 400)
    t.match(await r2.json(), { errors: [{ field: 'querystring.siteId' }] })
    const r3 = await fetch(`${base}/v1/events?types=call.offered,nope.nope`, { headers: supKey })
    t.equal(r3.status, 400)
    const r4 = await fetch(`${base}/v1/events`, { headers: h.auth('admin') })
    t.equal(r4.status, 400, 'a platform admin must name the site')
  })
})
