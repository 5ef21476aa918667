/**
 * Agents' SIP registrations in Redis, shared by every engine instance: one Lua step applies a REGISTER
 * (apply-registration.lua: add, refresh, remove, RFC 3261 out-of-order check, binding cap), one lists the live
 * bindings (lookup-registrations.lua). Expiry is a score on the caller's Clock, and the keys expire with the last
 * binding, so an agent whose phone stops refreshing disappears without anyone cleaning up.
 */
import type { Redis } from 'ioredis'
import type { Clock } from '../../clock.js'
import { CadenceKeys } from '../../store/redis/keys.js'
import { ScriptRunner } from '../../store/redis/script-loader.js'
import type { Binding, BindingChange } from './registration.js'

/** Where the REGISTER came from, kept so a call to the agent can reach a phone behind NAT. */
export interface BindingDetails {
  receivedHost?: string
  receivedPort?: number
  transport?: string
  userAgent?: string
}

export interface StoredBinding extends Binding {
  callId?: string
  cseq?: number
  details: BindingDetails
}

export type ApplyResult =
  | { ok: true; bindings: Binding[] }
  | { ok: false; why: 'out-of-order'; storedCseq: number }
  | { ok: false; why: 'too-many'; max: number }

export class RegistrationStore {
  private readonly scripts: ScriptRunner
  private readonly keys: CadenceKeys

  constructor(
    redis: Redis,
    prefix: string,
    private readonly clock: Clock,
    readonly maxBindings = 5,
  ) {
    this.scripts = new ScriptRunner(redis)
    this.keys = new CadenceKeys(prefix)
  }

  /** Applies one REGISTER's changes (or `*`: remove all) for `agentId`. */
  async apply(
    agentId: string,
    register: { callId: string; cseq: number },
    changes: readonly BindingChange[] | '*',
    details: BindingDetails = {},
  ): Promise<ApplyResult> {
    const k = this.keys.registrations(agentId)
    const now = this.clock.now()
    const args: (string | number)[] = [now, register.callId, register.cseq, this.maxBindings]
    if (changes === '*') args.push('*')
    else {
      args.push('')
      const json = JSON.stringify(details)
      for (const c of changes) args.push(c.uri, c.expires === 0 ? 0 : now + c.expires * 1000, json)
    }
    const reply = (await this.scripts.run('apply-registration', [k.contacts, k.details], args)) as string[]
    if (reply[0] === 'out-of-order') return { ok: false, why: 'out-of-order', storedCseq: Number(reply[1]) }
    if (reply[0] === 'too-many') return { ok: false, why: 'too-many', max: Number(reply[1]) }
    const bindings: Binding[] = []
    for (let i = 1; i + 1 < reply.length; i += 2) bindings.push({ uri: reply[i]!, expiresAt: Number(reply[i + 1]) })
    return { ok: true, bindings }
  }

  /** The agent's live bindings, soonest expiry first (empty: not registered). */
  async lookup(agentId: string): Promise<StoredBinding[]> {
    const k = this.keys.registrations(agentId)
    const reply = (await this.scripts.run('lookup-registrations', [k.contacts, k.details], [this.clock.now()])) as string[]
    const out: StoredBinding[] = []
    for (let i = 0; i + 2 < reply.length; i += 3) {
      const raw = JSON.parse(reply[i + 2]!) as BindingDetails & { callId?: string; cseq?: number }
      const { callId, cseq, ...details } = raw
      out.push({
        uri: reply[i]!,
        expiresAt: Number(reply[i + 1]),
        ...(callId !== undefined ? { callId } : {}),
        ...(cseq !== undefined ? { cseq: Number(cseq) } : {}),
        details,
      })
    }
    return out
  }
}
