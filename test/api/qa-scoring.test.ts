/**
 * QA work: scoring forms, scores (n.a. leaves the denominator), coaching notes, sampling a percentage of a day's calls
 * per agent reproducibly, the weekly report with its CSV/XLSX export, the audit trail, and who may do what.
 */
import t from 'tap'
import ExcelJS from 'exceljs'
import { storeKeywordSpotting } from '../../engine/qa/ingest.js'
import { forEachDriver } from '../store/sql/databases.js'
import { problem } from './problem-assert.js'
import { qaWorld } from './qa-fixture.js'

interface Form {
  id: string
  siteId: string
  name: string
  items: Array<{ id: string; weight: number; required: boolean }>
}
interface Score {
  id: string
  agentId: string | null
  earned: number
  possible: number
  score: number | null
  failedRequired: string[]
  coachingNote: string | null
}
interface Sample {
  id: string
  day: string
  seed: string
  percent: number
  items: Array<{ recordingId: string; agentId: string | null }>
}

const Day = '2026-11-16'
const DayStart = Date.parse(`${Day}T00:00:00Z`)
const Minute = 60_000

const items = [
  { id: 'greeting', label: 'Greeting', weight: 1 },
  { id: 'identity', label: 'Identity disclosed', weight: 2, required: true },
  { id: 'needs', label: 'Needs discovery', weight: 3 },
  { id: 'closing', label: 'Closing', weight: 4 },
]

forEachDriver(t, async (t, db) => {
  const w = await qaWorld(db)
  t.teardown(() => w.close())
  const { app, auth } = w.h

  // Day: 10 calls of agent A, 3 of agent B, 1 without agent; the next day 2 more of A (outside the sample).
  const dayA: string[] = []
  for (let i = 0; i < 10; i++) dayA.push(await w.addRecording({ callId: `a-${i}`, agentId: w.agentA, startedAt: DayStart + (i + 1) * 30 * Minute }))
  const dayB: string[] = []
  for (let i = 0; i < 3; i++) dayB.push(await w.addRecording({ callId: `b-${i}`, agentId: w.agentB, startedAt: DayStart + (i + 1) * 45 * Minute }))
  await w.addRecording({ callId: 'queue-0', agentId: null, startedAt: DayStart + 5 * Minute })
  const nextDay = [
    await w.addRecording({ callId: 'a-next-0', agentId: w.agentA, startedAt: DayStart + 24 * 60 * Minute + Minute }),
    await w.addRecording({ callId: 'a-next-1', agentId: w.agentA, startedAt: DayStart + 25 * 60 * Minute }),
  ]
  const szRec = await w.addRecording({ callId: 'sz-0', agentId: w.agentSz, siteId: 'shenzhen', startedAt: DayStart })

  let form: Form
  await t.test('forms: create, validate, read by every role of the site, not by another site', async (t) => {
    const created = await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: auth('qa'), payload: { name: 'Outbound sales', items } })
    t.equal(created.statusCode, 201, created.body)
    form = created.json<Form>()
    t.equal(form.siteId, 'default')
    t.same(form.items.map((i) => [i.id, i.weight, i.required]), [['greeting', 1, false], ['identity', 2, true], ['needs', 3, false], ['closing', 4, false]])

    const dup = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/forms', headers: auth('qa'),
      payload: { name: 'Dup', items: [{ id: 'a', label: 'A', weight: 1 }, { id: 'a', label: 'A again', weight: 1 }] },
    }), 400)
    t.equal(dup.errors?.[0]?.field, 'body.items.1.id')
    const zero = problem(t, await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: auth('qa'), payload: { name: 'Z', items: [{ id: 'a', label: 'A', weight: 0 }] } }), 400)
    t.match(zero.errors?.[0]?.field, /items/)
    problem(t, await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: auth('qa'), payload: { name: 'E', items: [] } }), 400)
    problem(t, await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: auth('qa'), payload: { name: 'Outbound sales', items } }), 409)
    problem(t, await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: w.bearer(w.agentAKey), payload: { name: 'X', items } }), 403)

    t.equal((await app.inject({ method: 'GET', url: `/v1/qa/forms/${form.id}`, headers: w.bearer(w.agentAKey) })).statusCode, 200, 'agents see what they are scored on')
    problem(t, await app.inject({ method: 'GET', url: `/v1/qa/forms/${form.id}`, headers: w.bearer(w.szQaKey) }), 404)
    const list = (await app.inject({ method: 'GET', url: '/v1/qa/forms', headers: w.bearer(w.szQaKey) })).json<{ total: number }>()
    t.equal(list.total, 0)
  })

  let score: Score
  await t.test('scoring: yes earns the weight, no nothing, n.a. leaves the denominator', async (t) => {
    const res = await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: {
        recordingId: dayA[0], formId: form.id, coachingNote: 'State your name and company first.',
        answers: [
          { itemId: 'greeting', answer: 'yes' },
          { itemId: 'identity', answer: 'no' },
          { itemId: 'needs', answer: 'na' },
          { itemId: 'closing', answer: 'yes' },
        ],
      },
    })
    t.equal(res.statusCode, 201, res.body)
    score = res.json<Score>()
    t.equal(score.earned, 5)
    t.equal(score.possible, 7, 'needs (3) is n.a.: 1 + 2 + 4')
    t.equal(score.score, 71.43)
    t.same(score.failedRequired, ['identity'])
    t.equal(score.agentId, w.agentA)
    t.equal(score.coachingNote, 'State your name and company first.')

    const allNa = await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('supervisor'),
      payload: { recordingId: dayB[0], formId: form.id, answers: items.map((i) => ({ itemId: i.id, answer: 'na' })) },
    })
    t.equal(allNa.statusCode, 201, allNa.body)
    t.equal(allNa.json<Score>().score, null, 'nothing applied: no score rather than 0 or 100')
    t.equal(allNa.json<Score>().possible, 0)

    const b1 = await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { recordingId: dayB[1], formId: form.id, answers: items.map((i) => ({ itemId: i.id, answer: 'yes' })) },
    })
    t.equal(b1.json<Score>().score, 100)
  })

  await t.test('score input is checked against the form', async (t) => {
    const base = { recordingId: dayA[1], formId: form.id }
    const unknown = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, answers: [...items.map((i) => ({ itemId: i.id, answer: 'yes' })), { itemId: 'smile', answer: 'yes' }] },
    }), 400)
    t.equal(unknown.errors?.[0]?.field, 'body.answers.4.itemId')
    const missing = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, answers: [{ itemId: 'greeting', answer: 'yes' }] },
    }), 400)
    t.match(missing.detail, /missing: identity, needs, closing/)
    const twice = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, answers: [...items.map((i) => ({ itemId: i.id, answer: 'yes' })), { itemId: 'greeting', answer: 'no' }] },
    }), 400)
    t.match(twice.detail, /answered twice/)
    const maybe = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, answers: items.map((i) => ({ itemId: i.id, answer: 'maybe' })) },
    }), 400)
    t.match(maybe.errors?.[0]?.field, /answers/)
    const noRec = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, recordingId: 'nope', answers: items.map((i) => ({ itemId: i.id, answer: 'yes' })) },
    }), 400)
    t.equal(noRec.errors?.[0]?.field, 'body.recordingId')
    const foreign = problem(t, await app.inject({
      method: 'POST', url: '/v1/qa/scores', headers: auth('qa'),
      payload: { ...base, recordingId: szRec, answers: items.map((i) => ({ itemId: i.id, answer: 'yes' })) },
    }), 400)
    t.equal(foreign.errors?.[0]?.field, 'body.recordingId', 'another site’s recording is as unknown as a missing one')
    problem(t, await app.inject({ method: 'POST', url: '/v1/qa/scores', headers: w.bearer(w.agentAKey), payload: base }), 403)
  })

  await t.test('a score is changed and recomputed; the form then keeps its items', async (t) => {
    const res = await app.inject({
      method: 'PATCH', url: `/v1/qa/scores/${score.id}`, headers: auth('qa'),
      payload: { answers: [
        { itemId: 'greeting', answer: 'yes' },
        { itemId: 'identity', answer: 'yes' },
        { itemId: 'needs', answer: 'no' },
        { itemId: 'closing', answer: 'na' },
      ], coachingNote: 'Better: ask about needs.' },
    })
    t.equal(res.statusCode, 200, res.body)
    const s = res.json<Score>()
    t.equal(s.earned, 3)
    t.equal(s.possible, 6)
    t.equal(s.score, 50)
    t.same(s.failedRequired, [])
    t.equal(s.coachingNote, 'Better: ask about needs.')
    const noteOnly = await app.inject({ method: 'PATCH', url: `/v1/qa/scores/${score.id}`, headers: auth('supervisor'), payload: { coachingNote: null } })
    t.equal(noteOnly.json<Score>().score, 50, 'a note alone leaves the score')
    t.equal(noteOnly.json<Score>().coachingNote, null)

    problem(t, await app.inject({ method: 'PATCH', url: `/v1/qa/forms/${form.id}`, headers: auth('qa'), payload: { items } }), 409)
    const renamed = await app.inject({ method: 'PATCH', url: `/v1/qa/forms/${form.id}`, headers: auth('qa'), payload: { name: 'Outbound sales v1' } })
    t.equal(renamed.statusCode, 200, renamed.body)
    problem(t, await app.inject({ method: 'DELETE', url: `/v1/qa/forms/${form.id}`, headers: auth('qa') }), 409)
    const spare = (await app.inject({ method: 'POST', url: '/v1/qa/forms', headers: auth('qa'), payload: { name: 'Spare', items } })).json<Form>()
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/qa/forms/${spare.id}`, headers: auth('qa') })).statusCode, 204)
    problem(t, await app.inject({ method: 'GET', url: `/v1/qa/forms/${spare.id}`, headers: auth('qa') }), 404)
  })

  await t.test('agents read the scores of their own calls only; another site none', async (t) => {
    const asA = w.bearer(w.agentAKey)
    const mine = (await app.inject({ method: 'GET', url: '/v1/qa/scores', headers: asA })).json<{ items: Score[]; total: number }>()
    t.equal(mine.total, 1)
    t.equal(mine.items[0]!.id, score.id)
    t.equal((await app.inject({ method: 'GET', url: `/v1/qa/scores/${score.id}`, headers: asA })).statusCode, 200)
    const all = (await app.inject({ method: 'GET', url: '/v1/qa/scores', headers: auth('qa') })).json<{ items: Score[] }>()
    const bScore = all.items.find((s) => s.agentId === w.agentB)!
    const other = problem(t, await app.inject({ method: 'GET', url: `/v1/qa/scores/${bScore.id}`, headers: asA }), 404)
    const missing = problem(t, await app.inject({ method: 'GET', url: '/v1/qa/scores/no-such-score', headers: asA }), 404)
    t.equal(other.type, missing.type)
    problem(t, await app.inject({ method: 'GET', url: `/v1/qa/scores/${score.id}`, headers: w.bearer(w.szQaKey) }), 404)
    problem(t, await app.inject({ method: 'PATCH', url: `/v1/qa/scores/${score.id}`, headers: w.bearer(w.szQaKey), payload: { coachingNote: 'x' } }), 404)
  })

  await t.test('sampling: a percentage per agent, the day only, the same seed the same calls', async (t) => {
    const draw = async (payload: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/v1/qa/samples', headers: auth('qa'), payload })
      t.equal(res.statusCode, 201, res.body)
      return res.json<Sample>()
    }
    const s1 = await draw({ day: Day, percent: 20, seed: 'week-47' })
    const of = (s: Sample, agent: string | null) => s.items.filter((i) => i.agentId === agent).map((i) => i.recordingId)
    t.equal(of(s1, w.agentA).length, 2, '20% of 10')
    t.equal(of(s1, w.agentB).length, 1, '20% of 3, rounded up')
    t.equal(of(s1, null).length, 1, 'calls no agent took are sampled too')
    t.ok(of(s1, w.agentA).every((id) => dayA.includes(id)), 'only that day’s calls')
    t.notOk(s1.items.some((i) => nextDay.includes(i.recordingId) || i.recordingId === szRec))
    const s2 = await draw({ day: Day, percent: 20, seed: 'week-47' })
    t.not(s2.id, s1.id, 'each run is stored')
    t.same(s2.items, s1.items, 'same seed, same calls')
    const picks = new Set<string>()
    for (const seed of ['s1', 's2', 's3', 's4', 's5', 's6']) picks.add(of(await draw({ day: Day, percent: 20, seed }), w.agentA).sort().join(','))
    t.ok(picks.size > 1, `other seeds pick other calls (${picks.size} distinct picks of 6)`)
    const all = await draw({ day: Day, percent: 100, seed: 'x' })
    t.equal(all.items.length, 14)
    const random = await draw({ day: Day, percent: 50 })
    t.match(random.seed, /^[A-Za-z0-9_-]{8,}$/, 'a seed is made and returned')
    t.same((await draw({ day: Day, percent: 50, seed: random.seed })).items, random.items, 'and repeats the run')

    const got = await app.inject({ method: 'GET', url: `/v1/qa/samples/${s1.id}`, headers: auth('supervisor') })
    t.same(got.json<Sample>().items, s1.items)
    const listed = (await app.inject({ method: 'GET', url: '/v1/qa/samples?limit=2', headers: auth('qa') })).json<{ total: number; items: Array<{ size: number }> }>()
    t.ok(listed.total >= 10)
    t.equal(listed.items.length, 2)
    problem(t, await app.inject({ method: 'GET', url: `/v1/qa/samples/${s1.id}`, headers: w.bearer(w.szQaKey) }), 404)
    problem(t, await app.inject({ method: 'POST', url: '/v1/qa/samples', headers: w.bearer(w.agentAKey), payload: { percent: 10 } }), 403)
    const audit = await w.repos.audit.list({ entity: 'qa-sample', entityId: s1.id, limit: 5 })
    t.same(audit[0]?.detail, { siteId: 'default', day: Day, percent: 20, calls: 14, sampled: 4 })
  })

  await t.test('malformed sampling input answers problem details', async (t) => {
    for (const payload of [{ percent: 0 }, { percent: 101 }, { percent: '10%' }, { percent: 10, day: '2026-02-30' }, { percent: 10, day: '16/11/2026' }, { percent: 10, siteId: 'shenzhen' }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/qa/samples', headers: auth('qa'), payload })
      t.ok(res.statusCode === 400 || res.statusCode === 403, `${JSON.stringify(payload)}: ${res.statusCode}`)
      problem(t, res, res.statusCode)
    }
    const noSite = problem(t, await app.inject({ method: 'POST', url: '/v1/qa/samples', headers: auth('admin'), payload: { percent: 10, siteId: 'atlantis' } }), 400)
    t.equal(noSite.errors?.[0]?.field, 'body.siteId')
  })

  await t.test('weekly report: calls, scores, required phrases missing, keyword hits; CSV and XLSX', async (t) => {
    await storeKeywordSpotting(db, dayA[2]!, {
      recording: 'a-2',
      hits: [
        { keyword: '投诉', party: 'customer', atMs: 1000, confidence: 0.7 },
        { keyword: '投诉', party: 'customer', atMs: 9000, confidence: 0.6 },
        { keyword: '退款', party: 'customer', atMs: 5000, confidence: 0.9 },
      ],
      required: [{ keyword: '工号', present: false }, { keyword: '录音', present: false }],
    })
    await storeKeywordSpotting(db, dayB[2]!, { recording: 'b-2', hits: [{ keyword: '退款', party: 'agent', atMs: 10, confidence: 0.5 }], required: [{ keyword: '工号', present: true }] })
    const res = await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}`, headers: auth('supervisor') })
    t.equal(res.statusCode, 200, res.body)
    type Row = { agentId: string; name: string; calls: number; scoredCalls: number; averageScore: number | null; requiredMissingCalls: number; requiredMissingPhrases: number; keywordHits: Record<string, number> }
    const body = res.json<{ keywords: string[]; items: Row[]; period: { from: string; to: string } }>()
    t.same(body.keywords, ['投诉', '退款'])
    t.equal(body.period.from, `${Day}T00:00:00.000Z`)
    t.equal(body.period.to, '2026-11-23T00:00:00.000Z')
    const a = body.items.find((r) => r.agentId === w.agentA)!
    const b = body.items.find((r) => r.agentId === w.agentB)!
    t.equal(a.name, 'Agent A')
    t.equal(a.calls, 12, '10 + 2 the next day, same week')
    t.same([a.requiredMissingCalls, a.requiredMissingPhrases], [1, 2])
    t.same(a.keywordHits, { 投诉: 2, 退款: 1 })
    t.same(b.keywordHits, { 投诉: 0, 退款: 1 })
    t.equal(b.calls, 3)
    t.equal(b.requiredMissingCalls, 0)
    // Scores are the reviews made this week (now), not the call's week: the call week shows none.
    t.equal(a.scoredCalls, 0)
    const thisWeek = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)
    const now = (await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${thisWeek}`, headers: auth('qa') })).json<{ items: Row[] }>()
    const an = now.items.find((r) => r.agentId === w.agentA)!
    const bn = now.items.find((r) => r.agentId === w.agentB)!
    t.same([an.scoredCalls, an.averageScore], [1, 50])
    t.same([bn.scoredCalls, bn.averageScore], [2, 100], 'the all-n.a. score counts as scored, not in the average')

    const mine = (await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}`, headers: w.bearer(w.agentAKey) })).json<{ items: Row[] }>()
    t.same(mine.items.map((r) => r.agentId), [w.agentA], 'agents get their own row')
    const sz = (await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}`, headers: w.bearer(w.szQaKey) })).json<{ items: Row[]; period: { from: string } }>()
    t.same(sz.items.map((r) => r.agentId), [w.agentSz])
    t.equal(sz.period.from, '2026-11-15T16:00:00.000Z', 'the week starts at midnight in Shanghai')

    const csv = await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}&format=csv&keyword=${encodeURIComponent('投诉')}`, headers: auth('qa') })
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /^text\/csv/)
    t.equal(csv.headers['content-disposition'], `attachment; filename="qa-weekly-${Day}.csv"`)
    const lines = csv.body.replace(/^\ufeff/, '').trim().split('\n')
    t.equal(lines[0], 'Agent id,Agent,Calls,Calls scored,Average score,Calls missing a required phrase,Required phrases missing,Hits: 投诉')
    t.ok(lines.includes(`${w.agentA},Agent A,12,0,,1,2,2`), lines.join(' | '))

    const xlsx = await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}&format=xlsx`, headers: auth('qa') })
    t.equal(xlsx.statusCode, 200)
    const book = new ExcelJS.Workbook()
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
    const sheet = book.worksheets[0]!
    t.equal(sheet.getRow(1).getCell(8).value, 'Hits: 投诉')
    const rowA = sheet.getSheetValues().find((r) => Array.isArray(r) && r[1] === w.agentA) as unknown[]
    t.same(rowA.slice(1, 10), [w.agentA, 'Agent A', 12, 0, '', 1, 2, 2, 1])

    const bad = problem(t, await app.inject({ method: 'GET', url: '/v1/qa/reports/weekly?week=2026-13-01', headers: auth('qa') }), 400)
    t.match(bad.errors?.[0]?.field ?? '', /week/)
    problem(t, await app.inject({ method: 'GET', url: '/v1/qa/reports/weekly', headers: auth('qa') }), 400)
    problem(t, await app.inject({ method: 'GET', url: `/v1/qa/reports/weekly?week=${Day}&siteId=shenzhen`, headers: auth('qa') }), 400)
  })

  await t.test('sampling defaults to yesterday in the site’s zone (after the report: yesterday may fall in its week)', async (t) => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
    const y = await w.addRecording({ callId: 'yesterday-0', agentId: w.agentA, startedAt: Date.parse(`${yesterday}T12:00:00Z`) })
    const res = await app.inject({ method: 'POST', url: '/v1/qa/samples', headers: auth('qa'), payload: { percent: 10 } })
    t.equal(res.statusCode, 201, res.body)
    const s = res.json<Sample>()
    t.equal(s.day, yesterday)
    t.same(s.items.map((i) => i.recordingId), [y])
  })

  await t.test('every change is in the audit log', async (t) => {
    const forms = await w.repos.audit.list({ entity: 'qa-form', limit: 50 })
    t.same(new Set(forms.map((a) => a.action)), new Set(['create', 'update', 'delete']))
    const scores = await w.repos.audit.list({ entity: 'qa-score', entityId: score.id, limit: 10 })
    t.same(scores.map((a) => a.action), ['update', 'update', 'create'])
    t.ok(scores.every((a) => a.actor.startsWith('api-key:')))
  })
})
