/**
 * API-key authentication and per-route authorization. Every route declares who may call it beside its definition:
 * `config: { auth: { roles: ['admin', 'supervisor'] } }`, or `config: { auth: 'public' }`. A route that declares
 * nothing is refused at start-up, so forgetting the declaration cannot leave a route open.
 * Keys come as `authorization: Bearer <key>` and are checked against their stored SHA-256.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { UserRole } from '../../engine/store/sql/api-keys.js'
import type { ApiKeyLookup } from './api-key-cache.js'
import { HttpProblem, ProblemTypes } from '../problem.js'

export type RouteAuth = 'public' | { roles: readonly UserRole[] }

export interface Principal {
  apiKeyId: string
  name: string
  role: UserRole
  /** How the audit log names this caller. */
  actor: string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** The principal of an authenticated route; throws if called on a public one (a programming error). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new Error('route is public: no principal')
  return request.principal
}

const BearerRe = /^Bearer\s+(\S+)\s*$/i

export interface AuthOptions {
  /** The repository, or an ApiKeyCache over it. */
  apiKeys: ApiKeyLookup
}

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options: AuthOptions) => {
    app.decorateRequest('principal', null)

    app.addHook('onRoute', (route) => {
      const auth = route.config?.auth
      if (auth === undefined) {
        throw new Error(`route ${String(route.method)} ${route.url} declares no auth (config.auth: 'public' or { roles })`)
      }
      if (auth !== 'public' && auth.roles.length === 0) throw new Error(`route ${route.url} allows no role`)
    })

    app.addHook('onRequest', async (request, reply) => {
      const auth = request.routeOptions.config.auth
      // No auth declared only happens for the not-found handler, which reveals nothing.
      if (auth === undefined || auth === 'public') return
      const header = request.headers.authorization
      const unauthenticated = (detail: string) =>
        new HttpProblem(401, 'Unauthorized', detail, { type: ProblemTypes.unauthenticated })
      if (header === undefined) {
        reply.header('www-authenticate', 'Bearer')
        throw unauthenticated('this route needs an API key: send "authorization: Bearer <key>"')
      }
      const m = BearerRe.exec(header)
      if (!m) {
        reply.header('www-authenticate', 'Bearer error="invalid_request"')
        throw unauthenticated('the authorization header must read "Bearer <key>"')
      }
      const key = await options.apiKeys.findActiveByKey(m[1]!)
      if (!key) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw unauthenticated('unknown or revoked API key')
      }
      request.principal = { apiKeyId: key.id, name: key.name, role: key.role, actor: `api-key:${key.id}` }
      if (!auth.roles.includes(key.role)) {
        throw new HttpProblem(403, 'Forbidden', `role ${key.role} may not ${request.method} this route (allowed: ${auth.roles.join(', ')})`, {
          type: ProblemTypes.forbidden,
        })
      }
    })
  },
  { name: 'cadence-auth' },
)
