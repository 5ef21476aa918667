/** Trunk rules and the SIP cause map: plain functions, checked case by case. */
import t from 'tap'
import { applyRules, dialString, gatewayUri, presentedCallerId, TrunkConfigError, validateTrunk, type TrunkConfig } from '../../../engine/telephony/carriers/trunk.js'
import { causeOfStatus, mayCrankBack } from '../../../engine/telephony/drachtio/sip-causes.js'

const trunk: TrunkConfig = {
  id: 'carrier-x',
  gateways: [{ address: 'gw1.example.net:5060' }, { address: 'gw2.example.net', transport: 'tcp' }],
  defaultCallerId: '+861088880000',
  numberRules: [
    { match: '^\\+86(1\\d{10})$', replace: '$1' },
    { match: '^\\+86', replace: '0' },
    { match: '^\\+', replace: '00' },
  ],
  callerIdRules: [{ match: '^\\+86', replace: '0' }],
}

t.test('number rules: first match wins, others untouched', async (t) => {
  t.equal(dialString(trunk, '+8613800138000'), '13800138000', 'a mobile number without the country code')
  t.equal(dialString(trunk, '+861088881234'), '01088881234', 'a landline with the trunk prefix')
  t.equal(dialString(trunk, '+4930123456'), '004930123456', 'international')
  t.equal(applyRules('123', undefined), '123')
})

t.test('caller-ID: requested, default, forced; rules applied', async (t) => {
  t.equal(presentedCallerId(trunk, '+862166660000'), '02166660000')
  t.equal(presentedCallerId(trunk, undefined), '01088880000')
  t.equal(presentedCallerId({ ...trunk, forceCallerId: true }, '+862166660000'), '01088880000')
  t.equal(presentedCallerId({ ...trunk, defaultCallerId: undefined }, undefined), undefined)
})

t.test('gateway URIs and validation', async (t) => {
  t.equal(gatewayUri(trunk.gateways[0]!, '123'), 'sip:123@gw1.example.net:5060')
  t.equal(gatewayUri(trunk.gateways[1]!, '123'), 'sip:123@gw2.example.net;transport=tcp')
  t.throws(() => validateTrunk({ ...trunk, gateways: [] }), TrunkConfigError)
  t.throws(() => validateTrunk({ ...trunk, gateways: [{ address: 'gw;evil=1' }] }), TrunkConfigError)
  t.throws(() => validateTrunk({ ...trunk, numberRules: [{ match: '(', replace: '' }] }), TrunkConfigError)
  t.throws(() => validateTrunk({ ...trunk, id: 'a{b}' }), TrunkConfigError)
  t.equal(validateTrunk(trunk), trunk)
})

t.test('SIP causes', async (t) => {
  const table: [number, string][] = [
    [404, 'invalid-number'], [410, 'invalid-number'], [484, 'invalid-number'], [604, 'invalid-number'],
    [486, 'busy'], [600, 'busy'],
    [480, 'no-answer'], [408, 'no-answer'], [487, 'no-answer'],
    [403, 'rejected'], [603, 'rejected'], [488, 'rejected'],
    [500, 'congestion'], [502, 'congestion'], [503, 'congestion'], [504, 'congestion'],
  ]
  for (const [status, cause] of table) t.equal(causeOfStatus(status, 'none'), cause, String(status))
  t.equal(causeOfStatus(487, 'ring-timeout'), 'no-answer', '487 after our ring-timeout CANCEL')
  t.equal(causeOfStatus(487, 'hangup'), 'cancelled', '487 after our hangup')
  t.equal(causeOfStatus(200, 'hangup'), 'cancelled')
  t.ok(mayCrankBack(503, false) && mayCrankBack(408, false) && mayCrankBack(500, false))
  t.notOk(mayCrankBack(503, true), 'never after early media')
  for (const s of [404, 486, 480, 487, 603, 403]) t.notOk(mayCrankBack(s, false), `never on ${s}`)
})
