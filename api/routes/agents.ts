/** /v1/agents: agents and their live state, as the engine's ACD sees them. */
import type { FastifyInstance } from 'fastify'
import type { CampaignControl } from '../../engine/campaign/control.js'
import { listAgentsSchema } from '../schemas/agent.js'

export interface AgentRoutesOptions {
  control: CampaignControl
}

export async function agentRoutes(app: FastifyInstance, options: AgentRoutesOptions): Promise<void> {
  app.get<{ Querystring: { campaignId?: string } }>(
    '/v1/agents',
    { schema: listAgentsSchema, config: { auth: { roles: ['admin', 'supervisor', 'qa'] } } },
    async (request) => {
      const agents = await options.control.agents(request.query.campaignId)
      return { items: agents.map((a) => ({ ...a, since: new Date(a.since).toISOString() })) }
    },
  )
}
