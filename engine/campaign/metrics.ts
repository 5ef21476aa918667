/**
 * The engine's Prometheus metrics, named after Prometheus conventions (base units, `_total` counters, ratios as
 * `_ratio`). They are registered on the registry the API serves at /metrics, so SREs, the Grafana dashboards
 * (deploy/grafana) and the alert rules (deploy/prometheus/alerts.yml) see exactly what the engine does. Those files
 * name metrics through the constants below, and test/observability checks them against a real scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Cdr } from '../calls/cdr.js'

export const EngineMetricNames = {
  /** Counter {campaign, outcome}: calls finished. */
  calls: 'cadence_calls_total',
  /** Counter {campaign}: seconds customers talked with agents. */
  talkSeconds: 'cadence_talk_seconds_total',
  /** Histogram {campaign, outcome}: how long a live-answered customer waited for an agent (outcome connected or abandoned). */
  queueWait: 'cadence_queue_wait_seconds',
  /** Gauge {campaign}: outbound calls in flight. */
  linesInFlight: 'cadence_pacing_lines_in_flight',
  /** Gauge {campaign}: lines per working agent the pacing policy runs at. */
  dialRatio: 'cadence_pacing_dial_ratio',
  /** Gauge {campaign, window}: abandoned over live-answered calls. */
  abandonRatio: 'cadence_abandon_ratio',
  /** Gauge {campaign, window}: the ceiling the abandon ratio of that window must stay under. */
  abandonCeiling: 'cadence_abandon_ceiling_ratio',
  /** Gauge {campaign, state}: agents by ACD state. */
  agents: 'cadence_agents',
  /** Gauge {campaign}: screened leads waiting in the hopper to be dialed. */
  hopperLeads: 'cadence_hopper_leads',
  /** Gauge {campaign}: 1 while this instance's dialer for the campaign is running (not paused). */
  campaignDialing: 'cadence_campaign_dialing',
  /** Counter {trunk, gateway, result}: INVITE attempts to a carrier gateway, ok or failed (5xx, 408, silence). */
  gatewayAttempts: 'cadence_gateway_attempts_total',
  /** Gauge {trunk, gateway}: 1 while the gateway's circuit breaker is open (the gateway is skipped). */
  gatewayBreakerOpen: 'cadence_gateway_breaker_open',
  /** Gauge {server}: 1 while the admin connection to drachtio-server is up. */
  drachtioConnected: 'cadence_drachtio_connected',
  /** Gauge {pool}: tasks waiting for a media worker thread. */
  workerQueued: 'cadence_worker_queued_tasks',
  /** Gauge {pool}: tasks the media worker queue holds before it refuses more. */
  workerQueueCapacity: 'cadence_worker_queue_capacity_tasks',
} as const

/**
 * Node.js process metrics (prom-client defaults) carry this prefix, so every Cadence series starts with `cadence_`:
 * `cadence_process_cpu_seconds_total`, `cadence_nodejs_eventloop_lag_p99_seconds` (the defaults' names already begin
 * with `process_` or `nodejs_`).
 */
export const ProcessMetricPrefix = 'cadence_'
export const ProcessMetricNames = {
  eventLoopLagP99: `${ProcessMetricPrefix}nodejs_eventloop_lag_p99_seconds`,
  cpuSeconds: `${ProcessMetricPrefix}process_cpu_seconds_total`,
  residentMemory: `${ProcessMetricPrefix}process_resident_memory_bytes`,
  heapUsed: `${ProcessMetricPrefix}nodejs_heap_size_used_bytes`,
} as const

/** What a gateway attempt counts as (label `result` of cadence_gateway_attempts_total). */
export const GatewayResults = ['ok', 'failed'] as const

export const AbandonWindows = ['day', '30d', 'worst-rolling-hour'] as const
export type AbandonWindow = (typeof AbandonWindows)[number]

/** Buckets for waits from "an agent was free" (sub-second) to "past any safe-harbor limit". */
const QUEUE_WAIT_BUCKETS = [0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 60]

/** What a gateway's breaker says, read at scrape time (the breaker closes on its own when the cooldown ends). */
export interface BreakerView {
  isOpen(gateway: string): boolean
}
/** A trunk's id and the addresses of its gateways, as labels. */
export interface TrunkGateways {
  id: string
  gateways: ReadonlyArray<{ address: string }>
}

export interface EngineMetrics {
  callFinished(cdr: Cdr): void
  setLinesInFlight(campaignId: string, lines: number): void
  setAbandonRatio(campaignId: string, window: AbandonWindow, ratio: number): void
  setAbandonCeiling(campaignId: string, window: AbandonWindow, ceiling: number): void
  setAgents(campaignId: string, counts: Record<string, number>): void
  setDialRatio(campaignId: string, ratio: number): void
  setHopperLeads(campaignId: string, leads: number): void
  setCampaignDialing(campaignId: string, dialing: boolean): void
  /**
   * The campaign left this instance (stopped, or its lease lost to another): its gauges go, so no stale figure (a
   * "dialing" campaign with no line up) raises an alert or doubles another instance's series. Counters stay.
   */
  forgetCampaign(campaignId: string): void
  gatewayAttempt(trunk: string, gateway: string, ok: boolean): void
  /** Exports the breaker state of these trunks' gateways at every scrape; returns a function that stops it. */
  watchGatewayBreaker(breaker: BreakerView, trunks: readonly TrunkGateways[]): () => void
  /** Exports whether this drachtio connection is up at every scrape; returns a function that stops it. */
  watchDrachtio(server: string, connection: { readonly connected: boolean }): () => void
  /** Exports this worker pool's backlog at every scrape; returns a function that stops it. */
  watchWorkerPool(pool: string, queue: { readonly queued: number; readonly maxQueue: number }): () => void
}

/** A registry with the Node.js process metrics (event-loop lag, memory, CPU) under {@link ProcessMetricPrefix}. */
export function createProcessRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: ProcessMetricPrefix })
  return registry
}

/** Things watched at scrape time; a Set so a stopped watch is simply deleted. */
function watchList<T>(): { items: Set<T>; add(item: T): () => void } {
  const items = new Set<T>()
  return {
    items,
    add(item) {
      items.add(item)
      return () => void items.delete(item)
    },
  }
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const N = EngineMetricNames
  const calls = new Counter({
    name: N.calls,
    help: 'Calls finished, by campaign and outcome',
    labelNames: ['campaign', 'outcome'] as const,
    registers: [registry],
  })
  const talk = new Counter({
    name: N.talkSeconds,
    help: 'Seconds customers talked with agents',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const queueWait = new Histogram({
    name: N.queueWait,
    help: 'Seconds a live-answered customer waited for an agent; outcome connected (an agent took it) or abandoned',
    labelNames: ['campaign', 'outcome'] as const,
    buckets: QUEUE_WAIT_BUCKETS,
    registers: [registry],
  })
  const lines = new Gauge({
    name: N.linesInFlight,
    help: 'Outbound calls in flight (dialing, ringing, answered or waiting for an agent)',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const abandon = new Gauge({
    name: N.abandonRatio,
    help: 'Abandoned calls over live-answered calls, per window',
    labelNames: ['campaign', 'window'] as const,
    registers: [registry],
  })
  const ceiling = new Gauge({
    name: N.abandonCeiling,
    help: 'The abandon ratio the campaign must stay under, per window (the rolling hour has its own, looser one)',
    labelNames: ['campaign', 'window'] as const,
    registers: [registry],
  })
  const agents = new Gauge({
    name: N.agents,
    help: 'Agents by state',
    labelNames: ['campaign', 'state'] as const,
    registers: [registry],
  })
  const ratio = new Gauge({
    name: N.dialRatio,
    help: 'Lines per working agent the pacing policy is running at',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const hopper = new Gauge({
    name: N.hopperLeads,
    help: 'Screened leads waiting in the hopper to be dialed',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const dialing = new Gauge({
    name: N.campaignDialing,
    help: 'Whether this instance is dialing the campaign (1) or holds it paused (0)',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const attempts = new Counter({
    name: N.gatewayAttempts,
    help: 'INVITE attempts to carrier gateways; result failed is a gateway fault (5xx, 408, no answer at all), not a callee outcome',
    labelNames: ['trunk', 'gateway', 'result'] as const,
    registers: [registry],
  })

  const breakers = watchList<{ breaker: BreakerView; trunks: readonly TrunkGateways[] }>()
  new Gauge({
    name: N.gatewayBreakerOpen,
    help: 'Whether the circuit breaker of a carrier gateway is open (the gateway is skipped until its cooldown ends)',
    labelNames: ['trunk', 'gateway'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { breaker, trunks } of breakers.items) {
        for (const t of trunks) for (const g of t.gateways) this.set({ trunk: t.id, gateway: g.address }, breaker.isOpen(g.address) ? 1 : 0)
      }
    },
  })
  const drachtio = watchList<{ server: string; connection: { readonly connected: boolean } }>()
  new Gauge({
    name: N.drachtioConnected,
    help: 'Whether the admin connection to drachtio-server is up; while it is down no call is originated',
    labelNames: ['server'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { server, connection } of drachtio.items) this.set({ server }, connection.connected ? 1 : 0)
    },
  })
  const pools = watchList<{ pool: string; queue: { readonly queued: number; readonly maxQueue: number } }>()
  new Gauge({
    name: N.workerQueued,
    help: 'Tasks waiting for a media worker thread',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { pool, queue } of pools.items) this.set({ pool }, queue.queued)
    },
  })
  new Gauge({
    name: N.workerQueueCapacity,
    help: 'Tasks a media worker queue holds before it refuses new ones',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { pool, queue } of pools.items) this.set({ pool }, queue.maxQueue)
    },
  })

  /** Agent states each campaign has exported, to remove exactly those series. */
  const agentStates = new Map<string, Set<string>>()

  return {
    callFinished(cdr) {
      calls.inc({ campaign: cdr.campaignId, outcome: cdr.outcome })
      if (cdr.talkSeconds > 0) talk.inc({ campaign: cdr.campaignId }, cdr.talkSeconds)
      // Only live answers wait for an agent; other outcomes never reach the queue.
      if (cdr.waitSeconds !== undefined && (cdr.outcome === 'connected' || cdr.outcome === 'abandoned')) {
        queueWait.observe({ campaign: cdr.campaignId, outcome: cdr.outcome }, cdr.waitSeconds)
      }
    },
    setLinesInFlight(campaignId, n) {
      lines.set({ campaign: campaignId }, n)
    },
    setAbandonRatio(campaignId, window, r) {
      abandon.set({ campaign: campaignId, window }, r)
    },
    setAbandonCeiling(campaignId, window, c) {
      ceiling.set({ campaign: campaignId, window }, c)
    },
    setAgents(campaignId, counts) {
      const states = agentStates.get(campaignId) ?? new Set<string>()
      agentStates.set(campaignId, states)
      for (const [state, n] of Object.entries(counts)) {
        agents.set({ campaign: campaignId, state }, n)
        states.add(state)
      }
    },
    setDialRatio(campaignId, r) {
      ratio.set({ campaign: campaignId }, r)
    },
    setHopperLeads(campaignId, n) {
      hopper.set({ campaign: campaignId }, n)
    },
    setCampaignDialing(campaignId, on) {
      dialing.set({ campaign: campaignId }, on ? 1 : 0)
    },
    forgetCampaign(campaignId) {
      const campaign = { campaign: campaignId }
      for (const g of [lines, ratio, hopper, dialing]) g.remove(campaign)
      for (const window of AbandonWindows) {
        abandon.remove({ ...campaign, window })
        ceiling.remove({ ...campaign, window })
      }
      for (const state of agentStates.get(campaignId) ?? []) agents.remove({ ...campaign, state })
      agentStates.delete(campaignId)
    },
    gatewayAttempt(trunk, gateway, ok) {
      attempts.inc({ trunk, gateway, result: ok ? GatewayResults[0] : GatewayResults[1] })
    },
    watchGatewayBreaker: (breaker, trunks) => breakers.add({ breaker, trunks }),
    watchDrachtio: (server, connection) => drachtio.add({ server, connection }),
    watchWorkerPool: (pool, queue) => pools.add({ pool, queue }),
  }
}
