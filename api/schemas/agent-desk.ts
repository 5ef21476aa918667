/**
 * The agent-desktop contract: actions an agent takes for itself under /v1/agent/..., and a supervisor takes for an
 * agent of its site under /v1/agents/{id}/.... Both answer the agent's live state (cadence/agent-live) where the
 * action changes it.
 */
import { problemResponses } from './problem.js'

const agentIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } },
} as const
const leadParams = {
  type: 'object',
  required: ['leadId'],
  additionalProperties: false,
  properties: {
    id: agentIdParams.properties.id,
    leadId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
  },
} as const
const campaignId = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const customerId = { type: 'string', minLength: 1, maxLength: 200 } as const
/** A number as an agent types it: digits with an optional +, spaces, dashes, dots and brackets. */
const number = { type: 'string', minLength: 3, maxLength: 32, pattern: '^\\+?[0-9 ()./-]{3,32}$' } as const
const live = { $ref: 'cadence/agent-live#' } as const

type Params = typeof agentIdParams | typeof leadParams

/** The same action for the caller's own agent (no params) and for a named agent (params). */
export function deskSchema<S extends { summary: string }>(s: S, params?: Params) {
  return { tags: ['agent desk'], ...s, ...(params === undefined ? {} : { params }) }
}

export const paramsFor = { agent: agentIdParams, lead: leadParams } as const

const noBody = { type: 'null' } as const

export const stateSchema = { summary: "The agent's live state", response: { 200: live, ...problemResponses } } as const

export const loginSchema = {
  summary: 'Log in (paused with reason "login", or ready with ready: true)',
  body: { type: 'object', additionalProperties: false, properties: { ready: { type: 'boolean', default: false } } },
  response: { 200: live, ...problemResponses },
} as const

export const simpleActionSchema = (summary: string) => ({ summary, response: { 200: live, ...problemResponses } }) as const

export const pauseSchema = {
  summary: "Pause with one of the site's active pause codes",
  body: {
    type: 'object',
    required: ['code'],
    additionalProperties: false,
    properties: { code: { type: 'string', minLength: 1, maxLength: 64 } },
  },
  response: { 200: live, ...problemResponses },
} as const

export const previewSchema = {
  summary: 'Take and hold the next dialable lead of a running preview campaign (lead null: none dialable now)',
  body: { type: 'object', required: ['campaignId'], additionalProperties: false, properties: { campaignId } },
  response: {
    200: {
      type: 'object',
      required: ['lead'],
      properties: {
        lead: {
          anyOf: [
            {
              type: 'object',
              required: ['campaignId', 'leadId', 'phone', 'screenedOut'],
              additionalProperties: false,
              properties: {
                campaignId: { type: 'string' },
                leadId: { type: 'string' },
                phone: { type: 'string' },
                customerId: { type: 'string' },
                screenedOut: { type: 'integer' },
              },
            },
            { type: 'null' },
          ],
        },
      },
    },
    ...problemResponses,
  },
} as const

const callStarted = {
  type: 'object',
  required: ['callId'],
  properties: { callId: { type: 'string' } },
} as const

export const dialPreviewSchema = {
  summary: 'Dial the held preview lead',
  response: { 201: callStarted, ...problemResponses },
} as const

export const skipPreviewSchema = {
  summary: 'Give the held preview lead back without dialing it',
  response: { 204: noBody, ...problemResponses },
} as const

export const dialSchema = {
  summary: 'Click-to-dial a number for a campaign (screened first: DNC, calling hours, invalid numbers)',
  body: {
    type: 'object',
    required: ['campaignId', 'number'],
    additionalProperties: false,
    properties: { campaignId, number, customerId },
  },
  response: { 201: callStarted, ...problemResponses },
} as const

export const holdSchema = {
  summary: 'Put the current call on hold, or take it off hold',
  body: { type: 'object', required: ['on'], additionalProperties: false, properties: { on: { type: 'boolean' } } },
  response: { 200: live, ...problemResponses },
} as const

export const recordingSchema = {
  summary: "Pause the current call's recording (card details, say) or resume it",
  description:
    'Pausing stops the recording; resuming starts it again (a call never recorded starts now). The QA recording skips the paused part. Only the agent on the call can do this.',
  body: { type: 'object', required: ['on'], additionalProperties: false, properties: { on: { type: 'boolean' } } },
  response: { 200: live, ...problemResponses },
} as const

export const consultSchema = {
  summary: 'Attended transfer: put the customer on hold and talk to another ready agent of the site',
  body: {
    type: 'object',
    required: ['to'],
    additionalProperties: false,
    properties: { to: { type: 'object', required: ['agentId'], additionalProperties: false, properties: { agentId: agentIdParams.properties.id } } },
  },
  response: { 200: live, ...problemResponses },
} as const

export const completeConsultSchema = {
  summary: 'Attended transfer: hand the customer to the consulted agent (you wrap up)',
  body: { type: 'object', additionalProperties: false, properties: { customerId } },
  response: { 200: live, ...problemResponses },
} as const

export const cancelConsultSchema = {
  summary: 'Attended transfer: drop the consultation and take the customer off hold',
  response: { 200: live, ...problemResponses },
} as const

export const transferSchema = {
  summary: 'Blind-transfer the current call to an agent, a queue or a number, the customer record following it',
  body: {
    type: 'object',
    required: ['to'],
    additionalProperties: false,
    properties: {
      to: {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: false,
        properties: { agentId: agentIdParams.properties.id, queueId: { type: 'string', minLength: 1, maxLength: 200 }, number },
      },
      customerId,
    },
  },
  response: { 200: live, ...problemResponses },
} as const

export const dispositionSchema = {
  summary: "Disposition a finished call of the agent's, optionally booking a callback to the minute",
  body: {
    type: 'object',
    required: ['callId', 'code'],
    additionalProperties: false,
    properties: {
      callId: { type: 'string', minLength: 1, maxLength: 200 },
      code: { type: 'string', pattern: '^[a-z0-9:_-]{1,64}$' },
      callback: {
        type: 'object',
        required: ['at'],
        additionalProperties: false,
        properties: {
          at: { type: 'string', format: 'date-time' },
          /** Who the callback is offered to: the agent (default) or anyone. */
          for: { type: 'string', enum: ['me', 'anyone'], default: 'me' },
        },
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['callId', 'code'],
      additionalProperties: false,
      properties: {
        callId: { type: 'string' },
        code: { type: 'string' },
        callback: {
          type: 'object',
          required: ['id', 'leadId', 'at', 'agentId'],
          additionalProperties: false,
          properties: {
            id: { type: 'string' },
            leadId: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
            agentId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          },
        },
      },
    },
    ...problemResponses,
  },
} as const
