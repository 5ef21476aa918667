/**
 * Campaigns' keyword lists for the spotter (workers/spot-keywords.ts), from the JSON file named by
 * CADENCE_RECORDING_KEYWORDS_FILE:
 *
 *   { "campaigns": { "<campaign id>": { "examples": [{ "keyword": "退款", "file": "/srv/kw/refund-1.wav" }, ...],
 *                                        "required": ["您好"] } } }
 *
 * Examples are 8 kHz mono WAV files of the keyword alone, many voices each. Every problem in the file is reported at
 * once at start-up, with where it is, and nothing starts (a typo must not silently turn spotting off).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { KeywordExample } from '../../workers/spot-keywords.js'

export interface CampaignKeywords {
  examples: KeywordExample[]
  required: string[]
}

export type KeywordLists = ReadonlyMap<string, CampaignKeywords>

export class KeywordListError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`keyword lists ${file}:\n  ${problems.join('\n  ')}`)
    this.name = 'KeywordListError'
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isKeyword = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 100

/** Parses and checks a keyword-lists document; example paths are relative to `baseDir`. */
export function parseKeywordLists(doc: unknown, file: string, baseDir: string, exists: (path: string) => boolean = existsSync): KeywordLists {
  const problems: string[] = []
  const out = new Map<string, CampaignKeywords>()
  if (!isObject(doc) || !isObject(doc['campaigns'])) throw new KeywordListError(file, ['expected {"campaigns": {"<campaign id>": {"examples": [...], "required": [...]}}}'])
  for (const [campaignId, list] of Object.entries(doc['campaigns'])) {
    const at = `campaigns.${campaignId}`
    if (!isObject(list) || !Array.isArray(list['examples'])) {
      problems.push(`${at}: expected {"examples": [{"keyword", "file"}], "required": [keyword]}`)
      continue
    }
    const examples: KeywordExample[] = []
    list['examples'].forEach((e: unknown, i) => {
      if (!isObject(e) || !isKeyword(e['keyword']) || typeof e['file'] !== 'string' || e['file'] === '') {
        problems.push(`${at}.examples[${i}]: expected {"keyword": 1-100 characters, "file": a WAV path}`)
        return
      }
      const path = isAbsolute(e['file']) ? e['file'] : resolve(baseDir, e['file'])
      if (!exists(path)) problems.push(`${at}.examples[${i}]: ${path} does not exist`)
      else examples.push({ keyword: e['keyword'], file: path })
    })
    const required = list['required'] ?? []
    if (!Array.isArray(required) || !required.every(isKeyword)) {
      problems.push(`${at}.required: expected an array of keywords`)
      continue
    }
    const known = new Set(examples.map((e) => e.keyword))
    for (const k of required) if (!known.has(k)) problems.push(`${at}.required: "${k}" has no example to spot it by`)
    out.set(campaignId, { examples, required })
  }
  if (problems.length > 0) throw new KeywordListError(file, problems)
  return out
}

export function loadKeywordLists(file: string): KeywordLists {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new KeywordListError(file, [err instanceof Error ? err.message : String(err)])
  }
  return parseKeywordLists(doc, file, dirname(resolve(file)))
}
