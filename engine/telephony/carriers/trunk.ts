/**
 * A carrier trunk as the engine dials it: several gateways tried in order (crank-back), caller-ID and number
 * rewriting rules, optional digest credentials per gateway, and the caps the trunk's contract sets (channels, calls
 * per second; enforced across engine instances by trunk-caps.ts in the Redis store).
 */

export interface TrunkGateway {
  /** host or host:port of the carrier's SIP gateway. */
  address: string
  transport?: 'udp' | 'tcp'
  /** Digest credentials when the gateway challenges our INVITEs. */
  auth?: { username: string; password: string }
}

/** First matching rule wins: `match` is a regular expression over the whole number, `replace` its replacement. */
export interface RewriteRule {
  match: string
  replace: string
}

export interface TrunkConfig {
  id: string
  gateways: TrunkGateway[]
  /** Caller-ID presented when the request carries none. */
  defaultCallerId?: string
  /** Use defaultCallerId even when the campaign asks for another (carriers that only accept their own numbers). */
  forceCallerId?: boolean
  /** Rules applied to the dialed number (E.164 in) before it goes into the Request-URI. */
  numberRules?: RewriteRule[]
  /** Rules applied to the caller-ID. */
  callerIdRules?: RewriteRule[]
  /** Simultaneous calls the contract allows (0 or absent: no cap). */
  maxChannels?: number
  /** Calls per second the contract allows (0 or absent: no cap). */
  maxCps?: number
}

export class TrunkConfigError extends Error {
  override name = 'TrunkConfigError'
}

export function validateTrunk(trunk: TrunkConfig): TrunkConfig {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(trunk.id)) throw new TrunkConfigError(`trunk id ${JSON.stringify(trunk.id)} is not 1-64 of [A-Za-z0-9_.:-]`)
  if (trunk.gateways.length === 0) throw new TrunkConfigError(`trunk ${trunk.id} has no gateway`)
  for (const g of trunk.gateways) {
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(g.address)) throw new TrunkConfigError(`trunk ${trunk.id}: gateway address ${JSON.stringify(g.address)} is not host[:port]`)
  }
  for (const r of [...(trunk.numberRules ?? []), ...(trunk.callerIdRules ?? [])]) {
    try {
      new RegExp(r.match)
    } catch (e) {
      throw new TrunkConfigError(`trunk ${trunk.id}: rule ${JSON.stringify(r.match)} is not a regular expression: ${(e as Error).message}`)
    }
  }
  return trunk
}

export function applyRules(value: string, rules: readonly RewriteRule[] | undefined): string {
  for (const r of rules ?? []) {
    const re = new RegExp(r.match)
    if (re.test(value)) return value.replace(re, r.replace)
  }
  return value
}

/** The number as the carrier wants it in the Request-URI. */
export function dialString(trunk: TrunkConfig, e164: string): string {
  return applyRules(e164, trunk.numberRules)
}

/** The caller-ID to present, after the trunk's policy and rules; undefined leaves drachtio's default From. */
export function presentedCallerId(trunk: TrunkConfig, requested: string | undefined): string | undefined {
  const chosen = trunk.forceCallerId ? trunk.defaultCallerId : (requested ?? trunk.defaultCallerId)
  return chosen === undefined ? undefined : applyRules(chosen, trunk.callerIdRules)
}

export function gatewayUri(gateway: TrunkGateway, user: string): string {
  const transport = gateway.transport === 'tcp' ? ';transport=tcp' : ''
  return `sip:${user}@${gateway.address}${transport}`
}
