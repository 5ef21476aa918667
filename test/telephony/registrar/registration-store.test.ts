/** The registrations' Lua steps on the real Redis, with the engine's clock virtual (expiry without waiting). */
import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { redisEnv } from '../../store/redis/fixtures/redis-env.js'

function setup(t: Tap, maxBindings = 3): { store: RegistrationStore; clock: VirtualClock; env: ReturnType<typeof redisEnv> } {
  const env = redisEnv('registrations')
  t.teardown(() => env.cleanup())
  const clock = new VirtualClock(1_800_000_000_000)
  return { store: new RegistrationStore(env.connect(), env.prefix, clock, maxBindings), clock, env }
}
type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

t.test('add, refresh, expire: a binding lives until its expiry on the engine clock', async (t) => {
  const { store, clock, env } = setup(t)
  const start = clock.now()
  const r = await store.apply('agent-1', { callId: 'c1', cseq: 1 }, [{ uri: 'sip:a@10.0.0.1', expires: 60 }], { receivedHost: '10.0.0.1', receivedPort: 5060 })
  t.strictSame(r, { ok: true, bindings: [{ uri: 'sip:a@10.0.0.1', expiresAt: start + 60_000 }] })
  const [b] = await store.lookup('agent-1')
  t.match(b, { uri: 'sip:a@10.0.0.1', callId: 'c1', cseq: 1, details: { receivedHost: '10.0.0.1', receivedPort: 5060 } })
  t.ok((await env.connect().pttl(env.keys.registrations('agent-1').contacts)) > 0, 'the key expires')
  clock.advanceBy(50_000)
  await store.apply('agent-1', { callId: 'c1', cseq: 2 }, [{ uri: 'sip:a@10.0.0.1', expires: 60 }])
  clock.advanceBy(50_000)
  t.equal((await store.lookup('agent-1')).length, 1, 'refreshed in time: still there')
  clock.advanceBy(10_001)
  t.strictSame(await store.lookup('agent-1'), [], 'expired')
  const k = env.keys.registrations('agent-1')
  t.equal(await env.connect().hlen(k.details), 0, 'its details went with it')
})

t.test('RFC 3261 step 7: same Call-ID with a CSeq not above the stored one changes nothing', async (t) => {
  const { store } = setup(t)
  await store.apply('agent-1', { callId: 'c1', cseq: 5 }, [{ uri: 'sip:a@h', expires: 60 }])
  t.strictSame(await store.apply('agent-1', { callId: 'c1', cseq: 5 }, [{ uri: 'sip:a@h', expires: 0 }]), { ok: false, why: 'out-of-order', storedCseq: 5 })
  t.equal((await store.lookup('agent-1')).length, 1)
  const other = await store.apply('agent-1', { callId: 'c2', cseq: 1 }, [{ uri: 'sip:a@h', expires: 120 }])
  t.equal(other.ok, true, 'another Call-ID (phone restarted) replaces it')
  t.match(await store.lookup('agent-1'), [{ callId: 'c2', cseq: 1 }])
})

t.test('several phones, a cap, remove one, remove all with *', async (t) => {
  const { store, env } = setup(t, 2)
  await store.apply('agent-1', { callId: 'c1', cseq: 1 }, [{ uri: 'sip:a@desk', expires: 60 }])
  await store.apply('agent-1', { callId: 'c2', cseq: 1 }, [{ uri: 'sip:a@soft', expires: 120 }])
  t.strictSame(await store.apply('agent-1', { callId: 'c3', cseq: 1 }, [{ uri: 'sip:a@mobile', expires: 60 }]), { ok: false, why: 'too-many', max: 2 })
  t.strictSame((await store.lookup('agent-1')).map((b) => b.uri), ['sip:a@desk', 'sip:a@soft'], 'soonest expiry first')
  t.strictSame(await store.lookup('agent-2'), [], 'agents are independent')
  const removed = await store.apply('agent-1', { callId: 'c1', cseq: 2 }, [{ uri: 'sip:a@desk', expires: 0 }])
  t.strictSame(removed.ok && removed.bindings.map((b) => b.uri), ['sip:a@soft'])
  t.strictSame(await store.apply('agent-1', { callId: 'c9', cseq: 1 }, '*'), { ok: true, bindings: [] })
  const k = env.keys.registrations('agent-1')
  t.equal(await env.connect().exists(k.contacts, k.details), 0, 'no key left')
})

t.test('two REGISTERs of one agent racing from two engine connections both land, none lost', async (t) => {
  const { env, clock } = setup(t, 50)
  const a = new RegistrationStore(env.connect(), env.prefix, clock, 50)
  const b = new RegistrationStore(env.connect(), env.prefix, clock, 50)
  await Promise.all(
    Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).apply('agent-1', { callId: `c${i}`, cseq: 1 }, [{ uri: `sip:a@p${i}`, expires: 60 }])),
  )
  t.equal((await a.lookup('agent-1')).length, 40)
})
