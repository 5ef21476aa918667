/**
 * The Prometheus alert rules: promtool (Debian's prometheus package) accepts them and their unit tests pass, every
 * metric, label and exact label value a rule queries is in a real /metrics scrape, the unit tests feed only series
 * the engine exports, and every alert has a unit test.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import t from 'tap'
import { parse } from 'yaml'
import { AgentStates } from '../../engine/acd/agent-state.js'
import { CallOutcomes } from '../../engine/calls/cdr.js'
import { AbandonWindows, GatewayResults } from '../../engine/campaign/metrics.js'
import { scrapeEngine } from './engine-exposition.js'
import { problemsOf } from './expr-check.js'

const run = promisify(execFile)
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url))
const rulesFile = `${dir}alerts.yml`
const testsFile = `${dir}alerts.test.yml`

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string; labels?: Record<string, string> }> }>
}
interface RuleTests {
  tests: Array<{
    input_series: Array<{ series: string; values: string }>
    alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>
  }>
}

const rules = parse(readFileSync(rulesFile, 'utf8')) as RuleFile
const unitTests = parse(readFileSync(testsFile, 'utf8')) as RuleTests
const allRules = rules.groups.flatMap((g) => g.rules)
/** Labels whose values the engine takes from a fixed list: a unit test must use those values. */
const enumerations = {
  window: AbandonWindows,
  state: AgentStates,
  outcome: CallOutcomes,
  result: GatewayResults,
  // the checks readinessChecks() makes
  dependency: ['postgres', 'redis'],
}

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: dir })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string }
    if (e.code === 'ENOENT') throw new Error('promtool not found: install Debian package prometheus (bash .ci/setup)')
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

t.test('promtool accepts the rules and their unit tests pass', async (t) => {
  const check = await promtool('check', 'rules', rulesFile)
  t.equal(check.code, 0, check.out)
  t.match(check.out, new RegExp(`SUCCESS: ${allRules.length} rules found`), 'promtool read every rule')
  const tests = await promtool('test', 'rules', testsFile)
  t.equal(tests.code, 0, tests.out)
  t.match(tests.out, /SUCCESS/)
})

t.test('every alert has a unit test that sees it fire, and one that sees it quiet', async (t) => {
  const cases = unitTests.tests.flatMap((c) => c.alert_rule_test ?? [])
  for (const r of allRules) {
    if (!r.alert) continue
    const mine = cases.filter((c) => c.alertname === r.alert)
    t.ok(mine.some((c) => c.exp_alerts.length > 0), `${r.alert} is seen firing`)
    t.ok(mine.some((c) => c.exp_alerts.length === 0), `${r.alert} is seen quiet`)
    t.match(r.labels?.['severity'] ?? '', /^(warning|critical)$/, `${r.alert} has a severity`)
  }
})

t.test('the rules and their unit tests use only what the engine and API really export', async (t) => {
  const scrape = await scrapeEngine()
  t.teardown(() => scrape.dispose())
  t.not(problemsOf('cadence_gateway_attempts_total{result="timeout"}', scrape.exposition).length, 0, 'the check can fail')
  t.not(problemsOf('cadence_agents{campaign="x",state="idle"}', scrape.exposition, { enumerations }).length, 0, 'a made-up state is caught')
  t.same(problemsOf('cadence_agents{campaign="x",state="ready"}', scrape.exposition, { enumerations }), [], 'a made-up campaign is fine')
  for (const r of allRules) t.same(problemsOf(r.expr, scrape.exposition), [], `rule ${r.alert ?? r.record}: ${r.expr.trim()}`)
  // A unit test feeding a series the engine never exports would prove nothing about production.
  for (const c of unitTests.tests) {
    for (const s of c.input_series) {
      t.same(problemsOf(s.series, scrape.exposition, { enumerations }), [], `unit-test series ${s.series}`)
    }
  }
})
