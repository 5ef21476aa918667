/**
 * /v1/recordings and /v1/qa: recording search, playback and download; scoring forms; scores with coaching notes;
 * sampling runs; the weekly QA report. Repositories hold the SQL; routes decide scope (api/scope.ts) and write the
 * audit log in the same transaction as the change.
 *
 * Who: QA, supervisors and admins of the site read and score every recording of the site; agents read only their own
 * recordings and the scores of their own calls (another agent's answers 404 like a missing one); another site's
 * records answer 404 too. Forms, scores and sampling runs are changed by QA, supervisors and admins.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkAnswers, scoreAnswers, type QaAnswer, type QaFormItem } from '../../engine/qa/score.js'
import { newSampleSeed, pickSample } from '../../engine/qa/sample.js'
import type { PiiCipher } from '../../engine/security/pii-cipher.js'
import type { Db } from '../../engine/store/sql/db.js'
import { LeadNumberNormalizer } from '../../engine/store/sql/lead-number-normalizer.js'
import { QaFormNameTaken, type QaForm } from '../../engine/store/sql/qa-forms.js'
import type { QaReportRow } from '../../engine/store/sql/qa-reports.js'
import type { QaSample } from '../../engine/store/sql/qa-samples.js'
import type { QaScore } from '../../engine/store/sql/qa-scores.js'
import type { Recording, RecordingFormat, RecordingScope } from '../../engine/store/sql/recordings.js'
import { repositories, type Repositories } from '../../engine/store/sql/repositories.js'
import { parseRange } from '../byte-range.js'
import { exportTable, ExportContentTypes, type ExportColumn, type ExportFormat } from '../exports/table-export.js'
import { principalOf, type Principal } from '../plugins/auth.js'
import { sendProblem } from '../plugins/errors.js'
import { conflict, invalidField, notFound, ProblemTypes } from '../problem.js'
import { agentScope, siteForNew, siteScope } from '../scope.js'
import {
  createFormSchema,
  createSampleSchema,
  createScoreSchema,
  DefaultWatchedKeywords,
  deleteFormSchema,
  downloadRecordingSchema,
  getFormSchema,
  getRecordingSchema,
  getSampleSchema,
  getScoreSchema,
  listFormsSchema,
  listSamplesSchema,
  listScoresSchema,
  playRecordingSchema,
  qaFormSchema,
  qaSampleSchema,
  qaScoreSchema,
  recordingSchema,
  searchRecordingsSchema,
  updateFormSchema,
  updateScoreSchema,
  weeklyReportSchema,
} from '../schemas/qa.js'
import { iso } from '../schemas/timestamp.js'

export interface QaRoutesOptions {
  db: Db
  pii: PiiCipher
  /** Region national-format numbers are read in when the request names none; default CN. */
  defaultRegion?: string
}

const Readers = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const
const Reviewers = { roles: ['admin', 'supervisor', 'qa'] } as const

/** RFC 7845 names Ogg Opus audio/ogg; the codecs parameter lets a browser know it can play it before fetching. */
export const RecordingContentTypes: Record<RecordingFormat, string> = {
  opus: 'audio/ogg; codecs=opus',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
}

const recordingView = ({ path: _path, ...r }: Recording) => ({
  ...r,
  startedAt: iso(r.startedAt),
  createdAt: iso(r.createdAt),
  analysedAt: r.analysedAt === null ? null : iso(r.analysedAt),
})
const formView = (f: QaForm) => ({ ...f, createdAt: iso(f.createdAt), updatedAt: iso(f.updatedAt) })
const scoreView = (s: QaScore) => ({ ...s, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) })
const sampleView = <S extends Omit<QaSample, 'items'>>(s: S) => ({ ...s, createdAt: iso(s.createdAt) })

export const recordingScopeOf = (p: Principal): RecordingScope => ({ siteId: siteScope(p), agentId: agentScope(p) })

type AnswerInput = Array<{ itemId: string; answer: QaAnswer }>

/** Item ids unique within a form: answers name them. */
function checkItems(field: string, items: readonly QaFormItem[]): void {
  const seen = new Set<string>()
  for (const [i, item] of items.entries()) {
    if (seen.has(item.id)) throw invalidField(`${field}.${i}.id`, `item id ${JSON.stringify(item.id)} appears twice`)
    seen.add(item.id)
  }
}

function scored(field: string, items: readonly QaFormItem[], answers: AnswerInput) {
  const problem = checkAnswers(items, answers)
  if (problem !== null) throw invalidField(problem.index === null ? field : `${field}.${problem.index}.itemId`, problem.message)
  return { answers: answers.map((a) => ({ itemId: a.itemId, answer: a.answer })), ...scoreAnswers(items, answers) }
}

/** A file name a browser will not misread: the call id with anything odd replaced. */
const safeFileName = (callId: string, format: RecordingFormat): string => `${callId.replace(/[^A-Za-z0-9_.-]/g, '_')}.${format}`

export async function qaRoutes(app: FastifyInstance, options: QaRoutesOptions): Promise<void> {
  const { db, pii } = options
  const defaultRegion = options.defaultRegion ?? 'CN'
  const repos = repositories(db, pii)
  const numbers = new LeadNumberNormalizer()
  const inTx = <T>(fn: (r: Repositories) => Promise<T>): Promise<T> => db.transaction((tx) => fn(repositories(tx, pii)))
  for (const s of [recordingSchema, qaFormSchema, qaScoreSchema, qaSampleSchema]) app.addSchema(s)

  async function recordingInScope(request: FastifyRequest, id: string): Promise<Recording> {
    const r = await repos.recordings.get(id, recordingScopeOf(principalOf(request)))
    if (!r) throw notFound('recording', id)
    return r
  }

  async function formInScope(request: FastifyRequest, id: string): Promise<QaForm> {
    const f = await repos.qaForms.get(id, siteScope(principalOf(request)))
    if (!f) throw notFound('QA form', id)
    return f
  }

  /** A site a platform admin names must exist; site-bound callers always name their own. */
  async function siteOf(p: Principal, requested: string | undefined, field: string) {
    const siteId = siteForNew(p, requested)
    const site = await repos.sites.get(siteId)
    if (!site) throw invalidField(field, `site ${JSON.stringify(siteId)} does not exist`)
    return site
  }

  // ---- Recordings ----

  app.get<{
    Querystring: {
      from?: string
      to?: string
      number?: string
      region?: string
      customerId?: string
      agentId?: string
      campaignId?: string
      disposition?: string
      keyword?: string
      limit: number
      offset: number
    }
  }>('/v1/recordings', { schema: searchRecordingsSchema, config: { auth: Readers } }, async (request) => {
    const q = request.query
    const from = q.from === undefined ? undefined : Date.parse(q.from)
    const to = q.to === undefined ? undefined : Date.parse(q.to)
    if (from !== undefined && to !== undefined && !(to > from)) throw invalidField('querystring.to', 'must be after from')
    let number: string | undefined
    if (q.number !== undefined) {
      const r = numbers.normalize(q.number, q.region ?? defaultRegion)
      if (!r.ok) throw invalidField('querystring.number', r.reason)
      number = r.e164
    }
    const page = await repos.recordings.search(
      { from, to, number, customerId: q.customerId, agentId: q.agentId, campaignId: q.campaignId, disposition: q.disposition, keyword: q.keyword },
      recordingScopeOf(principalOf(request)),
      { limit: q.limit, offset: q.offset },
    )
    return { items: page.items.map(recordingView), total: page.total, limit: q.limit, offset: q.offset }
  })

  app.get<{ Params: { id: string } }>('/v1/recordings/:id', { schema: getRecordingSchema, config: { auth: Readers } }, async (request) => {
    const recording = await recordingInScope(request, request.params.id)
    return { recording: recordingView(recording), keywordHits: await repos.keywordHits.list(recording.id) }
  })

  /** The file, whole or the range asked for; the size comes from the file itself, not the row. */
  async function sendAudio(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    download: boolean,
    beforeWholeFile?: () => Promise<void>,
  ): Promise<FastifyReply> {
    const recording = await recordingInScope(request, request.params.id)
    const log = request.log.child({ recordingId: recording.id, callId: recording.callId })
    let size: number
    try {
      size = (await stat(recording.path)).size
    } catch (err) {
      // The row outlived its file (deleted, storage not mounted): the caller cannot fix that, an operator must.
      log.error({ err, path: recording.path }, 'recording file missing')
      throw notFound('recording file of', recording.id)
    }
    reply.header('accept-ranges', 'bytes')
    reply.header('etag', `"sha256-${recording.checksumSha256}"`)
    reply.header('cache-control', 'private, no-store')
    if (download) reply.header('content-disposition', `attachment; filename="${safeFileName(recording.callId, recording.format)}"`)
    const range = parseRange(request.headers.range, size)
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`)
      return sendProblem(reply, request, {
        type: ProblemTypes.http,
        title: 'Range not satisfiable',
        status: 416,
        detail: `the recording has ${size} bytes; the range ${JSON.stringify(request.headers.range)} lies outside it`,
      })
    }
    reply.type(RecordingContentTypes[recording.format])
    if (range.kind === 'full') {
      // Audit before the first byte: once the body streams, the client may have it all before a later write lands.
      await beforeWholeFile?.()
      reply.header('content-length', size)
      return reply.code(200).send(createReadStream(recording.path))
    }
    reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    reply.header('content-length', range.end - range.start + 1)
    return reply.code(206).send(createReadStream(recording.path, { start: range.start, end: range.end }))
  }

  app.get<{ Params: { id: string } }>('/v1/recordings/:id/audio', { schema: playRecordingSchema, config: { auth: Readers } }, (request, reply) =>
    sendAudio(request, reply, false),
  )
  app.get<{ Params: { id: string } }>('/v1/recordings/:id/download', { schema: downloadRecordingSchema, config: { auth: Readers } }, async (request, reply) => {
    const p = principalOf(request)
    // Only the first request of a download is audited; a resumed one (a Range request) is the same download.
    return sendAudio(request, reply, true, async () => {
      if (request.headers.range === undefined) {
        await repos.audit.append({ actor: p.actor, action: 'download', entity: 'recording', entityId: request.params.id })
      }
    })
  })

  // ---- Scoring forms ----

  app.post<{ Body: { name: string; items: QaFormItem[]; siteId?: string } }>(
    '/v1/qa/forms',
    { schema: createFormSchema, config: { auth: Reviewers } },
    async (request, reply) => {
      const p = principalOf(request)
      const site = await siteOf(p, request.body.siteId, 'body.siteId')
      checkItems('body.items', request.body.items)
      try {
        const form = await inTx(async (r) => {
          const f = await r.qaForms.create({ siteId: site.id, name: request.body.name.trim(), items: request.body.items, createdBy: p.actor })
          await r.audit.append({ actor: p.actor, action: 'create', entity: 'qa-form', entityId: f.id, detail: { siteId: f.siteId, name: f.name, items: f.items.length } })
          return f
        })
        return reply.code(201).send(formView(form))
      } catch (err) {
        if (err instanceof QaFormNameTaken) throw conflict(err.message)
        throw err
      }
    },
  )

  app.get<{ Querystring: { limit: number; offset: number } }>('/v1/qa/forms', { schema: listFormsSchema, config: { auth: Readers } }, async (request) => {
    const q = request.query
    const page = await repos.qaForms.list(siteScope(principalOf(request)), q)
    return { items: page.items.map(formView), total: page.total, limit: q.limit, offset: q.offset }
  })

  app.get<{ Params: { id: string } }>('/v1/qa/forms/:id', { schema: getFormSchema, config: { auth: Readers } }, async (request) =>
    formView(await formInScope(request, request.params.id)),
  )

  app.patch<{ Params: { id: string }; Body: { name?: string; items?: QaFormItem[] } }>(
    '/v1/qa/forms/:id',
    { schema: updateFormSchema, config: { auth: Reviewers } },
    async (request) => {
      const p = principalOf(request)
      const before = await formInScope(request, request.params.id)
      const body = request.body
      if (body.items !== undefined) checkItems('body.items', body.items)
      try {
        const form = await inTx(async (r) => {
          if (body.items !== undefined && (await r.qaForms.scoreCount(before.id)) > 0) {
            throw conflict(`form ${before.id} has scores computed against its items: create a new form instead`)
          }
          const f = await r.qaForms.update(before.id, { name: body.name?.trim(), items: body.items })
          if (!f) throw notFound('QA form', before.id)
          await r.audit.append({ actor: p.actor, action: 'update', entity: 'qa-form', entityId: f.id, detail: { changed: Object.keys(body) } })
          return f
        })
        return formView(form)
      } catch (err) {
        if (err instanceof QaFormNameTaken) throw conflict(err.message)
        throw err
      }
    },
  )

  app.delete<{ Params: { id: string } }>('/v1/qa/forms/:id', { schema: deleteFormSchema, config: { auth: Reviewers } }, async (request, reply) => {
    const p = principalOf(request)
    const form = await formInScope(request, request.params.id)
    await inTx(async (r) => {
      if ((await r.qaForms.scoreCount(form.id)) > 0) throw conflict(`form ${form.id} has scores; it stays so they keep their meaning`)
      await r.qaForms.delete(form.id)
      await r.audit.append({ actor: p.actor, action: 'delete', entity: 'qa-form', entityId: form.id, detail: { name: form.name } })
    })
    return reply.code(204).send()
  })

  // ---- Scores ----

  app.post<{ Body: { recordingId: string; formId: string; answers: AnswerInput; coachingNote?: string | null } }>(
    '/v1/qa/scores',
    { schema: createScoreSchema, config: { auth: Reviewers } },
    async (request, reply) => {
      const p = principalOf(request)
      const body = request.body
      // A recording or form the caller cannot see is an invalid reference, named like a missing one.
      const recording = await repos.recordings.get(body.recordingId, recordingScopeOf(p))
      if (!recording) throw invalidField('body.recordingId', `recording ${JSON.stringify(body.recordingId)} does not exist`)
      const form = await repos.qaForms.get(body.formId, siteScope(p))
      if (!form || form.siteId !== recording.siteId) throw invalidField('body.formId', `QA form ${JSON.stringify(body.formId)} does not exist in the recording's site`)
      const figures = scored('body.answers', form.items, body.answers)
      const score = await inTx(async (r) => {
        const s = await r.qaScores.create({
          siteId: recording.siteId,
          recordingId: recording.id,
          callId: recording.callId,
          formId: form.id,
          agentId: recording.agentId,
          reviewer: p.actor,
          ...figures,
          coachingNote: body.coachingNote ?? null,
        })
        await r.audit.append({
          actor: p.actor,
          action: 'create',
          entity: 'qa-score',
          entityId: s.id,
          detail: { recordingId: s.recordingId, formId: s.formId, agentId: s.agentId, score: s.score },
        })
        return s
      })
      request.log.info({ scoreId: score.id, recordingId: recording.id, agentId: recording.agentId }, 'QA score recorded')
      return reply.code(201).send(scoreView(score))
    },
  )

  app.get<{ Querystring: { recordingId?: string; agentId?: string; formId?: string; from?: string; to?: string; limit: number; offset: number } }>(
    '/v1/qa/scores',
    { schema: listScoresSchema, config: { auth: Readers } },
    async (request) => {
      const q = request.query
      const page = await repos.qaScores.list(
        {
          recordingId: q.recordingId,
          agentId: q.agentId,
          formId: q.formId,
          from: q.from === undefined ? undefined : Date.parse(q.from),
          to: q.to === undefined ? undefined : Date.parse(q.to),
        },
        recordingScopeOf(principalOf(request)),
        q,
      )
      return { items: page.items.map(scoreView), total: page.total, limit: q.limit, offset: q.offset }
    },
  )

  app.get<{ Params: { id: string } }>('/v1/qa/scores/:id', { schema: getScoreSchema, config: { auth: Readers } }, async (request) => {
    const s = await repos.qaScores.get(request.params.id, recordingScopeOf(principalOf(request)))
    if (!s) throw notFound('QA score', request.params.id)
    return scoreView(s)
  })

  app.patch<{ Params: { id: string }; Body: { answers?: AnswerInput; coachingNote?: string | null } }>(
    '/v1/qa/scores/:id',
    { schema: updateScoreSchema, config: { auth: Reviewers } },
    async (request) => {
      const p = principalOf(request)
      const before = await repos.qaScores.get(request.params.id, recordingScopeOf(p))
      if (!before) throw notFound('QA score', request.params.id)
      const body = request.body
      let answers: ReturnType<typeof scored> | undefined
      if (body.answers !== undefined) {
        const form = await repos.qaForms.get(before.formId, null)
        if (!form) throw new Error(`QA score ${before.id} names form ${before.formId}, which is gone`)
        answers = scored('body.answers', form.items, body.answers)
      }
      const s = await inTx(async (r) => {
        const after = await r.qaScores.update(before.id, { answers, coachingNote: body.coachingNote })
        if (!after) throw notFound('QA score', before.id)
        await r.audit.append({
          actor: p.actor,
          action: 'update',
          entity: 'qa-score',
          entityId: after.id,
          detail: { changed: Object.keys(body), scoreBefore: before.score, score: after.score },
        })
        return after
      })
      return scoreView(s)
    },
  )

  // ---- Sampling ----

  app.post<{ Body: { percent: number; day?: string; seed?: string; siteId?: string } }>(
    '/v1/qa/samples',
    { schema: createSampleSchema, config: { auth: Reviewers } },
    async (request, reply) => {
      const p = principalOf(request)
      const body = request.body
      if (body.day !== undefined) checkDay('body.day', body.day)
      const site = await siteOf(p, body.siteId, 'body.siteId')
      const day = body.day ?? (await repos.qaSamples.yesterday(site.timeZone))
      const bounds = await repos.qaSamples.dayBounds(day, site.timeZone)
      const seed = body.seed ?? newSampleSeed()
      const candidates = await repos.recordings.candidates(site.id, bounds.from, bounds.to)
      const picked = pickSample(candidates, body.percent, seed)
      const sample = await inTx(async (r) => {
        const s = await r.qaSamples.create({ siteId: site.id, day, timeZone: site.timeZone, percent: body.percent, seed, createdBy: p.actor, items: picked })
        await r.audit.append({
          actor: p.actor,
          action: 'create',
          entity: 'qa-sample',
          entityId: s.id,
          detail: { siteId: site.id, day, percent: body.percent, calls: candidates.length, sampled: picked.length },
        })
        return s
      })
      request.log.info({ sampleId: sample.id, siteId: site.id, day, calls: candidates.length, sampled: picked.length }, 'QA sample drawn')
      const full = await repos.qaSamples.get(sample.id, null)
      return reply.code(201).send(sampleView(full ?? sample))
    },
  )

  app.get<{ Querystring: { limit: number; offset: number } }>('/v1/qa/samples', { schema: listSamplesSchema, config: { auth: Reviewers } }, async (request) => {
    const q = request.query
    const page = await repos.qaSamples.list(siteScope(principalOf(request)), q)
    return { items: page.items.map(sampleView), total: page.total, limit: q.limit, offset: q.offset }
  })

  app.get<{ Params: { id: string } }>('/v1/qa/samples/:id', { schema: getSampleSchema, config: { auth: Reviewers } }, async (request) => {
    const s = await repos.qaSamples.get(request.params.id, siteScope(principalOf(request)))
    if (!s) throw notFound('QA sample', request.params.id)
    return sampleView(s)
  })

  // ---- Weekly report ----

  app.get<{ Querystring: { week: string; siteId?: string; keyword?: string[]; format: 'json' | ExportFormat } }>(
    '/v1/qa/reports/weekly',
    { schema: weeklyReportSchema, config: { auth: Readers } },
    async (request, reply) => {
      const p = principalOf(request)
      const q = request.query
      checkDay('querystring.week', q.week)
      if (p.siteId !== null && q.siteId !== undefined && q.siteId !== p.siteId) {
        throw invalidField('querystring.siteId', `you may report on site ${p.siteId} only`)
      }
      const siteId = p.siteId ?? q.siteId ?? null
      let timeZone = 'UTC'
      if (siteId !== null) {
        const site = await repos.sites.get(siteId)
        if (!site) throw invalidField('querystring.siteId', `site ${JSON.stringify(siteId)} does not exist`)
        timeZone = site.timeZone
      }
      const first = await repos.qaSamples.dayBounds(q.week, timeZone)
      const end = await repos.qaSamples.dayBounds(addDays(q.week, 6), timeZone)
      const keywords = [...new Set(q.keyword ?? DefaultWatchedKeywords)]
      const rows = await repos.qaReports.weekly({ from: first.from, to: end.to, siteId, agentId: agentScope(p) }, keywords)
      const period = { from: iso(first.from), to: iso(end.to), siteId, timeZone }
      if (q.format === 'json') return { period, keywords, items: rows }
      const columns: ExportColumn<QaReportRow>[] = [
        { header: 'Agent id', value: (r) => r.agentId },
        { header: 'Agent', value: (r) => r.name ?? '' },
        { header: 'Calls', value: (r) => r.calls },
        { header: 'Calls scored', value: (r) => r.scoredCalls },
        { header: 'Average score', value: (r) => r.averageScore ?? '' },
        { header: 'Calls missing a required phrase', value: (r) => r.requiredMissingCalls },
        { header: 'Required phrases missing', value: (r) => r.requiredMissingPhrases },
        ...keywords.map((k) => ({ header: `Hits: ${k}`, value: (r: QaReportRow) => r.keywordHits[k] ?? 0 })),
      ]
      const body = await exportTable(q.format, 'qa-weekly', columns, rows)
      return reply
        .type(ExportContentTypes[q.format])
        .header('content-disposition', `attachment; filename="qa-weekly-${q.week}.${q.format}"`)
        .send(body)
    },
  )
}

/** A YYYY-MM-DD that names a real day (the schema's format checks the shape; 2026-02-30 must not reach the database). */
function checkDay(field: string, day: string): void {
  const d = new Date(`${day}T00:00:00Z`)
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day || d.getUTCFullYear() < 2000 || d.getUTCFullYear() > 2999) {
    throw invalidField(field, 'must be a calendar day between 2000-01-01 and 2999-12-31')
  }
}

/** YYYY-MM-DD plus n calendar days (dates only: no zone involved). */
function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}
