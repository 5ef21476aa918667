/**
 * Set-up for the registrar's SIP tests: the drachtio double (or a real drachtio-server, see replay/target.ts), the
 * engine's DrachtioConnection with the DrachtioRegistrar on it, agents with SIP credentials in a fresh PostgreSQL
 * database, registrations in the shared Redis under a key prefix of the test's own, and sipp as the agent's phone.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { RealClock } from '../../../engine/clock.js'
import { migrate } from '../../../engine/store/sql/migrate.js'
import { AgentRepository } from '../../../engine/store/sql/agents.js'
import { DrachtioConnection } from '../../../engine/telephony/drachtio/connection.js'
import { DrachtioRegistrar, RegistrarEvents, type BindingsEvent } from '../../../engine/telephony/registrar/drachtio-registrar.js'
import { RegistrationStore } from '../../../engine/telephony/registrar/registration-store.js'
import { DEFAULT_POLICY, type RegistrarPolicy } from '../../../engine/telephony/registrar/registration.js'
import { SqlSipCredentials } from '../../../engine/telephony/registrar/sql-credentials.js'
import { SCENARIOS, startSipp, type SippRun } from '../../doubles/drachtio/replay/sipp.js'
import { startTarget, type Target } from '../../doubles/drachtio/replay/target.js'
import { redisEnv, type RedisEnv } from '../../store/redis/fixtures/redis-env.js'
import { createPgTestDb, type TestDb } from '../../store/sql/databases.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REALM = 'cadence.test'

export interface RegistrarHarness {
  target: Target
  logger: pino.Logger
  clock: RealClock
  conn: DrachtioConnection
  registrar: DrachtioRegistrar
  store: RegistrationStore
  credentials: SqlSipCredentials
  agents: AgentRepository
  redis: RedisEnv
  events: BindingsEvent[]
  /** Runs one of our sipp scenarios (sipp/) as a phone registering with the server. */
  phone(file: string, extra?: string[]): Promise<SippRun>
  logLines: string[]
  close(): Promise<void>
}

export async function registrarHarness(over: Partial<RegistrarPolicy> = {}, t1Ms?: number): Promise<RegistrarHarness> {
  const db: TestDb = await createPgTestDb()
  await migrate(db.db)
  const redis = redisEnv('registrar')
  const target = await startTarget(t1Ms !== undefined ? { t1Ms } : {})
  const logLines: string[] = []
  const logger = pino({ level: process.env.CADENCE_TEST_LOG ?? 'debug' }, { write: (line: string) => void logLines.push(line) })
  const conn = new DrachtioConnection({ host: '127.0.0.1', port: target.recorder.port, secret: target.secret, logger })
  const clock = new RealClock()
  const policy: RegistrarPolicy = { ...DEFAULT_POLICY, realm: REALM, nonceSecret: 'test-nonce-secret-0123456789', ...over }
  const store = new RegistrationStore(redis.connect(), redis.prefix, clock, policy.maxBindings)
  const credentials = new SqlSipCredentials(db.db)
  const registrar = new DrachtioRegistrar({ srf: conn.srf, credentials, store, policy, clock, logger })
  const events: BindingsEvent[] = []
  registrar.on(RegistrarEvents.Bindings, (e: BindingsEvent) => void events.push(e))
  registrar.start()
  const up = await conn.start()
  const udp = up.hostports.find((h) => h.startsWith('udp/'))?.slice(4)
  if (!udp) throw new Error(`no udp transport in ${up.hostports.join(',')}`)
  return {
    target,
    logger,
    clock,
    conn,
    registrar,
    store,
    credentials,
    agents: new AgentRepository(db.db),
    redis,
    events,
    logLines,
    phone: (file, extra) =>
      startSipp({ scenario: path.relative(SCENARIOS, path.join(HERE, 'sipp', file)), remote: udp, limitSeconds: 20, ...(extra ? { extra } : {}) }),
    async close() {
      await conn.stop()
      await target.close()
      await redis.cleanup()
      await db.dispose()
    },
  }
}
