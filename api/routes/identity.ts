/**
 * Who may call the API: logins (short-lived tokens), users, sites and API keys. Site-bound admins manage their own
 * site's users and keys; platform admins (no site) manage every site and create sites.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ApiKey, UserRole } from '../../engine/store/sql/api-keys.js'
import type { Db } from '../../engine/store/sql/db.js'
import { repositories } from '../../engine/store/sql/repositories.js'
import { SiteRepository } from '../../engine/store/sql/sites.js'
import { hashToken, UserTokenRepository, TokenPrefix } from '../../engine/store/sql/user-tokens.js'
import { UserRepository, type User } from '../../engine/store/sql/users.js'
import { principalOf } from '../plugins/auth.js'
import { conflict, HttpProblem, invalidField, notFound, ProblemTypes } from '../problem.js'
import { ensureInSite, siteForNew, siteScope } from '../scope.js'
import {
  apiKeySchema,
  createApiKeySchema,
  createSiteSchema,
  createUserSchema,
  disableUserSchema,
  listApiKeysSchema,
  listSitesSchema,
  listUsersSchema,
  loginSchema,
  logoutSchema,
  meSchema,
  principalSchema,
  revokeApiKeySchema,
  siteSchema,
  userSchema,
} from '../schemas/identity.js'
import { iso } from '../schemas/timestamp.js'
import type { Revocation } from '../auth-revocations.js'

export interface IdentityRoutesOptions {
  db: Db
  tokenTtlSeconds: number
  /** Tells every API process's credential caches (api/auth-revocations.ts); called after the database change. */
  revoked?: (r: Revocation) => Promise<void>
}

const Everyone = { roles: ['admin', 'supervisor', 'qa', 'agent'] } as const
const Admins = { roles: ['admin'] } as const

const userView = (u: User) => ({ ...u, createdAt: iso(u.createdAt) })
const keyView = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  siteId: k.siteId,
  agentId: k.agentId,
  createdAt: iso(k.createdAt),
  revoked: k.revokedAt !== undefined,
})

export async function identityRoutes(app: FastifyInstance, options: IdentityRoutesOptions): Promise<void> {
  const { db } = options
  const users = new UserRepository(db)
  const tokens = new UserTokenRepository(db)
  // Told even when the row was already revoked: a retry after a failed publish still reaches the other processes.
  const tell = async (request: FastifyRequest, r: Revocation): Promise<void> => {
    if (!options.revoked) return
    try {
      await options.revoked(r)
    } catch (err) {
      request.log.error(
        { err: (err as Error).message, kind: r.kind },
        'revoked in the database, but other API processes were not told: they accept it until their cache entries expire; repeat the revocation to tell them',
      )
    }
  }
  const sites = new SiteRepository(db)
  const repos = repositories(db)
  for (const s of [principalSchema, userSchema, siteSchema, apiKeySchema]) app.addSchema(s)

  app.post<{ Body: { email: string; password: string } }>(
    '/v1/auth/login',
    { schema: loginSchema, config: { auth: 'public' } },
    async (request) => {
      const user = await users.authenticate(request.body.email, request.body.password)
      if (!user) {
        // Which of email or password was wrong is not said: that would tell who has an account.
        request.log.info({ event: 'login-refused' }, 'login refused')
        throw new HttpProblem(401, 'Unauthorized', 'wrong email or password, or the user is disabled', {
          type: ProblemTypes.unauthenticated,
        })
      }
      const { token, expiresAt } = await tokens.issue(user.id, options.tokenTtlSeconds)
      await repos.audit.append({ actor: `user:${user.id}`, action: 'login', entity: 'user', entityId: user.id })
      return { token, expiresAt: iso(expiresAt), user: userView(user) }
    },
  )

  app.post('/v1/auth/logout', { schema: logoutSchema, config: { auth: Everyone } }, async (request, reply) => {
    const secret = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1]
    if (secret === undefined || !secret.startsWith(TokenPrefix)) {
      throw new HttpProblem(400, 'Invalid request', 'only login tokens log out; revoke an API key through DELETE /v1/api-keys/{id}', {
        type: ProblemTypes.invalidRequest,
      })
    }
    await tokens.revoke(secret)
    await tell(request, { kind: 'token', hash: hashToken(secret) })
    return reply.code(204).send()
  })

  app.get('/v1/auth/me', { schema: meSchema, config: { auth: Everyone } }, async (request) => {
    const p = principalOf(request)
    return { kind: p.kind, id: p.id, name: p.name, role: p.role, siteId: p.siteId, agentId: p.agentId }
  })

  /** A new user or key's site and agent, checked against the caller's reach. */
  async function placement(
    request: Parameters<typeof principalOf>[0],
    body: { role: UserRole; siteId?: string | null; agentId?: string },
  ): Promise<{ siteId: string | null; agentId: string | null }> {
    const p = principalOf(request)
    let siteId: string | null
    if (body.siteId === null) {
      if (p.siteId !== null) throw new HttpProblem(403, 'Forbidden', 'only platform admins create platform-wide users or keys', { type: ProblemTypes.forbidden })
      if (body.role !== 'admin') throw invalidField('body.siteId', 'only admins may be platform-wide (null)')
      siteId = null
    } else {
      siteId = siteForNew(p, body.siteId)
      if (!(await sites.get(siteId))) throw invalidField('body.siteId', `site ${JSON.stringify(siteId)} does not exist`)
    }
    if (body.role === 'agent' && body.agentId === undefined) throw invalidField('body.agentId', 'an agent user or key must name its agent')
    if (body.agentId !== undefined) {
      const agent = await repos.agents.get(body.agentId)
      if (!agent || (siteId !== null && agent.siteId !== siteId)) throw invalidField('body.agentId', 'no such agent in this site')
    }
    return { siteId, agentId: body.agentId ?? null }
  }

  app.post<{ Body: { name: string; email: string; role: UserRole; password: string; siteId?: string | null; agentId?: string } }>(
    '/v1/users',
    { schema: createUserSchema, config: { auth: Admins } },
    async (request, reply) => {
      const { siteId, agentId } = await placement(request, request.body)
      const { name, email, role, password } = request.body
      let user: User
      try {
        user = await users.create({ name, email, role, password, siteId, agentId })
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw conflict(`a user with email ${JSON.stringify(email)} exists`)
        throw err
      }
      await repos.audit.append({ actor: principalOf(request).actor, action: 'create', entity: 'user', entityId: user.id, detail: { role, siteId } })
      return reply.code(201).send(userView(user))
    },
  )

  app.get('/v1/users', { schema: listUsersSchema, config: { auth: Admins } }, async (request) => ({
    items: (await users.list(siteScope(principalOf(request)))).map(userView),
  }))

  app.post<{ Params: { id: string } }>(
    '/v1/users/:id/disable',
    { schema: disableUserSchema, config: { auth: Admins } },
    async (request) => {
      const p = principalOf(request)
      const user = await users.get(request.params.id)
      if (!user || (p.siteId !== null && user.siteId !== p.siteId)) throw notFound('user', request.params.id)
      await users.disable(user.id)
      await tokens.revokeAllOf(user.id)
      await tell(request, { kind: 'user', id: user.id })
      await repos.audit.append({ actor: p.actor, action: 'disable', entity: 'user', entityId: user.id })
      return userView({ ...user, disabled: true })
    },
  )

  app.post<{ Body: { id: string; name: string; timeZone?: string } }>(
    '/v1/sites',
    { schema: createSiteSchema, config: { auth: Admins } },
    async (request, reply) => {
      const p = principalOf(request)
      if (p.siteId !== null) throw new HttpProblem(403, 'Forbidden', 'only platform admins create sites', { type: ProblemTypes.forbidden })
      const tz = request.body.timeZone ?? 'UTC'
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz })
      } catch {
        throw invalidField('body.timeZone', `unknown IANA time zone ${JSON.stringify(tz)}`)
      }
      const site = await sites.create({ ...request.body, timeZone: tz })
      if (!site) throw conflict(`site ${JSON.stringify(request.body.id)} exists`)
      await repos.audit.append({ actor: p.actor, action: 'create', entity: 'site', entityId: site.id })
      return reply.code(201).send({ ...site, createdAt: iso(site.createdAt) })
    },
  )

  app.get('/v1/sites', { schema: listSitesSchema, config: { auth: Everyone } }, async (request) => ({
    items: (await sites.list(siteScope(principalOf(request)))).map((s) => ({ ...s, createdAt: iso(s.createdAt) })),
  }))

  app.post<{ Body: { name: string; role: UserRole; siteId?: string | null; agentId?: string } }>(
    '/v1/api-keys',
    { schema: createApiKeySchema, config: { auth: Admins } },
    async (request, reply) => {
      const { siteId, agentId } = await placement(request, request.body)
      const created = await repos.apiKeys.create({ name: request.body.name, role: request.body.role, siteId, agentId })
      await repos.audit.append({
        actor: principalOf(request).actor,
        action: 'create',
        entity: 'api-key',
        entityId: created.apiKey.id,
        detail: { role: request.body.role, siteId },
      })
      return reply.code(201).send({ key: created.key, apiKey: keyView(created.apiKey) })
    },
  )

  app.get('/v1/api-keys', { schema: listApiKeysSchema, config: { auth: Admins } }, async (request) => ({
    items: (await repos.apiKeys.list(siteScope(principalOf(request)))).map(keyView),
  }))

  app.delete<{ Params: { id: string } }>(
    '/v1/api-keys/:id',
    { schema: revokeApiKeySchema, config: { auth: Admins } },
    async (request, reply) => {
      const p = principalOf(request)
      const key = await repos.apiKeys.get(request.params.id)
      if (!key) throw notFound('API key', request.params.id)
      // Platform-wide keys are out of a site admin's reach, and look missing to them.
      if (key.siteId === null && p.siteId !== null) throw notFound('API key', request.params.id)
      if (key.siteId !== null) ensureInSite(p, key.siteId, 'API key', request.params.id)
      await repos.apiKeys.revoke(key.id)
      await tell(request, { kind: 'api-key', id: key.id })
      await repos.audit.append({ actor: p.actor, action: 'revoke', entity: 'api-key', entityId: key.id })
      return reply.code(204).send()
    },
  )
}
