/**
 * The site manager's dashboard: is each campaign inside its abandon ceiling, what are the calls turning into, what
 * are the agents doing and how long do answered customers wait for one. Per campaign, chosen with `$campaign`.
 */
import { DashboardBuilder, DashboardCursorSync, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { EngineMetricNames as E } from '../../engine/campaign/metrics.js'
import { datasourceVariable, labelVariable, row, statPanel, timeSeries } from './panels.js'

const C = 'campaign=~"$campaign"'

export function siteManagersDashboard(): Dashboard {
  return new DashboardBuilder('Cadence / Site managers')
    .uid('cadence-site-managers')
    .description('Abandon ratio against its ceiling, calls by outcome, agents by state, utilization and queue waits per campaign.')
    .tags(['cadence', 'generated'])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('campaign', 'Campaign', E.calls))
    .withRow(row('Abandon ratio against the ceiling'))
    .withPanel(
      statPanel({
        title: 'Abandon ratio, 30 days, share of the ceiling',
        description: 'The 30-day abandon ratio (live answers as the denominator) as a share of the campaign ceiling: 100% is the legal limit.',
        unit: 'percentunit',
        warn: 0.8,
        bad: 1,
        width: 8,
        queries: [{ expr: `${E.abandonRatio}{${C},window="30d"} / on (instance, campaign, window) ${E.abandonCeiling}{${C},window="30d"}`, legend: '{{campaign}}' }],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Abandon ratio (30 days) and ceiling',
        description: 'Abandoned over live-answered calls across the last 30 days; the dashed line is the ceiling pacing steers under.',
        unit: 'percentunit',
        min: 0,
        width: 16,
        queries: [
          { expr: `${E.abandonRatio}{${C},window="30d"}`, legend: '{{campaign}} abandon 30d' },
          { expr: `${E.abandonCeiling}{${C},window="30d"}`, legend: '{{campaign}} ceiling' },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Abandon ratio today and worst rolling hour',
        description: 'Today so far, and the worst rolling hour of today against the (looser) hour ceiling.',
        unit: 'percentunit',
        min: 0,
        width: 24,
        queries: [
          { expr: `${E.abandonRatio}{${C},window="day"}`, legend: '{{campaign}} today' },
          { expr: `${E.abandonRatio}{${C},window="worst-rolling-hour"}`, legend: '{{campaign}} worst rolling hour' },
          { expr: `${E.abandonCeiling}{${C},window="worst-rolling-hour"}`, legend: '{{campaign}} hour ceiling' },
        ],
      }),
    )
    .withRow(row('Calls'))
    .withPanel(
      timeSeries({
        title: 'Calls by outcome',
        description: 'Finished calls per minute by outcome (connected, no-answer, busy, machine, abandoned...).',
        unit: 'cpm',
        stacked: true,
        min: 0,
        queries: [{ expr: `sum by (outcome) (rate(${E.calls}{${C}}[5m])) * 60`, legend: '{{outcome}}' }],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Connect rate',
        description: 'Share of finished calls an agent took, over the last hour.',
        unit: 'percentunit',
        min: 0,
        queries: [
          {
            expr: `sum by (campaign) (increase(${E.calls}{${C},outcome="connected"}[1h])) / sum by (campaign) (increase(${E.calls}{${C}}[1h]))`,
            legend: '{{campaign}}',
          },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Lines in flight and dial ratio',
        description: 'Outbound calls in flight, and the lines per working agent the pacing policy runs at.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `${E.linesInFlight}{${C}}`, legend: '{{campaign}} lines' },
          { expr: `${E.dialRatio}{${C}}`, legend: '{{campaign}} dial ratio' },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Leads waiting in the hopper',
        description: 'Screened leads ready to dial; near zero with agents ready means the lists are running dry.',
        unit: 'short',
        min: 0,
        queries: [{ expr: `${E.hopperLeads}{${C}}`, legend: '{{campaign}}' }],
      }),
    )
    .withRow(row('Agents'))
    .withPanel(
      timeSeries({
        title: 'Agents by state',
        description: 'Logged-in agents by ACD state (ready, reserved, on-call, wrap-up, paused).',
        unit: 'short',
        stacked: true,
        min: 0,
        queries: [{ expr: `sum by (state) (${E.agents}{${C},state!="logged-out"})`, legend: '{{state}}' }],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Agent utilization',
        description: 'Share of logged-in agents on a call or in wrap-up, and talk seconds per logged-in agent-second.',
        unit: 'percentunit',
        min: 0,
        queries: [
          {
            expr: `sum by (campaign) (${E.agents}{${C},state=~"on-call|wrap-up"}) / sum by (campaign) (${E.agents}{${C},state!="logged-out"})`,
            legend: '{{campaign}} on call or wrap-up',
          },
          {
            expr: `sum by (campaign) (rate(${E.talkSeconds}{${C}}[15m])) / sum by (campaign) (${E.agents}{${C},state!="logged-out"})`,
            legend: '{{campaign}} talking',
          },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Queue wait of answered customers',
        description: 'How long a live-answered customer waited for an agent (median and 95th percentile, agents took the call).',
        unit: 's',
        min: 0,
        queries: [
          {
            expr: `histogram_quantile(0.5, sum by (le, campaign) (rate(${E.queueWait}_bucket{${C},outcome="connected"}[5m])))`,
            legend: '{{campaign}} p50',
          },
          {
            expr: `histogram_quantile(0.95, sum by (le, campaign) (rate(${E.queueWait}_bucket{${C},outcome="connected"}[5m])))`,
            legend: '{{campaign}} p95',
          },
        ],
      }),
    )
    .withPanel(
      timeSeries({
        title: 'Customers who gave up waiting',
        description: 'Live answers abandoned per minute while waiting for an agent, with their mean wait.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `sum by (campaign) (rate(${E.queueWait}_count{${C},outcome="abandoned"}[5m])) * 60`, legend: '{{campaign}} per minute' },
          {
            expr: `sum by (campaign) (rate(${E.queueWait}_sum{${C},outcome="abandoned"}[5m])) / sum by (campaign) (rate(${E.queueWait}_count{${C},outcome="abandoned"}[5m]))`,
            legend: '{{campaign}} mean wait (s)',
          },
        ],
      }),
    )
    .build()
}
