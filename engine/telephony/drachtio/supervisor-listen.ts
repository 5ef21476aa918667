/**
 * Supervision of live calls over drachtio (issue 5 §7). Listen: the engine calls the supervisor's phone (a SIP URI,
 * or the phone registered under an id) through drachtio with rtpengine's `subscribe request` offer, one sendonly
 * m=audio per party of the call (the engine side, which carries the agent once bridged, and the customer), and hands
 * the phone's answer back with `subscribe answer`: rtpengine then copies both parties' audio to the phone, which nobody
 * hears. Whisper and barge go through a conference server (a `SupervisorConference`, FreeSWITCH through drachtio-fsmrf)
 * when one is configured, and are refused otherwise.
 *
 * A supervision ends when the supervisor hangs up, stop() is called, or the call ends; on every path the phone's
 * dialog is ended (BYE, or CANCEL while it rings) and the subscription removed (`unsubscribe`, or with the call's own
 * `delete` when the call ended).
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../clock.js'
import { CallEvents, type CallEventListener, type CallEventName } from '../port.js'
import type { MediaSubscription } from '../rtpengine/rtpengine-anchor.js'
import {
  SupervisionEvents,
  SupervisionNotFound,
  SupervisionRefused,
  type Supervision,
  type SupervisionEnded,
  type SupervisionEndReason,
  type SupervisionMode,
  type SupervisionView,
  type SupervisorPhone,
} from '../supervisor/supervision.js'
import { natProxy, pickBinding, type RegistrationLookup } from './agent-sessions.js'
import type { DrachtioConnection } from './connection.js'
import { createUac, isUacFailure, type UacDialog, type UacRequest } from './uac.js'

/** The calls being supervised, as DrachtioTelephony gives them. */
export interface SupervisedCalls {
  liveCall(callId: string): { campaignId: string; answered: boolean; agentId?: string } | undefined
  on<E extends CallEventName>(event: E, listener: CallEventListener<E>): void
}

/** rtpengine subscriptions of anchored calls (RtpengineAnchor). */
export interface MediaSubscriber {
  subscribe(callId: string): Promise<MediaSubscription>
  subscribeAnswer(callId: string, tag: string, sdp: string): Promise<void>
  unsubscribe(callId: string, tag: string): Promise<void>
}

/**
 * Whisper and barge: joins the call's agent and customer and the supervisor's phone in a conference where the
 * supervisor is heard by the agent only (whisper) or by both (barge). Implemented over drachtio-fsmrf
 * (engine/telephony/fsmrf/); absent, those modes are refused.
 */
export interface SupervisorConference {
  start(callId: string, mode: Exclude<SupervisionMode, 'listen'>, phone: { uri: string; proxy?: string }): Promise<{ end(): Promise<void>; onEnded(listener: () => void): void }>
}

export interface DrachtioSupervisionOptions {
  connection: DrachtioConnection
  calls: SupervisedCalls
  media: MediaSubscriber
  clock: Clock
  logger: Logger
  /** Supervisors' registered phones (the registrar's store); without it only SIP URIs can be called. */
  registrations?: RegistrationLookup
  conference?: SupervisorConference
  /** How long the supervisor's phone may ring before the attempt is cancelled. Default 30 s. */
  answerTimeoutMs?: number
}

interface Session {
  view: SupervisionView
  log: Logger
  tag?: string
  invite?: UacRequest
  dialog?: UacDialog
  conference?: { end(): Promise<void> }
  /** Why it ends, set by whoever ends it first. */
  ending?: SupervisionEndReason
  answerTimer?: TimerHandle
}

/** A SIP URI as a supervisor's phone may be given: sip: or sips:, no spaces or angle brackets. */
export const SIP_URI = /^sips?:[^\s<>"]{1,250}$/i

/** The host part of a SIP URI, for logs (its user part may be a phone number). */
function uriHost(uri: string): string {
  return /^sips?:(?:[^@]*@)?([^;?>]+)/i.exec(uri)?.[1] ?? '?'
}

export class DrachtioSupervision extends EventEmitter implements Supervision {
  private readonly sessions = new Map<string, Session>()
  private readonly log: Logger
  private readonly answerTimeoutMs: number

  constructor(private readonly opts: DrachtioSupervisionOptions) {
    super()
    this.log = opts.logger.child({ component: 'supervision' })
    this.answerTimeoutMs = opts.answerTimeoutMs ?? 30_000
    const callGone = (e: { callId: string }): void => {
      for (const s of [...this.sessions.values()]) if (s.view.callId === e.callId) void this.finish(s, 'call-ended')
    }
    opts.calls.on(CallEvents.Ended, callGone)
    opts.calls.on(CallEvents.Failed, callGone)
  }

  campaignOf(callId: string): string | undefined {
    return this.opts.calls.liveCall(callId)?.campaignId
  }

  get(supervisionId: string): SupervisionView | undefined {
    const s = this.sessions.get(supervisionId)
    return s ? { ...s.view } : undefined
  }

  ofCall(callId: string): SupervisionView[] {
    return [...this.sessions.values()].filter((s) => s.view.callId === callId).map((s) => ({ ...s.view }))
  }

  /** Supervisions not ended yet (a leak check for tests). */
  count(): number {
    return this.sessions.size
  }

  async start(callId: string, mode: SupervisionMode, phone: SupervisorPhone): Promise<SupervisionView> {
    const live = this.opts.calls.liveCall(callId)
    if (!live) throw new SupervisionNotFound('call', callId)
    if (!live.answered) throw new SupervisionRefused(`call ${callId} is not answered yet`)
    if (!this.opts.connection.connected) throw new SupervisionRefused('not connected to drachtio')
    if (mode !== 'listen' && !this.opts.conference) {
      throw new SupervisionRefused(`${mode} needs a conference server (FreeSWITCH, CADENCE_FREESWITCH_ESL); only listen is available`)
    }
    const dest = await this.resolve(phone)
    const supervisionId = `sup-${randomUUID()}`
    const s: Session = {
      view: { supervisionId, callId, mode, state: 'ringing' },
      log: this.log.child({ callId, supervisionId, mode, phoneHost: uriHost(dest.uri) }),
    }
    this.sessions.set(supervisionId, s)
    if (mode === 'listen') await this.listen(s, dest)
    else await this.confer(s, mode, dest)
    return { ...s.view }
  }

  async stop(supervisionId: string): Promise<void> {
    const s = this.sessions.get(supervisionId)
    if (!s) return
    await this.finish(s, 'stopped')
  }

  /** Ends every supervision (engine shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.finish(s, 'stopped')))
  }

  private async resolve(phone: SupervisorPhone): Promise<{ uri: string; proxy?: string }> {
    if (phone.kind === 'uri') {
      if (!SIP_URI.test(phone.uri)) throw new SupervisionRefused('the supervisor phone must be a sip: or sips: URI')
      return { uri: phone.uri }
    }
    if (!this.opts.registrations) throw new SupervisionRefused('no registrar on this engine: give the phone as a SIP URI')
    const binding = pickBinding(await this.opts.registrations.lookup(phone.id))
    if (!binding) throw new SupervisionRefused(`no phone is registered for ${phone.id}`)
    const proxy = natProxy(binding)
    return { uri: binding.uri, ...(proxy ? { proxy } : {}) }
  }

  private async listen(s: Session, dest: { uri: string; proxy?: string }): Promise<void> {
    const { callId } = s.view
    let sub: MediaSubscription
    try {
      sub = await this.opts.media.subscribe(callId)
    } catch (err) {
      s.log.error({ err: errText(err) }, 'rtpengine refused the subscription')
      await this.finish(s, 'media-failed')
      throw new SupervisionRefused(`the call's media cannot be subscribed to: ${errText(err)}`)
    }
    s.tag = sub.tag
    if (s.ending) {
      // ended while rtpengine answered: finish() found no tag to remove; unless the call's delete took it, remove it
      if (s.ending !== 'call-ended') await this.opts.media.unsubscribe(callId, sub.tag).catch((err: unknown) => s.log.error({ err: errText(err) }, 'unsubscribe failed'))
      throw new SupervisionRefused(`call ${callId} ended before the supervisor's phone was called`)
    }
    s.log.info({ parties: sub.parties, ...(dest.proxy ? { proxy: dest.proxy } : {}) }, 'calling the supervisor phone to listen')
    const dialog = await this.call(s, dest, sub.sdp)
    try {
      await this.opts.media.subscribeAnswer(callId, sub.tag, dialog.remote.sdp ?? '')
    } catch (err) {
      s.log.error({ err: errText(err) }, 'rtpengine refused the supervisor phone answer; hanging up')
      await this.finish(s, 'media-failed')
      throw new SupervisionRefused(`the supervisor phone's answer was refused by the media relay: ${errText(err)}`)
    }
    this.up(s)
  }

  private async confer(s: Session, mode: Exclude<SupervisionMode, 'listen'>, dest: { uri: string; proxy?: string }): Promise<void> {
    try {
      const conf = await this.opts.conference!.start(s.view.callId, mode, dest)
      s.conference = conf
      conf.onEnded(() => void this.finish(s, 'supervisor-hung-up'))
    } catch (err) {
      s.log.warn({ err: errText(err) }, `${mode} not set up`)
      await this.finish(s, 'phone-failed')
      if (err instanceof SupervisionRefused) throw err
      throw new SupervisionRefused(`${mode} not set up: ${errText(err)}`)
    }
    if (s.ending) {
      await s.conference.end().catch(() => undefined)
      throw new SupervisionRefused(`call ${s.view.callId} ended while the conference was set up`)
    }
    this.up(s)
  }

  /** INVITEs the supervisor's phone; a failure finishes the session and throws SupervisionRefused. */
  private async call(s: Session, dest: { uri: string; proxy?: string }, sdp: string): Promise<UacDialog> {
    s.answerTimer = this.opts.clock.setTimeout(() => {
      s.answerTimer = undefined
      s.log.warn({ answerTimeoutMs: this.answerTimeoutMs }, 'supervisor phone did not answer; cancelling')
      this.cancel(s)
    }, this.answerTimeoutMs)
    let dialog: UacDialog
    try {
      dialog = await createUac(
        this.opts.connection.srf,
        dest.uri,
        {
          localSdp: sdp,
          headers: { 'X-Cadence-Supervision': s.view.supervisionId, 'X-Cadence-Call-Id': s.view.callId },
          ...(dest.proxy ? { proxy: dest.proxy } : {}),
        },
        (req) => {
          s.invite = req
          if (s.ending) this.cancel(s)
        },
        () => undefined,
      )
    } catch (err) {
      this.clearAnswerTimer(s)
      s.invite = undefined
      const status = isUacFailure(err) ? err.status : undefined
      s.log.warn({ ...(status !== undefined ? { status } : { err: errText(err) }) }, 'supervisor phone did not take the call')
      const why = s.ending
      await this.finish(s, 'phone-failed', status)
      throw new SupervisionRefused(
        why ? `supervision ${why} before the supervisor's phone answered` : `the supervisor's phone did not answer${status ? ` (SIP ${status})` : ''}`,
        status,
      )
    }
    this.clearAnswerTimer(s)
    s.invite = undefined
    s.dialog = dialog
    dialog.on('destroy', () => {
      if (s.dialog !== dialog) return
      s.dialog = undefined
      s.log.info('supervisor hung up')
      void this.finish(s, 'supervisor-hung-up')
    })
    if (s.ending) {
      // stopped, or the call ended, while the 200 was on its way
      const why = s.ending
      if (s.view.state === 'ended') {
        // finish() ran before there was a dialog to end
        s.dialog = undefined
        dialog.removeAllListeners('destroy')
        dialog.destroy({}, (err) => {
          if (err) s.log.warn({ err: String(err) }, 'BYE to the supervisor phone not sent')
        })
      } else {
        await this.finish(s, why)
      }
      throw new SupervisionRefused(`supervision ${why} before the supervisor's phone answered`)
    }
    return dialog
  }

  private up(s: Session): void {
    s.view.state = 'up'
    s.view.since = this.opts.clock.now()
    s.log.info('supervisor phone up')
    this.emit(SupervisionEvents.Up, { ...s.view })
  }

  /** Ends a session once: the phone's dialog (BYE, or CANCEL while ringing), then the subscription or conference. */
  private async finish(s: Session, reason: SupervisionEndReason, sipStatus?: number): Promise<void> {
    if (s.view.state === 'ended') return
    s.ending ??= reason
    if (s.view.state === 'ringing' && s.invite) {
      // the INVITE's failure comes back through call(), which finishes the session
      this.cancel(s)
      return
    }
    s.view.state = 'ended'
    this.clearAnswerTimer(s)
    this.sessions.delete(s.view.supervisionId)
    const dialog = s.dialog
    s.dialog = undefined
    const work: Promise<unknown>[] = []
    if (dialog) {
      dialog.removeAllListeners('destroy')
      if (s.ending !== 'supervisor-hung-up') {
        work.push(
          new Promise<void>((resolve) =>
            dialog.destroy({}, (err) => {
              if (err) s.log.warn({ err: String(err) }, 'BYE to the supervisor phone not sent')
              resolve()
            }),
          ),
        )
      }
    }
    // a call that ended took its subscriptions with its delete; otherwise ours is removed now
    if (s.tag && s.ending !== 'call-ended') {
      const tag = s.tag
      work.push(
        this.opts.media.unsubscribe(s.view.callId, tag).catch((err: unknown) => {
          s.log.error({ err: errText(err) }, 'unsubscribe failed; the subscription goes with the call')
        }),
      )
    }
    if (s.conference) work.push(s.conference.end().catch((err: unknown) => s.log.error({ err: errText(err) }, 'conference not ended')))
    await Promise.all(work)
    s.log.info({ reason: s.ending, ...(sipStatus !== undefined ? { sipStatus } : {}) }, 'supervision ended')
    this.emit(SupervisionEvents.Ended, {
      supervisionId: s.view.supervisionId,
      callId: s.view.callId,
      reason: s.ending,
      ...(sipStatus !== undefined ? { sipStatus } : {}),
    } satisfies SupervisionEnded)
  }

  private cancel(s: Session): void {
    try {
      s.invite?.cancel((err) => {
        if (err) s.log.debug({ err: String(err) }, 'CANCEL not sent (the INVITE already had its final answer)')
      })
    } catch (err) {
      s.log.warn({ err: errText(err) }, 'CANCEL not sent: no drachtio connection')
    }
  }

  private clearAnswerTimer(s: Session): void {
    if (s.answerTimer) this.opts.clock.clearTimeout(s.answerTimer)
    s.answerTimer = undefined
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
