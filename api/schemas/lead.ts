import { RejectionCodes } from '../../engine/screening/rejection.js'
import { problemResponses } from './problem.js'

/** Reasons the API adds to screening's own: the hopper no longer offers the lead, or its campaign is not dialing. */
export const ApiRejectionCodes = ['lead-closed', 'campaign-not-running'] as const

export const dialabilitySchema = {
  summary: 'Why is this lead not dialable now: every screening reason, with the time each clears',
  description:
    "Runs the engine's screening with the campaign's policy, the DNC lists the engine reads and the lead's attempt history. " +
    'retryAt is the earliest time a reason clears (absent: only a human decision clears it).',
  params: {
    type: 'object',
    required: ['id'],
    additionalProperties: false,
    properties: { id: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } },
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { at: { type: 'string', format: 'date-time', description: 'judge at this instant instead of now' } },
  },
  response: {
    200: {
      type: 'object',
      required: ['leadId', 'campaignId', 'at', 'dialable', 'status', 'campaignState', 'rejections'],
      properties: {
        leadId: { type: 'string' },
        campaignId: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        dialable: { type: 'boolean' },
        status: { type: 'string' },
        campaignState: { type: 'string', enum: ['stopped', 'running', 'paused'] },
        e164: { type: 'string' },
        rejections: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'detail'],
            properties: {
              code: { type: 'string', enum: [...RejectionCodes, ...ApiRejectionCodes] },
              detail: { type: 'string' },
              retryAt: { type: 'string', format: 'date-time' },
            },
          },
        },
        retryAt: { type: 'string', format: 'date-time', description: 'when every screening reason clears together' },
        timeZone: { type: 'string' },
        localTime: { type: 'string', description: "the lead's local date and time" },
        nextAttemptAt: { type: 'string', format: 'date-time', description: 'if dialed now, the earliest next attempt' },
      },
    },
    ...problemResponses,
  },
} as const
