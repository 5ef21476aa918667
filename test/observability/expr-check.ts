/**
 * Checks a PromQL expression against a real exposition: every metric it reads is exported (histograms through their
 * `_bucket`/`_sum`/`_count` series), every label it matches or groups on exists, and every exact label value it
 * matches occurs in the scrape (a query), or, for a made-up series of a rule unit test, belongs to the label's
 * enumeration where it has one (window, state, outcome...). Returns the problems found, empty when it fits.
 */
import type { Exposition, Sample } from './exposition.js'
import { exprUse } from './promql-selectors.js'

/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job'])
/** Series Prometheus makes itself for each target. */
const PROMETHEUS_SERIES = new Set(['up'])
/** A regex that is a plain alternation of literal values, e.g. `on-call|wrap-up`. */
const LITERAL_ALTERNATION = /^[A-Za-z0-9_:-]+(\|[A-Za-z0-9_:-]+)*$/

export interface CheckOptions {
  /**
   * Made-up series (rule unit tests): campaign or instance values are invented, so exact values are checked only
   * against these enumerations, by label name.
   */
  enumerations?: Readonly<Record<string, readonly string[]>>
}

export function problemsOf(expr: string, exposition: Exposition, options: CheckOptions = {}): string[] {
  const problems: string[] = []
  const use = exprUse(expr)
  const known = new Set(TARGET_LABELS)
  for (const sel of use.selectors) {
    if (PROMETHEUS_SERIES.has(sel.metric)) {
      for (const m of sel.matchers) if (!TARGET_LABELS.has(m.label)) problems.push(`${sel.metric} has no label ${m.label}`)
      continue
    }
    const family = exposition.familyOf(sel.metric)
    if (!family) {
      problems.push(`${sel.metric} is not in /metrics`)
      continue
    }
    if ((family.type === 'histogram' || family.type === 'summary') && sel.metric === family.name) {
      problems.push(`${sel.metric} is a ${family.type}: query its _bucket, _sum or _count series`)
      continue
    }
    const samples: Sample[] = family.samples.filter((s) => s.name === sel.metric)
    if (samples.length === 0) {
      problems.push(`${sel.metric} has no sample in the scrape, so its labels cannot be checked`)
      continue
    }
    const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)))
    for (const l of labelNames) known.add(l)
    for (const m of sel.matchers) {
      if (TARGET_LABELS.has(m.label)) continue
      if (!labelNames.has(m.label)) {
        problems.push(`${sel.metric} has no label ${m.label}`)
        continue
      }
      if (m.value.includes('$') || m.op === '!=' || m.op === '!~') continue
      const enumeration = options.enumerations?.[m.label]
      if (options.enumerations && !enumeration) continue
      const values = new Set(enumeration ?? samples.map((s) => s.labels[m.label]))
      const wanted = m.op === '=' ? [m.value] : LITERAL_ALTERNATION.test(m.value) ? m.value.split('|') : []
      for (const v of wanted) if (!values.has(v)) problems.push(`${sel.metric} has no series with ${m.label}="${v}" (has ${[...values].join(', ')})`)
    }
  }
  for (const l of use.labels) if (!known.has(l)) problems.push(`no metric in the expression has the label ${l}`)
  return problems
}
