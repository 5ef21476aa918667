/**
 * The registrar's decisions for one REGISTER (RFC 3261 §10.3), as plain functions of the request's headers, the
 * agent's stored credential and the time: challenge or refuse, then which bindings to add, refresh or remove. The
 * drachtio adapter (drachtio-registrar.ts) does the I/O around them.
 */
import { challengeHeader, checkNonce, makeNonce, parseDigest, verifyDigest } from './digest.js'

/** What the registrar needs of an agent; HA1 = MD5(username:realm:password), the password is never stored. */
export interface SipCredential {
  agentId: string
  username: string
  realm: string
  ha1: string
  /** Inactive agents cannot register. */
  active: boolean
}

export interface RegistrarPolicy {
  realm: string
  /** HMAC key for stateless nonces; shared by every engine instance. */
  nonceSecret: string
  nonceLifetimeMs: number
  /** Shortest registration accepted (423 Interval Too Brief below it). */
  minExpiresS: number
  /** Longer requests are shortened to this. */
  maxExpiresS: number
  /** When neither the Contact nor an Expires header says. */
  defaultExpiresS: number
  /** Bindings (phones) one agent may hold at once. */
  maxBindings: number
}

export const DEFAULT_POLICY: Omit<RegistrarPolicy, 'realm' | 'nonceSecret'> = {
  nonceLifetimeMs: 300_000,
  minExpiresS: 60,
  maxExpiresS: 3600,
  defaultExpiresS: 3600,
  maxBindings: 5,
}

/** A SIP response the registrar sends without touching any binding. */
export interface Refusal {
  status: number
  reason: string
  headers: Record<string, string>
  /** For the log line: why (never a secret). */
  why: string
}

export type AuthOutcome = { ok: true; credential: SipCredential } | { ok: false; refusal: Refusal }

/** The user part of the To URI, the address-of-record being registered. */
export function aorUser(to: string | undefined): string | undefined {
  const m = /sips?:([^@;>\s]+)@/i.exec(to ?? '')
  return m ? decodeURIComponent(m[1]!) : undefined
}

export function challenge(policy: RegistrarPolicy, now: number, stale: boolean, why: string): Refusal {
  return {
    status: 401,
    reason: 'Unauthorized',
    headers: { 'WWW-Authenticate': challengeHeader(policy.realm, makeNonce(policy.nonceSecret, policy.realm, now), stale) },
    why,
  }
}

const forbidden = (why: string): Refusal => ({ status: 403, reason: 'Forbidden', headers: {}, why })

/** Which username to look up, when the request carries usable credentials for our realm. */
export function credentialsUsername(authorization: string | undefined): string | undefined {
  return parseDigest(authorization)?.username
}

/**
 * Decides whether the REGISTER is authenticated. `credential` is what the store holds for the username in the
 * Authorization header (undefined: unknown user). A wrong password and an unknown user get the same 403, so the
 * response does not tell which usernames exist.
 */
export function authenticate(
  input: { method: string; to: string | undefined; authorization: string | undefined },
  credential: SipCredential | undefined,
  policy: RegistrarPolicy,
  now: number,
): AuthOutcome {
  const digest = parseDigest(input.authorization)
  if (!digest || digest.realm !== policy.realm) return { ok: false, refusal: challenge(policy, now, false, 'no credentials for our realm') }
  const nonce = checkNonce(policy.nonceSecret, policy.realm, digest.nonce, now, policy.nonceLifetimeMs)
  if (nonce === 'forged') return { ok: false, refusal: challenge(policy, now, false, 'nonce not ours') }
  if (!credential) return { ok: false, refusal: forbidden('unknown username') }
  // HA1 depends on the realm: a credential set under another realm cannot match, whatever the password
  if (credential.realm !== policy.realm) return { ok: false, refusal: forbidden('credential set for another realm') }
  const verdict = verifyDigest(credential.ha1, policy.realm, input.method, digest)
  if (!verdict.ok) return { ok: false, refusal: forbidden(verdict.why) }
  // the password was right: an old nonce only needs a fresh challenge, which the phone answers without asking
  if (nonce === 'stale') return { ok: false, refusal: challenge(policy, now, true, 'stale nonce') }
  if (!credential.active) return { ok: false, refusal: forbidden('agent inactive') }
  if (aorUser(input.to) !== credential.username) return { ok: false, refusal: forbidden('address-of-record is not the authenticated user') }
  return { ok: true, credential }
}

export interface ContactEntry {
  /** The contact URI, without angle brackets or header parameters. */
  uri: string
  /** The `expires` parameter, when given. */
  expires?: number
}

/** Parses Contact header values (several headers and comma-separated lists); `*` is returned as such. */
export function parseContacts(values: readonly string[]): ContactEntry[] | '*' {
  const entries: ContactEntry[] = []
  for (const value of values) {
    for (const part of splitTopLevel(value)) {
      const p = part.trim()
      if (p === '') continue
      if (p === '*') return '*'
      const angled = /^(?:"[^"]*"\s*|[^<"]*)<([^>]*)>(.*)$/.exec(p)
      const uri = angled ? angled[1]!.trim() : p.split(';')[0]!.trim()
      const params = angled ? angled[2]! : p.slice(p.indexOf(';') === -1 ? p.length : p.indexOf(';'))
      const exp = /;\s*expires\s*=\s*(\d+)/i.exec(params)
      entries.push({ uri, ...(exp ? { expires: Number(exp[1]) } : {}) })
    }
  }
  return entries
}

/** Splits on commas outside quotes and angle brackets (a URI may contain commas in its parameters). */
function splitTopLevel(value: string): string[] {
  const out: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted
    else if (!quoted && c === '<') depth++
    else if (!quoted && c === '>') depth--
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i))
      start = i + 1
    }
  }
  out.push(value.slice(start))
  return out
}

export interface BindingChange {
  uri: string
  /** Seconds granted; 0 removes the binding. */
  expires: number
}

export type BindingPlan =
  | { kind: 'query' }
  | { kind: 'remove-all' }
  | { kind: 'update'; changes: BindingChange[] }
  | { kind: 'refuse'; refusal: Refusal }

/** What an authenticated REGISTER asks for (RFC 3261 §10.3 steps 6-7). */
export function planBindings(
  input: { contacts: readonly string[]; expires: string | undefined },
  policy: RegistrarPolicy,
): BindingPlan {
  const contacts = parseContacts(input.contacts)
  const headerExpires = input.expires !== undefined && /^\s*\d+\s*$/.test(input.expires) ? Number(input.expires) : undefined
  if (contacts === '*') {
    if (headerExpires !== 0 || input.contacts.length !== 1) {
      return { kind: 'refuse', refusal: { status: 400, reason: 'Bad Request', headers: {}, why: 'Contact: * needs Expires: 0 alone' } }
    }
    return { kind: 'remove-all' }
  }
  if (contacts.length === 0) return { kind: 'query' }
  const changes: BindingChange[] = []
  for (const c of contacts) {
    if (!/^sips?:/i.test(c.uri)) {
      return { kind: 'refuse', refusal: { status: 400, reason: 'Bad Request', headers: {}, why: `contact ${c.uri} is not a SIP URI` } }
    }
    const asked = c.expires ?? headerExpires ?? policy.defaultExpiresS
    if (asked !== 0 && asked < policy.minExpiresS) {
      return {
        kind: 'refuse',
        refusal: { status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': String(policy.minExpiresS) }, why: `expires ${asked} s` },
      }
    }
    changes.push({ uri: c.uri, expires: Math.min(asked, policy.maxExpiresS) })
  }
  return { kind: 'update', changes }
}

export interface Binding {
  uri: string
  expiresAt: number
}

/** The Contact header of a 2xx: every current binding with the seconds it has left (RFC 3261 §10.3 step 8). */
export function contactHeader(bindings: readonly Binding[], now: number): string | undefined {
  if (bindings.length === 0) return undefined
  return bindings.map((b) => `<${b.uri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`).join(', ')
}
