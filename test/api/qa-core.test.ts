/**
 * The pure parts of QA: byte ranges as RFC 9110 reads them, the sampling's size and reproducibility, and the scoring
 * arithmetic, checked over many generated inputs.
 */
import t from 'tap'
import fc from 'fast-check'
import { parseRange } from '../../api/byte-range.js'
import { pickSample, sampleSize } from '../../engine/qa/sample.js'
import { checkAnswers, scoreAnswers, type QaAnswer, type QaFormItem } from '../../engine/qa/score.js'

t.test('byte ranges', async (t) => {
  const size = 1000
  t.same(parseRange(undefined, size), { kind: 'full' })
  t.same(parseRange('bytes=0-0', size), { kind: 'partial', start: 0, end: 0 })
  t.same(parseRange('bytes=10-', size), { kind: 'partial', start: 10, end: 999 })
  t.same(parseRange('bytes=990-5000', size), { kind: 'partial', start: 990, end: 999 }, 'a last byte past the end is the end')
  t.same(parseRange('bytes=-1', size), { kind: 'partial', start: 999, end: 999 })
  t.same(parseRange('bytes=-5000', size), { kind: 'partial', start: 0, end: 999 }, 'a suffix longer than the file is the file')
  t.same(parseRange('bytes=1000-', size), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=1000-1001', size), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=-0', size), { kind: 'unsatisfiable' })
  t.same(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' }, 'an empty file has no byte 0')
  t.same(parseRange('bytes=5-2', size), { kind: 'full' }, 'an invalid range is ignored')
  t.same(parseRange('bytes=0-1,5-6', size), { kind: 'full' }, 'several ranges: the whole file')
  t.same(parseRange('items=0-1', size), { kind: 'full' })
  t.same(parseRange('bytes=99999999999999999999-', size), { kind: 'full' })
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), fc.string(), (n, header) => {
      const r = parseRange(`bytes=${header}`, n)
      if (r.kind === 'partial') return r.start >= 0 && r.start <= r.end && r.end < n
      return true
    }),
  )
})

t.test('sampling: ceil per agent, the same seed the same calls in any order', async (t) => {
  t.equal(sampleSize(10, 20), 2)
  t.equal(sampleSize(3, 20), 1)
  t.equal(sampleSize(0, 20), 0)
  t.equal(sampleSize(7, 100), 7)
  t.equal(sampleSize(100, 15), 15)
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.record({ recordingId: fc.uuid(), agentId: fc.constantFrom('a', 'b', 'c', null) }), { selector: (c) => c.recordingId, maxLength: 60 }),
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      fc.string(),
      (calls, percent, seed) => {
        const picked = pickSample(calls, percent, seed)
        const again = pickSample([...calls].reverse(), percent, seed)
        const key = (xs: ReadonlyArray<{ recordingId: string }>) => xs.map((x) => x.recordingId).sort().join(',')
        if (key(picked) !== key(again)) return false
        for (const agent of ['a', 'b', 'c', null]) {
          const n = calls.filter((c) => c.agentId === agent).length
          if (picked.filter((c) => c.agentId === agent).length !== sampleSize(n, percent)) return false
        }
        return true
      },
    ),
  )
})

t.test('scoring: n.a. out of the denominator', async (t) => {
  const items: QaFormItem[] = [
    { id: 'a', label: 'A', weight: 1, required: false },
    { id: 'b', label: 'B', weight: 2, required: true },
    { id: 'c', label: 'C', weight: 3, required: false },
  ]
  const ans = (a: QaAnswer, b: QaAnswer, c: QaAnswer) => [
    { itemId: 'a', answer: a },
    { itemId: 'b', answer: b },
    { itemId: 'c', answer: c },
  ]
  t.same(scoreAnswers(items, ans('yes', 'yes', 'yes')), { earned: 6, possible: 6, score: 100, failedRequired: [] })
  t.same(scoreAnswers(items, ans('yes', 'no', 'na')), { earned: 1, possible: 3, score: 33.33, failedRequired: ['b'] })
  t.same(scoreAnswers(items, ans('na', 'na', 'na')), { earned: 0, possible: 0, score: null, failedRequired: [] })
  t.same(scoreAnswers(items, ans('no', 'na', 'no')), { earned: 0, possible: 4, score: 0, failedRequired: [] })
  t.equal(checkAnswers(items, ans('yes', 'no', 'na')), null)
  t.match(checkAnswers(items, [{ itemId: 'a', answer: 'yes' }]), { index: null, message: /missing: b, c/ })
  t.match(checkAnswers(items, [...ans('yes', 'no', 'na'), { itemId: 'z', answer: 'yes' }]), { index: 3 })
  fc.assert(
    fc.property(fc.array(fc.constantFrom<QaAnswer>('yes', 'no', 'na'), { minLength: 3, maxLength: 3 }), ([a, b, c]) => {
      const s = scoreAnswers(items, ans(a!, b!, c!))
      const naWeight = [a, b, c].reduce((w, x, i) => w + (x === 'na' ? items[i]!.weight : 0), 0)
      return s.possible === 6 - naWeight && (s.score === null ? s.possible === 0 : s.score >= 0 && s.score <= 100)
    }),
  )
})
