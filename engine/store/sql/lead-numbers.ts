/**
 * A lead's number at rest: the number as the list wrote it and its E.164 form are sealed together in one AES-GCM
 * ciphertext (`leads.number_enc`), bound to the lead's id so a ciphertext moved onto another lead fails to open, and
 * the E.164 form is also kept as the keyed lookup hash (`leads.e164_hash`) that de-duplicates a campaign's numbers.
 * The hash is the one customers' phones carry (same domain), so a lead and a customer with one number share it.
 *
 * One ciphertext, not two: an import seals a million rows, and each encryption costs an IV and a GCM pass.
 */
import type { PiiCipher } from '../../security/pii-cipher.js'
import { HashDomains } from './customers.js'

export interface LeadNumber {
  /** As written in the list or by the API. */
  phone: string
  /** The normalized form, when known. */
  e164?: string
}

/** The additional data a lead's number ciphertext is bound to (also used by key rotation). */
export const leadNumberAad = (leadId: string): string => `${leadId}#lead-number`

// E.164 never holds a line feed: the first one separates the two forms whatever the written number holds.
const Sep = '\n'

export class LeadNumberCipher {
  constructor(private readonly pii: PiiCipher) {}

  seal(leadId: string, n: LeadNumber): string {
    return this.pii.encrypt(`${n.e164 ?? ''}${Sep}${n.phone}`, leadNumberAad(leadId))
  }

  /** Throws (PiiKeyError or a GCM failure) when the ciphertext is not this lead's or its key is gone. */
  open(leadId: string, sealed: string): LeadNumber {
    const plain = this.pii.decrypt(sealed, leadNumberAad(leadId))
    const i = plain.indexOf(Sep)
    if (i < 0) throw new Error(`lead ${leadId}: sealed number has no separator`)
    const phone = plain.slice(i + 1)
    return i === 0 ? { phone } : { phone, e164: plain.slice(0, i) }
  }

  hash(e164: string): string {
    return this.pii.lookupHash(HashDomains.phone, e164)
  }
}

/**
 * A row's number whichever way it is stored: sealed, or (a row written before numbers were sealed and not yet
 * sealed by the start-up pass) in the clear columns.
 */
export function leadNumberOf(
  numbers: LeadNumberCipher,
  row: { id: string; number_enc: string | null; phone: string | null; e164: string | null },
): LeadNumber {
  if (row.number_enc !== null) return numbers.open(row.id, row.number_enc)
  if (row.phone === null) throw new Error(`lead ${row.id} has neither a sealed nor a clear number`)
  return row.e164 === null ? { phone: row.phone } : { phone: row.phone, e164: row.e164 }
}
