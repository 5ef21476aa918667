/**
 * Every Grafana dashboard Cadence ships, by the file it is written to under deploy/grafana/dashboards/. The JSON is
 * what `npm run dashboards` writes and what the consistency test compares with the committed files.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { siteManagersDashboard } from './site-managers.js'
import { sreDashboard } from './sre.js'

export const dashboardsDir = new URL('./dashboards/', import.meta.url)

export const dashboards: ReadonlyArray<{ file: string; build: () => Dashboard }> = [
  { file: 'site-managers.json', build: siteManagersDashboard },
  { file: 'sre.json', build: sreDashboard },
]

/**
 * The file's exact content: stable key order from the SDK, two-space indent, a final newline. Panels are numbered in
 * order (the SDK leaves them unnumbered and every row 0), so links to a panel (`viewPanel=`) stay put across builds.
 */
export function renderDashboard(d: Dashboard): string {
  const panels = (d.panels ?? []).map((p, i) => ({ ...p, id: i + 1 }))
  return `${JSON.stringify({ ...d, panels }, null, 2)}\n`
}
