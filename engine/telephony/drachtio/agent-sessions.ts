/**
 * Nailed-up agent sessions (issue 5): while an agent is logged in, the engine holds one call up to the agent's
 * registered phone, so that a customer answered by the dialer can be joined to the agent by media alone (no ringing,
 * no answer delay) well inside the 2-second rule.
 *
 * login() INVITEs the agent's most recently refreshed binding (registrar/registration-store.ts) through drachtio, with
 * auto-answer hints, to the address the REGISTER came from when that differs from the Contact (a phone behind NAT).
 * The media of the session is anchored by the injected MediaAnchor under the session id. When the session drops (the
 * phone hangs up, the INVITE fails, no binding yet, drachtio lost) and the agent is still logged in, it is dialled
 * again after `retryMs` (doubling to `maxRetryMs`); a registrar `bindings` event for the agent retries at once.
 * logout() ends the session with BYE, or CANCELs it while it rings, and releases its media on every path.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../clock.js'
import type { StoredBinding } from '../registrar/registration-store.js'
import { ConnectionEvents, type DrachtioConnection } from './connection.js'
import type { MediaAnchor } from './media-anchor.js'
import { createUac, isUacFailure, type UacDialog, type UacRequest } from './uac.js'
import { parseSessionExpires, refreshDelayMs, type SessionExpires } from './session-timer.js'
import { requestInDialog } from './dialog-request.js'
import { DialogWatch } from './dialog-watch.js'
import { dialogAlive, type DialogProbe } from './live-call-reconcile.js'

export const AgentSessionEvents = {
  /** The agent's phone answered; media flows. */
  Up: 'up',
  /** The session ended or could not be set up; `retryInMs` is set while the agent is still logged in. */
  Down: 'down',
} as const

/** Internal event behind onSessionEnded (not part of AgentSessionEvents: its listeners take two arguments). */
const SESSION_ENDED = 'session-ended'

export interface AgentSessionUp {
  agentId: string
  sessionId: string
  contact: string
}

/** phone-gone: the phone stopped answering in its dialog (a session refresh went unanswered). */
export type AgentSessionDownReason = 'not-registered' | 'rejected' | 'no-answer' | 'phone-hung-up' | 'phone-gone' | 'logged-out' | 'drachtio-lost' | 'error'

export interface AgentSessionDown {
  agentId: string
  sessionId?: string
  reason: AgentSessionDownReason
  sipStatus?: number
  retryInMs?: number
}

export type AgentSessionState = 'logged-out' | 'waiting' | 'ringing' | 'up'

export interface RegistrationLookup {
  lookup(agentId: string): Promise<StoredBinding[]>
}

export interface AgentSessionsOptions {
  connection: DrachtioConnection
  registrations: RegistrationLookup
  media: MediaAnchor
  clock: Clock
  logger: Logger
  /** First wait before dialling a dropped session again; doubles up to maxRetryMs. Default 2 s. */
  retryMs?: number
  maxRetryMs?: number
  /** How long the phone may ring before the attempt is cancelled. Default 20 s. */
  answerTimeoutMs?: number
  /**
   * How often a session kept across a drachtio reconnect is probed (in-dialog OPTIONS): drachtio-server no longer
   * tells us of the phone's BYE for a dialog of the lost connection. Default 30 s.
   */
  orphanProbeMs?: number
  /** Bound on one in-dialog probe beyond the server's own 408 (default 40 s). */
  probeLimitMs?: number
  /**
   * RFC 4028 session interval asked of agent phones (seconds; default 1800, 0: no session timer). A session lasts a
   * whole shift: a phone that vanished without a BYE (power cut, Wi-Fi gone) must not keep the agent looking
   * reachable. A phone that takes the timer with us as refresher gets an in-dialog UPDATE every half interval; one
   * that does not answer it has its session ended (and dialled again while the agent is logged in).
   */
  sessionExpiresS?: number
}

interface Session {
  agentId: string
  wanted: boolean
  state: AgentSessionState
  seq: number
  sessionId?: string
  contact?: string
  invite?: UacRequest
  cancelled: boolean
  dialog?: UacDialog
  /** The dialog belongs to a lost admin connection: probed now and then, ended by a BYE on the new connection. */
  orphaned?: boolean
  probeWatch?: DialogWatch
  /** RFC 4028 refreshes, when the phone made us the refresher. */
  refreshWatch?: DialogWatch
  retryTimer?: TimerHandle
  answerTimer?: TimerHandle
  failures: number
  log: Logger
}

/** The binding to call: the one refreshed last (its expiry is furthest away). */
export function pickBinding(bindings: readonly StoredBinding[]): StoredBinding | undefined {
  return [...bindings].sort((a, b) => b.expiresAt - a.expiresAt)[0]
}

/**
 * `sip:host:port` to send to when the REGISTER came from another host than its Contact names (a phone behind NAT
 * advertising its private address); else undefined. Only the host is compared: a phone that advertises the address
 * it is seen from (STUN, or no NAT) is taken at its word for the port too, as it may register from one socket and
 * take calls on another.
 */
export function natProxy(b: StoredBinding): string | undefined {
  const { receivedHost, receivedPort } = b.details
  if (!receivedHost || !receivedPort) return undefined
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)/i.exec(b.uri)
  if (!m) return undefined
  if (m[1] === receivedHost) return undefined
  const transport = b.details.transport === 'tcp' ? ';transport=tcp' : ''
  return `sip:${receivedHost}:${receivedPort}${transport}`
}

export class AgentSessions extends EventEmitter {
  private readonly sessions = new Map<string, Session>()
  private readonly log: Logger
  private readonly retryMs: number
  private readonly maxRetryMs: number
  private readonly answerTimeoutMs: number
  private readonly sessionExpiresS: number

  constructor(private readonly opts: AgentSessionsOptions) {
    super()
    this.log = opts.logger.child({ component: 'agent-sessions' })
    this.retryMs = opts.retryMs ?? 2000
    this.maxRetryMs = opts.maxRetryMs ?? 30_000
    this.answerTimeoutMs = opts.answerTimeoutMs ?? 20_000
    this.sessionExpiresS = opts.sessionExpiresS ?? 1800
    opts.connection.on(ConnectionEvents.Up, (up: { generation: number }) => {
      // back after a loss: dial every logged-in agent whose session is not up
      for (const s of this.sessions.values()) if (s.wanted && s.state === 'waiting') this.dialSoon(s, 0)
      // and find out which sessions that were up survived it (their phones still answer in the dialog)
      if (up.generation >= 2) this.lastReconcile = this.reconcile()
    })
  }

  /** The reconcile after the last reconnect: agents whose sessions were kept, and those whose sessions were gone. */
  lastReconcile: Promise<{ kept: string[]; dropped: string[] }> | undefined

  /**
   * After a reconnect: every session that was up is probed in its dialog on the new connection. A phone that answers
   * keeps its session (probed every orphanProbeMs from then on); one that does not has its session ended, exactly
   * as if the phone had hung up: media released, a customer joined to it hung up, the session dialled again.
   */
  private async reconcile(): Promise<{ kept: string[]; dropped: string[] }> {
    const kept: string[] = []
    const dropped: string[] = []
    await Promise.all(
      [...this.sessions.values()]
        .filter((s) => s.state === 'up' && s.dialog)
        .map(async (s) => {
          const dialog = s.dialog!
          s.orphaned = true
          const probe = await requestInDialog(this.opts.connection, dialog.id, 'OPTIONS', this.opts.probeLimitMs ?? 40_000)
          if (s.dialog !== dialog) return
          if (dialogAlive(probe)) {
            kept.push(s.agentId)
            s.log.info('agent session still up after the reconnect; kept')
            this.armProbe(s)
            return
          }
          dropped.push(s.agentId)
          s.log.warn({ probe }, 'agent session lost with the drachtio connection; dialling it again')
          // the phone may still be there although the probe failed: tell it, on the new connection
          void requestInDialog(this.opts.connection, dialog.id, 'BYE', this.opts.probeLimitMs ?? 40_000)
          this.down(s, 'drachtio-lost')
        }),
    )
    this.log.info({ kept: kept.length, dropped: dropped.length }, 'agent sessions reconciled after reconnecting to drachtio')
    return { kept, dropped }
  }

  private armProbe(s: Session): void {
    const dialog = s.dialog
    if (!dialog) return
    s.probeWatch?.stop()
    s.probeWatch = new DialogWatch({
      connection: this.opts.connection,
      clock: this.opts.clock,
      dialogId: dialog.id,
      method: 'OPTIONS',
      everyMs: this.opts.orphanProbeMs ?? 30_000,
      limitMs: this.opts.probeLimitMs ?? 40_000,
      current: () => s.state === 'up' && s.dialog === dialog,
      // a connection that is down again says nothing about the phone: the next reconnect's reconcile decides
      whileDown: 'stop',
      gone: (probe) => {
        s.log.warn({ probe }, 'kept agent session no longer answers in its dialog')
        this.down(s, 'phone-hung-up')
      },
    })
  }


  state(agentId: string): AgentSessionState {
    return this.sessions.get(agentId)?.state ?? 'logged-out'
  }

  /** The session's id while it is up (the media anchor's key for joining a customer to it). */
  sessionId(agentId: string): string | undefined {
    const s = this.sessions.get(agentId)
    return s?.state === 'up' ? s.sessionId : undefined
  }

  /** Calls `listener` when a session that was up ends, for whatever reason (DrachtioTelephony's AgentSessionLookup). */
  onSessionEnded(listener: (agentId: string, sessionId: string) => void): void {
    this.on(SESSION_ENDED, listener)
  }

  /**
   * Tells the agent's phone something inside its session (an INFO whose headers say who a transferred customer is),
   * the way a desk phone shows a caller. Resolves with the phone's answer; never throws.
   */
  inform(agentId: string, headers: Record<string, string>): Promise<DialogProbe> {
    const s = this.sessions.get(agentId)
    if (s?.state !== 'up' || !s.dialog) return Promise.resolve({ kind: 'not-sent', detail: `agent ${agentId} has no session up` })
    return requestInDialog(this.opts.connection, s.dialog.id, 'INFO', 40_000, headers)
  }

  /** Sessions not logged out yet (a leak check for tests). */
  count(): number {
    return this.sessions.size
  }

  /** The agent logged in: keep a session up to their phone until logout. */
  login(agentId: string): void {
    let s = this.sessions.get(agentId)
    if (s?.wanted) return
    if (!s) {
      s = { agentId, wanted: true, state: 'waiting', seq: 0, cancelled: false, failures: 0, log: this.log.child({ agentId }) }
      this.sessions.set(agentId, s)
    }
    s.wanted = true
    s.log.info('agent logged in; nailing up a session to their phone')
    this.dialSoon(s, 0)
  }

  /** The agent's bindings changed (registrar event): a waiting session is dialled now rather than at its retry. */
  onBindingsChanged(agentId: string, bindingCount: number): void {
    const s = this.sessions.get(agentId)
    if (s?.wanted && s.state === 'waiting' && bindingCount > 0) this.dialSoon(s, 0)
  }

  /** The agent logged out: BYE (or CANCEL while ringing), media released. */
  async logout(agentId: string): Promise<void> {
    const s = this.sessions.get(agentId)
    if (!s) return
    s.wanted = false
    this.clearTimers(s)
    s.log.info({ state: s.state }, 'agent logged out; ending the session')
    if (s.state === 'up' && s.dialog) {
      const dialog = s.dialog
      const orphaned = s.orphaned === true
      this.down(s, 'logged-out')
      // a dialog of a lost connection is reached only through the new one
      if (orphaned) {
        const r = await requestInDialog(this.opts.connection, dialog.id, 'BYE', this.opts.probeLimitMs ?? 40_000)
        if (r.kind !== 'response') s.log.warn({ result: r }, 'BYE to the agent phone not answered')
        this.sessions.delete(agentId)
        return
      }
      await new Promise<void>((resolve) => {
        dialog.destroy({}, (err) => {
          if (err) s.log.warn({ err: String(err) }, 'BYE to the agent phone not sent')
          resolve()
        })
      })
    } else if (s.state === 'ringing') {
      this.cancelRinging(s)
      // the INVITE's failure (487) settles it; attempt() sees wanted=false and removes the session
      return
    } else {
      this.emitDown(s, { agentId, reason: 'logged-out' })
    }
    this.sessions.delete(agentId)
  }

  /** Logs everyone out (engine shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.logout(id)))
  }

  private dialSoon(s: Session, delayMs: number): void {
    if (s.retryTimer) this.opts.clock.clearTimeout(s.retryTimer)
    s.retryTimer = this.opts.clock.setTimeout(() => {
      s.retryTimer = undefined
      void this.attempt(s).catch((err: unknown) => {
        s.log.error({ err: err instanceof Error ? err.message : String(err) }, 'agent session attempt failed unexpectedly')
        this.retryLater(s, 'error')
      })
    }, delayMs)
  }

  private async attempt(s: Session): Promise<void> {
    if (!s.wanted || s.state !== 'waiting') return
    if (!this.opts.connection.connected) {
      // ConnectionEvents.Up dials again
      this.emitDown(s, { agentId: s.agentId, reason: 'drachtio-lost' })
      return
    }
    const binding = pickBinding(await this.opts.registrations.lookup(s.agentId))
    if (!s.wanted || s.state !== 'waiting') return
    if (!binding) {
      this.retryLater(s, 'not-registered')
      return
    }
    const sessionId = `agent-${s.agentId}-${++s.seq}`
    s.sessionId = sessionId
    s.contact = binding.uri
    s.state = 'ringing'
    s.cancelled = false
    const log = s.log.child({ sessionId, contact: binding.uri })
    const proxy = natProxy(binding)
    log.info({ ...(proxy ? { proxy } : {}) }, 'INVITE to the agent phone')
    let dialog: UacDialog
    try {
      const sdp = await this.opts.media.offer(sessionId)
      s.answerTimer = this.opts.clock.setTimeout(() => {
        s.answerTimer = undefined
        log.warn({ answerTimeoutMs: this.answerTimeoutMs }, 'agent phone did not answer; cancelling')
        this.cancelRinging(s)
      }, this.answerTimeoutMs)
      dialog = await createUac(
        this.opts.connection.srf,
        binding.uri,
        {
          localSdp: sdp,
          headers: {
            'X-Cadence-Agent-Session': sessionId,
            // auto-answer hints understood by most desk and soft phones
            'Call-Info': '<sip:cadence>;answer-after=0',
            'Alert-Info': '<http://cadence/>;info=alert-autoanswer',
            ...(this.sessionExpiresS > 0 ? { Supported: 'timer', 'Session-Expires': `${this.sessionExpiresS};refresher=uac` } : {}),
          },
          ...(proxy ? { proxy } : {}),
        },
        (req) => {
          s.invite = req
          if (s.cancelled) req.cancel()
        },
        () => undefined,
      )
    } catch (err) {
      this.clearAnswerTimer(s)
      s.invite = undefined
      await this.releaseMedia(s, sessionId)
      const status = isUacFailure(err) ? err.status : undefined
      if (status === undefined) log.error({ err: err instanceof Error ? err.message : String(err) }, 'agent session INVITE failed')
      else log.warn({ status }, 'agent phone did not take the session')
      s.state = 'waiting'
      if (!s.wanted) {
        this.sessions.delete(s.agentId)
        this.emitDown(s, { agentId: s.agentId, sessionId, reason: 'logged-out', ...(status ? { sipStatus: status } : {}) })
        return
      }
      const reason: AgentSessionDownReason = status === undefined ? 'error' : status === 487 || status === 408 || status === 480 ? 'no-answer' : 'rejected'
      this.retryLater(s, reason, sessionId, status)
      return
    }
    this.clearAnswerTimer(s)
    s.invite = undefined
    if (!s.wanted) {
      // logged out while the 200 was on its way
      dialog.destroy()
      await this.releaseMedia(s, sessionId)
      this.sessions.delete(s.agentId)
      return
    }
    try {
      await this.opts.media.answer(sessionId, dialog.remote.sdp ?? '', dialog.sip.remoteTag)
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'media anchor refused the agent phone answer; hanging up')
      dialog.destroy()
      await this.releaseMedia(s, sessionId)
      s.state = 'waiting'
      this.retryLater(s, 'error', sessionId)
      return
    }
    s.dialog = dialog
    s.state = 'up'
    s.failures = 0
    dialog.on('destroy', () => {
      if (s.dialog !== dialog) return
      log.warn('agent phone hung up the session')
      this.down(s, 'phone-hung-up')
    })
    log.info('agent session up')
    const se = this.sessionExpiresS > 0 ? parseSessionExpires(dialog.res?.has('Session-Expires') ? dialog.res.get('Session-Expires') : dialog.res?.get('x')) : undefined
    // we asked to refresh; a phone that answers without naming the refresher leaves it to us (RFC 4028 §9)
    if (se && se.refresher !== 'uas') {
      log.info({ sessionExpires: se.seconds }, 'session timer: we refresh the agent session')
      this.armRefresh(s, dialog, se)
    }
    this.emit(AgentSessionEvents.Up, { agentId: s.agentId, sessionId, contact: binding.uri } satisfies AgentSessionUp)
  }

  /**
   * RFC 4028 refresh by in-dialog UPDATE (no SDP: the media, a customer joined to it included, is untouched).
   * Answered: again in half an interval. A 481, a 408 or nothing: the phone is gone, the session ends (a customer on
   * it is hung up by whoever listens to its end) and is dialled again. Left to the reconnect's probe while drachtio
   * is down.
   */
  private armRefresh(s: Session, dialog: UacDialog, se: SessionExpires): void {
    s.refreshWatch?.stop()
    s.refreshWatch = new DialogWatch({
      connection: this.opts.connection,
      clock: this.opts.clock,
      dialogId: dialog.id,
      method: 'UPDATE',
      headers: { 'Session-Expires': `${se.seconds};refresher=uac`, Supported: 'timer' },
      everyMs: refreshDelayMs(se),
      limitMs: this.opts.probeLimitMs ?? 40_000,
      current: () => s.dialog === dialog,
      whileDown: 'stop',
      gone: (r) => {
        s.log.warn({ refresh: r }, 'agent phone did not answer the session refresh: session ended')
        dialog.removeAllListeners('destroy')
        dialog.destroy()
        this.down(s, 'phone-gone')
      },
    })
  }

  /** An up session ended: media released; dialled again if the agent is still logged in. */
  private down(s: Session, reason: AgentSessionDownReason): void {
    const sessionId = s.sessionId
    if (sessionId && s.state === 'up') this.emit(SESSION_ENDED, s.agentId, sessionId)
    s.dialog?.removeAllListeners('destroy')
    s.dialog = undefined
    s.orphaned = false
    s.probeWatch?.stop()
    s.refreshWatch?.stop()
    s.state = 'waiting'
    if (sessionId) void this.releaseMedia(s, sessionId)
    if (s.wanted) this.retryLater(s, reason, sessionId)
    else this.emitDown(s, { agentId: s.agentId, ...(sessionId ? { sessionId } : {}), reason })
  }

  private retryLater(s: Session, reason: AgentSessionDownReason, sessionId?: string, sipStatus?: number): void {
    const wait = Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(s.failures, 16))
    s.failures++
    this.emitDown(s, {
      agentId: s.agentId,
      ...(sessionId ? { sessionId } : {}),
      reason,
      ...(sipStatus !== undefined ? { sipStatus } : {}),
      retryInMs: wait,
    })
    this.dialSoon(s, wait)
  }

  private emitDown(s: Session, event: AgentSessionDown): void {
    s.log.info(event, 'agent session down')
    this.emit(AgentSessionEvents.Down, event)
  }

  private cancelRinging(s: Session): void {
    s.cancelled = true
    try {
      s.invite?.cancel((err) => {
        if (err) s.log.debug({ err: String(err) }, 'CANCEL not sent (the INVITE already had its final answer)')
      })
    } catch (err) {
      s.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'CANCEL not sent: no drachtio connection')
    }
  }

  private async releaseMedia(s: Session, sessionId: string): Promise<void> {
    try {
      await this.opts.media.release(sessionId)
    } catch (err) {
      s.log.error({ sessionId, err: err instanceof Error ? err.message : String(err) }, 'agent session media not released')
    }
  }

  private clearAnswerTimer(s: Session): void {
    if (s.answerTimer) this.opts.clock.clearTimeout(s.answerTimer)
    s.answerTimer = undefined
  }

  private clearTimers(s: Session): void {
    this.clearAnswerTimer(s)
    if (s.retryTimer) this.opts.clock.clearTimeout(s.retryTimer)
    s.retryTimer = undefined
  }
}
