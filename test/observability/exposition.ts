/**
 * The Prometheus text exposition format (version 0.0.4) read back into metric families and samples, so tests can ask
 * what a real /metrics serves: which families, of which type, with which label names and values.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum` for a histogram `x`). */
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: MetricType
  help: string
  samples: Sample[]
}

export interface Exposition {
  families: Map<string, Family>
  /** The family a name belongs to, as a query may write it (`x`, or `x_bucket` / `x_sum` / `x_count` of a histogram). */
  familyOf(name: string): Family | undefined
}

const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0 || text[eq + 1] !== '"') throw new Error(`bad labels in exposition line: ${line}`)
    const name = text.slice(i, eq).trim()
    let value = ''
    let j = eq + 2
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        j++
        value += text[j] === 'n' ? '\n' : text[j]
      } else value += text[j]
    }
    if (j >= text.length) throw new Error(`unterminated label value in exposition line: ${line}`)
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
  }
  return labels
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>()
  const family = (name: string): Family => {
    let f = families.get(name)
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] }
      families.set(name, f)
    }
    return f
  }
  const familyOf = (name: string): Family | undefined => {
    const direct = families.get(name)
    if (direct) return direct
    for (const f of families.values()) {
      if ((SUFFIXES[f.type] ?? []).some((s) => `${f.name}${s}` === name)) return f
    }
    return undefined
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta) {
      const f = family(meta[2]!)
      if (meta[1] === 'TYPE') f.type = meta[3] as MetricType
      else f.help = meta[3] ?? ''
      continue
    }
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/.exec(line)
    if (!m) throw new Error(`not an exposition sample line: ${line}`)
    const name = m[1]!
    const f = familyOf(name) ?? family(name)
    f.samples.push({ name, labels: m[2] ? parseLabels(m[2], line) : {}, value: Number(m[3]) })
  }
  return { families, familyOf }
}
