/**
 * The registrar's drachtio shell: REGISTER requests routed by drachtio-server to this app (srf.register) are
 * authenticated by digest against the agents' stored HA1 (registration.ts decides, sql-credentials.ts looks up) and
 * their bindings applied in Redis (registration-store.ts). Answers: 401 with a fresh nonce, 403 for a wrong password
 * or an unknown user, 423 below the minimum interval, 400 for a malformed Contact, 500 for an out-of-order CSeq (RFC
 * 3261 §10.3 step 7), 503 when a store fails (with Retry-After, so phones try again rather than give up), else 200
 * with every current binding.
 */
import { EventEmitter } from 'node:events'
import type Srf from 'drachtio-srf'
import type { Logger } from 'pino'
import type { Clock } from '../../clock.js'
import { authenticate, contactHeader, credentialsUsername, planBindings, type Binding, type RegistrarPolicy, type Refusal } from './registration.js'
import type { RegistrationStore } from './registration-store.js'
import type { SipCredentialSource } from './sql-credentials.js'

/** drachtio-srf's `register` verb, generated at runtime and missing from its shipped typings. */
interface SrfWithRegister {
  register(handler: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void
}

export const RegistrarEvents = {
  /** An agent's bindings changed (registered, refreshed, or some removed): { agentId, bindings }. */
  Bindings: 'bindings',
} as const

export interface BindingsEvent {
  agentId: string
  /** The bindings after the change; empty: the agent has no registered phone any more. */
  bindings: Binding[]
}

export interface DrachtioRegistrarOptions {
  srf: Srf
  credentials: SipCredentialSource
  store: RegistrationStore
  policy: RegistrarPolicy
  clock: Clock
  logger: Logger
}

export class DrachtioRegistrar extends EventEmitter {
  private readonly log: Logger

  constructor(private readonly opts: DrachtioRegistrarOptions) {
    super()
    if (opts.policy.nonceSecret.length < 16) throw new Error('registrar nonceSecret must be at least 16 characters')
    this.log = opts.logger.child({ component: 'registrar', realm: opts.policy.realm })
  }

  /** Routes REGISTER to this app; call before (or after) the connection starts. */
  start(): void {
    ;(this.opts.srf as unknown as SrfWithRegister).register((req, res) => {
      void this.onRegister(req, res).catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err), callId: req.get('Call-ID') }, 'REGISTER failed')
        if (!res.finalResponseSent) res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } })
      })
    })
  }

  private async onRegister(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const { policy, clock } = this.opts
    const callId = req.get('Call-ID') ?? ''
    const log = this.log.child({ callId, from: `${req.source_address}:${req.source_port}` })
    const authorization = req.has('Authorization') ? req.get('Authorization') : undefined
    const username = credentialsUsername(authorization)
    const credential = username !== undefined ? await this.opts.credentials.byUsername(username) : undefined
    const auth = authenticate({ method: 'REGISTER', to: req.get('To'), authorization }, credential, policy, clock.now())
    if (!auth.ok) {
      // challenges are routine; refusals are what an operator looks for
      if (auth.refusal.status === 401) log.debug({ why: auth.refusal.why }, 'REGISTER challenged')
      else log.warn({ username, why: auth.refusal.why }, 'REGISTER refused')
      this.refuse(res, auth.refusal)
      return
    }
    const agentId = auth.credential.agentId
    const alog = log.child({ agentId })
    const plan = planBindings({ contacts: req.has('Contact') ? [req.get('Contact')] : [], expires: req.has('Expires') ? req.get('Expires') : undefined }, policy)
    if (plan.kind === 'refuse') {
      alog.warn({ why: plan.refusal.why }, 'REGISTER refused')
      this.refuse(res, plan.refusal)
      return
    }
    let bindings: Binding[]
    if (plan.kind === 'query') {
      bindings = (await this.opts.store.lookup(agentId)).map(({ uri, expiresAt }) => ({ uri, expiresAt }))
    } else {
      const cseq = Number(/^\s*(\d+)/.exec(req.get('CSeq') ?? '')?.[1] ?? NaN)
      if (!Number.isFinite(cseq)) {
        this.refuse(res, { status: 400, reason: 'Bad Request', headers: {}, why: 'no CSeq number' })
        return
      }
      const result = await this.opts.store.apply(agentId, { callId, cseq }, plan.kind === 'remove-all' ? '*' : plan.changes, {
        receivedHost: req.source_address,
        receivedPort: Number(req.source_port),
        transport: req.protocol,
        ...(req.has('User-Agent') ? { userAgent: req.get('User-Agent').slice(0, 200) } : {}),
      })
      if (!result.ok) {
        const refusal: Refusal =
          result.why === 'out-of-order'
            ? { status: 500, reason: 'Server Internal Error', headers: {}, why: `CSeq ${cseq} not above ${result.storedCseq}` }
            : { status: 403, reason: 'Too Many Registrations', headers: {}, why: `more than ${result.max} phones` }
        alog.warn({ why: refusal.why }, 'REGISTER refused')
        this.refuse(res, refusal)
        return
      }
      bindings = result.bindings
      alog.info({ bindings: bindings.length, kind: plan.kind }, bindings.length > 0 ? 'agent registered' : 'agent unregistered')
      this.emit(RegistrarEvents.Bindings, { agentId, bindings } satisfies BindingsEvent)
    }
    const contact = contactHeader(bindings, clock.now())
    res.send(200, { headers: { ...(contact ? { Contact: contact } : {}), Date: new Date(clock.now()).toUTCString() } })
  }

  private refuse(res: Srf.SrfResponse, r: Refusal): void {
    res.send(r.status, r.reason, { headers: r.headers })
  }
}
