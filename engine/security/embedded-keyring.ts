/**
 * The embedded default for personal-data keys: a keyring generated once and kept in a file readable by this user
 * only, so `npm start` on a fresh machine encrypts from its first customer and keeps reading after a restart. A real
 * site sets CADENCE_PII_KEYS and CADENCE_PII_LOOKUP_KEY from its secret store instead.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyring, parseKeyList, type PiiKeyring } from './pii-cipher.js'

export function embeddedKeyring(file: string): { ring: PiiKeyring; created: boolean } {
  mkdirSync(dirname(file), { recursive: true })
  let created = false
  if (!existsSync(file)) {
    writeFileSync(file, `${JSON.stringify(generateKeyring('k1'))}\n`, { mode: 0o600 })
    created = true
  }
  chmodSync(file, 0o600)
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: string; lookupKey: string }
  const keys = parseKeyList(stored.keys)
  if (typeof keys === 'string') throw new Error(`${file}: ${keys}`)
  return { ring: { keys, currentKeyId: [...keys.keys()].at(-1)!, lookupKey: Buffer.from(stored.lookupKey, 'base64') }, created }
}
