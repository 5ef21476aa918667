/**
 * The QA contract: recordings (search, playback, download), scoring forms, scores with coaching notes, sampling runs
 * and the weekly QA report.
 */
import { QaAnswers } from '../../engine/qa/score.js'
import { RecordingFormats } from '../../engine/store/sql/recordings.js'
import { pageOf, pagingQuery } from './page.js'
import { problemResponses } from './problem.js'

const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const siteId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } as const
const dateTime = { type: 'string', format: 'date-time' } as const
const day = { type: 'string', format: 'date', description: 'YYYY-MM-DD, a calendar day in the site’s time zone' } as const
const nullableString = { type: ['string', 'null'] } as const
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id } } as const
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const
const keyword = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } as const
const itemId = { type: 'string', pattern: '^[a-z0-9_-]{1,40}$' } as const
const coachingNote = { type: ['string', 'null'], maxLength: 5000, description: 'for the agent: what to keep, what to change' } as const

const hitProperties = {
  keyword: { type: 'string' },
  party: { type: 'string', description: 'who said it: agent or customer' },
  atMs: { type: 'integer', description: 'offset from the start of the recording' },
  confidence: { type: 'number' },
  required: { type: 'boolean', description: 'a required phrase (identity, consent) rather than a watched word' },
} as const

const recordingProperties = {
  id: { type: 'string' },
  callId: { type: 'string' },
  siteId: { type: 'string' },
  campaignId: nullableString,
  agentId: nullableString,
  customerId: nullableString,
  startedAt: dateTime,
  durationMs: { type: 'integer' },
  format: { type: 'string', enum: RecordingFormats },
  checksumSha256: { type: 'string' },
  sizeBytes: { type: 'integer' },
  channels: { type: 'integer' },
  number: { ...nullableString, description: 'the customer’s number, E.164' },
  disposition: { ...nullableString, description: 'the call’s disposition (from its CDR)' },
  requiredMissing: { type: ['array', 'null'], items: { type: 'string' }, description: 'required phrases not heard; null: not analysed yet' },
  analysedAt: { type: ['string', 'null'], format: 'date-time' },
  createdAt: dateTime,
} as const

export const recordingSchema = {
  $id: 'cadence/recording',
  type: 'object',
  required: Object.keys(recordingProperties),
  additionalProperties: false,
  properties: recordingProperties,
} as const

export const searchRecordingsSchema = {
  tags: ['qa'],
  summary: 'Find recordings by time, number, customer, agent, campaign, disposition or keyword hit (newest first)',
  description:
    'number= is looked up by its keyed hash in any format (national numbers read in region, default CN). Agents find ' +
    'only their own calls.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { ...dateTime, description: 'calls that started at or after' },
      to: { ...dateTime, description: 'calls that started before' },
      number: { type: 'string', minLength: 1, maxLength: 64 },
      region: { type: 'string', pattern: '^[A-Z]{2}$' },
      customerId: id,
      agentId: id,
      campaignId: id,
      disposition: { type: 'string', pattern: '^[a-z0-9:_-]{1,64}$' },
      keyword,
      ...pagingQuery(50, 500),
    },
  },
  response: { 200: pageOf('cadence/recording#'), ...problemResponses },
} as const

export const getRecordingSchema = {
  tags: ['qa'],
  summary: 'A recording with its keyword hits',
  params: idParams,
  querystring: noQuery,
  response: {
    200: {
      type: 'object',
      required: ['recording', 'keywordHits'],
      additionalProperties: false,
      properties: {
        recording: { $ref: 'cadence/recording#' },
        keywordHits: { type: 'array', items: { type: 'object', required: Object.keys(hitProperties), additionalProperties: false, properties: hitProperties } },
      },
    },
    ...problemResponses,
  },
} as const

export const playRecordingSchema = {
  tags: ['qa'],
  summary: 'Stream a recording (HTTP Range requests: 206 with Content-Range; 416 when unsatisfiable)',
  params: idParams,
  querystring: noQuery,
  response: problemResponses,
} as const

export const downloadRecordingSchema = {
  tags: ['qa'],
  summary: 'Download a recording as a file (ranges honoured too, so downloads resume)',
  params: idParams,
  querystring: noQuery,
  response: problemResponses,
} as const

const formItemProperties = {
  id: itemId,
  label: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
  weight: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
  required: { type: 'boolean', default: false, description: 'answered no, the call fails this item whatever the score' },
} as const
const formItemInput = {
  type: 'object',
  required: ['id', 'label', 'weight'],
  additionalProperties: false,
  properties: formItemProperties,
} as const
const formItems = { type: 'array', minItems: 1, maxItems: 100, items: formItemInput } as const
const formName = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } as const

const formProperties = {
  id: { type: 'string' },
  siteId: { type: 'string' },
  name: { type: 'string' },
  items: { type: 'array', items: { type: 'object', required: Object.keys(formItemProperties), additionalProperties: false, properties: formItemProperties } },
  createdBy: { type: 'string' },
  createdAt: dateTime,
  updatedAt: dateTime,
} as const
export const qaFormSchema = {
  $id: 'cadence/qa-form',
  type: 'object',
  required: Object.keys(formProperties),
  additionalProperties: false,
  properties: formProperties,
} as const

export const createFormSchema = {
  tags: ['qa'],
  summary: 'Create a scoring form: yes / no / n.a. items with weights',
  body: {
    type: 'object',
    required: ['name', 'items'],
    additionalProperties: false,
    properties: { name: formName, items: formItems, siteId: { ...siteId, description: 'platform admins only' } },
  },
  response: { 201: { $ref: 'cadence/qa-form#' }, ...problemResponses },
} as const

export const listFormsSchema = {
  tags: ['qa'],
  summary: 'The scoring forms of the site',
  querystring: { type: 'object', additionalProperties: false, properties: pagingQuery(50, 500) },
  response: { 200: pageOf('cadence/qa-form#'), ...problemResponses },
} as const

export const getFormSchema = {
  tags: ['qa'],
  summary: 'A scoring form',
  params: idParams,
  querystring: noQuery,
  response: { 200: { $ref: 'cadence/qa-form#' }, ...problemResponses },
} as const

export const updateFormSchema = {
  tags: ['qa'],
  summary: 'Rename a form, or change its items while no score uses it (409 after)',
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { name: formName, items: formItems },
  },
  response: { 200: { $ref: 'cadence/qa-form#' }, ...problemResponses },
} as const

export const deleteFormSchema = {
  tags: ['qa'],
  summary: 'Delete a form no score uses (409 otherwise)',
  params: idParams,
  querystring: noQuery,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

const answerInput = {
  type: 'object',
  required: ['itemId', 'answer'],
  additionalProperties: false,
  properties: { itemId, answer: { type: 'string', enum: QaAnswers, description: 'yes, no or na (does not apply)' } },
} as const
const answers = { type: 'array', minItems: 1, maxItems: 100, items: answerInput } as const

const scoreProperties = {
  id: { type: 'string' },
  siteId: { type: 'string' },
  recordingId: { type: 'string' },
  callId: { type: 'string' },
  formId: { type: 'string' },
  agentId: nullableString,
  reviewer: { type: 'string' },
  answers: { type: 'array', items: answerInput },
  earned: { type: 'number' },
  possible: { type: 'number', description: 'the weights of the items not answered n.a.' },
  score: { type: ['number', 'null'], description: 'earned / possible × 100; null when every item was n.a.' },
  failedRequired: { type: 'array', items: { type: 'string' }, description: 'required items answered no' },
  coachingNote: nullableString,
  createdAt: dateTime,
  updatedAt: dateTime,
} as const
export const qaScoreSchema = {
  $id: 'cadence/qa-score',
  type: 'object',
  required: Object.keys(scoreProperties),
  additionalProperties: false,
  properties: scoreProperties,
} as const

export const createScoreSchema = {
  tags: ['qa'],
  summary: 'Score a recorded call on a form: every item answered yes, no or na; n.a. items leave the denominator',
  body: {
    type: 'object',
    required: ['recordingId', 'formId', 'answers'],
    additionalProperties: false,
    properties: { recordingId: id, formId: id, answers, coachingNote },
  },
  response: { 201: { $ref: 'cadence/qa-score#' }, ...problemResponses },
} as const

export const listScoresSchema = {
  tags: ['qa'],
  summary: 'Scores, newest first (agents: their own calls’)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { recordingId: id, agentId: id, formId: id, from: dateTime, to: dateTime, ...pagingQuery(50, 500) },
  },
  response: { 200: pageOf('cadence/qa-score#'), ...problemResponses },
} as const

export const getScoreSchema = {
  tags: ['qa'],
  summary: 'A score with its answers and coaching note',
  params: idParams,
  querystring: noQuery,
  response: { 200: { $ref: 'cadence/qa-score#' }, ...problemResponses },
} as const

export const updateScoreSchema = {
  tags: ['qa'],
  summary: 'Change a score’s answers (recomputed) or its coaching note',
  params: idParams,
  body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { answers, coachingNote } },
  response: { 200: { $ref: 'cadence/qa-score#' }, ...problemResponses },
} as const

const sampleItem = {
  type: 'object',
  required: ['recordingId', 'agentId'],
  additionalProperties: false,
  properties: { recordingId: { type: 'string' }, agentId: nullableString },
} as const
const sampleProperties = {
  id: { type: 'string' },
  siteId: { type: 'string' },
  day: { type: 'string' },
  timeZone: { type: 'string' },
  percent: { type: 'number' },
  seed: { type: 'string', description: 'run again with this seed over the same calls to get the same sample' },
  createdBy: { type: 'string' },
  createdAt: dateTime,
} as const
export const qaSampleSchema = {
  $id: 'cadence/qa-sample',
  type: 'object',
  required: [...Object.keys(sampleProperties), 'items'],
  additionalProperties: false,
  properties: { ...sampleProperties, items: { type: 'array', items: sampleItem } },
} as const
const sampleSummary = {
  type: 'object',
  required: [...Object.keys(sampleProperties), 'size'],
  additionalProperties: false,
  properties: { ...sampleProperties, size: { type: 'integer' } },
} as const

export const createSampleSchema = {
  tags: ['qa'],
  summary: 'Sample a percentage of a day’s recorded calls per agent (default yesterday), reproducibly with a seed',
  description:
    'Each agent gets ceil(calls × percent / 100) of their calls, chosen by a hash of (seed, recording id): the same seed ' +
    'over the same calls picks the same ones. A seed is made when none is given and returned with the run.',
  body: {
    type: 'object',
    required: ['percent'],
    additionalProperties: false,
    properties: {
      percent: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
      day,
      seed: { type: 'string', minLength: 1, maxLength: 100 },
      siteId: { ...siteId, description: 'platform admins only' },
    },
  },
  response: { 201: { $ref: 'cadence/qa-sample#' }, ...problemResponses },
} as const

export const listSamplesSchema = {
  tags: ['qa'],
  summary: 'Sampling runs, newest first',
  querystring: { type: 'object', additionalProperties: false, properties: pagingQuery(50, 500) },
  response: {
    200: {
      type: 'object',
      required: ['items', 'total', 'limit', 'offset'],
      properties: { items: { type: 'array', items: sampleSummary }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } },
    },
    ...problemResponses,
  },
} as const

export const getSampleSchema = {
  tags: ['qa'],
  summary: 'A sampling run with the calls it chose',
  params: idParams,
  querystring: noQuery,
  response: { 200: { $ref: 'cadence/qa-sample#' }, ...problemResponses },
} as const

export const DefaultWatchedKeywords = ['投诉', '退款'] as const

const reportRow = {
  type: 'object',
  required: ['agentId', 'name', 'calls', 'scoredCalls', 'averageScore', 'requiredMissingCalls', 'requiredMissingPhrases', 'keywordHits'],
  additionalProperties: false,
  properties: {
    agentId: { type: 'string' },
    name: nullableString,
    calls: { type: 'integer', description: 'recorded calls that started in the week' },
    scoredCalls: { type: 'integer', description: 'calls scored in the week' },
    averageScore: { type: ['number', 'null'] },
    requiredMissingCalls: { type: 'integer', description: 'calls in which a required phrase was not heard' },
    requiredMissingPhrases: { type: 'integer' },
    keywordHits: { type: 'object', additionalProperties: { type: 'integer' } },
  },
} as const

export const weeklyReportSchema = {
  tags: ['qa'],
  summary: 'The weekly QA report per agent: calls, scored calls, average score, required phrases missing, keyword hits',
  description: 'format=csv or xlsx answers a file. Agents get their own row.',
  querystring: {
    type: 'object',
    required: ['week'],
    additionalProperties: false,
    properties: {
      week: { ...day, description: 'the first day of the week (YYYY-MM-DD), in the site’s time zone' },
      siteId: { ...siteId, description: 'platform admins: one site (default all, in UTC)' },
      keyword: { type: 'array', minItems: 1, maxItems: 20, items: keyword, description: 'watched keywords; default 投诉, 退款' },
      format: { type: 'string', enum: ['json', 'csv', 'xlsx'], default: 'json' },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['period', 'keywords', 'items'],
      additionalProperties: false,
      properties: {
        period: {
          type: 'object',
          required: ['from', 'to', 'siteId', 'timeZone'],
          additionalProperties: false,
          properties: { from: dateTime, to: dateTime, siteId: nullableString, timeZone: { type: 'string' } },
        },
        keywords: { type: 'array', items: { type: 'string' } },
        items: { type: 'array', items: reportRow },
      },
    },
    ...problemResponses,
  },
} as const
