import type { FailureCause } from './port.js'

/**
 * A transfer to an outside number that did not connect (busy, no answer, an invalid number, a trunk at its cap...):
 * the customer is back with the agent who asked, and this says why, with the SIP detail where there was one.
 */
export class OutsideTransferFailed extends Error {
  override name = 'OutsideTransferFailed'
  constructor(
    readonly failure: FailureCause,
    readonly sipStatus?: number,
    readonly sipReason?: string,
  ) {
    super(`the outside number did not take the call: ${failure}${sipStatus !== undefined ? ` (${sipStatus} ${sipReason ?? ''})`.trimEnd() : ''}`)
  }
}
