/**
 * Which engine instance paces a campaign: a lease in Redis, kept alive by its holder and taken over by another
 * instance when it expires. Two instances never pace one campaign at once (each would dial for the same agents and
 * the abandon rate would double).
 */
import type { Redis } from 'ioredis'
import { assertKeyId } from './keys.js'
import { ScriptRunner } from './script-loader.js'

export class CampaignLease {
  private readonly scripts: ScriptRunner

  constructor(
    redis: Redis,
    private readonly prefix: string,
    readonly instanceId: string,
    readonly leaseMs = 15_000,
  ) {
    this.scripts = new ScriptRunner(redis)
  }

  key(campaignId: string): string {
    assertKeyId('campaign', campaignId)
    return `${this.prefix}:{c:${campaignId}}:lease`
  }

  /** Take or renew the lease; true while this instance holds it. */
  async acquire(campaignId: string): Promise<boolean> {
    return (await this.scripts.run('acquire-campaign-lease', [this.key(campaignId)], [this.instanceId, this.leaseMs])) === 1
  }

  async release(campaignId: string): Promise<boolean> {
    return (await this.scripts.run('release-campaign-lease', [this.key(campaignId)], [this.instanceId])) === 1
  }
}
