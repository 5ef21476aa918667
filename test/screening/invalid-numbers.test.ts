import t from 'tap'
import { classifyFailure, learnFromFailure, InvalidNumberMemory, isActive, DefaultInvalidTtlMs } from '../../engine/screening/invalid-numbers.js'

t.test('SIP statuses, Q.850 causes, SIT tones and announcements map to reasons', async (t) => {
  const cases: Array<[Parameters<typeof classifyFailure>[0], string | undefined]> = [
    [{ sipStatus: 404 }, 'unallocated'],
    [{ sipStatus: 604 }, 'unallocated'],
    [{ sipStatus: 484 }, 'unallocated'],
    [{ sipStatus: 410 }, 'number-changed'],
    [{ sipStatus: 486 }, undefined], // busy says nothing about the number
    [{ sipStatus: 480 }, undefined],
    [{ sipStatus: 503 }, undefined],
    [{ q850Cause: 1, sipStatus: 480 }, 'unallocated'],
    [{ q850Cause: 22 }, 'number-changed'],
    [{ q850Cause: 17 }, undefined],
    [{ sit: 'vacant-code' }, 'unallocated'],
    [{ sit: 'intercept' }, 'number-changed'],
    [{ sit: 'reorder' }, undefined],
    [{ sit: 'no-circuit' }, undefined],
    [{ announcement: '您好，您拨打的号码是空号，请查证后再拨' }, 'unallocated'],
    [{ announcement: '您拨打的电话已停机' }, 'suspended'],
    [{ announcement: '您拨打的电话暂时无法接通，请稍后再拨' }, 'unreachable'],
    [{ announcement: '您拨打的用户已关机' }, 'unreachable'],
    [{ announcement: 'The number you have dialed is not in service' }, 'unallocated'],
    [{ announcement: 'hello, who is this?' }, undefined],
    [{}, undefined],
  ]
  for (const [ev, reason] of cases) t.equal(classifyFailure(ev)?.reason, reason, JSON.stringify(ev))
})

t.test('learned entries expire per reason and the longest block wins in memory', async (t) => {
  const e = learnFromFailure('+8613812345678', { announcement: '已停机' }, 1000)!
  t.equal(e.expiresAt, 1000 + DefaultInvalidTtlMs.suspended)
  t.ok(isActive(e, e.expiresAt! - 1))
  t.notOk(isActive(e, e.expiresAt!))
  t.equal(learnFromFailure('+8613812345678', { sipStatus: 486 }, 1000), undefined)
  const never = learnFromFailure('+8613812345678', { sipStatus: 404 }, 1000, { unallocated: 0 })!
  t.equal(never.expiresAt, undefined, 'a zero TTL means no expiry')
  const book = new InvalidNumberMemory()
  book.learn(e)
  book.learn(learnFromFailure('+8613812345678', { announcement: '无法接通' }, 2000)!)
  t.equal(book.get('+8613812345678')?.reason, 'suspended', 'a 1-day entry does not shorten a 14-day one')
  book.learn(never)
  t.equal(book.get('+8613812345678')?.expiresAt, undefined)
  book.forget('+8613812345678')
  t.equal(book.get('+8613812345678'), undefined)
})
