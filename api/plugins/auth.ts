/**
 * Authentication (API keys and login tokens) and per-route authorization. Every route declares who may call it beside
 * its definition: `config: { auth: { roles: ['admin', 'supervisor'] } }`, or `config: { auth: 'public' }`. A route
 * that declares nothing is refused at start-up, so forgetting the declaration cannot leave a route open.
 * Credentials come as `authorization: Bearer <secret>`: `cad_…` API keys and `cat_…` login tokens, both checked
 * against their stored SHA-256. The principal carries the caller's site and agent, which api/scope.ts applies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { UserRole } from '../../engine/store/sql/api-keys.js'
import type { ApiKeyLookup } from './api-key-cache.js'
import { TokenPrefix, type TokenOwner } from '../../engine/store/sql/user-tokens.js'
import { HttpProblem, ProblemTypes } from '../problem.js'

export type RouteAuth = 'public' | { roles: readonly UserRole[] }

export interface Principal {
  /** How the caller authenticated. */
  kind: 'api-key' | 'user'
  /** The API key's or the user's id. */
  id: string
  name: string
  role: UserRole
  /** How the audit log names this caller. */
  actor: string
  /** The caller's site; null: platform-wide (admins only). */
  siteId: string | null
  /** The agent the caller works as (agents): they read only this agent's customers and calls. */
  agentId: string | null
}

/** Login tokens: looked up on every request (no cache), so a logout takes effect at once. */
export interface TokenLookup {
  findActive(token: string): Promise<TokenOwner | undefined>
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
  tokens: TokenLookup
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
      const secret = m[1]!
      let principal: Principal | undefined
      if (secret.startsWith(TokenPrefix)) {
        const owner = await options.tokens.findActive(secret)
        if (owner) {
          const u = owner.user
          principal = { kind: 'user', id: u.id, name: u.name, role: u.role, actor: `user:${u.id}`, siteId: u.siteId, agentId: u.agentId }
        }
      } else {
        const key = await options.apiKeys.findActiveByKey(secret)
        if (key) {
          principal = {
            kind: 'api-key',
            id: key.id,
            name: key.name,
            role: key.role,
            actor: `api-key:${key.id}`,
            siteId: key.siteId,
            agentId: key.agentId,
          }
        }
      }
      if (!principal) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw unauthenticated('unknown, expired or revoked API key or login token')
      }
      request.principal = principal
      if (!auth.roles.includes(principal.role)) {
        throw new HttpProblem(403, 'Forbidden', `role ${principal.role} may not ${request.method} this route (allowed: ${auth.roles.join(', ')})`, {
          type: ProblemTypes.forbidden,
        })
      }
    })
  },
  { name: 'cadence-auth' },
)
