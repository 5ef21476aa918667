import { campaignIdParams } from './campaign.js'
import { problemResponses } from './problem.js'
import { listOf, pageOf, pagingQuery } from './page.js'

const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const region = { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 region for national-format numbers' } as const

export const leadListSchema = {
  $id: 'cadence/lead-list',
  type: 'object',
  required: ['id', 'campaignId', 'name', 'createdAt', 'leadCount'],
  properties: {
    id: { type: 'string' },
    campaignId: { type: 'string' },
    name: { type: 'string' },
    source: { type: 'string' },
    region: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    leadCount: { type: 'integer' },
  },
} as const

const badRow = {
  type: 'object',
  required: ['line', 'reason'],
  properties: { line: { type: 'integer' }, reason: { type: 'string' }, value: { type: 'string' } },
} as const

export const leadImportSchema = {
  $id: 'cadence/lead-import',
  type: 'object',
  required: ['id', 'listId', 'campaignId', 'format', 'status', 'rowsRead', 'inserted', 'duplicates', 'bad', 'startedAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    listId: { type: 'string' },
    campaignId: { type: 'string' },
    format: { type: 'string', enum: ['csv', 'xlsx'] },
    status: { type: 'string', enum: ['running', 'done', 'failed'] },
    rowsRead: { type: 'integer', description: 'data rows read so far (the header line not counted)' },
    inserted: { type: 'integer' },
    duplicates: { type: 'integer', description: 'numbers already in the campaign, or earlier in the file' },
    bad: { type: 'integer', description: 'rows refused; see badRows or .../errors' },
    error: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    badRows: { type: 'array', description: 'the first bad rows (all of them: .../errors)', items: badRow },
  },
} as const

const listParams = { type: 'object', required: ['listId'], additionalProperties: false, properties: { listId: id } } as const
const importParams = {
  type: 'object',
  required: ['listId', 'importId'],
  additionalProperties: false,
  properties: { listId: id, importId: id },
} as const

export const createLeadListSchema = {
  summary: 'Create a lead list in a campaign',
  params: campaignIdParams,
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, source: { type: 'string', maxLength: 200 }, region },
  },
  response: { 201: { $ref: 'cadence/lead-list#' }, ...problemResponses },
} as const

export const listLeadListsSchema = {
  summary: "A campaign's lead lists",
  params: campaignIdParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...pagingQuery(50, 500),
    },
  },
  response: {
    200: pageOf('cadence/lead-list#'),
    ...problemResponses,
  },
} as const

export const getLeadListSchema = {
  summary: 'One lead list',
  params: listParams,
  response: { 200: { $ref: 'cadence/lead-list#' }, ...problemResponses },
} as const

export const importLeadsSchema = {
  summary: 'Import leads into a list from a CSV (text/csv) or XLSX body, streamed',
  description:
    'The first line names the columns: phone (required; also number, mobile, tel, 电话, 手机), region, timezone, priority, ' +
    'customerId. Numbers are normalized to E.164 (national ones with the row region, ?region, or the list region); ' +
    'numbers already in the campaign are skipped as duplicates; bad rows are reported by line while good rows land. ' +
    'Progress can be polled at GET /v1/lead-lists/{listId}/imports while the upload runs.',
  params: listParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      region,
      delimiter: { type: 'string', enum: [',', ';', '\t', '|'], description: 'CSV field delimiter (default ",")' },
    },
  },
  response: { 201: { $ref: 'cadence/lead-import#' }, ...problemResponses },
} as const

export const listImportsSchema = {
  summary: "A list's imports, newest first, with their progress",
  params: listParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 } },
  },
  response: {
    200: listOf('cadence/lead-import#'),
    ...problemResponses,
  },
} as const

export const getImportSchema = {
  summary: 'Progress of one import: rows read, inserted, duplicates, bad, done',
  params: importParams,
  response: { 200: { $ref: 'cadence/lead-import#' }, ...problemResponses },
} as const

export const importErrorsSchema = {
  summary: "An import's bad rows by line, with the reason",
  params: importParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      afterLine: { type: 'integer', minimum: 0, default: 0 },
      limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['items'],
      properties: { items: { type: 'array', items: badRow }, nextAfterLine: { type: 'integer' } },
    },
    ...problemResponses,
  },
} as const

export const exportLeadListSchema = {
  summary: "A list's leads as CSV, streamed",
  params: listParams,
  produces: ['text/csv'],
  response: { 200: { type: 'string', description: 'CSV with a header line' }, ...problemResponses },
} as const
