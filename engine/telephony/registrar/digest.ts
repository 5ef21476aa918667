/**
 * SIP digest authentication (RFC 3261 §22.4 with RFC 2617's MD5 and qop=auth) as plain functions: the registrar
 * stores only HA1 = MD5(username:realm:password) per agent, never the password, and checks a REGISTER's
 * Authorization against it.
 *
 * Nonces are stateless: `<issued-at ms in base 36>.<HMAC-SHA256(secret, issued-at:realm) truncated>`, so every engine
 * instance sharing the secret accepts a nonce another one issued, and nothing has to be stored per challenge. A nonce
 * older than its lifetime is answered with a new challenge marked `stale=true` (RFC 2617 §3.2.1: the phone retries
 * with the same credentials without asking the user). Replays within the lifetime are not detected (no nonce-count
 * bookkeeping); the lifetime bounds them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex')
}

/** What is stored per agent instead of the password. */
export function ha1Of(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`)
}

export interface DigestCredentials {
  username: string
  realm: string
  nonce: string
  uri: string
  response: string
  algorithm?: string
  qop?: string
  nc?: string
  cnonce?: string
  opaque?: string
}

/**
 * Parses a `Digest k=v, k="v"` header value. Returns undefined for another scheme or when a field the check needs
 * (username, realm, nonce, uri, response) is missing.
 */
export function parseDigest(header: string | undefined): DigestCredentials | undefined {
  if (!header) return undefined
  const m = /^\s*Digest\s+(.*)$/is.exec(header)
  if (!m) return undefined
  const p: Record<string, string> = {}
  for (const f of m[1]!.matchAll(/([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    p[f[1]!.toLowerCase()] = f[2] !== undefined ? f[2].replace(/\\(.)/g, '$1') : (f[3] ?? '')
  }
  const { username, realm, nonce, uri, response } = p
  if (!username || realm === undefined || !nonce || !uri || !response) return undefined
  return {
    username,
    realm,
    nonce,
    uri,
    response,
    ...(p.algorithm ? { algorithm: p.algorithm } : {}),
    ...(p.qop ? { qop: p.qop } : {}),
    ...(p.nc ? { nc: p.nc } : {}),
    ...(p.cnonce ? { cnonce: p.cnonce } : {}),
    ...(p.opaque ? { opaque: p.opaque } : {}),
  }
}

/** The response a client holding the password (as HA1) computes for `method` (RFC 2617 §3.2.2.1). */
export function expectedResponse(ha1: string, method: string, c: DigestCredentials): string {
  const ha2 = md5(`${method}:${c.uri}`)
  if (c.qop === 'auth') return md5(`${ha1}:${c.nonce}:${c.nc ?? ''}:${c.cnonce ?? ''}:auth:${ha2}`)
  return md5(`${ha1}:${c.nonce}:${ha2}`)
}

function sign(secret: string, issuedAt: string, realm: string): string {
  return createHmac('sha256', secret).update(`${issuedAt}:${realm}`).digest('base64url').slice(0, 22)
}

export function makeNonce(secret: string, realm: string, now: number): string {
  const issuedAt = Math.floor(now).toString(36)
  return `${issuedAt}.${sign(secret, issuedAt, realm)}`
}

export type NonceCheck = 'valid' | 'stale' | 'forged'

export function checkNonce(secret: string, realm: string, nonce: string, now: number, lifetimeMs: number): NonceCheck {
  const m = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce)
  if (!m) return 'forged'
  if (!safeEqual(m[2]!, sign(secret, m[1]!, realm))) return 'forged'
  const issued = parseInt(m[1]!, 36)
  // a nonce from the future (clock skew between instances beyond a minute) is treated as stale, not trusted longer
  if (now - issued > lifetimeMs || issued - now > 60_000) return 'stale'
  return 'valid'
}

export function challengeHeader(realm: string, nonce: string, stale = false): string {
  return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export type DigestVerdict =
  | { ok: true }
  | { ok: false; why: 'wrong-realm' | 'bad-algorithm' | 'bad-qop' | 'wrong-response' }

/** Checks the credentials against the stored HA1 (nonce validity is checked separately by checkNonce). */
export function verifyDigest(ha1: string, realm: string, method: string, c: DigestCredentials): DigestVerdict {
  if (c.realm !== realm) return { ok: false, why: 'wrong-realm' }
  if (c.algorithm && c.algorithm.toUpperCase() !== 'MD5') return { ok: false, why: 'bad-algorithm' }
  if (c.qop && c.qop !== 'auth') return { ok: false, why: 'bad-qop' }
  if (c.qop === 'auth' && (!c.nc || !c.cnonce)) return { ok: false, why: 'bad-qop' }
  if (!safeEqual(c.response.toLowerCase(), expectedResponse(ha1, method, c))) return { ok: false, why: 'wrong-response' }
  return { ok: true }
}
