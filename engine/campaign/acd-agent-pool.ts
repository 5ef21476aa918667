/**
 * The campaign loop's AgentPool over the Redis ACD: reservations are the ACD's atomic Lua step, every other move
 * goes through the pure agent machine. Refused transitions are logged, never thrown: a late event about an agent
 * (e.g. a release racing a hangup) must not break the call that caused it.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { RoutingStrategy } from '../acd/routing.js'
import type { AgentEvent } from '../acd/agent-machine.js'
import { agentFromHash, type RedisAcd } from '../store/redis/redis-acd.js'
import type { AgentPool, AgentSnapshot, QueueRoute } from './dialer.js'

export interface AcdAgentPoolOptions {
  acd: RedisAcd
  redis: Redis
  strategy: RoutingStrategy
  logger: Logger
  /** Told when an agent enters wrap-up (the simulated desk uses it to finish wrap-up later). */
  onWrapUp?: (agentId: string, callId: string, now: number) => void
}

export class AcdAgentPool implements AgentPool {
  constructor(private readonly o: AcdAgentPoolOptions) {}

  async snapshot(_campaignId: string): Promise<AgentSnapshot[]> {
    const ids = await this.o.acd.agentIds()
    if (ids.length === 0) return []
    const p = this.o.redis.pipeline()
    for (const id of ids) p.hgetall(`${this.o.acd.keys.agentPrefix}${id}`)
    const res = (await p.exec()) ?? []
    const out: AgentSnapshot[] = []
    for (const [err, h] of res) {
      if (err || !h || typeof h !== 'object') continue
      const fields = h as Record<string, string>
      if (fields.id === undefined) continue
      const a = agentFromHash(fields)
      out.push({ agentId: a.id, state: a.state, since: a.since })
    }
    return out
  }

  reserve(_campaignId: string, callId: string, now: number, ownerAgentId?: string): Promise<string | undefined> {
    return this.o.acd.reserve({ callId, now, strategy: this.o.strategy, ownerAgentId })
  }

  async reserveAgent(agentId: string, callId: string, now: number): Promise<boolean> {
    return (await this.o.acd.reserve({ callId, now, strategy: this.o.strategy, ownerAgentId: agentId, ownerOnly: true })) === agentId
  }

  reserveInQueue(queue: QueueRoute, callId: string, now: number): Promise<string | undefined> {
    return this.o.acd.reserve({ callId, now, strategy: queue.strategy, skills: queue.requiredSkills })
  }

  async onCall(agentId: string, callId: string, now: number): Promise<void> {
    await this.apply(agentId, { type: 'answer', at: now, callId })
  }

  async release(agentId: string, now: number): Promise<void> {
    const agent = await this.o.acd.get(agentId)
    if (agent?.state !== 'reserved' || !agent.callId) return
    await this.apply(agentId, { type: 'reserve-cancel', at: now, callId: agent.callId })
  }

  async wrapUp(agentId: string, now: number): Promise<void> {
    const agent = await this.o.acd.get(agentId)
    if (agent?.state !== 'on-call' || !agent.callId) return
    const callId = agent.callId
    if (await this.apply(agentId, { type: 'hangup', at: now, callId })) this.o.onWrapUp?.(agentId, callId, now)
  }

  private async apply(agentId: string, event: AgentEvent): Promise<boolean> {
    const res = await this.o.acd.apply(agentId, event)
    if (!res.ok) this.o.logger.warn({ agentId, event: event.type, error: res.error }, 'agent transition refused')
    return res.ok
  }
}
