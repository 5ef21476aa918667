/**
 * The campaign contract: JSON schemas of requests and responses. Settings mirror CampaignSettings
 * (engine/store/sql/campaigns.ts); every settings key has a default, so `{ "name": "x" }` creates a working
 * progressive campaign.
 */
import { AgentStates } from '../../engine/acd/agent-state.js'
import { DialModes } from '../../engine/campaign/control.js'
import { AbandonDenominators, AbandonWindows } from '../../engine/store/sql/campaigns.js'
import { problemResponses } from './problem.js'
import { pageOf, pagingQuery } from './page.js'

const hhmm = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const

const AmdThresholdKeys = ['initialSilenceMs', 'maxHumanGreetingMs', 'afterGreetingSilenceMs', 'endOfGreetingSilenceMs', 'totalAnalysisMs', 'minSpeechMs', 'maxEndOfGreetingMs'] as const
/** A campaign's own AMD thresholds (engine/media/amd.ts), each optional over the tuned defaults. */
const amdThresholdsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(AmdThresholdKeys.map((k) => [k, { type: 'integer', minimum: 20, maximum: 120_000 }])),
} as const

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    dialMode: { type: 'string', enum: DialModes, default: 'progressive' },
    pacing: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        abandonCeiling: { type: 'number', minimum: 0, maximum: 0.2, default: 0.03 },
        abandonWindows: {
          type: 'array',
          items: { type: 'string', enum: AbandonWindows },
          minItems: 1,
          uniqueItems: true,
          default: ['day', 'rolling-30d'],
        },
        abandonDenominator: { type: 'string', enum: AbandonDenominators, default: 'live-answers' },
        maxLinesPerAgent: { type: 'number', minimum: 1, maximum: 10, default: 3 },
        safeHarborSeconds: { type: 'number', minimum: 0.5, maximum: 2, default: 2 },
        amd: { type: 'boolean', default: false },
        amdThresholds: amdThresholdsSchema,
      },
    },
    screening: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        callingHours: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            start: { ...hhmm, default: '09:00' },
            end: { ...hhmm, default: '21:00' },
            // ISO weekdays: 1 Monday .. 7 Sunday.
            weekdays: {
              type: 'array',
              items: { type: 'integer', minimum: 1, maximum: 7 },
              uniqueItems: true,
              default: [1, 2, 3, 4, 5, 6, 7],
            },
          },
        },
        minRecallGapMinutes: { type: 'integer', minimum: 0, maximum: 100_000, default: 60 },
        abandonLockoutHours: { type: 'integer', minimum: 0, maximum: 720, default: 72 },
      },
    },
    caps: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxAttemptsTotal: { type: 'integer', minimum: 1, maximum: 1000, default: 6 },
        maxAttemptsPer24h: { type: 'integer', minimum: 1, maximum: 100, default: 2 },
        maxAttemptsPer7d: { type: 'integer', minimum: 1, maximum: 500, default: 4 },
        maxLines: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
        callsPerSecond: { type: 'number', minimum: 0.1, maximum: 1000, default: 10 },
      },
    },
  },
} as const

/** The same settings with every key present, as stored and returned. */
const storedSettingsSchema = {
  type: 'object',
  required: ['dialMode', 'pacing', 'screening', 'caps'],
  properties: {
    dialMode: { type: 'string' },
    pacing: {
      type: 'object',
      properties: {
        abandonCeiling: { type: 'number' },
        abandonWindows: { type: 'array', items: { type: 'string' } },
        abandonDenominator: { type: 'string' },
        maxLinesPerAgent: { type: 'number' },
        safeHarborSeconds: { type: 'number' },
        amd: { type: 'boolean' },
        amdThresholds: { type: 'object', properties: Object.fromEntries(AmdThresholdKeys.map((k) => [k, { type: 'integer' }])) },
      },
    },
    screening: {
      type: 'object',
      properties: {
        callingHours: {
          type: 'object',
          properties: {
            start: { type: 'string' },
            end: { type: 'string' },
            weekdays: { type: 'array', items: { type: 'integer' } },
          },
        },
        minRecallGapMinutes: { type: 'integer' },
        abandonLockoutHours: { type: 'integer' },
      },
    },
    caps: {
      type: 'object',
      properties: {
        maxAttemptsTotal: { type: 'integer' },
        maxAttemptsPer24h: { type: 'integer' },
        maxAttemptsPer7d: { type: 'integer' },
        maxLines: { type: 'integer' },
        callsPerSecond: { type: 'number' },
      },
    },
  },
} as const

export const campaignSchema = {
  $id: 'cadence/campaign',
  type: 'object',
  required: ['id', 'name', 'state', 'settings', 'siteId', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    state: { type: 'string', enum: ['stopped', 'running', 'paused'] },
    settings: storedSettingsSchema,
    siteId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const

export const campaignIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_.:-]+$' } },
} as const

export const createCampaignSchema = {
  summary: 'Create a campaign (stopped)',
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      settings: settingsSchema,
      siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    },
  },
  response: { 201: { $ref: 'cadence/campaign#' }, ...problemResponses },
} as const

function settingsWithoutDefault(): Omit<typeof settingsSchema, 'default'> {
  const { default: _ignored, ...rest } = settingsSchema
  return rest
}

export const updateCampaignSchema = {
  summary: 'Rename a campaign or replace its settings; an engine applies new settings when the campaign next starts from stopped',
  params: campaignIdParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      settings: settingsWithoutDefault(),
    },
  },
  response: { 200: { $ref: 'cadence/campaign#' }, ...problemResponses },
} as const

export const archiveCampaignSchema = {
  summary: 'Archive a stopped campaign: it leaves lists and engines; its calls, leads and recordings stay for reports',
  params: campaignIdParams,
  response: { 204: { type: 'null' }, ...problemResponses },
} as const

export const listCampaignsSchema = {
  summary: 'List campaigns, oldest first',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...pagingQuery(100, 500),
    },
  },
  response: {
    200: pageOf('cadence/campaign#'),
    ...problemResponses,
  },
} as const

export const getCampaignSchema = {
  summary: 'One campaign',
  params: campaignIdParams,
  response: { 200: { $ref: 'cadence/campaign#' }, ...problemResponses },
} as const

export const campaignActionSchema = {
  summary: 'Start, pause or stop a campaign on the engine',
  params: campaignIdParams,
  response: { 200: { $ref: 'cadence/campaign#' }, ...problemResponses },
} as const

const countsByAgentState = {
  type: 'object',
  required: [...AgentStates],
  properties: Object.fromEntries(AgentStates.map((s) => [s, { type: 'integer' }])),
}

export const figuresSchema = {
  summary: "A campaign's live figures, from the engine running it",
  params: campaignIdParams,
  response: {
    200: {
      type: 'object',
      required: [
        'campaignId',
        'state',
        'dialMode',
        'linesInFlight',
        'agents',
        'dialsToday',
        'liveAnswersToday',
        'machinesToday',
        'abandonsToday',
        'abandonRatio',
        'dialRatio',
        'hopperSize',
        'asOf',
      ],
      properties: {
        campaignId: { type: 'string' },
        state: { type: 'string', enum: ['stopped', 'running', 'paused'] },
        dialMode: { type: 'string', enum: DialModes },
        linesInFlight: { type: 'integer' },
        agents: countsByAgentState,
        dialsToday: { type: 'integer' },
        liveAnswersToday: { type: 'integer' },
        machinesToday: { type: 'integer' },
        abandonsToday: { type: 'integer' },
        abandonRatio: {
          type: 'object',
          required: ['day', 'rolling30d', 'worstRollingHour', 'denominator'],
          properties: {
            day: { type: 'number' },
            rolling30d: { type: 'number' },
            worstRollingHour: { type: 'number' },
            denominator: { type: 'string' },
          },
        },
        dialRatio: { type: 'number' },
        hopperSize: { type: 'integer' },
        asOf: {
          type: 'string',
          format: 'date-time',
          description: 'when these figures were read: a reading is reused for up to a second (liveFiguresMaxAgeMs)',
        },
      },
    },
    ...problemResponses,
  },
} as const
