/**
 * The trunks file named by CADENCE_TRUNKS_FILE: the carrier trunks a real site dials through (the shape of
 * engine/telephony/carriers/trunk.ts). Every bad field is reported at once, each naming its place in the file
 * (`trunks[0].gateways[1].address`) and the form it expects; credentials are never echoed back.
 *
 *   { "trunks": [ { "id": "carrier-a", "gateways": [ { "address": "sip.carrier.example:5060", "transport": "udp",
 *       "auth": { "username": "u", "password": "p" } } ], "maxChannels": 120, "maxCps": 10,
 *       "defaultCallerId": "+4930123456", "forceCallerId": false,
 *       "numberRules": [ { "match": "^\\+49", "replace": "0049" } ], "callerIdRules": [] } ],
 *     "defaultTrunk": "carrier-a" }
 */
import { readFileSync } from 'node:fs'
import type { RewriteRule, TrunkConfig, TrunkGateway } from '../engine/telephony/carriers/trunk.js'
import { ConfigError } from './config.js'

export interface TrunksFile {
  trunks: TrunkConfig[]
  /** The trunk a campaign naming none dials through; the first when the file names none. */
  defaultTrunk: string
}

const TRUNK_KEYS = ['id', 'gateways', 'defaultCallerId', 'forceCallerId', 'numberRules', 'callerIdRules', 'maxChannels', 'maxCps']
const GATEWAY_KEYS = ['address', 'transport', 'auth']

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Checks parsed JSON against the trunk shape; returns the trunks or the list of problems. */
export function parseTrunks(data: unknown): TrunksFile | string[] {
  const problems: string[] = []
  if (!isObject(data) || !Array.isArray(data['trunks'])) return ['trunks: expected an object {"trunks": [...]} with an array of trunks']
  for (const k of Object.keys(data)) if (k !== 'trunks' && k !== 'defaultTrunk') problems.push(`${k}: unknown key (known: trunks, defaultTrunk)`)
  const trunks: TrunkConfig[] = []
  const ids = new Set<string>()
  data['trunks'].forEach((raw: unknown, i: number) => {
    const at = `trunks[${i}]`
    if (!isObject(raw)) return void problems.push(`${at}: expected an object`)
    for (const k of Object.keys(raw)) if (!TRUNK_KEYS.includes(k)) problems.push(`${at}.${k}: unknown key (known: ${TRUNK_KEYS.join(', ')})`)
    const id = raw['id']
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) problems.push(`${at}.id: expected 1-64 of [A-Za-z0-9_.:-], got ${JSON.stringify(id)}`)
    else if (ids.has(id)) problems.push(`${at}.id: ${JSON.stringify(id)} is used by another trunk`)
    else ids.add(id)
    const gateways: TrunkGateway[] = []
    const gws = raw['gateways']
    if (!Array.isArray(gws) || gws.length === 0) problems.push(`${at}.gateways: expected a non-empty array of gateways`)
    else
      gws.forEach((g: unknown, j: number) => {
        const gat = `${at}.gateways[${j}]`
        if (!isObject(g)) return void problems.push(`${gat}: expected an object`)
        for (const k of Object.keys(g)) if (!GATEWAY_KEYS.includes(k)) problems.push(`${gat}.${k}: unknown key (known: ${GATEWAY_KEYS.join(', ')})`)
        const address = g['address']
        const port = typeof address === 'string' ? /:(\d+)$/.exec(address)?.[1] : undefined
        if (typeof address !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(address) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
          problems.push(`${gat}.address: expected host or host:port, got ${JSON.stringify(address)}`)
        }
        const transport = g['transport']
        if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') problems.push(`${gat}.transport: expected "udp" or "tcp", got ${JSON.stringify(transport)}`)
        const auth = g['auth']
        let okAuth: TrunkGateway['auth']
        if (auth !== undefined) {
          if (!isObject(auth) || typeof auth['username'] !== 'string' || auth['username'] === '' || typeof auth['password'] !== 'string' || auth['password'] === '') {
            // the value may hold a password: never echoed
            problems.push(`${gat}.auth: expected {"username": non-empty string, "password": non-empty string}`)
          } else okAuth = { username: auth['username'], password: auth['password'] }
        }
        gateways.push({
          address: String(address),
          ...(transport === 'udp' || transport === 'tcp' ? { transport } : {}),
          ...(okAuth ? { auth: okAuth } : {}),
        })
      })
    const trunk: TrunkConfig = { id: String(id), gateways }
    for (const cap of ['maxChannels', 'maxCps'] as const) {
      const v = raw[cap]
      if (v === undefined) continue
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100_000) problems.push(`${at}.${cap}: expected an integer 0-100000 (0: no cap), got ${JSON.stringify(v)}`)
      else trunk[cap] = v
    }
    const callerId = raw['defaultCallerId']
    if (callerId !== undefined) {
      if (typeof callerId !== 'string' || !/^\+?[0-9]{3,20}$/.test(callerId)) problems.push(`${at}.defaultCallerId: expected a phone number (digits, optional +), got ${JSON.stringify(callerId)}`)
      else trunk.defaultCallerId = callerId
    }
    const force = raw['forceCallerId']
    if (force !== undefined) {
      if (typeof force !== 'boolean') problems.push(`${at}.forceCallerId: expected true or false, got ${JSON.stringify(force)}`)
      else trunk.forceCallerId = force
    }
    if (trunk.forceCallerId && trunk.defaultCallerId === undefined) problems.push(`${at}.forceCallerId: needs ${at}.defaultCallerId`)
    for (const list of ['numberRules', 'callerIdRules'] as const) {
      const rules = raw[list]
      if (rules === undefined) continue
      if (!Array.isArray(rules)) {
        problems.push(`${at}.${list}: expected an array of {"match", "replace"}`)
        continue
      }
      const out: RewriteRule[] = []
      rules.forEach((r: unknown, k: number) => {
        const rat = `${at}.${list}[${k}]`
        if (!isObject(r) || typeof r['match'] !== 'string' || typeof r['replace'] !== 'string') return void problems.push(`${rat}: expected {"match": regex, "replace": string}`)
        try {
          new RegExp(r['match'])
        } catch (err) {
          return void problems.push(`${rat}.match: not a regular expression (${(err as Error).message})`)
        }
        out.push({ match: r['match'], replace: r['replace'] })
      })
      trunk[list] = out
    }
    trunks.push(trunk)
  })
  if (data['trunks'].length === 0) problems.push('trunks: expected at least one trunk')
  const def = data['defaultTrunk']
  if (def !== undefined && (typeof def !== 'string' || !ids.has(def))) problems.push(`defaultTrunk: expected the id of a trunk in this file, got ${JSON.stringify(def)}`)
  if (problems.length > 0) return problems
  return { trunks, defaultTrunk: typeof def === 'string' ? def : trunks[0]!.id }
}

/** Reads and checks the trunks file; a ConfigError names the file and every bad field. */
export function loadTrunksFile(path: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): TrunksFile {
  const where = `CADENCE_TRUNKS_FILE: ${path}`
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new ConfigError([`${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`])
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new ConfigError([`${where}: not valid JSON (${(err as Error).message})`])
  }
  const parsed = parseTrunks(data)
  if (Array.isArray(parsed)) throw new ConfigError(parsed.map((p) => `${where}: ${p}`))
  return parsed
}
