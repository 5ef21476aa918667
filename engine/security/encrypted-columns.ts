/**
 * Every column that holds a PiiCipher ciphertext, with the additional data its repository binds it to. Key rotation
 * (reencrypt.ts) walks this list; a new encrypted column must be added here, and the test that rotates keys over a
 * database holding every kind of row fails when one is missing (it checks no ciphertext of the old key remains).
 */
import { leadNumberAad } from '../store/sql/lead-numbers.js'
import { registrationNumberAad } from '../store/sql/recording-registrations.js'
import { dncNumberAad } from '../store/sql/dnc.js'

export interface EncryptedColumn {
  table: string
  column: string
  /** The row's key column (default `id`). */
  key?: string
  /** The additional authenticated data the repository used, from the row's key. */
  aad(id: string): string
}

export const EncryptedColumns: readonly EncryptedColumn[] = [
  { table: 'customers', column: 'name_enc', aad: (id) => id },
  { table: 'customers', column: 'profile_enc', aad: (id) => `${id}#profile` },
  { table: 'customer_phones', column: 'number_enc', aad: (id) => id },
  { table: 'customer_notes', column: 'text_enc', aad: (id) => id },
  { table: 'callbacks', column: 'note_enc', aad: (id) => `${id}#callback-note` },
  { table: 'recordings', column: 'number_enc', aad: (id) => id },
  { table: 'webhooks', column: 'secret_enc', aad: (id) => `webhook:${id}` },
  { table: 'leads', column: 'number_enc', aad: leadNumberAad },
  { table: 'recording_registrations', column: 'number_enc', key: 'call_id', aad: registrationNumberAad },
  { table: 'dnc_entries', column: 'number_enc', aad: dncNumberAad },
]
