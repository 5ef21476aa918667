/**
 * HTTP metrics into the process's prom-client registry, and the /metrics endpoint serving that whole registry
 * (engine metrics included). Latency is labeled by route pattern, never by raw URL, to keep cardinality bounded.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Histogram, type Registry } from 'prom-client'
import { problemResponses } from '../schemas/problem.js'
import type { RouteAuth } from './auth.js'

export const HttpDurationMetric = 'cadence_http_request_duration_seconds'

export interface MetricsOptions {
  registry: Registry
  /** Who may read /metrics. */
  auth: RouteAuth
}

function httpHistogram(registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  // Several apps (tests, an api-only restart in-process) may share one registry: reuse the metric.
  const existing = registry.getSingleMetric(HttpDurationMetric)
  if (existing instanceof Histogram) return existing as Histogram<'method' | 'route' | 'status_code'>
  return new Histogram({
    name: HttpDurationMetric,
    help: 'Time to answer HTTP API requests, by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
}

export const metricsPlugin = fp<MetricsOptions>(
  async (app: FastifyInstance, options: MetricsOptions) => {
    const histogram = httpHistogram(options.registry)
    app.addHook('onResponse', async (request, reply) => {
      histogram.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      )
    })
    app.get(
      '/metrics',
      {
        config: { auth: options.auth },
        schema: {
          summary: 'Prometheus metrics of this process',
          response: { 200: { type: 'string' }, ...problemResponses },
        },
      },
      async (_request, reply) => {
        const text = await options.registry.metrics()
        return reply.type(options.registry.contentType).send(text)
      },
    )
  },
  { name: 'cadence-metrics' },
)
