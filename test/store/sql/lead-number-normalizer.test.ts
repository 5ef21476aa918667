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
