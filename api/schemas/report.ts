/** The reports contract: a period, a scope, and a format (JSON, or CSV/XLSX files). */
import { problemResponses } from './problem.js'

export const ReportFormats = ['json', 'csv', 'xlsx'] as const

const periodQuery = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    format: { type: 'string', enum: ReportFormats, default: 'json' },
  },
} as const

const periodEcho = {
  type: 'object',
  required: ['from', 'to', 'siteId'],
  properties: { from: { type: 'string' }, to: { type: 'string' }, siteId: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
} as const

const definitions = {
  type: 'object',
  additionalProperties: { type: 'string' },
} as const

export const agentReportSchema = {
  tags: ['reports'],
  summary: 'Per agent: calls, talk time and average, conversions, time in each state (agents see their own row)',
  querystring: periodQuery,
  response: {
    200: {
      type: 'object',
      required: ['period', 'definitions', 'items'],
      properties: {
        period: periodEcho,
        definitions,
        stateSampleSeconds: { type: 'number' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['agentId', 'name', 'calls', 'talkSeconds', 'averageTalkSeconds', 'conversions', 'stateSeconds'],
            properties: {
              agentId: { type: 'string' },
              name: { type: 'string' },
              calls: { type: 'integer' },
              talkSeconds: { type: 'number' },
              averageTalkSeconds: { type: 'number' },
              conversions: { type: 'integer' },
              stateSeconds: { type: 'object', additionalProperties: { type: 'number' } },
            },
          },
        },
      },
    },
    ...problemResponses,
  },
} as const

export const campaignReportSchema = {
  tags: ['reports'],
  summary: 'Per campaign: dialed, connects, connect/abandon/conversion rates (abandon denominator named), talk, waits',
  querystring: periodQuery,
  response: {
    200: {
      type: 'object',
      required: ['period', 'definitions', 'abandonDenominator', 'items'],
      properties: {
        period: periodEcho,
        definitions,
        abandonDenominator: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['campaignId', 'name', 'dialed', 'connects', 'abandoned', 'connectRate', 'abandonRate', 'conversionRate'],
            properties: {
              campaignId: { type: 'string' },
              name: { type: 'string' },
              dialed: { type: 'integer' },
              connects: { type: 'integer' },
              abandoned: { type: 'integer' },
              machines: { type: 'integer' },
              conversions: { type: 'integer' },
              talkSeconds: { type: 'number' },
              averageTalkSeconds: { type: 'number' },
              connectRate: { type: 'number' },
              abandonRate: { type: 'number' },
              conversionRate: { type: 'number' },
              averageWaitSeconds: { type: 'number' },
            },
          },
        },
      },
    },
    ...problemResponses,
  },
} as const

export const siteReportSchema = {
  tags: ['reports'],
  summary: 'A site (or the platform) in total: outbound rates, conversions, lost inbound calls and average inbound wait',
  querystring: periodQuery,
  response: {
    200: {
      type: 'object',
      required: ['period', 'definitions', 'abandonDenominator', 'site'],
      properties: {
        period: periodEcho,
        definitions,
        abandonDenominator: { type: 'string' },
        site: {
          type: 'object',
          properties: {
            siteId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
            dialed: { type: 'integer' },
            connects: { type: 'integer' },
            abandoned: { type: 'integer' },
            conversions: { type: 'integer' },
            talkSeconds: { type: 'number' },
            connectRate: { type: 'number' },
            abandonRate: { type: 'number' },
            conversionRate: { type: 'number' },
            inbound: {
              type: 'object',
              properties: { calls: { type: 'integer' }, lost: { type: 'integer' }, averageWaitSeconds: { type: 'number' } },
            },
          },
        },
      },
    },
    ...problemResponses,
  },
} as const
