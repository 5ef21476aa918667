/**
 * `cadence pii reencrypt`: after adding a new key to CADENCE_PII_KEYS and making it current (CADENCE_PII_KEY_ID),
 * re-encrypt every stored ciphertext under it; then `cadence pii check` reports 0 and the old key may go.
 */
import { loadConfig } from '../../config/config.js'
import { PiiCipher } from '../../engine/security/pii-cipher.js'
import { reencryptAll, staleCiphertexts } from '../../engine/security/reencrypt.js'
import { openMigratedDb } from '../../engine/store/sql/open.js'
import { CliError } from '../api-client.js'

export async function piiCommand(args: string[]): Promise<number> {
  const [action] = args
  if (action !== 'reencrypt' && action !== 'check') throw new CliError('usage: cadence pii reencrypt|check', 2)
  const config = loadConfig()
  if (config.pii === undefined) throw new CliError('set CADENCE_PII_KEYS, CADENCE_PII_KEY_ID and CADENCE_PII_LOOKUP_KEY', 2)
  const pii = new PiiCipher(config.pii)
  const { db } = await openMigratedDb(config.database)
  try {
    if (action === 'reencrypt') {
      for (const r of await reencryptAll(db, pii)) process.stdout.write(`${r.table}.${r.column}: ${r.reencrypted} re-encrypted\n`)
    }
    const stale = await staleCiphertexts(db, pii)
    process.stdout.write(`${stale} ciphertexts use a key other than ${config.pii.currentKeyId}\n`)
    return stale === 0 ? 0 : 1
  } finally {
    await db.close()
  }
}
