/**
 * The engine wired to the simulated site: SimTelephony as the telephony port, simulated agents at their desks
 * through the real ACD, and the real runtime over Redis and PostgreSQL. `npm start`'s demo and the end-to-end tests
 * build it the same way, so what the tests prove is what the demo runs.
 */
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { RedisAcd } from '../store/redis/redis-acd.js'
import { RedisDncStore } from '../store/redis/dnc-store.js'
import { RedisInvalidNumberStore } from '../store/redis/invalid-numbers.js'
import type { CadenceKeys } from '../store/redis/keys.js'
import type { Repositories } from '../store/sql/repositories.js'
import { SimDesk } from '../telephony/sim/desk.js'
import type { Scenario } from '../telephony/sim/scenario.js'
import { SimTelephony } from '../telephony/sim/sim-telephony.js'
import type { EngineMetrics } from './metrics.js'
import { EngineRuntime, type EngineRuntimeOptions } from './runtime.js'

export interface SimulatedEngineOptions {
  clock: Clock
  redis: Redis
  keys: CadenceKeys
  repos: Repositories
  metrics: EngineMetrics
  logger: Logger
  scenario: Scenario
  seed: number
  instanceId: string
  /** Start of the simulated shift (the carrier's answer rate follows time since then). */
  shiftStartMs?: number
  /** Wrap the port before the runtime sees it (tests record what was dialed). */
  wrapPort?: (sim: SimTelephony) => SimTelephony
  overrides?: Partial<EngineRuntimeOptions>
}

export interface SimulatedEngine {
  runtime: EngineRuntime
  desk: SimDesk
  sim: SimTelephony
  acd: RedisAcd
  dnc: RedisDncStore
}

export function createSimulatedEngine(o: SimulatedEngineOptions): SimulatedEngine {
  const sim = new SimTelephony(o.clock, o.scenario, o.seed, o.shiftStartMs ?? o.clock.now())
  const port = o.wrapPort ? o.wrapPort(sim) : sim
  const acd = new RedisAcd({ redis: o.redis, keys: o.keys })
  const dnc = new RedisDncStore(o.redis, o.keys.prefix, (n) => o.repos.dnc.numberHash(n))
  let runtime: EngineRuntime | undefined
  const desk = new SimDesk({
    clock: o.clock,
    acd,
    behaviour: sim.agents,
    logger: o.logger,
    onReady: async (id) => {
      await runtime?.agentReady(id)
    },
  })
  runtime = new EngineRuntime({
    clock: o.clock,
    port,
    redis: o.redis,
    keys: o.keys,
    repos: o.repos,
    acd,
    dnc,
    invalidNumbers: new RedisInvalidNumberStore(o.redis, o.keys.prefix, (n) => o.repos.dnc.numberHash(n)),
    metrics: o.metrics,
    logger: o.logger,
    instanceId: o.instanceId,
    trunk: { channels: 500, cps: 50 },
    ringTimeoutMs: 25_000,
    tickMs: 1000,
    upkeepMs: 5000,
    safeHarborPrompt: 'safe-harbor',
    routing: 'longest-idle',
    onWrapUp: (agentId, callId, now) => desk.wrapUpStarted(agentId, callId, now),
    ...o.overrides,
  })
  return { runtime, desk, sim, acd, dnc }
}
