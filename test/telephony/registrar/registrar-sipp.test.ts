/**
 * Agents registering through drachtio (issue 5): sipp as an agent's phone REGISTERs with digest credentials against
 * the engine's registrar, through the drachtio double (or a real drachtio-server, see replay/target.ts). Checks the
 * SIP each side saw and what Redis holds afterwards.
 */
import t from 'tap'
import { ha1Of } from '../../../engine/telephony/registrar/digest.js'
import type { SippEntry } from '../../doubles/drachtio/replay/transcript.js'
import { REALM, registrarHarness, type RegistrarHarness } from './registrar-harness.js'

function received(trace: SippEntry[]): SippEntry[] {
  return trace.filter((e) => e.dir === 'received')
}

function statusLines(trace: SippEntry[]): string[] {
  return received(trace).map((e) => e.text.split('\n')[0]!.trim())
}

function headerOf(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text)
  return m ? m[1]!.trim() : undefined
}

async function withAlice(h: RegistrarHarness): Promise<string> {
  const agent = await h.agents.create({ name: 'Alice', extension: '201' })
  await h.credentials.setPassword(agent.id, 'alice', REALM, 'alice-secret-1')
  return agent.id
}

t.test('agent registration with a wrong password: 401 challenge, then 403, nothing stored', async (t) => {
  const h = await registrarHarness()
  t.teardown(() => h.close())
  const agentId = await withAlice(h)
  const run = await (await h.phone('agent-register-wrong-password.xml')).done
  t.equal(run.code, 0, 'sipp saw the responses it expected', { stderr: run.stderr })
  t.strictSame(statusLines(run.trace), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 403 Forbidden'])
  const challenge = headerOf(received(run.trace)[0]!.text, 'WWW-Authenticate') ?? ''
  t.match(challenge, new RegExp(`^Digest realm="${REALM.replace('.', '\\.')}", nonce="[0-9a-z]+\\.[A-Za-z0-9_-]{22}", algorithm=MD5, qop="auth"$`))
  t.strictSame(await h.store.lookup(agentId), [], 'no binding for the agent')
  t.equal(await h.redis.connect().exists(h.redis.keys.registrations(agentId).contacts), 0, 'no key left in Redis')
  t.strictSame(h.events, [], 'no bindings event')
  t.ok(h.logLines.some((l) => l.includes('REGISTER refused') && l.includes('wrong-response')), 'the refusal is logged with why')
  t.notOk(h.logLines.some((l) => l.includes('not-her-password') || l.includes(ha1Of('alice', REALM, 'alice-secret-1'))), 'no secret in the log')
})

t.test('register, refresh, unregister: 200s list the bindings, Redis follows, keys gone at the end', async (t) => {
  const h = await registrarHarness()
  t.teardown(() => h.close())
  const agentId = await withAlice(h)
  const phone = await h.phone('agent-register-lifecycle.xml')
  const run = await phone.done
  t.equal(run.code, 0, 'sipp completed its scenario', { stderr: run.stderr })
  const got = received(run.trace)
  t.strictSame(statusLines(run.trace), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK'])
  const contact = `sip:alice@127.0.0.1:${phone.port}`
  t.equal(headerOf(got[1]!.text, 'Contact'), `<${contact}>;expires=3600`, 'registered for an hour')
  t.equal(headerOf(got[2]!.text, 'Contact'), `<${contact}>;expires=600`, 'the refresh shortened it to ten minutes')
  t.equal(headerOf(got[3]!.text, 'Contact'), undefined, 'no binding listed after Expires: 0')
  t.strictSame(
    h.events.map((e) => ({ agentId: e.agentId, uris: e.bindings.map((b) => b.uri) })),
    [
      { agentId, uris: [contact] },
      { agentId, uris: [contact] },
      { agentId, uris: [] },
    ],
  )
  const [registered, refreshed] = h.events
  t.ok(refreshed!.bindings[0]!.expiresAt < registered!.bindings[0]!.expiresAt, 'the refresh moved the expiry')
  t.strictSame(await h.store.lookup(agentId), [], 'unregistered')
  const redis = h.redis.connect()
  const k = h.redis.keys.registrations(agentId)
  t.equal(await redis.exists(k.contacts, k.details), 0, 'no key left in Redis')
})

t.test('a registered phone is stored with where it registered from and an expiring key', async (t) => {
  const h = await registrarHarness()
  t.teardown(() => h.close())
  const agentId = await withAlice(h)
  const phone = await h.phone('agent-register-once.xml')
  t.equal((await phone.done).code, 0, 'sipp registered')
  const bindings = await h.store.lookup(agentId)
  t.equal(bindings.length, 1)
  t.equal(bindings[0]!.uri, `sip:alice@127.0.0.1:${phone.port}`)
  t.equal(bindings[0]!.cseq, 2)
  t.match(bindings[0]!.details, { receivedHost: '127.0.0.1', receivedPort: phone.port, transport: 'udp', userAgent: 'sipp-agent-phone' })
  const ttl = await h.redis.connect().pttl(h.redis.keys.registrations(agentId).contacts)
  t.ok(ttl > 0 && ttl <= 3600_000, `the key expires with the binding (pttl ${ttl})`)
})
