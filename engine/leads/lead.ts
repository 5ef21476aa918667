/**
 * A lead: one number to dial for one campaign, with the contact history screening needs. Personal data (the number)
 * stays inside the engine and is logged only masked.
 */
export const LeadStatuses = [
  'new',
  'callback',
  'no-answer',
  'busy',
  'machine',
  'abandoned',
  'contacted',
  'invalid',
  'dnc',
  'refused',
  'done',
] as const
export type LeadStatus = (typeof LeadStatuses)[number]

export interface Lead {
  id: string
  campaignId: string
  /** The number as given, and its E.164 form once screening has parsed it. */
  phone: string
  e164?: string
  /** IANA time zone from the lead's own data; when absent, screening derives one from the number's region. */
  timezone?: string
  /** ISO 3166 region hint for parsing national-format numbers (e.g. "CN"). */
  region?: string
  status: LeadStatus
  /** Epoch ms of every dial attempt, newest last. */
  attemptTimes: number[]
  /** Set when our last call to this lead was abandoned (72-hour lockout option). */
  lastAbandonedAt?: number
  /** Agent who owns the customer (sticky routing, owned callbacks). */
  ownerAgentId?: string
  customerId?: string
  /** Callback booked to the minute (epoch ms). */
  callbackAt?: number
  priority?: number
}

/** Mask a phone number for logs: keep the country code and last 2 digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^0-9+]/g, '')
  if (digits.length <= 4) return '***'
  return `${digits.slice(0, 3)}****${digits.slice(-2)}`
}
