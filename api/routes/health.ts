/**
 * /health: the process answers (liveness). /ready: it can serve, i.e. PostgreSQL and Redis both answer within the
 * timeout; a 503 names which one is in trouble, so an SRE (or an orchestrator's log) sees where to look.
 */
import type { FastifyInstance } from 'fastify'
import type { Db } from '../../engine/store/sql/db.js'
import { sendProblem } from '../plugins/errors.js'
import { ProblemTypes } from '../problem.js'
import { problemResponses } from '../schemas/problem.js'

/** What /ready needs of Redis; an ioredis client fits. */
export interface RedisPing {
  ping(): Promise<unknown>
}

export interface HealthRoutesOptions {
  db: Db
  redis?: RedisPing
  timeoutMs: number
}

export type CheckStatus = 'up' | 'down' | 'not-configured'
export interface Check {
  status: CheckStatus
  error?: string
}

const checkSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'down', 'not-configured'] }, error: { type: 'string' } },
} as const

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return { status: 'up' }
  } catch (err) {
    // The message of a connection error (ECONNREFUSED, timeout) is what an operator needs; it carries no secret.
    return { status: 'down', error: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
  }
}

/** PostgreSQL and Redis probed side by side, each within the timeout: what /ready answers and /metrics exports. */
export async function readinessChecks(
  db: { ping(): Promise<unknown> },
  redis: RedisPing | undefined,
  timeoutMs: number,
): Promise<{ postgres: Check; redis: Check }> {
  const [postgres, redisCheck] = await Promise.all([
    probe(() => db.ping(), timeoutMs),
    redis ? probe(() => redis.ping(), timeoutMs) : Promise.resolve<Check>({ status: 'not-configured' }),
  ])
  return { postgres, redis: redisCheck }
}

export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const startedAt = Date.now()

  app.get(
    '/health',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Liveness: the process answers',
        response: {
          200: {
            type: 'object',
            required: ['status', 'uptimeSeconds'],
            properties: { status: { type: 'string' }, uptimeSeconds: { type: 'number' } },
          },
          ...problemResponses,
        },
      },
    },
    async () => ({ status: 'ok', uptimeSeconds: (Date.now() - startedAt) / 1000 }),
  )

  app.get(
    '/ready',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Readiness: PostgreSQL and Redis answer',
        response: {
          200: {
            type: 'object',
            required: ['status', 'checks'],
            properties: {
              status: { type: 'string' },
              checks: {
                type: 'object',
                required: ['postgres', 'redis'],
                properties: { postgres: checkSchema, redis: checkSchema },
              },
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const checks = await readinessChecks(options.db, options.redis, options.timeoutMs)
      const { postgres, redis: redisCheck } = checks
      const down = [postgres.status === 'down' ? 'PostgreSQL' : '', redisCheck.status === 'down' ? 'Redis' : ''].filter(
        (s) => s !== '',
      )
      if (down.length === 0) return { status: 'ready', checks }
      return sendProblem(reply, request, {
        type: ProblemTypes.notReady,
        title: 'Not ready',
        status: 503,
        detail: `${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} not answering`,
        checks,
      })
    },
  )
}
