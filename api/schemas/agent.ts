import { AgentStates } from '../../engine/acd/agent-state.js'
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
