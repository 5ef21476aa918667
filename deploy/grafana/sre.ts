/**
 * The SRE's dashboard: API latency and errors, PostgreSQL/Redis readiness, the drachtio connection, carrier gateways
 * failing, the media worker backlog and the Node.js runtime (event-loop lag, memory, CPU). Per instance.
 */
import { DashboardBuilder, DashboardCursorSync, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { EngineMetricNames as E, ProcessMetricNames as P } from '../../engine/campaign/metrics.js'
import { ApiMetricNames as A } from '../../api/plugins/metrics.js'
import { datasourceVariable, labelVariable, row, statPanel, timeSeries, upDownMappings } from './panels.js'

const I = 'instance=~"$instance"'

export function sreDashboard(): Dashboard {
  return new DashboardBuilder('Cadence / SRE')
    .uid('cadence-sre')
    .description('API latency and errors, PostgreSQL/Redis readiness, drachtio, carrier gateways, worker backlog and event-loop lag.')
    .tags(['cadence', 'generated'])
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('instance', 'Instance', P.cpuSeconds))
    .withRow(row('Dependencies'))
    .withPanel(
      statPanel({
        title: 'PostgreSQL and Redis readiness',
        description: 'Whether each dependency answered the readiness probe at the last scrape (what /ready checks).',
        unit: 'none',
        width: 8,
        mappings: upDownMappings,
        queries: [{ expr: `${A.dependencyUp}{${I}}`, legend: '{{instance}} {{dependency}}' }],
      }),
    )
    .withPanel(
      statPanel({
        title: 'drachtio connection',
        description: 'Whether the engine is connected to drachtio-server; while it is down no call is placed.',
        unit: 'none',
        width: 8,
        mappings: upDownMappings,
        queries: [{ expr: `${E.drachtioConnected}{${I}}`, legend: '{{instance}} {{server}}' }],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Gateways skipped (breaker open)',
        description: 'Carrier gateways whose circuit breaker is open: they failed repeatedly and are skipped until their cooldown ends.',
        unit: 'none',
        width: 8,
        warn: 1,
        queries: [{ expr: `sum by (trunk) (${E.gatewayBreakerOpen}{${I}})`, legend: '{{trunk}}' }],
      }),
    )
    .withRow(row('API'))
    .withPanel(
      timeSeries({
        title: 'API latency',
        description: 'Median and 99th percentile time to answer API requests, all routes.',
        unit: 's',
        min: 0,
        queries: [
          { expr: `histogram_quantile(0.5, sum by (le) (rate(${A.httpDuration}_bucket{${I}}[5m])))`, legend: 'p50' },
          { expr: `histogram_quantile(0.99, sum by (le) (rate(${A.httpDuration}_bucket{${I}}[5m])))`, legend: 'p99' },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'API p99 latency by route (slowest 10)',
        description: 'The 99th percentile per route pattern; a route here that is usually fast points at its dependency.',
        unit: 's',
        min: 0,
        queries: [
          {
            expr: `topk(10, histogram_quantile(0.99, sum by (le, method, route) (rate(${A.httpDuration}_bucket{${I}}[5m]))))`,
            legend: '{{method}} {{route}}',
          },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'API requests by status',
        description: 'Requests per second by status code.',
        unit: 'reqps',
        stacked: true,
        min: 0,
        queries: [{ expr: `sum by (status_code) (rate(${A.httpDuration}_count{${I}}[5m]))`, legend: '{{status_code}}' }],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'API error ratio',
        description: 'Share of requests answered 5xx (server faults) and 4xx (refused input or access).',
        unit: 'percentunit',
        min: 0,
        warn: 0.01,
        bad: 0.05,
        queries: [
          {
            expr: `sum(rate(${A.httpDuration}_count{${I},status_code=~"5.."}[5m])) / sum(rate(${A.httpDuration}_count{${I}}[5m]))`,
            legend: '5xx',
          },
          {
            expr: `sum(rate(${A.httpDuration}_count{${I},status_code=~"4.."}[5m])) / sum(rate(${A.httpDuration}_count{${I}}[5m]))`,
            legend: '4xx',
          },
        ],
      }),
    )
    .withRow(row('Carriers'))
    .withPanel(
      timeSeries({
        title: 'Gateway failure ratio',
        description: 'Share of INVITE attempts a gateway failed (5xx, 408, no answer at all) over 5 minutes; callee outcomes count as working.',
        unit: 'percentunit',
        min: 0,
        warn: 0.2,
        bad: 0.5,
        queries: [
          {
            expr: `sum by (trunk, gateway) (rate(${E.gatewayAttempts}{${I},result="failed"}[5m])) / sum by (trunk, gateway) (rate(${E.gatewayAttempts}{${I}}[5m]))`,
            legend: '{{trunk}} {{gateway}}',
          },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Gateway attempts',
        description: 'INVITE attempts per second by gateway and result.',
        unit: 'ops',
        min: 0,
        queries: [{ expr: `sum by (gateway, result) (rate(${E.gatewayAttempts}{${I}}[5m]))`, legend: '{{gateway}} {{result}}' }],
      }),
    )
    .withRow(row('Workers and runtime'))
    .withPanel(
      timeSeries({
        title: 'Media worker backlog',
        description: 'Tasks waiting for a worker thread, against the queue size beyond which new tasks are refused.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `${E.workerQueued}{${I}}`, legend: '{{instance}} {{pool}} queued' },
          { expr: `${E.workerQueueCapacity}{${I}}`, legend: '{{instance}} {{pool}} capacity' },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Event-loop lag (p99)',
        description: 'The 99th percentile event-loop delay: pacing timers and SIP handling run late by this much.',
        unit: 's',
        min: 0,
        warn: 0.05,
        bad: 0.2,
        queries: [{ expr: `${P.eventLoopLagP99}{${I}}`, legend: '{{instance}}' }],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Memory',
        description: 'Resident set size and used V8 heap.',
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: `${P.residentMemory}{${I}}`, legend: '{{instance}} RSS' },
          { expr: `${P.heapUsed}{${I}}`, legend: '{{instance}} heap used' },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'CPU',
        description: 'CPU seconds per second used by the process (1 = one core).',
        unit: 'short',
        min: 0,
        queries: [{ expr: `rate(${P.cpuSeconds}{${I}}[5m])`, legend: '{{instance}}' }],
      }),
    )
    .build()
}
