/**
 * Every Redis key Cadence uses, in one place. Keys start with a per-deployment prefix (tests use a random one) and
 * carry a hash tag per campaign (`{c:<id>}`) or per ACD pool (`{acd:<pool>}`), so each campaign's hopper and each
 * pool's agents and queues live on one cluster slot and a Lua script may touch all of them.
 */

const ID = /^[A-Za-z0-9_.:-]{1,128}$/

/** Ids end up inside key names and hash tags: reject anything that could break out of them. */
export function assertKeyId(kind: string, id: string): void {
  if (!ID.test(id) || id.includes('{') || id.includes('}')) {
    throw new Error(`invalid ${kind} id ${JSON.stringify(id)}: use 1-128 of [A-Za-z0-9_.:-]`)
  }
}

export interface HopperKeys {
  /** ZSET lead id -> callback time (due callbacks). */
  callbacks: string
  /** ZSET lead id -> retry time (leads recycled by status rules). */
  recycle: string
  /** ZSET lead id -> order (new leads, priority then arrival). */
  fresh: string
  /** ZSET lead id -> time the screening park ends. */
  parked: string
  /** ZSET lead id -> lease expiry (leads taken, at most one call each). */
  inflight: string
  /** STRING: the lead source's cursor, shared by every engine feeding this hopper. */
  cursor: string
  /** STRING: arrival counter that orders new leads. */
  seq: string
  /** Prefix of one HASH per lead: `${leadPrefix}${leadId}`. */
  leadPrefix: string
}

export interface AcdKeys {
  /** SET of every agent id known in the pool. */
  agents: string
  /** Prefix of one HASH per agent: `${agentPrefix}${agentId}`. */
  agentPrefix: string
  /** ZSET ready agent -> ready since (longest idle first). */
  readyIdle: string
  /** ZSET ready agent -> calls handled (fewest calls first). */
  readyCalls: string
  /** ZSET ready agent -> talk time in ms (least talk time first). */
  readyTalk: string
  /** ZSET reserved agent -> reservation expiry. */
  reservations: string
  /** Prefix of one ZSET per call queue: `${queuePrefix}${queueId}`. */
  queuePrefix: string
  /** Prefix of one HASH per queued call: `${callPrefix}${callId}`. */
  callPrefix: string
}

/** One agent's SIP registrations (engine/telephony/registrar/), on the agent's own slot. */
export interface RegistrationKeys {
  /** ZSET contact URI -> binding expiry (ms). */
  contacts: string
  /** HASH contact URI -> JSON details (Call-ID, CSeq, where the REGISTER came from). */
  details: string
}

export class CadenceKeys {
  constructor(readonly prefix = 'cadence') {
    if (!/^[A-Za-z0-9_.:-]+$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`)
  }

  hopper(campaignId: string): HopperKeys {
    assertKeyId('campaign', campaignId)
    const base = `${this.prefix}:{c:${campaignId}}:hopper:`
    return {
      callbacks: `${base}callbacks`,
      recycle: `${base}recycle`,
      fresh: `${base}new`,
      parked: `${base}parked`,
      inflight: `${base}inflight`,
      cursor: `${base}cursor`,
      seq: `${base}seq`,
      leadPrefix: `${base}lead:`,
    }
  }

  acd(pool = 'default'): AcdKeys {
    assertKeyId('pool', pool)
    const base = `${this.prefix}:{acd:${pool}}:`
    return {
      agents: `${base}agents`,
      agentPrefix: `${base}agent:`,
      readyIdle: `${base}ready:idle`,
      readyCalls: `${base}ready:calls`,
      readyTalk: `${base}ready:talk`,
      reservations: `${base}reservations`,
      queuePrefix: `${base}queue:`,
      callPrefix: `${base}call:`,
    }
  }

  registrations(agentId: string): RegistrationKeys {
    assertKeyId('agent', agentId)
    const base = `${this.prefix}:{reg:${agentId}}:`
    return { contacts: `${base}contacts`, details: `${base}details` }
  }

  /** Pub/sub channel: credentials revoked, told to every API process (api/auth-revocations.ts). */
  authRevocations(): string {
    return `${this.prefix}:auth:revocations`
  }

  /** ZSET inbound call id -> time queued: the callers waiting in an inbound queue on every engine (their positions). */
  inboundWaiting(queue: string): string {
    assertKeyId('queue', queue)
    return `${this.prefix}:{inbound:${queue}}:waiting`
  }

  queue(pool: string, queueId: string): string {
    assertKeyId('queue', queueId)
    return `${this.acd(pool).queuePrefix}${queueId}`
  }
}
