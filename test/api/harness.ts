/** Builds the API over a migrated test database, the in-memory control, a fresh registry and a captured log. */
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildApp, type BuildAppOptions } from '../../api/app.js'
import { loadConfig, type Config } from '../../config/config.js'
import type { UserRole } from '../../engine/store/sql/api-keys.js'
import type { Db } from '../../engine/store/sql/db.js'
import { migrate } from '../../engine/store/sql/migrate.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { MemoryCampaignControl } from './memory-control.js'
import { keyringEnv, PiiCipher } from '../../engine/security/pii-cipher.js'

export interface Harness {
  app: FastifyInstance
  control: MemoryCampaignControl
  registry: Registry
  logLines: string[]
  keys: Record<UserRole, string>
  auth(role: UserRole): { authorization: string }
  /** The personal-data keys the app runs with (for tests that read or write encrypted rows themselves). */
  pii: PiiCipher
}

export async function harness(
  db: Db,
  options: { env?: Record<string, string>; migrated?: boolean; extra?: Partial<BuildAppOptions>; logLevel?: string } = {},
): Promise<Harness> {
  if (options.migrated !== true) await migrate(db)
  const config: Config = loadConfig({ env: { DATABASE_URL: 'memory', ...keyringEnv(), ...options.env } })
  const pii = new PiiCipher(config.pii!)
  const logLines: string[] = []
  const logger = pino({ level: options.logLevel ?? 'info' }, { write: (s: string) => void logLines.push(s) })
  const control = new MemoryCampaignControl()
  const registry = new Registry()
  const repos = repositories(db)
  const keys = {} as Record<UserRole, string>
  for (const role of ['admin', 'supervisor', 'qa', 'agent'] as const) {
    keys[role] = (await repos.apiKeys.create({ name: `test-${role}`, role })).key
  }
  const app = await buildApp({ config, db, control, logger, metricsRegistry: registry, ...options.extra })
  await app.ready()
  return { app, control, registry, logLines, keys, auth: (role) => ({ authorization: `Bearer ${keys[role]}` }), pii }
}
