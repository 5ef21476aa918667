import t from 'tap'
import { DEFAULT_RECYCLE_RULES, nextAfterAttempt, placementOf, statusForFailure } from '../../engine/leads/recycling.js'
import type { Lead } from '../../engine/leads/lead.js'

const AT = Date.UTC(2026, 10, 23, 10, 30)
const MIN = 60_000

t.test('default rules', async (t) => {
  t.same(nextAfterAttempt('no-answer', 1, AT), { kind: 'retry', at: AT + 24 * 60 * MIN }, 'next day same time')
  t.same(nextAfterAttempt('busy', 1, AT), { kind: 'retry', at: AT + 10 * MIN })
  t.same(nextAfterAttempt('machine', 1, AT), { kind: 'retry', at: AT + 240 * MIN })
  t.same(nextAfterAttempt('refused', 1, AT), { kind: 'final', reason: 'final-status' }, 'refused: never again')
  for (const s of ['dnc', 'invalid', 'contacted', 'done'] as const) {
    t.equal(nextAfterAttempt(s, 1, AT).kind, 'final', s)
  }
  const cap = DEFAULT_RECYCLE_RULES['no-answer']!.maxAttempts
  t.equal(nextAfterAttempt('no-answer', cap - 1, AT).kind, 'retry')
  t.same(nextAfterAttempt('no-answer', cap, AT), { kind: 'final', reason: 'max-attempts' })
  t.same(nextAfterAttempt('callback', 2, AT, undefined, { at: AT + MIN, ownerAgentId: 'a' }), {
    kind: 'callback',
    at: AT + MIN,
    ownerAgentId: 'a',
  })
  t.throws(() => nextAfterAttempt('callback', 1, AT))
})

t.test('custom rules replace the defaults', async (t) => {
  const rules = { busy: { delayMs: 5 * MIN, maxAttempts: 2 } }
  t.same(nextAfterAttempt('busy', 1, AT, rules), { kind: 'retry', at: AT + 5 * MIN })
  t.equal(nextAfterAttempt('busy', 2, AT, rules).kind, 'final')
  t.equal(nextAfterAttempt('no-answer', 1, AT, rules).kind, 'final', 'no rule: final')
})

t.test('placement of a lead loaded from the source', async (t) => {
  const base: Lead = { id: 'x', campaignId: 'c', phone: '1', status: 'new', attemptTimes: [] }
  t.same(placementOf(base), { kind: 'new' })
  t.same(placementOf({ ...base, status: 'callback', callbackAt: AT }), { kind: 'callback', at: AT })
  t.same(placementOf({ ...base, status: 'busy', attemptTimes: [AT - MIN, AT] }), { kind: 'recycle', at: AT + 10 * MIN })
  t.same(placementOf({ ...base, status: 'refused', attemptTimes: [AT] }), { kind: 'final' })
})

t.test('failure causes', async (t) => {
  t.equal(statusForFailure('busy'), 'busy')
  t.equal(statusForFailure('no-answer'), 'no-answer')
  t.equal(statusForFailure('invalid-number'), 'invalid')
  t.equal(statusForFailure('congestion'), undefined, 'not the lead\'s fault: not counted')
})
