/**
 * Personal data at rest: phone numbers, names and notes are stored encrypted with AES-256-GCM, and looked up by a
 * keyed hash (HMAC-SHA-256) of their normalized form, so the database never holds a searchable plaintext number.
 *
 * Ciphertexts name the key that made them (`v1.<keyId>.<iv>.<ciphertext+tag>`, base64url), so keys rotate without a
 * flag day: add a new key, make it current (new writes use it), re-encrypt old rows at leisure (`needsReencrypt`),
 * then retire the old key. The lookup key cannot rotate that way (a hash cannot be re-derived without the
 * plaintext); rotating it means re-hashing every row from its decrypted value, which the repositories can do.
 *
 * The record's id goes in as additional authenticated data where the caller has one, so a ciphertext copied onto
 * another row fails to decrypt instead of silently showing another customer's number.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync } from 'node:crypto'

export interface PiiKeyring {
  /** Key id → 32-byte AES key. */
  keys: ReadonlyMap<string, Buffer>
  /** The key new ciphertexts are made with. */
  currentKeyId: string
  /** At least 32 bytes; the HMAC key for lookup hashes. */
  lookupKey: Buffer
}

export class PiiKeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PiiKeyError'
  }
}

const Version = 'v1'
/** IVs are taken from a pool filled 1,024 at a time: a getrandom() call per encryption was a third of its cost. */
const IvBytes = 12
const IvPoolBytes = IvBytes * 1024
const KeyIdRe = /^[A-Za-z0-9_-]{1,32}$/

export class PiiCipher {
  private readonly keys: ReadonlyMap<string, Buffer>
  private readonly currentKeyId: string
  private readonly lookupKey: Buffer
  private readonly ivPool = Buffer.allocUnsafe(IvPoolBytes)
  private ivAt = IvPoolBytes

  constructor(ring: PiiKeyring) {
    for (const [id, key] of ring.keys) {
      if (!KeyIdRe.test(id)) throw new PiiKeyError(`PII key id ${JSON.stringify(id)}: expected 1-32 of A-Z a-z 0-9 _ -`)
      if (key.length !== 32) throw new PiiKeyError(`PII key ${id}: expected 32 bytes, got ${key.length}`)
    }
    if (!ring.keys.has(ring.currentKeyId)) throw new PiiKeyError(`current PII key ${ring.currentKeyId} is not in the keyring`)
    if (ring.lookupKey.length < 32) throw new PiiKeyError('PII lookup key: expected at least 32 bytes')
    this.keys = ring.keys
    this.currentKeyId = ring.currentKeyId
    this.lookupKey = ring.lookupKey
  }

  /** A fresh random IV; each is handed out once (GCM must never see an IV twice under one key). */
  private nextIv(): Buffer {
    if (this.ivAt + IvBytes > IvPoolBytes) {
      randomFillSync(this.ivPool)
      this.ivAt = 0
    }
    const iv = this.ivPool.subarray(this.ivAt, this.ivAt + IvBytes)
    this.ivAt += IvBytes
    return iv
  }

  encrypt(plaintext: string, aad = ''): string {
    const iv = this.nextIv()
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv)
    cipher.setAAD(Buffer.from(aad, 'utf8'))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `${Version}.${this.currentKeyId}.${iv.toString('base64url')}.${body.toString('base64url')}`
  }

  /** Throws when the ciphertext is malformed, its key is unknown, or it was tampered with / moved to another row. */
  decrypt(ciphertext: string, aad = ''): string {
    const parts = ciphertext.split('.')
    if (parts.length !== 4 || parts[0] !== Version) throw new PiiKeyError('not a Cadence PII ciphertext')
    const key = this.keys.get(parts[1]!)
    if (key === undefined) throw new PiiKeyError(`PII key ${parts[1]} is not in the keyring (retired too early?)`)
    const iv = Buffer.from(parts[2]!, 'base64url')
    const body = Buffer.from(parts[3]!, 'base64url')
    if (iv.length !== 12 || body.length < 16) throw new PiiKeyError('truncated PII ciphertext')
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(body.subarray(body.length - 16))
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8')
  }

  /** Whether a stored ciphertext was made with a key other than the current one (re-encrypt it when rotating). */
  needsReencrypt(ciphertext: string): boolean {
    return ciphertext.split('.')[1] !== this.currentKeyId
  }

  /**
   * The keyed hash to look a value up by. Callers normalize first (E.164 for numbers, NFKC + lower case for names),
   * since equal values must hash equal. `domain` separates kinds so a phone hash never matches a name hash.
   */
  lookupHash(domain: string, normalized: string): string {
    return createHmac('sha256', this.lookupKey).update(`${domain}\u0000${normalized}`, 'utf8').digest('base64url')
  }

  /** Digits a human may see of a number without decrypting rights: the last four. */
  static maskPhone(e164: string): string {
    return e164.length <= 4 ? '****' : `${'*'.repeat(Math.max(0, e164.length - 4))}${e164.slice(-4)}`
  }
}

/** Parse `id1:base64key,id2:base64key` (the CADENCE_PII_KEYS form). */
export function parseKeyList(raw: string): Map<string, Buffer> | string {
  const keys = new Map<string, Buffer>()
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const i = item.indexOf(':')
    if (i <= 0) return 'each key reads <id>:<base64 of 32 bytes>'
    const id = item.slice(0, i)
    if (!KeyIdRe.test(id)) return `key id ${JSON.stringify(id)} must be 1-32 of A-Z a-z 0-9 _ -`
    const key = Buffer.from(item.slice(i + 1), 'base64')
    if (key.length !== 32) return `key ${id} must decode to 32 bytes`
    if (keys.has(id)) return `key id ${id} appears twice`
    keys.set(id, key)
  }
  return keys.size === 0 ? 'no key given' : keys
}

/** A fresh keyring (the embedded default writes one to disk once and reuses it). */
export function generateKeyring(keyId = 'k1'): { keys: string; lookupKey: string } {
  return { keys: `${keyId}:${randomBytes(32).toString('base64')}`, lookupKey: randomBytes(32).toString('base64') }
}

/** A fresh keyring as the environment variables that carry it (tests, benches, one-off tools). */
export function keyringEnv(keyId = 'k1'): { CADENCE_PII_KEYS: string; CADENCE_PII_LOOKUP_KEY: string } {
  const g = generateKeyring(keyId)
  return { CADENCE_PII_KEYS: g.keys, CADENCE_PII_LOOKUP_KEY: g.lookupKey }
}
