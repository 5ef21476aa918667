import t from 'tap'
import type { Cdr } from '../../engine/calls/cdr.js'
import { learnedFromCdr } from '../../engine/campaign/invalid-number-learning.js'
import { failureCauseOf, InvalidNumberReasons } from '../../engine/media/invalid-number.js'
import { DefaultInvalidTtlMs } from '../../engine/screening/invalid-numbers.js'

const base: Cdr = {
  callId: 'c1',
  campaignId: 'camp',
  leadId: 'l1',
  outcome: 'invalid-number',
  disposition: 'system:invalid-number',
  dialedAt: 1000,
  endedAt: 5000,
  talkSeconds: 0,
  abandoned: false,
}
const E164 = '+8613800138000'

t.test('a SIP 404 is learned as before; a 487 after our CANCEL with nothing heard teaches nothing', async (t) => {
  const sip = learnedFromCdr({ ...base, sipStatus: 404, sipReason: 'Not Found' }, E164)
  t.match(sip, { e164: E164, reason: 'unallocated', source: 'sip', learnedAt: 5000 })
  t.equal(learnedFromCdr({ ...base, outcome: 'cancelled', sipStatus: 487 }, E164), undefined)
  t.equal(learnedFromCdr({ ...base, outcome: 'busy', sipStatus: 486 }, E164), undefined)
})

t.test('what early media said is learned by the same path, each reason for its own time, with what was heard', async (t) => {
  const expected: Record<string, { reason: string; source: string } | undefined> = {
    'sit-vacant': { reason: 'number-changed', source: 'sit' },
    'sit-vacant-code': { reason: 'unallocated', source: 'sit' },
    'sit-reserved': { reason: 'unreachable', source: 'sit' },
    // the network had no circuit: nothing about the number
    'sit-no-circuit': undefined,
    'sit-reorder': undefined,
    'announcement-empty-number': { reason: 'unallocated', source: 'announcement' },
    'announcement-suspended': { reason: 'suspended', source: 'announcement' },
    'announcement-unreachable': { reason: 'unreachable', source: 'announcement' },
  }
  for (const reason of InvalidNumberReasons) {
    const cdr: Cdr = { ...base, outcome: failureCauseOf(reason), sipStatus: 487, sipReason: 'Request Terminated', earlyMediaReason: reason, earlyMediaDetail: 'detector said so' }
    const entry = learnedFromCdr(cdr, E164)
    const want = expected[reason]
    if (!want) {
      t.equal(entry, undefined, `${reason}: nothing learned`)
      continue
    }
    t.match(entry, want, `${reason} → ${want.reason}`)
    t.equal(entry!.expiresAt, 5000 + DefaultInvalidTtlMs[entry!.reason], `${reason}: remembered for its reason's time`)
    t.match(entry!.detail, /detector said so$/, `${reason}: the audit trail keeps what was heard`)
  }
})

t.test('the cause of an attempt ended on early media', async (t) => {
  t.equal(failureCauseOf('sit-vacant-code'), 'invalid-number')
  t.equal(failureCauseOf('announcement-empty-number'), 'invalid-number')
  t.equal(failureCauseOf('announcement-suspended'), 'invalid-number')
  t.equal(failureCauseOf('sit-reorder'), 'congestion')
  t.equal(failureCauseOf('sit-no-circuit'), 'congestion')
  t.equal(failureCauseOf('announcement-unreachable'), 'no-answer')
})

t.test('an unknown reason on a CDR (a row written by a later version) is not learned', async (t) => {
  t.equal(learnedFromCdr({ ...base, outcome: 'cancelled', sipStatus: 487, earlyMediaReason: 'sit-martian' }, E164), undefined)
})
