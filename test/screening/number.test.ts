import t from 'tap'
import fc from 'fast-check'
import { parsePhone } from '../../engine/screening/number.js'

t.test('mainland China mobiles parse from national, +86 and 0086 forms and type as mobile', async (t) => {
  for (const raw of ['13812345678', '138 1234 5678', '+86 138 1234 5678', '+8613812345678', '19912345678']) {
    const r = parsePhone(raw, 'CN')
    t.ok(r.ok, raw)
    if (!r.ok) continue
    t.equal(r.phone.region, 'CN')
    t.equal(r.phone.type, 'mobile', raw)
    t.match(r.phone.e164, /^\+861[3-9]\d{9}$/)
  }
  const intl = parsePhone('+8613812345678')
  t.ok(intl.ok && intl.phone.e164 === '+8613812345678', 'international form needs no hint')
})

t.test('mainland China fixed lines with 0xx area codes type as fixed-line', async (t) => {
  const cases: Array<[string, string]> = [
    ['010 6552 9988', '+861065529988'], // Beijing
    ['021-12345678', '+862112345678'], // Shanghai
    ['0755 1234 5678', '+8675512345678'], // Shenzhen
    ['(020) 8888 1234', '+862088881234'], // Guangzhou
  ]
  for (const [raw, e164] of cases) {
    const r = parsePhone(raw, 'CN')
    t.ok(r.ok, raw)
    if (!r.ok) continue
    t.equal(r.phone.e164, e164)
    t.equal(r.phone.type, 'fixed-line', raw)
  }
})

t.test('special number types are told apart', async (t) => {
  const types: Array<[string, string | undefined, string]> = [
    ['4008001234', 'CN', 'shared-cost'],
    ['+1 800 555 0199', undefined, 'toll-free'],
    ['+1 900 555 0199', undefined, 'premium-rate'],
    ['+1 212 555 0123', undefined, 'fixed-line-or-mobile'],
    ['+44 7400 123456', undefined, 'mobile'],
    ['+44 20 7946 0018', undefined, 'fixed-line'],
  ]
  for (const [raw, region, type] of types) {
    const r = parsePhone(raw, region)
    t.ok(r.ok, raw)
    if (r.ok) t.equal(r.phone.type, type, raw)
  }
})

t.test('bad input is rejected with a reason, never thrown', async (t) => {
  const bad: Array<[unknown, unknown, string]> = [
    ['', 'CN', 'invalid-format'],
    ['garbage', 'US', 'invalid-format'],
    ['13812345678', undefined, 'invalid-format'], // national without a hint
    ['12345', 'CN', 'invalid-number'],
    ['+1 999 555 0123', undefined, 'invalid-number'], // 999 is not an area code
    [null, 'CN', 'invalid-format'],
    [42, 'CN', 'invalid-format'],
    ['1'.repeat(200), 'CN', 'invalid-format'],
  ]
  for (const [raw, region, code] of bad) {
    const r = parsePhone(raw, region)
    t.notOk(r.ok, String(raw))
    if (!r.ok) {
      t.equal(r.code, code, String(raw))
      t.ok(r.reason.length > 0)
    }
  }
  const badHint = parsePhone('+8613812345678', 'not-a-region')
  t.ok(badHint.ok, 'an unknown region hint is ignored for an international number')
})

t.test('parsing never throws on arbitrary strings and hints', async () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.option(fc.string({ maxLength: 4 })), (raw, hint) => {
      const r = parsePhone(raw, hint ?? undefined)
      if (r.ok) {
        if (!/^\+\d{4,16}$/.test(r.phone.e164)) throw new Error(`bad e164 ${r.phone.e164}`)
      } else if (r.reason.length === 0) throw new Error('empty reason')
    }),
    { numRuns: 2000 },
  )
})
