/**
 * The OpenAPI document, generated from the routes' own JSON schemas (the contract), with each route's roles and its
 * bearer-key security filled in from the `config.auth` it declares; served as JSON at /docs/json with a UI at /docs.
 * Register before the routes (it collects them as they are added). The docs are public: they describe, they hold
 * no data.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { RouteAuth } from './auth.js'

export const DocsPrefix = '/docs'

export interface RouteEntry {
  method: string
  url: string
  auth: RouteAuth | undefined
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>()

/** Every route added after registerOpenApi (methods expanded), for checking the document covers them all. */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? []
}

export async function registerOpenApi(app: FastifyInstance, info: { version: string }): Promise<void> {
  // The UI's own routes declare no auth (they are not ours to configure): mark them public before auth checks them.
  const table: RouteEntry[] = []
  routeTables.set(app, table)
  app.addHook('onRoute', (route) => {
    if (route.url === DocsPrefix || route.url.startsWith(`${DocsPrefix}/`)) {
      route.config = { ...(route.config ?? {}), auth: 'public' }
    }
    for (const method of [route.method].flat()) table.push({ method: String(method), url: route.url, auth: route.config?.auth })
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Cadence management API',
        version: info.version,
        description:
          'Every route except /health, /ready, /docs (and /metrics by default) needs `authorization: Bearer <api key>`. ' +
          'Errors are RFC 9457 problem details (application/problem+json).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key' } } },
    },
    transform: ({ schema, url, route }) => {
      const auth = route.config?.auth as RouteAuth | undefined
      if (auth === undefined || auth === 'public') return { schema: { ...schema, security: [] }, url }
      const roles = `Roles: ${auth.roles.join(', ')}.`
      const description = schema?.description === undefined ? roles : `${String(schema.description)}\n\n${roles}`
      return { schema: { ...schema, description, security: [{ apiKey: [] }] }, url }
    },
  })
  await app.register(swaggerUi, { routePrefix: DocsPrefix })
}
