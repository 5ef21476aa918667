/**
 * Inbound queues over the ACD in Redis: a queue is an agent skill, so the agents who take sales calls are the agents
 * with the `sales` skill, and the reservation is the same atomic Lua step outbound routing uses (owner first).
 */
import type { AgentEvent } from '../../acd/agent-machine.js'
import type { RoutingStrategy } from '../../acd/routing.js'
import type { RedisAcd } from '../../store/redis/redis-acd.js'
import type { InboundAcd } from '../drachtio/inbound-calls.js'

export class AcdInboundQueue implements InboundAcd {
  constructor(
    private readonly acd: RedisAcd,
    private readonly strategy: RoutingStrategy = 'longest-idle',
  ) {}

  reserve(queue: string, callId: string, now: number, ownerAgentId?: string): Promise<string | undefined> {
    return this.acd.reserve({ callId, now, strategy: this.strategy, skill: queue, ...(ownerAgentId !== undefined ? { ownerAgentId } : {}) })
  }

  async onCall(agentId: string, callId: string, now: number): Promise<void> {
    await this.apply(agentId, { type: 'answer', at: now, callId })
  }

  async release(agentId: string, now: number): Promise<void> {
    const agent = await this.acd.get(agentId)
    if (agent?.state === 'reserved' && agent.callId) await this.apply(agentId, { type: 'reserve-cancel', at: now, callId: agent.callId })
  }

  async wrapUp(agentId: string, now: number): Promise<void> {
    const agent = await this.acd.get(agentId)
    if (agent?.state === 'on-call' && agent.callId) await this.apply(agentId, { type: 'hangup', at: now, callId: agent.callId })
  }

  private async apply(agentId: string, event: AgentEvent): Promise<void> {
    const res = await this.acd.apply(agentId, event)
    if (!res.ok) throw new Error(`agent ${agentId}: ${event.type} refused (${res.error})`)
  }
}
