/** The CRM contract: customers with their phones, notes, dispositions, timeline and callbacks, and number regions. */
import { CallbackStatuses } from '../../engine/store/sql/callbacks.js'
import { CustomerTypes } from '../../engine/store/sql/customers.js'
import { PhoneTypes } from '../../engine/screening/number.js'
import { pageOf, pagingQuery } from './page.js'
import { problemResponses } from './problem.js'

const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const nullableId = { type: ['string', 'null'], minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } as const
const siteId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' } as const
const region = {
  type: 'string',
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2 region that national-format numbers are read in; default CN',
} as const
const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } as const
const tag = { type: 'string', minLength: 1, maxLength: 40, pattern: '^[^\\s,]+$' } as const
const tags = { type: 'array', maxItems: 50, items: tag } as const
const dateTime = { type: 'string', format: 'date-time' } as const
const nullableString = { type: ['string', 'null'] } as const
const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id } } as const

const profile = {
  type: 'object',
  additionalProperties: false,
  properties: {
    age: { type: 'integer', minimum: 0, maximum: 150 },
    address: { type: 'string', maxLength: 500 },
    occupation: { type: 'string', maxLength: 200 },
    interests: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 100 } },
  },
} as const

const phoneInput = {
  type: 'object',
  required: ['number'],
  additionalProperties: false,
  properties: {
    number: { type: 'string', minLength: 1, maxLength: 64, description: 'any format: "+86 138 1234 5678", "13812345678", "0086..."' },
    label: { type: 'string', minLength: 1, maxLength: 40, description: 'e.g. mobile, home, office' },
    region,
  },
} as const

export const customerPhoneSchema = {
  $id: 'cadence/customer-phone',
  type: 'object',
  required: ['id', 'number', 'label', 'country', 'type', 'createdAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    number: { type: 'string', description: 'E.164' },
    label: nullableString,
    country: nullableString,
    type: nullableString,
    createdAt: dateTime,
  },
} as const

export const customerSchema = {
  $id: 'cadence/customer',
  type: 'object',
  required: ['id', 'siteId', 'type', 'ownerAgentId', 'name', 'profile', 'tags', 'phones', 'createdAt', 'updatedAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    siteId: { type: 'string' },
    type: { type: 'string', enum: CustomerTypes },
    ownerAgentId: nullableString,
    name: { type: 'string' },
    profile,
    tags: { type: 'array', items: { type: 'string' } },
    phones: { type: 'array', items: { $ref: 'cadence/customer-phone#' } },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const

const noteProperties = {
  id: { type: 'string' },
  customerId: { type: 'string' },
  agentId: nullableString,
  actor: { type: 'string' },
  text: { type: 'string' },
  createdAt: dateTime,
} as const
export const customerNoteSchema = {
  $id: 'cadence/customer-note',
  type: 'object',
  required: Object.keys(noteProperties),
  additionalProperties: false,
  properties: noteProperties,
} as const

const dispositionProperties = {
  id: { type: 'string' },
  customerId: { type: 'string' },
  callId: nullableString,
  code: { type: 'string' },
  agentId: nullableString,
  actor: { type: 'string' },
  createdAt: dateTime,
} as const
export const customerDispositionSchema = {
  $id: 'cadence/customer-disposition',
  type: 'object',
  required: Object.keys(dispositionProperties),
  additionalProperties: false,
  properties: dispositionProperties,
} as const

const callbackProperties = {
  id: { type: 'string' },
  siteId: { type: 'string' },
  customerId: { type: 'string' },
  agentId: { ...nullableString, description: 'offered to this agent; null: anyone' },
  dueAt: dateTime,
  status: { type: 'string', enum: CallbackStatuses },
  note: nullableString,
  createdBy: nullableString,
  createdAt: dateTime,
  updatedAt: dateTime,
} as const
export const callbackSchema = {
  $id: 'cadence/callback',
  type: 'object',
  required: Object.keys(callbackProperties),
  additionalProperties: false,
  properties: callbackProperties,
} as const

const timelineCall = {
  type: 'object',
  required: ['callId', 'campaignId', 'agentId', 'outcome', 'disposition', 'dialedAt', 'endedAt', 'talkSeconds'],
  additionalProperties: false,
  properties: {
    callId: { type: 'string' },
    campaignId: { type: 'string' },
    agentId: nullableString,
    outcome: { type: 'string' },
    disposition: { type: 'string' },
    dialedAt: dateTime,
    answeredAt: dateTime,
    endedAt: dateTime,
    talkSeconds: { type: 'number' },
  },
} as const

export const timelineEntrySchema = {
  $id: 'cadence/timeline-entry',
  type: 'object',
  required: ['kind', 'at', 'id'],
  additionalProperties: false,
  description: 'One of call, note or disposition, under the property named by kind',
  properties: {
    kind: { type: 'string', enum: ['call', 'note', 'disposition'] },
    at: dateTime,
    id: { type: 'string' },
    call: timelineCall,
    note: { $ref: 'cadence/customer-note#' },
    disposition: { $ref: 'cadence/customer-disposition#' },
  },
} as const

const place = { type: 'object', required: ['name', 'nameEn'], additionalProperties: false, properties: { name: { type: 'string' }, nameEn: { type: 'string' } } } as const

export const numberRegionSchema = {
  tags: ['crm'],
  summary: '归属地: country, number type, and for mainland China the province/city (fixed lines) or carrier (mobiles)',
  description:
    'Country and type come from libphonenumber metadata. Mainland-China fixed lines get their area code, province and, ' +
    'for big cities, the city; mobiles the carrier their block was allocated to (ported numbers keep the original). ' +
    'Mobile provinces are not known (that table is not shipped). Unknown parts are null.',
  params: {
    type: 'object',
    required: ['number'],
    additionalProperties: false,
    properties: { number: { type: 'string', minLength: 1, maxLength: 64 } },
  },
  querystring: { type: 'object', additionalProperties: false, properties: { region } },
  response: {
    200: {
      type: 'object',
      required: ['number', 'country', 'countryCallingCode', 'type', 'areaCode', 'province', 'city', 'carrier'],
      additionalProperties: false,
      properties: {
        number: { type: 'string', description: 'E.164' },
        country: nullableString,
        countryCallingCode: { type: 'string' },
        type: { type: 'string', enum: PhoneTypes },
        areaCode: nullableString,
        province: {
          type: ['object', 'null'],
          required: ['code', 'name', 'nameEn'],
          additionalProperties: false,
          properties: { code: { type: 'string' }, name: { type: 'string' }, nameEn: { type: 'string' } },
        },
        city: { ...place, type: ['object', 'null'] },
        carrier: {
          type: ['object', 'null'],
          required: ['name', 'nameEn', 'virtual'],
          additionalProperties: false,
          properties: { name: { type: 'string' }, nameEn: { type: 'string' }, virtual: { type: 'boolean' } },
        },
      },
    },
    ...problemResponses,
  },
} as const

export const createCustomerSchema = {
  tags: ['crm'],
  summary: 'Create a customer (agents create their own; others may name the owner or leave it to the pool)',
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name,
      type: { type: 'string', enum: CustomerTypes, default: 'prospect' },
      ownerAgentId: { ...nullableId, description: 'the owning agent; null or absent: the site pool (agents: always themselves)' },
      profile,
      tags,
      phones: { type: 'array', maxItems: 20, items: phoneInput },
      siteId: { ...siteId, description: 'platform admins only; others create in their own site' },
    },
  },
  response: { 201: { $ref: 'cadence/customer#' }, ...problemResponses },
} as const

export const listCustomersSchema = {
  tags: ['crm'],
  summary: 'Find customers: by phone (the screen pop), or by exact name, type, owner and tags',
  description:
    'phone= looks the number up by its keyed hash in any format (national numbers read in region, default CN) and ' +
    'cannot be combined with the other filters. name= matches the whole name exactly, ignoring case, width and spaces ' +
    '(names are encrypted: no prefix search). sort=name decrypts every match and is refused above 2000 matches.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      phone: { type: 'string', minLength: 1, maxLength: 64 },
      region,
      name,
      type: { type: 'string', enum: CustomerTypes },
      owner: { type: 'string', minLength: 1, maxLength: 200, description: 'an agent id, or "none" for the pool' },
      tag: { type: 'array', maxItems: 10, items: tag, description: 'repeat for several: customers with every tag' },
      sort: { type: 'string', enum: ['createdAt', '-createdAt', 'updatedAt', '-updatedAt', 'name'], default: '-updatedAt' },
      ...pagingQuery(50, 500),
    },
  },
  response: {
    200: {
      ...pageOf('cadence/customer#'),
      properties: {
        ...pageOf('cadence/customer#').properties,
        totalCapped: {
          type: 'boolean',
          description: 'present and true when more customers match than were counted: total is then a lower bound (1,000, or the page asked for)',
        },
      },
    },
    ...problemResponses,
  },
} as const

export const getCustomerSchema = {
  tags: ['crm'],
  summary: 'A customer with its phones',
  params: idParams,
  response: { 200: { $ref: 'cadence/customer#' }, ...problemResponses },
} as const

export const updateCustomerSchema = {
  tags: ['crm'],
  summary: 'Change a customer (agents cannot hand their customers to someone else; supervisors can)',
  params: idParams,
  body: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: { name, type: { type: 'string', enum: CustomerTypes }, ownerAgentId: nullableId, profile, tags },
  },
  response: { 200: { $ref: 'cadence/customer#' }, ...problemResponses },
} as const

export const deleteCustomerSchema = {
  tags: ['crm'],
  summary: 'Delete a customer with its phones, notes, dispositions and callbacks (its calls stay)',
  params: idParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const addPhoneSchema = {
  tags: ['crm'],
  summary: 'Add a phone number to a customer',
  params: idParams,
  body: phoneInput,
  response: { 201: { $ref: 'cadence/customer-phone#' }, ...problemResponses },
} as const

export const removePhoneSchema = {
  tags: ['crm'],
  summary: 'Remove a phone number from a customer',
  params: { type: 'object', required: ['id', 'phoneId'], additionalProperties: false, properties: { id, phoneId: id } },
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const timelineSchema = {
  tags: ['crm'],
  summary: 'A customer’s calls, notes and dispositions, newest first',
  params: idParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
      before: { ...dateTime, description: 'only entries older than this (the last entry’s time pages on)' },
    },
  },
  response: {
    200: { type: 'object', required: ['items'], additionalProperties: false, properties: { items: { type: 'array', items: { $ref: 'cadence/timeline-entry#' } } } },
    ...problemResponses,
  },
} as const

export const addNoteSchema = {
  tags: ['crm'],
  summary: 'Write a note on a customer (stored encrypted)',
  params: idParams,
  body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' } } },
  response: { 201: { $ref: 'cadence/customer-note#' }, ...problemResponses },
} as const

export const addDispositionSchema = {
  tags: ['crm'],
  summary: 'Record a disposition on a customer, on one of its calls or outside one',
  params: idParams,
  body: {
    type: 'object',
    required: ['code'],
    additionalProperties: false,
    properties: { code: { type: 'string', pattern: '^[a-z0-9:_-]{1,64}$' }, callId: id },
  },
  response: { 201: { $ref: 'cadence/customer-disposition#' }, ...problemResponses },
} as const

export const bookCallbackSchema = {
  tags: ['crm'],
  summary: 'Book a callback to the minute, for the owning agent or anyone',
  params: idParams,
  body: {
    type: 'object',
    required: ['dueAt'],
    additionalProperties: false,
    properties: {
      dueAt: { ...dateTime, description: 'a whole minute (seconds 00), not in the past' },
      assignee: { type: 'string', enum: ['owner', 'anyone'], default: 'owner' },
      note: { type: 'string', minLength: 1, maxLength: 1000 },
    },
  },
  response: { 201: { $ref: 'cadence/callback#' }, ...problemResponses },
} as const

export const customerCallbacksSchema = {
  tags: ['crm'],
  summary: 'A customer’s callbacks, latest due first',
  params: idParams,
  querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
  response: {
    200: { type: 'object', required: ['items'], additionalProperties: false, properties: { items: { type: 'array', items: { $ref: 'cadence/callback#' } } } },
    ...problemResponses,
  },
} as const

export const listCallbacksSchema = {
  tags: ['crm'],
  summary: 'Open callbacks due by a time (default now), soonest first',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dueBefore: { ...dateTime, description: 'inclusive; default now' },
      dueAfter: dateTime,
      assignee: { type: 'string', minLength: 1, maxLength: 200, description: 'an agent id: callbacks offered to it or to anyone; "me" for the caller’s agent' },
      status: { type: 'array', maxItems: 4, items: { type: 'string', enum: CallbackStatuses }, description: 'default pending and offered' },
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    },
  },
  response: {
    200: { type: 'object', required: ['items'], additionalProperties: false, properties: { items: { type: 'array', items: { $ref: 'cadence/callback#' } } } },
    ...problemResponses,
  },
} as const

export const updateCallbackSchema = {
  tags: ['crm'],
  summary: 'Mark a callback done or cancelled, or rebook it (to the minute)',
  params: idParams,
  body: {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: CallbackStatuses },
      dueAt: dateTime,
      assignee: { type: 'string', enum: ['owner', 'anyone'] },
    },
  },
  response: { 200: { $ref: 'cadence/callback#' }, ...problemResponses },
} as const
