import t from 'tap'
import { knownNanpAreaCodes, zonesForAreaCode } from '../../engine/screening/area-zones.js'
import { resolveTimeZones, zonesOfRegion } from '../../engine/screening/timezone.js'
import { isValidTimeZone } from '../../engine/screening/local-time.js'
import { parsePhone } from '../../engine/screening/number.js'
import { normalizeDncPrefix, prefixesOf } from '../../engine/screening/dnc.js'

const phone = (raw: string, region?: string) => {
  const p = parsePhone(raw, region)
  if (!p.ok) throw new Error(p.reason)
  return p.phone
}

t.test('every zone in the area-code table is one Intl knows, and every area code is a valid NANP number', async (t) => {
  const codes = knownNanpAreaCodes()
  t.ok(codes.length > 250, `${codes.length} area codes`)
  for (const c of codes) {
    for (const z of zonesForAreaCode('1', `${c}5550123`) ?? []) if (!isValidTimeZone(z)) t.fail(`${c}: ${z}`)
    if (!parsePhone(`+1${c}2345678`).ok && !parsePhone(`+1${c}5550123`).ok) t.fail(`+1 ${c} does not parse`)
  }
})

t.test('resolution order: the lead, then the area code, then every zone of the region', async (t) => {
  t.same(resolveTimeZones('Asia/Tokyo', phone('+8613812345678')), { ok: true, zones: ['Asia/Tokyo'], source: 'lead' })
  t.same(resolveTimeZones(undefined, phone('13812345678', 'CN')), { ok: true, zones: ['Asia/Shanghai'], source: 'area-code' })
  t.same(resolveTimeZones(undefined, phone('0991 123 4567', 'CN')).ok && resolveTimeZones(undefined, phone('0991 123 4567', 'CN')), {
    ok: true,
    zones: ['Asia/Shanghai', 'Asia/Urumqi'],
    source: 'area-code',
  })
  const la = resolveTimeZones(undefined, phone('+1 415 555 0123'))
  t.same(la.ok && la.zones, ['America/Los_Angeles'])
  const uk = resolveTimeZones('', phone('+44 20 7946 0018'))
  t.same(uk, { ok: true, zones: ['Europe/London'], source: 'region' })
  const ru = resolveTimeZones(undefined, phone('+7 916 123 4567'))
  t.ok(ru.ok && ru.source === 'region' && ru.zones.length > 5 && ru.zones.includes('Europe/Moscow'), 'Russia: all its zones')
  t.match(resolveTimeZones('Not/AZone', phone('+8613812345678')), { ok: false, code: 'invalid-timezone' })
  t.match(resolveTimeZones(undefined, phone('+800 1234 5678')), { ok: false, code: 'unknown-timezone' })
  t.same(zonesOfRegion('ZZ'), [])
})

t.test('DNC prefixes normalize or are refused', async (t) => {
  t.equal(normalizeDncPrefix('+1 201'), '+1201')
  t.equal(normalizeDncPrefix('1201XXXXXXX'), '+1201')
  t.equal(normalizeDncPrefix('(010) 65'), undefined, 'a national prefix would never match an E.164 number')
  t.equal(normalizeDncPrefix('+86 (10) 65'), '+861065')
  t.equal(normalizeDncPrefix('+1'), undefined)
  t.equal(normalizeDncPrefix('abc'), undefined)
  t.same(prefixesOf('+86138'), ['+86138', '+8613', '+861', '+86'])
})
