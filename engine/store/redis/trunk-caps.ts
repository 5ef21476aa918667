/**
 * Per-trunk channel and calls-per-second caps shared by every engine instance (issue 5): one Lua step takes a channel
 * and a CPS token together (trunk-acquire.lua), another gives the channel back (trunk-release.lua). Channels are
 * leases, so an engine that dies without releasing gives them back when the lease runs out; a live call longer
 * than the lease is renewed by acquiring again with the same call id.
 *
 * `now` comes from the caller's Clock: instances should run NTP-synchronised clocks (a skew of s ms lets a burst
 * exceed the CPS cap by about s x cps / 1000 calls).
 */
import type { Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import { assertKeyId } from './keys.js'
import { ScriptRunner } from './script-loader.js'

export type TrunkGrant = { granted: true; inUse: number } | { granted: false; limit: 'channels'; inUse: number } | { granted: false; limit: 'cps'; retryInMs: number }

export interface TrunkCapsConfig {
  maxChannels?: number
  maxCps?: number
}

export class TrunkCaps {
  private readonly scripts: ScriptRunner

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
    /** How long a channel stays taken without renewal; longer than any call should last. */
    readonly channelLeaseMs = 4 * 3600_000,
  ) {
    this.scripts = new ScriptRunner(redis)
  }

  keys(trunkId: string): { channels: string; cps: string } {
    assertKeyId('trunk', trunkId)
    return { channels: `${this.prefix}:{t:${trunkId}}:channels`, cps: `${this.prefix}:{t:${trunkId}}:cps` }
  }

  async acquire(trunkId: string, callId: string, caps: TrunkCapsConfig): Promise<TrunkGrant> {
    assertKeyId('call', callId)
    const k = this.keys(trunkId)
    const reply = (await this.scripts.run(
      'trunk-acquire',
      [k.channels, k.cps],
      [this.clock.now(), callId, caps.maxChannels ?? 0, caps.maxCps ?? 0, this.channelLeaseMs],
    )) as [number, ...(string | number)[]]
    if (reply[0] === 1) return { granted: true, inUse: Number(reply[1]) }
    if (reply[1] === 'channels') return { granted: false, limit: 'channels', inUse: Number(reply[2]) }
    return { granted: false, limit: 'cps', retryInMs: Number(reply[2]) }
  }

  async release(trunkId: string, callId: string): Promise<boolean> {
    return (await this.scripts.run('trunk-release', [this.keys(trunkId).channels], [callId])) === 1
  }

  /** True while the call holds a channel of the trunk (its lease has not run out). */
  async holds(trunkId: string, callId: string): Promise<boolean> {
    const score = await this.scripts.redis.zscore(this.keys(trunkId).channels, callId)
    return score !== null && Number(score) > this.clock.now()
  }

  async inUse(trunkId: string): Promise<number> {
    const k = this.keys(trunkId)
    return this.scripts.redis.zcount(k.channels, `(${this.clock.now()}`, '+inf')
  }
}
