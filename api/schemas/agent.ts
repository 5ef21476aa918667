import { AgentStates } from '../../engine/acd/agent-state.js'
import { pageOf, pagingQuery } from './page.js'
import { problemResponses } from './problem.js'

export const listAgentsSchema = {
  summary: 'Agents and their live state',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { campaignId: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } },
  },
  response: {
    200: {
      type: 'object',
      required: ['items'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['agentId', 'name', 'state', 'since'],
            properties: {
              agentId: { type: 'string' },
              name: { type: 'string' },
              state: { type: 'string', enum: AgentStates },
              since: { type: 'string', format: 'date-time' },
              pauseReason: { type: 'string' },
              callId: { type: 'string' },
            },
          },
        },
      },
    },
    ...problemResponses,
  },
} as const

const nullableString = { anyOf: [{ type: 'string' }, { type: 'null' }] } as const
const agentIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } },
} as const
/** Skill name -> tier (1 best, 9 worst); names as the ACD stores them. */
const skillTiers = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
  additionalProperties: { type: 'integer', minimum: 1, maximum: 9 },
} as const
const extension = { type: 'string', pattern: '^[0-9*#]{1,16}$' } as const

/** The live state an agent view carries (see listAgentsSchema's items). */
const agentLive = {
  type: 'object',
  required: ['agentId', 'name', 'state', 'since'],
  additionalProperties: false,
  properties: {
    agentId: { type: 'string' },
    name: { type: 'string' },
    state: { type: 'string', enum: AgentStates },
    since: { type: 'string', format: 'date-time' },
    pauseReason: { type: 'string' },
    callId: { type: 'string' },
  },
} as const

export const agentLiveSchema = { $id: 'cadence/agent-live', ...agentLive } as const

export const agentRecordSchema = {
  $id: 'cadence/agent-record',
  type: 'object',
  required: ['id', 'siteId', 'name', 'extension', 'teamId', 'skills', 'active', 'createdAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    name: { type: 'string' },
    extension: nullableString,
    teamId: nullableString,
    skills: { type: 'object', additionalProperties: { type: 'integer' } },
    active: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    /** Present when the ACD knows the agent (GET one). */
    live: agentLive,
  },
} as const

export const listAgentRecordsSchema = {
  tags: ['agents'],
  summary: "The site's agents as records (an agent caller gets its own)",
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
      teamId: { type: 'string', minLength: 1, maxLength: 200 },
      active: { type: 'boolean' },
      ...pagingQuery(100, 1000),
    },
  },
  response: { 200: pageOf('cadence/agent-record#'), ...problemResponses },
} as const

export const createAgentSchema = {
  tags: ['agents'],
  summary: 'Create an agent',
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      extension,
      teamId: { type: 'string', minLength: 1, maxLength: 200 },
      skills: skillTiers,
      active: { type: 'boolean' },
      siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    },
  },
  response: { 201: { $ref: 'cadence/agent-record#' }, ...problemResponses },
} as const

export const getAgentSchema = {
  tags: ['agents'],
  summary: 'An agent with its live state (agents: their own only)',
  params: agentIdParams,
  response: { 200: { $ref: 'cadence/agent-record#' }, ...problemResponses },
} as const

export const updateAgentSchema = {
  tags: ['agents'],
  summary: 'Change an agent (only the fields given; null clears extension or team)',
  params: agentIdParams,
  body: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      extension: { anyOf: [extension, { type: 'null' }] },
      teamId: { anyOf: [{ type: 'string', minLength: 1, maxLength: 200 }, { type: 'null' }] },
      skills: skillTiers,
      active: { type: 'boolean' },
    },
  },
  response: { 200: { $ref: 'cadence/agent-record#' }, ...problemResponses },
} as const

export const deactivateAgentSchema = {
  tags: ['agents'],
  summary: 'Deactivate an agent (records outlive it: calls, customers and reports still name it)',
  params: agentIdParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const
