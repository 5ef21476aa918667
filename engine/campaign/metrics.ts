/**
 * The engine's Prometheus metrics, named after Prometheus conventions (base units, `_total` counters). They are
 * registered on the registry the API serves at /metrics, so SREs and alert rules see exactly what the engine does.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Cdr } from '../calls/cdr.js'

export interface EngineMetrics {
  callFinished(cdr: Cdr): void
  setLinesInFlight(campaignId: string, lines: number): void
  setAbandonRatio(campaignId: string, window: 'day' | '30d' | 'worst-rolling-hour', ratio: number): void
  setAgents(campaignId: string, counts: Record<string, number>): void
  setDialRatio(campaignId: string, ratio: number): void
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const calls = new Counter({
    name: 'cadence_calls_total',
    help: 'Calls finished, by campaign and outcome',
    labelNames: ['campaign', 'outcome'] as const,
    registers: [registry],
  })
  const talk = new Counter({
    name: 'cadence_talk_seconds_total',
    help: 'Seconds customers talked with agents',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const lines = new Gauge({
    name: 'cadence_pacing_lines_in_flight',
    help: 'Outbound calls in flight (dialing, ringing, answered or waiting for an agent)',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  const abandon = new Gauge({
    name: 'cadence_abandon_ratio',
    help: 'Abandoned calls over live-answered calls, per window',
    labelNames: ['campaign', 'window'] as const,
    registers: [registry],
  })
  const agents = new Gauge({
    name: 'cadence_agents',
    help: 'Agents by state',
    labelNames: ['campaign', 'state'] as const,
    registers: [registry],
  })
  const ratio = new Gauge({
    name: 'cadence_pacing_dial_ratio',
    help: 'Lines per working agent the pacing policy is running at',
    labelNames: ['campaign'] as const,
    registers: [registry],
  })
  return {
    callFinished(cdr) {
      calls.inc({ campaign: cdr.campaignId, outcome: cdr.outcome })
      if (cdr.talkSeconds > 0) talk.inc({ campaign: cdr.campaignId }, cdr.talkSeconds)
    },
    setLinesInFlight(campaignId, n) {
      lines.set({ campaign: campaignId }, n)
    },
    setAbandonRatio(campaignId, window, r) {
      abandon.set({ campaign: campaignId, window }, r)
    },
    setAgents(campaignId, counts) {
      for (const [state, n] of Object.entries(counts)) agents.set({ campaign: campaignId, state }, n)
    },
    setDialRatio(campaignId, r) {
      ratio.set({ campaign: campaignId }, r)
    },
  }
}
