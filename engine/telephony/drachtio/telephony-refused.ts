import type { TrunkGrant } from '../../store/redis/trunk-caps.js'

/** The adapter will not do what was asked (and says why); nothing was started. */
export class TelephonyRefused extends Error {
  override name = 'TelephonyRefused'
  constructor(
    message: string,
    /** Set when a trunk cap refused the call: the dialer holds the lead and tries again later. */
    readonly cap?: TrunkGrant,
  ) {
    super(message)
  }
}
