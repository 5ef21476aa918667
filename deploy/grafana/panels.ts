/**
 * The few panel shapes Cadence's dashboards use, over the Grafana Foundation SDK: every query goes to the dashboard's
 * `$datasource` Prometheus, and every panel lists its PromQL in `targets`, which is where the consistency test looks
 * for the metric names a dashboard depends on.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus'
import * as stat from '@grafana/grafana-foundation-sdk/stat'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import * as common from '@grafana/grafana-foundation-sdk/common'

export const datasource = { type: 'prometheus', uid: '${datasource}' } as const

export interface Query {
  expr: string
  legend: string
}

function targets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) =>
    new DataqueryBuilder()
      .datasource(datasource)
      .refId(String.fromCharCode(65 + i))
      .expr(q.expr)
      .legendFormat(q.legend),
  )
}

/** Green until `warn`, amber until `bad`, red beyond (omit both for a plain colour). */
function thresholds(warn?: number, bad?: number): dashboard.ThresholdsConfigBuilder {
  const steps: dashboard.Threshold[] = [{ value: null, color: 'green' }]
  if (warn !== undefined) steps.push({ value: warn, color: 'orange' })
  if (bad !== undefined) steps.push({ value: bad, color: 'red' })
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps)
}

export interface PanelSpec {
  title: string
  description: string
  unit: string
  queries: readonly Query[]
  /** Grid width out of 24; default 12. */
  width?: number
  height?: number
  warn?: number
  bad?: number
}

export function timeSeries(p: PanelSpec & { stacked?: boolean; min?: number }): timeseries.PanelBuilder {
  const b = new timeseries.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(datasource)
    .unit(p.unit)
    .span(p.width ?? 12)
    .height(p.height ?? 8)
    .targets(targets(p.queries))
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.Table).placement(common.LegendPlacement.Bottom).calcs(['lastNotNull', 'max']))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .thresholds(thresholds(p.warn, p.bad))
  if (p.min !== undefined) b.min(p.min)
  if (p.stacked === true) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).fillOpacity(30)
  if (p.warn !== undefined) b.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed))
  return b
}

/** One big number per series (a campaign, a dependency), coloured by thresholds or by the value mappings given. */
export function statPanel(p: PanelSpec & { mappings?: dashboard.ValueMapping[] }): stat.PanelBuilder {
  const b = new stat.PanelBuilder()
    .title(p.title)
    .description(p.description)
    .datasource(datasource)
    .unit(p.unit)
    .span(p.width ?? 6)
    .height(p.height ?? 6)
    .targets(targets(p.queries))
    .thresholds(thresholds(p.warn, p.bad))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
  if (p.mappings) b.mappings(p.mappings)
  return b
}

/** 1 shown as `up` (green) and 0 as `down` (red): readiness and connection gauges. */
export const upDownMappings: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: {
      '0': { text: 'down', color: 'red', index: 0 },
      '1': { text: 'up', color: 'green', index: 1 },
    },
  },
]

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus')
}

/** A multi-select variable over a label of a metric, "All" by default. */
export function labelVariable(name: string, label: string, metric: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(datasource)
    .query(`label_values(${metric}, ${name})`)
    .definition(`label_values(${metric}, ${name})`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' })
    .sort(dashboard.VariableSort.AlphabeticalAsc)
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title)
}
