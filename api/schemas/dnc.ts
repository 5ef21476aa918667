import { problemResponses } from './problem.js'
import { pageOf, pagingQuery } from './page.js'

const campaignId = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const region = { type: 'string', pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 region for national-format numbers' } as const

export const dncEntrySchema = {
  $id: 'cadence/dnc-entry',
  type: 'object',
  required: ['id', 'kind', 'number', 'scope', 'createdAt'],
  properties: {
    id: { type: 'string' },
    scope: { type: 'string', enum: ['global', 'campaign'] },
    campaignId: { type: 'string' },
    kind: { type: 'string', enum: ['number', 'prefix'] },
    number: { type: 'string', description: 'E.164 for a number, +<digits> for a prefix' },
    reason: { type: 'string' },
    source: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const

export const addDncSchema = {
  summary: 'Put a number or a prefix on the global DNC list or a campaign’s',
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      number: { type: 'string', minLength: 1, maxLength: 64, description: 'a whole number, any format (national ones need region)' },
      prefix: { type: 'string', minLength: 1, maxLength: 32, description: '"+1201", "1201XXXXXXX", "+86 1065"' },
      campaignId: { ...campaignId, description: 'omit for the global list' },
      region,
      reason: { type: 'string', maxLength: 200 },
    },
  },
  response: { 200: { $ref: 'cadence/dnc-entry#' }, 201: { $ref: 'cadence/dnc-entry#' }, ...problemResponses },
} as const

export const listDncSchema = {
  summary: 'DNC entries, newest first',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scope: { type: 'string', enum: ['global', 'campaign', 'all'], default: 'all' },
      campaignId,
      kind: { type: 'string', enum: ['number', 'prefix'] },
      number: { type: 'string', minLength: 1, maxLength: 64, description: 'only this number or prefix (normalized first)' },
      region,
      ...pagingQuery(100, 1000),
    },
  },
  response: {
    200: pageOf('cadence/dnc-entry#'),
    ...problemResponses,
  },
} as const

export const removeDncSchema = {
  summary: 'Take an entry off its DNC list',
  params: {
    type: 'object',
    required: ['id'],
    additionalProperties: false,
    properties: { id: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } },
  },
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const importDncSchema = {
  summary: 'Bulk-add DNC entries from a CSV body (text/csv), streamed',
  description:
    'The first line names the columns: number (also phone, mobile, tel, 电话, 手机) and/or prefix, and optionally reason. ' +
    'Each row adds its number or its prefix; bad rows are reported by line while the good ones land.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { campaignId: { ...campaignId, description: 'omit for the global list' }, region, delimiter: { type: 'string', enum: [',', ';', '\t', '|'] } },
  },
  response: {
    200: {
      type: 'object',
      required: ['rowsRead', 'added', 'alreadyListed', 'bad', 'badRows'],
      properties: {
        rowsRead: { type: 'integer' },
        added: { type: 'integer' },
        alreadyListed: { type: 'integer' },
        bad: { type: 'integer' },
        badRows: {
          type: 'array',
          description: 'the first 1000 bad rows',
          items: { type: 'object', required: ['line', 'reason'], properties: { line: { type: 'integer' }, reason: { type: 'string' }, value: { type: 'string' } } },
        },
      },
    },
    ...problemResponses,
  },
} as const
