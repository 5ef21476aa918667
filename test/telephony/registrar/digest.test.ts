import t from 'tap'
import {
  challengeHeader,
  checkNonce,
  expectedResponse,
  ha1Of,
  makeNonce,
  md5,
  parseDigest,
  verifyDigest,
} from '../../../engine/telephony/registrar/digest.js'

t.test('RFC 2617 §3.5 example: the response for qop=auth', async (t) => {
  // the RFC's own vector (an HTTP GET, same arithmetic as SIP)
  const c = parseDigest(
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  )!
  t.equal(c.username, 'Mufasa')
  t.equal(c.opaque, '5ccc069c403ebaf9f0171e9517f40e41')
  const ha1 = ha1Of('Mufasa', 'testrealm@host.com', 'Circle Of Life')
  t.equal(expectedResponse(ha1, 'GET', c), '6629fae49393a05397450978507c4ef1')
  t.strictSame(verifyDigest(ha1, 'testrealm@host.com', 'GET', c), { ok: true })
  t.strictSame(verifyDigest(ha1Of('Mufasa', 'testrealm@host.com', 'wrong'), 'testrealm@host.com', 'GET', c), { ok: false, why: 'wrong-response' })
  t.strictSame(verifyDigest(ha1, 'testrealm@host.com', 'POST', c), { ok: false, why: 'wrong-response' }, 'the method is part of the hash')
  t.strictSame(verifyDigest(ha1, 'other', 'GET', c), { ok: false, why: 'wrong-realm' })
})

t.test('no qop (RFC 2069 style) still verifies; a qop without nc/cnonce or another algorithm does not', async (t) => {
  const ha1 = ha1Of('bob', 'r', 'pw-pw-pw-pw')
  const base = { username: 'bob', realm: 'r', nonce: 'n1', uri: 'sip:r' }
  const response = md5(`${ha1}:n1:${md5('REGISTER:sip:r')}`)
  t.strictSame(verifyDigest(ha1, 'r', 'REGISTER', { ...base, response }), { ok: true })
  t.strictSame(verifyDigest(ha1, 'r', 'REGISTER', { ...base, response, qop: 'auth' }), { ok: false, why: 'bad-qop' })
  t.strictSame(verifyDigest(ha1, 'r', 'REGISTER', { ...base, response, algorithm: 'SHA-256' }), { ok: false, why: 'bad-algorithm' })
})

t.test('parseDigest refuses other schemes and incomplete credentials', async (t) => {
  t.equal(parseDigest(undefined), undefined)
  t.equal(parseDigest('Basic YWxhZGRpbjpvcGVuc2VzYW1l'), undefined)
  t.equal(parseDigest('Digest username="a", realm="r", nonce="n", uri="u"'), undefined, 'no response')
  t.equal(parseDigest('Digest username="a\\"b", realm="r", nonce="n", uri="u", response="x"')?.username, 'a"b', 'quoted-pair unescaped')
})

t.test('nonces: ours verify until their lifetime, forged or foreign ones do not', async (t) => {
  const now = 1_700_000_000_000
  const n = makeNonce('secret-1234567890', 'realm', now)
  t.equal(checkNonce('secret-1234567890', 'realm', n, now + 1000, 300_000), 'valid')
  t.equal(checkNonce('secret-1234567890', 'realm', n, now + 300_001, 300_000), 'stale')
  t.equal(checkNonce('another-secret-000', 'realm', n, now, 300_000), 'forged', 'another deployment')
  t.equal(checkNonce('secret-1234567890', 'other-realm', n, now, 300_000), 'forged', 'another realm')
  const [issued, mac] = n.split('.')
  t.equal(checkNonce('secret-1234567890', 'realm', `${(parseInt(issued!, 36) + 1).toString(36)}.${mac}`, now, 300_000), 'forged', 'a moved timestamp')
  t.equal(checkNonce('secret-1234567890', 'realm', 'wire0123456789abcdef', now, 300_000), 'forged')
  t.equal(checkNonce('secret-1234567890', 'realm', n, now - 120_000, 300_000), 'stale', 'issued in the future (skew beyond a minute)')
  t.equal(challengeHeader('realm', n, true), `Digest realm="realm", nonce="${n}", algorithm=MD5, qop="auth", stale=true`)
})
