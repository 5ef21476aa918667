/**
 * The supervisor contract (issue 5 §7): listen to, whisper to or barge into a live call through the supervisor's own
 * phone, and end it. A live call is addressed by the engine's call id (as in agent states and events).
 */
import { listOf } from './page.js'
import { problemResponses } from './problem.js'

const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const

export const callParams = { type: 'object', required: ['callId'], additionalProperties: false, properties: { callId: id } } as const
export const supervisionParams = {
  type: 'object',
  required: ['supervisionId'],
  additionalProperties: false,
  properties: { supervisionId: id },
} as const

export const supervisionView = {
  $id: 'cadence/supervision',
  type: 'object',
  required: ['supervisionId', 'callId', 'mode', 'state'],
  additionalProperties: false,
  properties: {
    supervisionId: { type: 'string' },
    callId: { type: 'string' },
    mode: { type: 'string', enum: ['listen', 'whisper', 'barge'] },
    state: { type: 'string', enum: ['ringing', 'up', 'ended'] },
    since: { type: 'string', format: 'date-time', description: "when the supervisor's phone answered" },
  },
} as const

const startBody = {
  type: 'object',
  additionalProperties: false,
  description: "The supervisor's phone: exactly one of sipUri (called as given) or registeredAs (the phone registered under that agent id of the site)",
  properties: {
    sipUri: { type: 'string', minLength: 5, maxLength: 250, pattern: '^[sS][iI][pP][sS]?:[^\\s<>"]+$' },
    registeredAs: id,
  },
} as const

export const startSchema = (mode: string) =>
  ({
    tags: ['supervisor'],
    summary: `${mode[0]!.toUpperCase()}${mode.slice(1)} to a live call through the supervisor's phone (answers once the phone is up)`,
    params: callParams,
    body: startBody,
    response: { 201: { $ref: 'cadence/supervision#' }, ...problemResponses },
  }) as const

export const getSchema = {
  tags: ['supervisor'],
  summary: 'A supervision while it lasts',
  params: supervisionParams,
  response: { 200: { $ref: 'cadence/supervision#' }, ...problemResponses },
} as const

export const stopSchema = {
  tags: ['supervisor'],
  summary: "End a supervision: the supervisor's phone is hung up, the call goes on",
  params: supervisionParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const listSchema = {
  tags: ['supervisor'],
  summary: "A live call's supervisions, ringing ones included (a ringing one is stopped with DELETE like any other)",
  params: callParams,
  response: { 200: listOf('cadence/supervision#'), ...problemResponses },
} as const
