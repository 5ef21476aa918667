import fc from 'fast-check'
import t from 'tap'
import { parsePhone } from '../../../engine/screening/number.js'
import { LeadNumberNormalizer } from '../../../engine/store/sql/lead-number-normalizer.js'

/** What parsePhone, the screening's parser, makes of the number: the normalizer must say the same. */
function reference(raw: string, region: string | undefined): string {
  const p = parsePhone(raw, region)
  return p.ok ? `ok ${p.phone.e164} ${p.phone.region ?? '-'}` : `bad ${p.code}: ${p.reason}`
}

function normalized(n: LeadNumberNormalizer, raw: string, region: string | undefined): string {
  const r = n.normalize(raw, region)
  return r.ok ? `ok ${r.e164} ${r.region ?? '-'}` : `bad ${r.code}: ${r.reason}`
}

t.test('11-digit numbers starting with 1, national with CN or +86: the same answer as parsePhone', async (t) => {
  // One normalizer for the whole run, so most numbers are answered from a prefix another number put in the cache.
  const n = new LeadNumberNormalizer()
  const digits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 10, maxLength: 10 }).map((d) => `1${d.join('')}`)
  // Prefixes drawn from a small set, so prefixes repeat (cache hits) with different tails.
  const prefixed = fc
    .tuple(fc.constantFrom('1380013', '1740012', '1740099', '1610555', '1790000', '1234567', '1999999', '1450000', '1460000', '1920000'), fc.integer({ min: 0, max: 9999 }))
    .map(([p, x]) => `${p}${String(x).padStart(4, '0')}`)
  const form = fc.constantFrom('national', 'e164', 'spaced')
  const region = fc.constantFrom('CN', 'GB', 'US', undefined)
  fc.assert(
    fc.property(fc.oneof(digits, prefixed), form, region, (nsn, f, r) => {
      const raw = f === 'national' ? nsn : f === 'e164' ? `+86${nsn}` : `+86 ${nsn.slice(0, 3)} ${nsn.slice(3, 7)}-${nsn.slice(7)}`
      t.equal(normalized(n, raw, r), reference(raw, r), `${raw} with region ${r ?? 'none'}`)
    }),
    { numRuns: 3000 },
  )
})

t.test('other numbers go to parsePhone unchanged', async (t) => {
  const n = new LeadNumberNormalizer()
  for (const [raw, region] of [
    ['+1 212 555 0123', undefined],
    ['(0)20 7946 0018', 'GB'],
    ['010 6552 9988', 'CN'],
    ['not a number', 'CN'],
    ['13812340001', undefined],
    ['13812340001', 'GB'],
    ['008613812340001', 'CN'],
  ] as const) {
    t.equal(normalized(n, raw, region), reference(raw, region), `${raw} ${region ?? ''}`)
  }
})

t.test('other mainland China numbers (fixed lines, services), national with the trunk 0 or +86: the same answer as parsePhone', async (t) => {
  const n = new LeadNumberNormalizer()
  // Real area codes (Beijing, Shanghai, Guangzhou, Shenzhen, smaller cities) and codes no city has, so prefixes repeat
  // with different tails and lengths, valid and invalid; then numbers of random digits.
  const area = fc.constantFrom('10', '20', '21', '22', '23', '24', '25', '27', '28', '29', '311', '371', '431', '433', '451', '531', '571', '591', '755', '769', '851', '898', '991', '978', '349', '335', '400', '800', '950', '96', '16', '26', '30', '61', '99')
  const tail = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 9 })).map(([f, d]) => `${f}${d.join('')}`)
  const known = fc.tuple(area, tail).map(([a, x]) => `${a}${x}`)
  const random = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 11 }).map((d) => `${1 + (d[0] ?? 0) % 9}${d.slice(1).join('')}`)
  const form = fc.constantFrom('national', 'e164', 'spaced-national', 'spaced-e164')
  const region = fc.constantFrom('CN', 'CN', 'CN', 'GB', 'US', undefined)
  fc.assert(
    fc.property(fc.oneof({ arbitrary: known, weight: 4 }, { arbitrary: random, weight: 1 }), form, region, (nsn, f, r) => {
      const spaced = `${nsn.slice(0, 3)} ${nsn.slice(3, 7)}-${nsn.slice(7)}`
      const raw = f === 'national' ? `0${nsn}` : f === 'e164' ? `+86${nsn}` : f === 'spaced-national' ? `0${spaced}` : `+86 ${spaced}`
      t.equal(normalized(n, raw, r), reference(raw, r), `${raw} with region ${r ?? 'none'}`)
    }),
    { numRuns: 20000 },
  )
})
