import t from 'tap'
import { Redis } from 'ioredis'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildApp } from '../../api/app.js'
import type { RedisPing } from '../../api/routes/health.js'
import { loadConfig } from '../../config/config.js'
import { keyringEnv } from '../../engine/security/pii-cipher.js'
import type { Db } from '../../engine/store/sql/db.js'
import { openPg } from '../../engine/store/sql/pg-driver.js'
import { createPgTestDb } from '../store/sql/databases.js'
import { MemoryCampaignControl } from './memory-control.js'

async function app(db: Db, redis: RedisPing | undefined, readinessTimeoutMs = 2000) {
  const a = await buildApp({
    config: loadConfig({ env: keyringEnv() }),
    db,
    control: new MemoryCampaignControl(),
    logger: pino({ level: 'silent' }),
    metricsRegistry: new Registry(),
    redis,
    readinessTimeoutMs,
  })
  await a.ready()
  return a
}

t.test('/health and /ready tell PostgreSQL trouble from Redis trouble', async (t) => {
  const pg = await createPgTestDb()
  t.teardown(() => pg.dispose())
  // Nothing listens on port 1: connections are refused at once.
  const deadPg = openPg({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1 })
  t.teardown(() => deadPg.close())
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true })
  t.teardown(() => redis.disconnect())
  const deadRedis = new Redis({
    host: '127.0.0.1',
    port: 1,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  deadRedis.on('error', () => {})
  t.teardown(() => deadRedis.disconnect())

  const ready = async (db: Db, r: RedisPing | undefined, timeoutMs?: number) => {
    const a = await app(db, r, timeoutMs)
    try {
      return await a.inject({ method: 'GET', url: '/ready' })
    } finally {
      await a.close()
    }
  }

  const ok = await ready(pg.db, redis)
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { status: 'ready', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } })

  const noRedis = await ready(pg.db, deadRedis)
  t.equal(noRedis.statusCode, 503)
  t.match(noRedis.headers['content-type'], /application\/problem\+json/)
  const a = noRedis.json()
  t.equal(a.type, '/problems/not-ready')
  t.equal(a.detail, 'Redis is not answering')
  t.equal(a.checks.postgres.status, 'up')
  t.equal(a.checks.redis.status, 'down')
  t.type(a.checks.redis.error, 'string')

  const noPg = await ready(deadPg, redis)
  t.equal(noPg.statusCode, 503)
  const b = noPg.json()
  t.equal(b.detail, 'PostgreSQL is not answering')
  t.equal(b.checks.postgres.status, 'down')
  t.match(b.checks.postgres.error, /ECONNREFUSED/)
  t.equal(b.checks.redis.status, 'up')

  const both = (await ready(deadPg, deadRedis)).json()
  t.equal(both.detail, 'PostgreSQL and Redis are not answering')

  // A Redis that never answers (still reconnecting, commands queued) must not hang readiness.
  const hanging = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: false, retryStrategy: () => 60_000 })
  hanging.on('error', () => {})
  t.teardown(() => hanging.disconnect())
  const slow = await ready(pg.db, hanging, 100)
  t.equal(slow.statusCode, 503)
  t.match(slow.json().checks.redis.error, /no answer within 100 ms/)

  const noRedisConfigured = await ready(pg.db, undefined)
  t.equal(noRedisConfigured.statusCode, 200)
  t.equal(noRedisConfigured.json().checks.redis.status, 'not-configured')

  const a2 = await app(deadPg, deadRedis)
  t.teardown(() => a2.close())
  const health = await a2.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200, 'liveness does not depend on the databases')
  t.equal(health.json().status, 'ok')
})
