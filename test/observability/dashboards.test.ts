/**
 * The Grafana dashboards: the committed JSON is exactly what `npm run dashboards` generates, and every metric, label
 * and exact label value a panel or variable queries is in a real /metrics scrape of the engine and API.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { dashboards, dashboardsDir, renderDashboard } from '../../deploy/grafana/dashboards.js'
import { scrapeEngine } from './engine-exposition.js'
import { problemsOf } from './expr-check.js'

interface QueryUse {
  where: string
  expr: string
}

/** Every PromQL query of a dashboard: panel targets and query variables. */
function queriesOf(json: string): QueryUse[] {
  const d = JSON.parse(json) as {
    panels?: Array<{ title?: string; type?: string; targets?: Array<{ expr?: string }> }>
    templating?: { list?: Array<{ name?: string; type?: string; query?: unknown }> }
  }
  const out: QueryUse[] = []
  for (const p of d.panels ?? []) for (const target of p.targets ?? []) if (target.expr) out.push({ where: `panel "${p.title}"`, expr: target.expr })
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query' && typeof v.query === 'string') out.push({ where: `variable $${v.name}`, expr: v.query })
  }
  return out
}

t.test('the committed dashboards are what npm run dashboards generates', async (t) => {
  t.ok(dashboards.length >= 2, 'a site managers and an SRE dashboard')
  for (const { file, build } of dashboards) {
    const committed = readFileSync(new URL(file, dashboardsDir), 'utf8')
    t.equal(committed, renderDashboard(build()), `${file} is up to date (run npm run dashboards and commit the result)`)
    const d = JSON.parse(committed) as { uid?: string; panels?: Array<{ id?: number }> }
    const ids = (d.panels ?? []).map((p) => p.id)
    t.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`)
  }
  const uids = dashboards.map(({ build }) => build().uid)
  t.equal(new Set(uids).size, uids.length, 'dashboard uids are unique')
})

t.test('every metric a dashboard queries is one the engine and API really export', async (t) => {
  const scrape = await scrapeEngine()
  t.teardown(() => scrape.dispose())
  // The check itself must be able to fail.
  t.not(problemsOf('cadence_no_such_metric', scrape.exposition).length, 0, 'an unknown metric is reported')
  t.not(problemsOf('cadence_agents{state="idle"}', scrape.exposition).length, 0, 'an unknown label value is reported')
  t.not(problemsOf('sum by (colour) (cadence_agents)', scrape.exposition).length, 0, 'an unknown grouping label is reported')
  t.not(problemsOf('cadence_queue_wait_seconds', scrape.exposition).length, 0, 'a histogram queried by its bare name is reported')

  for (const { file, build } of dashboards) {
    const queries = queriesOf(renderDashboard(build()))
    t.ok(queries.length >= 10, `${file} has its queries (${queries.length})`)
    for (const q of queries) t.same(problemsOf(q.expr, scrape.exposition), [], `${file} ${q.where}: ${q.expr}`)
  }
})
