/**
 * The ACD's shared state on Redis: one hash per agent (state, time in each state, call stats, skills), ready agents
 * in sorted sets by each routing measure, reservations with an expiry, and call queues as sorted sets. The hot,
 * contested steps are single Lua scripts: reserve-agent.lua (choose + reserve), dispatch-call.lua (pop a queued
 * call + reserve its agent), pop-call.lua, expire-reservations.lua. Every other transition runs the pure state
 * machine (engine/acd/agent-machine.ts) on the agent read from Redis and writes it back with a version check
 * (save-agent.lua), retrying on conflict, so the rules live in one place and two engines never take one agent.
 */
import type { Redis } from 'ioredis'
import { AgentStates, type AgentState } from '../../acd/agent-state.js'
import { applyEvent, newAgent, type Agent, type AgentEvent, type TransitionResult } from '../../acd/agent-machine.js'
import { queueScore, type QueuedCall } from '../../acd/call-queue.js'
import type { RoutingStrategy } from '../../acd/routing.js'
import { CadenceKeys, assertKeyId, type AcdKeys } from './keys.js'
import { ScriptRunner } from './script-loader.js'

export interface RedisAcdOptions {
  redis: Redis
  keys?: CadenceKeys
  /** ACD pool (site or tenant): its agents and queues share one hash tag. Default 'default'. */
  pool?: string
  /** How long a reserved agent has to answer before being paused with reason no-answer. Default 15 s. */
  reservationTimeoutMs?: number
}

/** An agent as stored: the state machine's agent plus its skills and the store's version. */
export interface StoredAgent extends Agent {
  skills: Record<string, number>
  version: number
}

export interface ReserveRequest {
  callId: string
  now: number
  strategy: RoutingStrategy
  skill?: string
  /** A call queue's required skills -> the worst tier accepted for each. */
  skills?: Readonly<Record<string, number>>
  ownerAgentId?: string
  ownerOnly?: boolean
}

export interface ExpiredReservation {
  agentId: string
  callId: string
}

const MAX_CAS_TRIES = 20
const STATES: ReadonlySet<string> = new Set(AgentStates)

function toFields(agent: Agent): string[] {
  const f: string[] = [
    'id', agent.id,
    'state', agent.state,
    'since', String(agent.since),
    'calls', String(agent.stats.calls),
    'talkMs', String(agent.stats.talkMs),
    'wrapUpMs', String(agent.stats.wrapUpMs),
    'noAnswers', String(agent.stats.noAnswers),
  ]
  for (const s of AgentStates) f.push(`t:${s}`, String(agent.stats.timeInState[s]))
  if (agent.callId !== undefined) f.push('callId', agent.callId)
  if (agent.pauseReason !== undefined) f.push('pauseReason', agent.pauseReason)
  if (agent.lastCallEndedAt !== undefined) f.push('lastCallEndedAt', String(agent.lastCallEndedAt))
  return f
}

function num(h: Record<string, string>, field: string, agentId: string): number {
  const v = Number(h[field] ?? '0')
  if (!Number.isFinite(v)) throw new Error(`agent ${agentId}: field ${field} is not a number: ${h[field]}`)
  return v
}

/** Rebuild an agent from its hash (exported for tests and the API's agent views). */
export function agentFromHash(h: Record<string, string>): StoredAgent {
  const id = h.id
  if (!id) throw new Error('agent hash has no id')
  const state = h.state ?? ''
  if (!STATES.has(state)) throw new Error(`agent ${id}: unknown state ${JSON.stringify(state)}`)
  const timeInState = {} as Record<AgentState, number>
  for (const s of AgentStates) timeInState[s] = num(h, `t:${s}`, id)
  const skills: Record<string, number> = {}
  for (const [k, v] of Object.entries(h)) if (k.startsWith('skill:')) skills[k.slice(6)] = Number(v)
  const agent: StoredAgent = {
    id,
    state: state as AgentState,
    since: num(h, 'since', id),
    stats: {
      calls: num(h, 'calls', id),
      talkMs: num(h, 'talkMs', id),
      wrapUpMs: num(h, 'wrapUpMs', id),
      noAnswers: num(h, 'noAnswers', id),
      timeInState,
    },
    skills,
    version: num(h, 'version', id),
  }
  if (h.callId !== undefined) agent.callId = h.callId
  if (h.pauseReason !== undefined) agent.pauseReason = h.pauseReason
  if (h.lastCallEndedAt !== undefined) agent.lastCallEndedAt = num(h, 'lastCallEndedAt', id)
  return agent
}

export class RedisAcd {
  readonly keys: AcdKeys
  readonly reservationTimeoutMs: number
  private readonly scripts: ScriptRunner
  private readonly cadenceKeys: CadenceKeys
  private readonly pool: string

  constructor(options: RedisAcdOptions) {
    this.cadenceKeys = options.keys ?? new CadenceKeys()
    this.pool = options.pool ?? 'default'
    this.keys = this.cadenceKeys.acd(this.pool)
    this.scripts = new ScriptRunner(options.redis)
    this.reservationTimeoutMs = options.reservationTimeoutMs ?? 15_000
    if (!(this.reservationTimeoutMs > 0)) throw new Error('RedisAcd: reservationTimeoutMs must be positive')
  }

  private get redis(): Redis {
    return this.scripts.redis
  }

  private agentKey(agentId: string): string {
    assertKeyId('agent', agentId)
    return `${this.keys.agentPrefix}${agentId}`
  }

  async get(agentId: string): Promise<StoredAgent | undefined> {
    const h = await this.redis.hgetall(this.agentKey(agentId))
    return h.id === undefined ? undefined : agentFromHash(h)
  }

  /**
   * Make an agent known (logged out) if it is not, and set its skills (name -> tier, 1 best). Skills replace the
   * previous ones.
   */
  async register(agentId: string, at: number, skills: Record<string, number> = {}): Promise<StoredAgent> {
    for (const [name, tier] of Object.entries(skills)) {
      assertKeyId('skill', name)
      if (!Number.isInteger(tier) || tier < 1) throw new Error(`agent ${agentId}: skill ${name} tier must be >= 1`)
    }
    const key = this.agentKey(agentId)
    if (!(await this.get(agentId))) {
      // A concurrent register loses the version check and simply finds the agent there.
      await this.save(newAgent(agentId, at), 0)
    }
    const old = Object.keys(await this.redis.hgetall(key)).filter((k) => k.startsWith('skill:'))
    const tx = this.redis.multi()
    if (old.length > 0) tx.hdel(key, ...old)
    for (const [name, tier] of Object.entries(skills)) tx.hset(key, `skill:${name}`, String(tier))
    await tx.exec()
    const agent = await this.get(agentId)
    if (!agent) throw new Error(`agent ${agentId} vanished during register`)
    return agent
  }

  private async save(agent: Agent, version: number): Promise<number> {
    const k = this.keys
    const res = await this.scripts.run(
      'save-agent',
      [this.agentKey(agent.id), k.agents, k.readyIdle, k.readyCalls, k.readyTalk, k.reservations],
      [agent.id, String(version), agent.since + this.reservationTimeoutMs, ...toFields(agent)],
    )
    return Number(res)
  }

  /**
   * Apply an event through the pure state machine and store the result. Refusals (illegal transitions) come back
   * as `{ ok: false }` with the agent unchanged; a concurrent change is retried on the fresh agent.
   */
  async apply(agentId: string, event: AgentEvent): Promise<TransitionResult> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await this.get(agentId)
      if (!stored) throw new Error(`unknown agent ${agentId}: register it first`)
      const { skills: _skills, version, ...agent } = stored
      const res = applyEvent(agent, event)
      if (!res.ok || res.agent === agent) return res
      if ((await this.save(res.agent, version)) >= 0) return res
    }
    throw new Error(`agent ${agentId}: ${event.type} kept conflicting with other engines`)
  }

  /** Atomically choose and reserve a ready agent for a call. Returns the agent id, or undefined if none fits. */
  async reserve(request: ReserveRequest): Promise<string | undefined> {
    const needs: string[] = []
    if (request.skill !== undefined) {
      assertKeyId('skill', request.skill)
      needs.push(`${request.skill}:`)
    }
    for (const [name, maxTier] of Object.entries(request.skills ?? {})) {
      assertKeyId('skill', name) // no comma: the list's separator
      if (!Number.isInteger(maxTier) || maxTier < 1) throw new Error(`skill ${name}: the worst tier accepted must be an integer >= 1`)
      needs.push(`${name}:${maxTier}`)
    }
    const k = this.keys
    const res = (await this.scripts.run(
      'reserve-agent',
      [k.readyIdle, k.readyCalls, k.readyTalk, k.reservations],
      [
        k.agentPrefix,
        request.now,
        this.reservationTimeoutMs,
        request.callId,
        request.strategy,
        needs.join(','),
        request.ownerAgentId ?? '',
        request.ownerOnly ? '1' : '0',
      ],
    )) as [string, number] | null
    return res ? res[0] : undefined
  }

  /** Pause (reason no-answer) every reserved agent whose reservation ran out by `now`. */
  async expireReservations(now: number, limit = 100): Promise<ExpiredReservation[]> {
    const res = (await this.scripts.run('expire-reservations', [this.keys.reservations], [
      this.keys.agentPrefix,
      now,
      limit,
    ])) as string[]
    const out: ExpiredReservation[] = []
    for (let i = 0; i < res.length; i += 2) out.push({ agentId: res[i]!, callId: res[i + 1]! })
    return out
  }

  /** Ready agents, longest idle first. */
  async readyAgents(): Promise<string[]> {
    return this.redis.zrange(this.keys.readyIdle, 0, -1)
  }

  async agentIds(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.agents)).sort()
  }

  private queueKey(queueId: string): string {
    return this.cadenceKeys.queue(this.pool, queueId)
  }

  private callKey(callId: string): string {
    assertKeyId('call', callId)
    return `${this.keys.callPrefix}${callId}`
  }

  /** Queue a call; false when it was already waiting there. */
  async enqueue(call: QueuedCall): Promise<boolean> {
    const res = await this.scripts.run(
      'enqueue-call',
      [this.queueKey(call.queueId), this.callKey(call.callId)],
      [call.callId, queueScore(call.priority, call.enqueuedAt), JSON.stringify(call)],
    )
    return res === 1
  }

  /** Pop the best waiting call across `queueIds` (ties go to the queue listed first). */
  async popCall(queueIds: readonly string[]): Promise<QueuedCall | undefined> {
    if (queueIds.length === 0) return undefined
    const res = (await this.scripts.run(
      'pop-call',
      queueIds.map((q) => this.queueKey(q)),
      [this.keys.callPrefix],
    )) as string | null
    return res === null ? undefined : (JSON.parse(res) as QueuedCall)
  }

  /** Remove a waiting call (the customer hung up). False when an engine already popped it. */
  async removeCall(queueId: string, callId: string): Promise<boolean> {
    const res = await this.scripts.run('remove-call', [this.queueKey(queueId), this.callKey(callId)], [callId])
    return res === 1
  }

  async queueLength(queueId: string): Promise<number> {
    return this.redis.zcard(this.queueKey(queueId))
  }

  /**
   * Match one waiting call with a ready agent atomically (the call is popped and the agent reserved together).
   * Call it when an agent becomes ready or a call is queued, until it returns undefined.
   */
  async dispatch(
    queueIds: readonly string[],
    now: number,
    strategy: RoutingStrategy,
  ): Promise<{ call: QueuedCall; agentId: string } | undefined> {
    if (queueIds.length === 0) return undefined
    const k = this.keys
    const res = (await this.scripts.run(
      'dispatch-call',
      [k.readyIdle, k.readyCalls, k.readyTalk, k.reservations, ...queueIds.map((q) => this.queueKey(q))],
      [k.agentPrefix, k.callPrefix, now, this.reservationTimeoutMs, strategy],
    )) as [string, string, number] | null
    return res ? { call: JSON.parse(res[0]) as QueuedCall, agentId: res[1] } : undefined
  }
}
