/**
 * HTTP metrics into the process's prom-client registry, and the /metrics endpoint serving that whole registry
 * (engine metrics included). Latency is labeled by route pattern, never by raw URL, to keep cardinality bounded.
 * Readiness of PostgreSQL and Redis is probed at each scrape (what /ready does), so a dashboard and an alert tell the
 * two apart without anyone polling /ready.
 */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge, Histogram, type Registry } from 'prom-client'
import type { CheckStatus } from '../routes/health.js'
import { problemResponses } from '../schemas/problem.js'
import type { RouteAuth } from './auth.js'

export const ApiMetricNames = {
  /** Histogram {method, route, status_code}: time to answer API requests. */
  httpDuration: 'cadence_http_request_duration_seconds',
  /** Gauge {dependency}: 1 when PostgreSQL / Redis answered the scrape's readiness probe, 0 when not. */
  dependencyUp: 'cadence_dependency_up',
} as const
export const HttpDurationMetric = ApiMetricNames.httpDuration

/** What a scrape asks of the dependencies: each one's readiness check. */
export type ReadinessProbe = () => Promise<Record<string, { status: CheckStatus }>>

export interface MetricsOptions {
  registry: Registry
  /** Who may read /metrics. */
  auth: RouteAuth
  /** Probed at each scrape into cadence_dependency_up; omitted, that metric has no series. */
  readiness?: ReadinessProbe
}

type HttpLabels = 'method' | 'route' | 'status_code'

function httpHistogram(registry: Registry): Histogram<HttpLabels> {
  // Several apps (tests, an api-only restart in-process) may share one registry: reuse the metric.
  const existing = registry.getSingleMetric(ApiMetricNames.httpDuration)
  if (existing instanceof Histogram) return existing as Histogram<HttpLabels>
  return new Histogram({
    name: ApiMetricNames.httpDuration,
    help: 'Time to answer HTTP API requests, by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
}

/** The readiness gauge reads whichever probe the latest app registered (apps sharing a registry replace each other). */
const probes = new WeakMap<Registry, ReadinessProbe>()

function readinessGauge(registry: Registry, probe: ReadinessProbe): void {
  probes.set(registry, probe)
  if (registry.getSingleMetric(ApiMetricNames.dependencyUp)) return
  new Gauge({
    name: ApiMetricNames.dependencyUp,
    help: 'Whether PostgreSQL / Redis answered the readiness probe run at this scrape (1) or not (0).',
    labelNames: ['dependency'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      const current = probes.get(registry)
      if (!current) return
      for (const [dependency, check] of Object.entries(await current())) {
        // "not-configured" is no trouble: no series rather than a 0 that would page someone.
        if (check.status !== 'not-configured') this.set({ dependency }, check.status === 'up' ? 1 : 0)
      }
    },
  })
}

export const metricsPlugin = fp<MetricsOptions>(
  async (app: FastifyInstance, options: MetricsOptions) => {
    const histogram = httpHistogram(options.registry)
    const readiness = options.readiness
    if (readiness) {
      readinessGauge(options.registry, readiness)
      // A closed app's database is no one's readiness any more.
      app.addHook('onClose', async () => {
        if (probes.get(options.registry) === readiness) probes.delete(options.registry)
      })
    }
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
