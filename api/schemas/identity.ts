/** The identity contract: logins, users, sites and API keys. */
import { UserRoles } from '../../engine/store/sql/api-keys.js'
import { listOf } from './page.js'
import { problemResponses } from './problem.js'

const siteId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } as const
const nullableSite = { anyOf: [siteId, { type: 'null' }] } as const
const nullableString = { anyOf: [{ type: 'string' }, { type: 'null' }] } as const
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const

export const principalSchema = {
  $id: 'cadence/principal',
  type: 'object',
  required: ['kind', 'id', 'name', 'role', 'siteId', 'agentId'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['api-key', 'user'] },
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: UserRoles },
    siteId: nullableString,
    agentId: nullableString,
  },
} as const

export const userSchema = {
  $id: 'cadence/user',
  type: 'object',
  required: ['id', 'name', 'email', 'role', 'siteId', 'agentId', 'createdAt', 'disabled'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string', enum: UserRoles },
    siteId: nullableString,
    agentId: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
    disabled: { type: 'boolean' },
  },
} as const

export const siteSchema = {
  $id: 'cadence/site',
  type: 'object',
  required: ['id', 'name', 'timeZone', 'createdAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    timeZone: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const

export const apiKeySchema = {
  $id: 'cadence/api-key',
  type: 'object',
  required: ['id', 'name', 'role', 'prefix', 'siteId', 'agentId', 'createdAt', 'revoked'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: UserRoles },
    prefix: { type: 'string' },
    siteId: nullableString,
    agentId: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
    revoked: { type: 'boolean' },
  },
} as const

export const loginSchema = {
  tags: ['auth'],
  summary: 'Log in with email and password; answers a short-lived bearer token',
  body: {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: {
      email: { type: 'string', minLength: 3, maxLength: 320 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['token', 'expiresAt', 'user'],
      additionalProperties: false,
      properties: { token: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, user: { $ref: 'cadence/user#' } },
    },
    ...problemResponses,
  },
} as const

export const logoutSchema = {
  tags: ['auth'],
  summary: 'Revoke the login token this request carries (API keys are revoked through /v1/api-keys)',
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const meSchema = {
  tags: ['auth'],
  summary: 'Who the credentials of this request belong to',
  response: { 200: { $ref: 'cadence/principal#' }, ...problemResponses },
} as const

export const createUserSchema = {
  tags: ['users'],
  summary: 'Create a user who logs in with a password',
  body: {
    type: 'object',
    required: ['name', 'email', 'role', 'password'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 320 },
      role: { type: 'string', enum: UserRoles },
      // Long enough that a guessed password is unlikely; the rest is the site's policy.
      password: { type: 'string', minLength: 10, maxLength: 1024 },
      siteId: nullableSite,
      agentId: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  response: { 201: { $ref: 'cadence/user#' }, ...problemResponses },
} as const

export const listUsersSchema = {
  tags: ['users'],
  summary: 'Users of the caller’s site (every site for platform admins)',
  response: { 200: listOf('cadence/user#'), ...problemResponses },
} as const

export const disableUserSchema = {
  tags: ['users'],
  summary: 'Disable a user and revoke their login tokens at once',
  params: idParams,
  response: { 200: { $ref: 'cadence/user#' }, ...problemResponses },
} as const

export const createSiteSchema = {
  tags: ['sites'],
  summary: 'Create a site (platform admins)',
  body: {
    type: 'object',
    required: ['id', 'name'],
    additionalProperties: false,
    properties: { id: siteId, name: { type: 'string', minLength: 1, maxLength: 200 }, timeZone: { type: 'string', minLength: 1, maxLength: 64 } },
  },
  response: { 201: { $ref: 'cadence/site#' }, ...problemResponses },
} as const

export const listSitesSchema = {
  tags: ['sites'],
  summary: 'Sites the caller may see',
  response: { 200: listOf('cadence/site#'), ...problemResponses },
} as const

export const createApiKeySchema = {
  tags: ['api-keys'],
  summary: 'Create an API key; the secret is in this answer only',
  body: {
    type: 'object',
    required: ['name', 'role'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      role: { type: 'string', enum: UserRoles },
      siteId: nullableSite,
      agentId: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['key', 'apiKey'],
      additionalProperties: false,
      properties: { key: { type: 'string' }, apiKey: { $ref: 'cadence/api-key#' } },
    },
    ...problemResponses,
  },
} as const

export const listApiKeysSchema = {
  tags: ['api-keys'],
  summary: 'API keys of the caller’s site (never their secrets)',
  response: { 200: listOf('cadence/api-key#'), ...problemResponses },
} as const

export const revokeApiKeySchema = {
  tags: ['api-keys'],
  summary: 'Revoke an API key',
  params: idParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const
