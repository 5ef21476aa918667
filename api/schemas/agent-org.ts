/** The contract of how a site organizes its agents: teams, call queues and pause codes. */
import { RoutingStrategies } from '../../engine/acd/routing.js'
import { listOf } from './page.js'
import { problemResponses } from './problem.js'

const siteId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } as const
const name = { type: 'string', minLength: 1, maxLength: 200 } as const
const dateTime = { type: 'string', format: 'date-time' } as const
const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const
const siteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { siteId },
} as const

/** Skill name -> tier (1 best, 9 worst); names as the ACD stores them. */
export const skillTiers = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
  additionalProperties: { type: 'integer', minimum: 1, maximum: 9 },
} as const

export const teamSchema = {
  $id: 'cadence/team',
  type: 'object',
  required: ['id', 'siteId', 'name', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, siteId: { type: 'string' }, name: { type: 'string' }, createdAt: dateTime, updatedAt: dateTime },
} as const

export const queueSchema = {
  $id: 'cadence/queue',
  type: 'object',
  required: ['id', 'siteId', 'name', 'priority', 'strategy', 'requiredSkills', 'maxWaitSeconds', 'overflowQueueId', 'active', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    name: { type: 'string' },
    priority: { type: 'integer' },
    strategy: { type: 'string', enum: RoutingStrategies },
    requiredSkills: { type: 'object', additionalProperties: { type: 'integer' } },
    maxWaitSeconds: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    overflowQueueId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    active: { type: 'boolean' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const

export const pauseCodeSchema = {
  $id: 'cadence/pause-code',
  type: 'object',
  required: ['id', 'siteId', 'code', 'label', 'paid', 'maxMinutes', 'active', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    code: { type: 'string' },
    label: { type: 'string' },
    paid: { type: 'boolean' },
    maxMinutes: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
    active: { type: 'boolean' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const

const list = <R extends string>(ref: R) => listOf(`${ref}#`)

export const listTeamsSchema = {
  tags: ['agents'],
  summary: "The site's teams",
  querystring: siteQuery,
  response: { 200: list('cadence/team'), ...problemResponses },
} as const

export const createTeamSchema = {
  tags: ['agents'],
  summary: 'Create a team',
  body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name, siteId } },
  response: { 201: { $ref: 'cadence/team#' }, ...problemResponses },
} as const

export const getTeamSchema = {
  tags: ['agents'],
  summary: 'A team',
  params: idParams,
  response: { 200: { $ref: 'cadence/team#' }, ...problemResponses },
} as const

export const updateTeamSchema = {
  tags: ['agents'],
  summary: 'Rename a team',
  params: idParams,
  body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
  response: { 200: { $ref: 'cadence/team#' }, ...problemResponses },
} as const

export const deleteTeamSchema = {
  tags: ['agents'],
  summary: 'Delete a team (its agents become teamless)',
  params: idParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

const queueFields = {
  name,
  priority: { type: 'integer', minimum: 0, maximum: 100 },
  strategy: { type: 'string', enum: RoutingStrategies },
  requiredSkills: skillTiers,
  maxWaitSeconds: { anyOf: [{ type: 'integer', minimum: 1, maximum: 86_400 }, { type: 'null' }] },
  overflowQueueId: { anyOf: [{ type: 'string', minLength: 1, maxLength: 200 }, { type: 'null' }] },
} as const

export const listQueuesSchema = {
  tags: ['agents'],
  summary: "The site's call queues",
  querystring: siteQuery,
  response: { 200: list('cadence/queue'), ...problemResponses },
} as const

export const createQueueSchema = {
  tags: ['agents'],
  summary: 'Create a call queue',
  body: { type: 'object', required: ['name'], additionalProperties: false, properties: { ...queueFields, siteId } },
  response: { 201: { $ref: 'cadence/queue#' }, ...problemResponses },
} as const

export const getQueueSchema = {
  tags: ['agents'],
  summary: 'A call queue',
  params: idParams,
  response: { 200: { $ref: 'cadence/queue#' }, ...problemResponses },
} as const

export const updateQueueSchema = {
  tags: ['agents'],
  summary: 'Change a call queue (only the fields given)',
  params: idParams,
  body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { ...queueFields, active: { type: 'boolean' } } },
  response: { 200: { $ref: 'cadence/queue#' }, ...problemResponses },
} as const

export const deleteQueueSchema = {
  tags: ['agents'],
  summary: 'Delete a call queue (queues overflowing into it stop overflowing)',
  params: idParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

const pauseFields = {
  label: name,
  paid: { type: 'boolean' },
  maxMinutes: { anyOf: [{ type: 'integer', minimum: 1, maximum: 1440 }, { type: 'null' }] },
} as const

export const listPauseCodesSchema = {
  tags: ['agents'],
  summary: "The site's pause codes (agents see the active ones)",
  querystring: siteQuery,
  response: { 200: list('cadence/pause-code'), ...problemResponses },
} as const

export const createPauseCodeSchema = {
  tags: ['agents'],
  summary: 'Create a pause code',
  body: {
    type: 'object',
    required: ['code', 'label'],
    additionalProperties: false,
    properties: { code: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }, ...pauseFields, siteId },
  },
  response: { 201: { $ref: 'cadence/pause-code#' }, ...problemResponses },
} as const

export const updatePauseCodeSchema = {
  tags: ['agents'],
  summary: 'Change a pause code (only the fields given)',
  params: idParams,
  body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { ...pauseFields, active: { type: 'boolean' } } },
  response: { 200: { $ref: 'cadence/pause-code#' }, ...problemResponses },
} as const

export const retirePauseCodeSchema = {
  tags: ['agents'],
  summary: 'Retire a pause code (kept for past pauses in reports, no longer chosen)',
  params: idParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const
