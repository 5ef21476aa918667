/**
 * The metric selectors in a PromQL expression (or a Grafana `label_values(metric, label)` variable query): which
 * metrics it reads, with which label matchers, and which labels it groups or matches on. Enough PromQL to check a
 * dashboard or an alert rule against a real exposition; not a full parser (no subqueries' `@` modifiers).
 */

export interface Matcher {
  label: string
  op: '=' | '!=' | '=~' | '!~'
  value: string
}

export interface Selector {
  metric: string
  matchers: Matcher[]
}

export interface ExprUse {
  selectors: Selector[]
  /** Labels named in by/without/on/ignoring/group_left/group_right lists and label_values(). */
  labels: string[]
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2'])
/** Aggregations may put their by/without list before the parentheses: `sum by (x) (...)`. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'])
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])

type Token = { kind: 'ident' | 'string' | 'punct' | 'other'; text: string }

function tokenize(expr: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < expr.length) {
    const c = expr[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1
      let value = ''
      for (; j < expr.length && expr[j] !== c; j++) {
        if (expr[j] === '\\' && c !== '`') j++
        value += expr[j]
      }
      if (j >= expr.length) throw new Error(`unterminated string in PromQL: ${expr}`)
      tokens.push({ kind: 'string', text: value })
      i = j + 1
      continue
    }
    const ident = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] })
      i += ident[0].length
      continue
    }
    // Numbers, durations ([5m]) and Grafana variables ($campaign, $__rate_interval) are one token each.
    const other = /^(\$[a-zA-Z0-9_]+|[0-9][0-9a-zA-Z.]*)/.exec(expr.slice(i))
    if (other) {
      tokens.push({ kind: 'other', text: other[0] })
      i += other[0].length
      continue
    }
    const op = /^(=~|!~|!=|==|>=|<=)/.exec(expr.slice(i))
    if (op) {
      tokens.push({ kind: 'punct', text: op[0] })
      i += op[0].length
      continue
    }
    tokens.push({ kind: 'punct', text: c })
    i++
  }
  return tokens
}

export function exprUse(expr: string): ExprUse {
  const t = tokenize(expr)
  const selectors: Selector[] = []
  const labels: string[] = []
  const at = (k: number): Token | undefined => t[k]
  let i = 0
  while (i < t.length) {
    const tok = t[i]!
    if (tok.kind !== 'ident') {
      i++
      continue
    }
    const next = at(i + 1)
    if (LABEL_LISTS.has(tok.text) && next?.text === '(') {
      let j = i + 2
      for (; j < t.length && t[j]!.text !== ')'; j++) if (t[j]!.kind === 'ident') labels.push(t[j]!.text)
      i = j + 1
      continue
    }
    if (tok.text === 'label_values' && next?.text === '(') {
      // label_values(metric, label) or label_values(label)
      const args = []
      let j = i + 2
      for (; j < t.length && t[j]!.text !== ')'; j++) if (t[j]!.kind === 'ident') args.push(t[j]!.text)
      if (args.length === 2) selectors.push({ metric: args[0]!, matchers: [] })
      const label = args[args.length - 1]
      if (label !== undefined) labels.push(label)
      i = j + 1
      continue
    }
    if (next?.text === '(' || KEYWORDS.has(tok.text) || AGGREGATIONS.has(tok.text)) {
      i++
      continue
    }
    const selector: Selector = { metric: tok.text, matchers: [] }
    i++
    if (at(i)?.text === '{') {
      i++
      while (i < t.length && t[i]!.text !== '}') {
        const label = t[i]!
        const op = at(i + 1)
        const value = at(i + 2)
        if (label.kind !== 'ident' || !op || !['=', '!=', '=~', '!~'].includes(op.text) || value?.kind !== 'string') {
          throw new Error(`cannot read the label matcher at "${label.text}" in PromQL: ${expr}`)
        }
        selector.matchers.push({ label: label.text, op: op.text as Matcher['op'], value: value.text })
        i += 3
        if (at(i)?.text === ',') i++
      }
      i++
    }
    selectors.push(selector)
  }
  return { selectors, labels }
}
