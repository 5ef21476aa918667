/**
 * Recorded consent to be called (China's rules: commercial calls only with the user's consent, kept on record; no
 * explicit consent counts as a refusal). Screening asks it only when the policy requires consent.
 */
export interface ConsentLookup {
  hasConsent(campaignId: string, e164: string): boolean
}
