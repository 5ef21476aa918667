/**
 * Simulated agents at their desks, for the live engine running on the simulated site (`npm start`, integration
 * tests): they log in through the real ACD, take every call the engine bridges to them (their sessions are nailed
 * up), and when a call ends they wrap up for as long as the scenario says, then make themselves ready again, the way
 * a person at an agent desktop would through the API. How long a conversation lasts is SimTelephony's business.
 */
import type { Logger } from 'pino'
import type { Clock } from '../../clock.js'
import type { RedisAcd } from '../../store/redis/redis-acd.js'
import type { SimAgents } from './agents.js'

export interface SimDeskOptions {
  clock: Clock
  acd: RedisAcd
  behaviour: SimAgents
  logger: Logger
  /** Tell the engine an agent is ready (it may have an answered call waiting). */
  onReady: (agentId: string) => Promise<void>
}

export class SimDesk {
  private stopped = false

  constructor(private readonly o: SimDeskOptions) {}

  /** Register and log in agents, ready to take calls. */
  async loginAll(agentIds: readonly string[]): Promise<void> {
    const now = this.o.clock.now()
    for (const id of agentIds) {
      await this.o.acd.register(id, now)
      const agent = await this.o.acd.get(id)
      if (agent?.state === 'logged-out') await this.o.acd.apply(id, { type: 'login', at: now, ready: true })
      else if (agent?.state === 'paused' || agent?.state === 'wrap-up') await this.o.acd.apply(id, { type: 'ready', at: now })
      await this.o.onReady(id)
    }
  }

  /** The engine moved an agent to wrap-up: finish it after the scenario's wrap-up time. */
  wrapUpStarted(agentId: string, _callId: string, _now: number): void {
    const ms = this.o.behaviour.wrapUpMs('human')
    this.o.clock.setTimeout(() => {
      if (this.stopped) return
      void this.finishWrapUp(agentId)
    }, ms)
  }

  stop(): void {
    this.stopped = true
  }

  private async finishWrapUp(agentId: string): Promise<void> {
    try {
      const res = await this.o.acd.apply(agentId, { type: 'ready', at: this.o.clock.now() })
      if (res.ok) await this.o.onReady(agentId)
    } catch (err) {
      this.o.logger.warn({ err, agentId }, 'simulated agent could not finish wrap-up')
    }
  }
}
