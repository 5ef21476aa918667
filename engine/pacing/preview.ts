import type { PacingPolicy } from './policy.js'

/** Preview: the agent dials by hand after reading the lead; the dialer places nothing on its own. */
export class PreviewPolicy implements PacingPolicy {
  readonly name = 'preview'
  decide(): number {
    return 0
  }
}
