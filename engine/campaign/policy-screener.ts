/**
 * The campaign loop's Screener: the pure screen() of engine/screening, fed just in time with a DNC snapshot for the
 * number about to be dialed and the learned-invalid memory. Rejections that no time clears but that say nothing
 * about the lead (DNC store unreachable, a broken policy) are turned into a short park, so a fault never dials and
 * never throws a lead away.
 */
import type { Lead } from '../leads/lead.js'
import type { DncLookup } from '../screening/dnc.js'
import type { InvalidNumberLookup } from '../screening/invalid-numbers.js'
import { parsePhone } from '../screening/number.js'
import type { ScreeningPolicy } from '../screening/policy.js'
import type { RejectionCode } from '../screening/rejection.js'
import { screen, type ScreenResult } from '../screening/screen.js'
import type { Screener, ScreenVerdict } from './dialer.js'

/** Codes that end a lead for this campaign: nothing but a human decision changes them. */
const FINAL_CODES: ReadonlySet<RejectionCode> = new Set<RejectionCode>([
  'invalid-format',
  'invalid-number',
  'number-type',
  'region-not-allowed',
  'lead-dnc',
  'lead-refused',
  'dnc-global',
  'dnc-campaign',
  'dnc-prefix',
  'no-consent',
  'learned-invalid',
  'attempt-cap-total',
])

export interface PolicyScreenerOptions {
  policy: ScreeningPolicy
  /** A DNC snapshot covering this number (e.g. from the Redis DNC store). */
  dncFor: (campaignId: string, e164: string) => Promise<DncLookup>
  /** Learned-invalid numbers covering this number (e.g. a snapshot from the Redis store). */
  invalidFor?: (e164: string) => Promise<InvalidNumberLookup>
  /** How long a lead waits when screening could not decide (store down, bad policy). */
  transientParkMs: number
}

export class PolicyScreener implements Screener {
  constructor(private readonly o: PolicyScreenerOptions) {}

  async screen(lead: Lead, now: number): Promise<ScreenVerdict> {
    let result: ScreenResult
    const parsed = parsePhone(lead.phone, lead.region)
    try {
      const e164 = parsed.ok ? parsed.phone.e164 : undefined
      const [dnc, invalidNumbers] = e164
        ? await Promise.all([this.o.dncFor(lead.campaignId, e164), this.o.invalidFor?.(e164)])
        : [undefined, undefined]
      result = screen(lead, { dnc, invalidNumbers }, this.o.policy, now)
    } catch (err) {
      return {
        ok: false,
        code: 'dnc-unavailable',
        detail: `DNC or invalid-number lookup failed: ${err instanceof Error ? err.message : String(err)}`,
        retryAt: now + this.o.transientParkMs,
      }
    }
    if (result.ok) return { ok: true, e164: result.e164 }
    const first = result.rejections[0]
    const code = first?.code ?? 'invalid-lead'
    const detail = result.rejections.map((r) => `${r.code}: ${r.detail}`).join('; ')
    if (result.retryAt !== undefined) return { ok: false, code, detail, retryAt: result.retryAt }
    const final = result.rejections.some((r) => FINAL_CODES.has(r.code) && r.retryAt === undefined)
    if (final) {
      const finalCode = result.rejections.find((r) => FINAL_CODES.has(r.code) && r.retryAt === undefined)!.code
      return { ok: false, code: finalCode, detail }
    }
    return { ok: false, code, detail, retryAt: now + this.o.transientParkMs }
  }
}
