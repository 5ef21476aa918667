import fc from 'fast-check'
import t from 'tap'
import { expectedResponse, ha1Of, makeNonce, parseDigest } from '../../../engine/telephony/registrar/digest.js'
import {
  DEFAULT_POLICY,
  authenticate,
  contactHeader,
  parseContacts,
  planBindings,
  type RegistrarPolicy,
  type SipCredential,
} from '../../../engine/telephony/registrar/registration.js'

const policy: RegistrarPolicy = { ...DEFAULT_POLICY, realm: 'cadence.test', nonceSecret: 'nonce-secret-0123456789' }
const NOW = 1_800_000_000_000
const alice: SipCredential = { agentId: 'a1', username: 'alice', realm: 'cadence.test', ha1: ha1Of('alice', 'cadence.test', 'right-pass'), active: true }

/** An Authorization header as a phone would compute it. */
function authorization(password: string, opts: { nonce?: string; username?: string; realm?: string } = {}): string {
  const username = opts.username ?? 'alice'
  const realm = opts.realm ?? policy.realm
  const nonce = opts.nonce ?? makeNonce(policy.nonceSecret, policy.realm, NOW)
  const c = { username, realm, nonce, uri: 'sip:cadence.test', response: '', qop: 'auth', nc: '00000001', cnonce: 'abc' }
  const response = expectedResponse(ha1Of(username, realm, password), 'REGISTER', c)
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="sip:cadence.test", response="${response}", qop=auth, nc=00000001, cnonce="abc", algorithm=MD5`
}

const to = '<sip:alice@cadence.test>'

t.test('no credentials: 401 with a nonce of ours', async (t) => {
  const r = authenticate({ method: 'REGISTER', to, authorization: undefined }, undefined, policy, NOW)
  t.equal(r.ok, false)
  if (r.ok) return
  t.equal(r.refusal.status, 401)
  t.match(r.refusal.headers['WWW-Authenticate'], /^Digest realm="cadence\.test", nonce="[^"]+", algorithm=MD5, qop="auth"$/)
})

t.test('right password: authenticated as the agent; wrong one or unknown user: the same 403', async (t) => {
  const ok = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass') }, alice, policy, NOW)
  t.strictSame(ok, { ok: true, credential: alice })
  const wrong = authenticate({ method: 'REGISTER', to, authorization: authorization('wrong-pass') }, alice, policy, NOW)
  const unknown = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass') }, undefined, policy, NOW)
  for (const r of [wrong, unknown]) {
    t.equal(r.ok, false)
    if (!r.ok) t.strictSame([r.refusal.status, r.refusal.reason, r.refusal.headers], [403, 'Forbidden', {}])
  }
})

t.test('stale nonce with the right password: a new challenge with stale=true; with a wrong one: 403', async (t) => {
  const old = makeNonce(policy.nonceSecret, policy.realm, NOW - policy.nonceLifetimeMs - 1)
  const r = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass', { nonce: old }) }, alice, policy, NOW)
  t.equal(!r.ok && r.refusal.status, 401)
  t.match(!r.ok && r.refusal.headers['WWW-Authenticate'], /stale=true$/)
  const w = authenticate({ method: 'REGISTER', to, authorization: authorization('nope', { nonce: old }) }, alice, policy, NOW)
  t.equal(!w.ok && w.refusal.status, 403)
})

t.test('a nonce not issued by us, another realm, an inactive agent, someone else\'s AOR', async (t) => {
  const forged = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass', { nonce: 'abc.defghijklmnopqrstuvwxyz' }) }, alice, policy, NOW)
  t.equal(!forged.ok && forged.refusal.status, 401, 'forged nonce: challenged again')
  const foreignRealm = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass', { realm: 'elsewhere' }) }, alice, policy, NOW)
  t.equal(!foreignRealm.ok && foreignRealm.refusal.status, 401, 'credentials for another realm: challenged for ours')
  const inactive = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass') }, { ...alice, active: false }, policy, NOW)
  t.equal(!inactive.ok && inactive.refusal.why, 'agent inactive')
  const bob = authenticate({ method: 'REGISTER', to: '<sip:bob@cadence.test>', authorization: authorization('right-pass') }, alice, policy, NOW)
  t.equal(!bob.ok && bob.refusal.status, 403, 'alice cannot register bob\'s address')
  const oldRealm = authenticate({ method: 'REGISTER', to, authorization: authorization('right-pass') }, { ...alice, realm: 'old' }, policy, NOW)
  t.equal(!oldRealm.ok && oldRealm.refusal.why, 'credential set for another realm')
})

t.test('property: only the right password authenticates', async () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20 }), (password) => {
      const r = authenticate({ method: 'REGISTER', to, authorization: authorization(password) }, alice, policy, NOW)
      return r.ok === (password === 'right-pass')
    }),
  )
})

t.test('contacts: lists, several headers, parameters, display names, *', async (t) => {
  t.strictSame(parseContacts(['<sip:a@1.2.3.4:5060>;expires=60, "Desk, left" <sip:a@5.6.7.8;transport=tcp>', 'sip:a@9.9.9.9;expires=0']), [
    { uri: 'sip:a@1.2.3.4:5060', expires: 60 },
    { uri: 'sip:a@5.6.7.8;transport=tcp' },
    { uri: 'sip:a@9.9.9.9', expires: 0 },
  ])
  t.equal(parseContacts(['*']), '*')
  t.strictSame(parseContacts([]), [])
})

t.test('bindings: expires from the contact, the header, or the default; clamped; 423 below the minimum', async (t) => {
  t.strictSame(planBindings({ contacts: ['<sip:a@h>'], expires: '600' }, policy), { kind: 'update', changes: [{ uri: 'sip:a@h', expires: 600 }] })
  t.strictSame(planBindings({ contacts: ['<sip:a@h>;expires=120'], expires: '600' }, policy), { kind: 'update', changes: [{ uri: 'sip:a@h', expires: 120 }] })
  t.strictSame(planBindings({ contacts: ['<sip:a@h>'], expires: undefined }, policy), { kind: 'update', changes: [{ uri: 'sip:a@h', expires: 3600 }] })
  t.strictSame(planBindings({ contacts: ['<sip:a@h>'], expires: '86400' }, policy), { kind: 'update', changes: [{ uri: 'sip:a@h', expires: 3600 }] })
  t.strictSame(planBindings({ contacts: ['<sip:a@h>'], expires: '0' }, policy), { kind: 'update', changes: [{ uri: 'sip:a@h', expires: 0 }] })
  const brief = planBindings({ contacts: ['<sip:a@h>'], expires: '10' }, policy)
  t.equal(brief.kind === 'refuse' && brief.refusal.status, 423)
  t.strictSame(brief.kind === 'refuse' && brief.refusal.headers, { 'Min-Expires': '60' })
  t.strictSame(planBindings({ contacts: [], expires: undefined }, policy), { kind: 'query' })
  t.strictSame(planBindings({ contacts: ['*'], expires: '0' }, policy), { kind: 'remove-all' })
  const star = planBindings({ contacts: ['*'], expires: '3600' }, policy)
  t.equal(star.kind === 'refuse' && star.refusal.status, 400)
  const notSip = planBindings({ contacts: ['<http://x>'], expires: '60' }, policy)
  t.equal(notSip.kind === 'refuse' && notSip.refusal.status, 400)
})

t.test('the 200 lists every binding with the seconds it has left', async (t) => {
  t.equal(contactHeader([{ uri: 'sip:a@h', expiresAt: NOW + 600_000 }, { uri: 'sip:a@k', expiresAt: NOW + 30_400 }], NOW), '<sip:a@h>;expires=600, <sip:a@k>;expires=30')
  t.equal(contactHeader([], NOW), undefined)
  t.ok(parseDigest(authorization('x')), 'the helper builds parseable headers')
})
