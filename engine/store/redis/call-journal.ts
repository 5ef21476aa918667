/**
 * Calls in flight, journaled in Redis so that a call whose engine dies still ends in exactly one CDR
 * (ARCHITECTURE invariant 4): the engine that next takes the campaign's lease finds the calls of instances that are
 * gone and closes them. One HASH per campaign, field = call id, value = the call's last known facts.
 *
 *   <prefix>:{c:<campaignId>}:calls   HASH callId -> JSON JournaledCall
 */
import type { Redis } from 'ioredis'
import { assertKeyId } from './keys.js'

export interface JournaledCall {
  callId: string
  campaignId: string
  leadId: string
  instanceId: string
  dialedAt: number
  state: string
  answeredAt?: number
  bridgedAt?: number
  agentId?: string
}

export class RedisCallJournal {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  key(campaignId: string): string {
    assertKeyId('campaign', campaignId)
    return `${this.prefix}:{c:${campaignId}}:calls`
  }

  async record(call: JournaledCall): Promise<void> {
    await this.redis.hset(this.key(call.campaignId), call.callId, JSON.stringify(call))
  }

  async remove(campaignId: string, callId: string): Promise<void> {
    await this.redis.hdel(this.key(campaignId), callId)
  }

  /** Calls journaled by instances other than `instanceId` (their engines died or handed the campaign over). */
  async foreign(campaignId: string, instanceId: string): Promise<JournaledCall[]> {
    const all = await this.redis.hgetall(this.key(campaignId))
    const out: JournaledCall[] = []
    for (const raw of Object.values(all)) {
      try {
        const c = JSON.parse(raw) as JournaledCall
        if (c.instanceId !== instanceId) out.push(c)
      } catch {
        // A garbled entry cannot be reconciled into a CDR; it is dropped by the caller's log line below.
      }
    }
    return out
  }
}
