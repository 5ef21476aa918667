/** GET /v1/number-regions/{number}: 归属地 of an unknown caller, before anyone creates a customer for it. */
import type { FastifyInstance } from 'fastify'
import { numberRegion } from '../../engine/screening/number-region.js'
import { invalidField } from '../problem.js'
import { numberRegionSchema } from '../schemas/customer.js'

export interface NumberRegionRoutesOptions {
  /** Region national-format numbers are read in when the request names none; default CN. */
  defaultRegion?: string
}

export async function numberRegionRoutes(app: FastifyInstance, options: NumberRegionRoutesOptions): Promise<void> {
  const defaultRegion = options.defaultRegion ?? 'CN'
  app.get<{ Params: { number: string }; Querystring: { region?: string } }>(
    '/v1/number-regions/:number',
    { schema: numberRegionSchema, config: { auth: { roles: ['admin', 'supervisor', 'qa', 'agent'] } } },
    async (request) => {
      const r = numberRegion(request.params.number, request.query.region ?? defaultRegion)
      if (!r.ok) throw invalidField('params.number', r.reason)
      return r.region
    },
  )
}
