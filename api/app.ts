/**
 * The HTTP API: `buildApp()` assembles Fastify with its plugins (errors as problem details, API-key auth with roles
 * declared per route, Prometheus metrics) and the routes. It gets everything from outside (configuration, database,
 * the engine's CampaignControl, logger, metrics registry), so `npm start` and the tests build the same app.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config } from '../config/config.js'
import type { CampaignControl } from '../engine/campaign/control.js'
import { ApiKeyRepository } from '../engine/store/sql/api-keys.js'
import { UserTokenRepository } from '../engine/store/sql/user-tokens.js'
import { PiiCipher } from '../engine/security/pii-cipher.js'
import type { Db } from '../engine/store/sql/db.js'
import type { InvalidNumberLookup } from '../engine/screening/invalid-numbers.js'
import type { DncLookup } from '../engine/screening/dnc.js'
import { ApiKeyCache } from './plugins/api-key-cache.js'
import { TokenCache } from './plugins/token-cache.js'
import { RedisAuthRevocations, type Revocation } from './auth-revocations.js'
import type { CadenceKeys } from '../engine/store/redis/keys.js'
import { authPlugin } from './plugins/auth.js'
import { errorsPlugin, problemOf, sendProblem } from './plugins/errors.js'
import { HttpProblem, ProblemTypes } from './problem.js'
import { metricsPlugin } from './plugins/metrics.js'
import { registerOpenApi } from './plugins/openapi.js'
import { agentRoutes } from './routes/agents.js'
import { campaignRoutes } from './routes/campaigns.js'
import { healthRoutes, readinessChecks, type RedisPing } from './routes/health.js'
import { dncRoutes, type DncMirror } from './routes/dnc.js'
import { leadListRoutes } from './routes/lead-lists.js'
import { leadRoutes } from './routes/leads.js'
import { identityRoutes } from './routes/identity.js'
import { reportRoutes } from './routes/reports.js'
import { dispositionRoutes } from './routes/dispositions.js'
import { eventRoutes } from './routes/events.js'
import { EventHub } from './events/event-hub.js'
import { WebhookDispatcher } from './events/webhook-dispatcher.js'
import { webhookRoutes } from './routes/webhooks.js'
import { WebhookRepository } from '../engine/store/sql/webhooks.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook dispatcher when events are configured (tests drive it by hand). */
    webhookDispatcher: WebhookDispatcher | undefined
  }
}
import type { Redis } from 'ioredis'
import type { RedisEventStream } from '../engine/store/redis/event-stream.js'
import { customerRoutes } from './routes/customers.js'
import { numberRegionRoutes } from './routes/number-regions.js'
import { qaRoutes } from './routes/qa.js'
import { supervisorRoutes } from './routes/supervisor.js'

export interface BuildAppOptions {
  config: Config
  /** Migrated database (run `migrate(db)` first). */
  db: Db
  control: CampaignControl
  /** A pino logger (or any Fastify-compatible one); the app logs through children of it. */
  logger: FastifyBaseLogger
  metricsRegistry: Registry
  /** Redis as /ready checks it; omitted, /ready reports redis "not-configured". */
  redis?: RedisPing
  /** How long /ready waits for each dependency; default 2000 ms. */
  readinessTimeoutMs?: number
  /**
   * The Redis DNC lists the engine screens against (a RedisDncStore): DNC writes go there as well as to PostgreSQL,
   * and dialability reads them. Omitted, the DNC write routes answer 503 and dialability reports dnc-unavailable.
   */
  dncStore?: DncMirror & { snapshot(campaignId: string, e164s: readonly string[]): Promise<DncLookup> }
  /** How long a looked-up API key is trusted without asking the database again; default 10000 ms, 0 disables. */
  apiKeyCacheTtlMs?: number
  /**
   * Revocations of API keys and login tokens told to every API process through Redis pub/sub on
   * `keys.authRevocations()` (api/auth-revocations.ts). With it, login tokens are cached too and a revocation made by
   * any process is refused by this one on its next request; without it, tokens are looked up on every request and
   * another process's API-key revocation takes up to apiKeyCacheTtlMs.
   */
  authRevocations?: { redis: Redis; keys: CadenceKeys; tokenCacheTtlMs?: number }
  /** How long a reading of a campaign's live figures is reused (api/routes/campaigns.ts); default 1000 ms, 0 disables. */
  liveFiguresMaxAgeMs?: number
  /**
   * The engine's real-time event streams on Redis: SSE for desktops and supervisors, and webhooks. Omitted, the
   * event routes answer 503.
   */
  events?: { redis: Redis; stream: RedisEventStream }
  /** Run the webhook dispatcher's own timers (default true); tests drive `app.webhookDispatcher` by hand. */
  webhookTimers?: boolean
  /** The learned-invalid numbers (a RedisInvalidNumberStore), for dialability. */
  invalidNumbers?: { snapshot(e164s: readonly string[]): Promise<InvalidNumberLookup> }
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, db, control, metricsRegistry } = options
  // Routes that store personal data need the keys; refusing to start beats storing a phone number in clear.
  if (config.pii === undefined) throw new Error('buildApp: config.pii is unset (set CADENCE_PII_KEYS and CADENCE_PII_LOOKUP_KEY)')
  const pii = new PiiCipher(config.pii)
  const app = Fastify({
    loggerInstance: options.logger,
    // Bodies here are small JSON documents; a large one is a mistake or an attack.
    bodyLimit: 1024 * 1024,
    ajv: {
      // Unknown properties are refused with their name, not silently dropped.
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    return503OnClosing: true,
    // Fastify's own request lines carry the full URL, and URLs here can hold phone numbers (`?phone=`,
    // `/v1/number-regions/:number`): personal data must not reach the log. One line per request is written below
    // with the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Ids are up to 200 characters; longer path segments are refused before routing (414 as problem details).
    routerOptions: { maxParamLength: 256 },
    // Errors the router raises before any hook (a path parameter too long, a malformed URL) are problem details too.
    frameworkErrors: (error, request, reply) => {
      request.log.info({ code: error.code }, 'request refused by the router')
      void sendProblem(reply, request, problemOf(error, request))
    },
  })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const line = { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }
    if (reply.statusCode >= 500) request.log.warn(line, 'request answered')
    else request.log.debug(line, 'request answered')
  })

  // The API speaks JSON only: any other body is a 415, not a string that fails validation further on.
  app.removeContentTypeParser('text/plain')

  const apiKeys = new ApiKeyRepository(db)
  if (config.api.adminKey !== undefined) {
    const { created, apiKey } = await apiKeys.ensure(config.api.adminKey, { name: 'bootstrap-admin', role: 'admin' })
    options.logger.info(
      { apiKeyId: apiKey.id },
      created ? 'bootstrap admin API key stored (hashed) from CADENCE_ADMIN_API_KEY' : 'bootstrap admin API key present',
    )
  }

  await registerOpenApi(app, { version: '0.1.0' })
  await app.register(errorsPlugin)
  let revocations: RedisAuthRevocations | undefined
  if (options.authRevocations) {
    revocations = new RedisAuthRevocations({ redis: options.authRevocations.redis, channel: options.authRevocations.keys.authRevocations(), log: options.logger })
    // Caches are bypassed until subscribed; waiting a moment lets a healthy start begin with them on.
    await Promise.race([revocations.ready(), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
  }
  const keyCache = new ApiKeyCache(apiKeys, { ttlMs: options.apiKeyCacheTtlMs ?? 10_000, ...(revocations ? { revocations } : {}) })
  const tokenRepo = new UserTokenRepository(db)
  const tokens = revocations ? new TokenCache(tokenRepo, revocations, { ttlMs: options.authRevocations?.tokenCacheTtlMs ?? 10_000 }) : tokenRepo
  app.addHook('onClose', async () => {
    keyCache.close()
    if (tokens instanceof TokenCache) tokens.close()
    await revocations?.close()
  })
  await app.register(authPlugin, { apiKeys: keyCache, tokens })
  await app.register(metricsPlugin, {
    registry: metricsRegistry,
    auth: config.api.metricsPublic ? 'public' : { roles: ['admin', 'supervisor'] },
    readiness: () => readinessChecks(db, options.redis, options.readinessTimeoutMs ?? 2000),
  })
  await app.register(healthRoutes, { db, redis: options.redis, timeoutMs: options.readinessTimeoutMs ?? 2000 })
  const rev = revocations
  await app.register(identityRoutes, { db, tokenTtlSeconds: config.api.tokenTtlSeconds, ...(rev ? { revoked: (r: Revocation) => rev.revoked(r) } : {}) })
  await app.register(reportRoutes, { db })
  await app.register(dispositionRoutes, { db })
  let dispatcher: WebhookDispatcher | undefined
  if (options.events) {
    const hub = new EventHub({ redis: options.events.redis, stream: options.events.stream, log: options.logger })
    dispatcher = new WebhookDispatcher({
      repo: new WebhookRepository(db, pii),
      hub,
      stream: options.events.stream,
      redis: options.events.redis,
      log: options.logger.child({ component: 'webhooks' }),
    })
    if (options.webhookTimers !== false) dispatcher.start()
    const d = dispatcher
    app.addHook('onClose', async () => {
      d.stop()
      await hub.close()
    })
    await app.register(eventRoutes, { hub, stream: options.events.stream })
  } else {
    await app.register(async (scope) => {
      const unavailable = async (): Promise<never> => {
        throw new HttpProblem(503, 'Events unavailable', 'this API process has no event stream configured (Redis)', { type: ProblemTypes.notReady })
      }
      scope.get('/v1/agent/events', { schema: { tags: ['events'] }, config: { auth: { roles: ['agent'] } } }, unavailable)
      scope.get('/v1/events', { schema: { tags: ['events'] }, config: { auth: { roles: ['admin', 'supervisor'] } } }, unavailable)
    })
  }
  await app.register(campaignRoutes, { db, control, ...(options.liveFiguresMaxAgeMs === undefined ? {} : { liveFiguresMaxAgeMs: options.liveFiguresMaxAgeMs }) })
  await app.register(agentRoutes, { control, db, pii, ...(options.dncStore ? { dnc: options.dncStore } : {}) })
  await app.register(leadListRoutes, { db, pii })
  await app.register(leadRoutes, { db, pii, lookups: { dnc: options.dncStore, invalidNumbers: options.invalidNumbers } })
  await app.register(dncRoutes, { db, pii, mirror: options.dncStore })
  app.decorate('webhookDispatcher', dispatcher)
  await app.register(webhookRoutes, { db, pii, ...(dispatcher ? { changed: () => dispatcher.refresh() } : {}) })
  // Routes added after this line get `pii` (a PiiCipher) for personal data: customers, notes, recordings' numbers.
  await app.register(customerRoutes, { db, pii })
  await app.register(numberRegionRoutes, {})
  await app.register(qaRoutes, { db, pii })
  await app.register(supervisorRoutes, { db, control })
  return app
}
