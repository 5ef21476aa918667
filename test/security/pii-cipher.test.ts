import t from 'tap'
import { randomBytes } from 'node:crypto'
import { generateKeyring, parseKeyList, PiiCipher, PiiKeyError } from '../../engine/security/pii-cipher.js'

const ring = (current = 'k1', ids = ['k1']) => ({
  keys: new Map(ids.map((id) => [id, randomBytes(32)])),
  currentKeyId: current,
  lookupKey: randomBytes(32),
})

t.test('round trip, and the ciphertext holds no trace of the plaintext', async (t) => {
  const c = new PiiCipher(ring())
  const phone = '+8613800138000'
  const ct = c.encrypt(phone, 'customer:1')
  t.notMatch(ct, /13800138000/)
  t.equal(c.decrypt(ct, 'customer:1'), phone)
  t.not(c.encrypt(phone, 'customer:1'), ct, 'a fresh IV each time: equal numbers do not give equal ciphertexts')
  t.equal(c.decrypt(c.encrypt('张三 王'), ''), '张三 王', 'unicode names survive')
})

t.test('IVs come from a pool and are never handed out twice, across refills', async (t) => {
  const c = new PiiCipher(ring())
  const ivs = new Set<string>()
  const n = 5000 // several refills of the 1,024-IV pool
  for (let i = 0; i < n; i++) {
    const ct = c.encrypt(String(i), `row:${i}`)
    ivs.add(ct.split('.')[2]!)
    if (i % 997 === 0) t.equal(c.decrypt(ct, `row:${i}`), String(i))
  }
  t.equal(ivs.size, n)
})

t.test('a ciphertext moved to another row, or altered, fails instead of decrypting', async (t) => {
  const c = new PiiCipher(ring())
  const ct = c.encrypt('+8613800138000', 'customer:1')
  t.throws(() => c.decrypt(ct, 'customer:2'))
  const parts = ct.split('.')
  const body = Buffer.from(parts[3]!, 'base64url')
  body[0] = body[0]! ^ 1
  t.throws(() => c.decrypt([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'customer:1'))
  t.throws(() => c.decrypt('plain text', ''), PiiKeyError)
})

t.test('rotation: old ciphertexts still decrypt and are marked for re-encryption; retired keys fail clearly', async (t) => {
  const keys = new Map([
    ['k1', randomBytes(32)],
    ['k2', randomBytes(32)],
  ])
  const lookupKey = randomBytes(32)
  const before = new PiiCipher({ keys, currentKeyId: 'k1', lookupKey })
  const old = before.encrypt('+14155550100')
  const after = new PiiCipher({ keys, currentKeyId: 'k2', lookupKey })
  t.equal(after.decrypt(old), '+14155550100')
  t.ok(after.needsReencrypt(old))
  const fresh = after.encrypt(after.decrypt(old))
  t.notOk(after.needsReencrypt(fresh))
  t.equal(after.lookupHash('phone', '+14155550100'), before.lookupHash('phone', '+14155550100'), 'lookup hashes survive key rotation')
  const retired = new PiiCipher({ keys: new Map([['k2', keys.get('k2')!]]), currentKeyId: 'k2', lookupKey })
  t.throws(() => retired.decrypt(old), /k1 is not in the keyring/)
})

t.test('lookup hashes: keyed, domain-separated, deterministic', async (t) => {
  const a = new PiiCipher(ring())
  const b = new PiiCipher(ring())
  t.equal(a.lookupHash('phone', '+8613800138000'), a.lookupHash('phone', '+8613800138000'))
  t.not(a.lookupHash('phone', '+8613800138000'), b.lookupHash('phone', '+8613800138000'), 'another lookup key, another hash')
  t.not(a.lookupHash('phone', 'x'), a.lookupHash('name', 'x'))
  t.equal(PiiCipher.maskPhone('+8613800138000'), '**********8000')
})

t.test('key list parsing and keyring validation', async (t) => {
  const g = generateKeyring('main')
  const parsed = parseKeyList(g.keys)
  t.ok(parsed instanceof Map && parsed.has('main'))
  t.type(parseKeyList('k1:' + Buffer.alloc(16).toString('base64')), 'string')
  t.type(parseKeyList('nocolon'), 'string')
  t.type(parseKeyList(`a:${Buffer.alloc(32).toString('base64')},a:${Buffer.alloc(32).toString('base64')}`), 'string')
  t.throws(() => new PiiCipher({ ...ring(), currentKeyId: 'zz' }), /not in the keyring/)
  t.throws(() => new PiiCipher({ ...ring(), lookupKey: Buffer.alloc(8) }), /lookup key/)
})
