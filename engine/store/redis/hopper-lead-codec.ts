/**
 * How the hopper keeps a lead in Redis: everything the scripts and the dial loop need, with the number (as written
 * and in E.164) sealed as PostgreSQL seals it (LeadNumberCipher, bound to the lead's id), so Redis never holds a number
 * in the clear. A lead an earlier version put in the hopper with its number in the clear still reads.
 */
import type { Lead } from '../../leads/lead.js'
import type { LeadNumberCipher } from '../sql/lead-numbers.js'

type StoredLead = Omit<Lead, 'phone' | 'e164'> & { phone?: string; e164?: string; sealed?: string }

export class HopperLeadCodec {
  constructor(private readonly numbers: LeadNumberCipher) {}

  encode(lead: Lead): string {
    const { phone, e164, ...rest } = lead
    const stored: StoredLead = { ...rest, sealed: this.numbers.seal(lead.id, e164 === undefined ? { phone } : { phone, e164 }) }
    return JSON.stringify(stored)
  }

  /** Throws when the sealed number is not this lead's or its key is gone (as PostgreSQL's reader does). */
  decode(data: string): Lead {
    const stored = JSON.parse(data) as StoredLead
    if (stored.sealed === undefined) return stored as Lead
    const { sealed, phone: _phone, e164: _e164, ...rest } = stored
    const n = this.numbers.open(rest.id, sealed)
    return { ...rest, phone: n.phone, ...(n.e164 !== undefined ? { e164: n.e164 } : {}) }
  }
}
