/**
 * `npm run dashboards`: writes deploy/grafana/dashboards/*.json from the TypeScript definitions beside this file.
 * Commit the JSON with the change that produced it (test/observability checks they agree).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dashboards, dashboardsDir, renderDashboard } from './dashboards.js'

mkdirSync(dashboardsDir, { recursive: true })
for (const { file, build } of dashboards) {
  const target = new URL(file, dashboardsDir)
  writeFileSync(target, renderDashboard(build()))
  process.stdout.write(`wrote ${target.pathname}\n`)
}
