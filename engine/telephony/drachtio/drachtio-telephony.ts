/**
 * The TelephonyPort over drachtio-server (issue 5): outbound calls through a carrier trunk's gateways with
 * drachtio-srf createUAC. Same event semantics as SimTelephony: ringing (first 180/183), early-media (first 183 with
 * SDP), answered, then exactly one of `failed` (before answer; SIP status and reason kept) or `ended` (after).
 *
 * Crank-back: a gateway failing with 5xx / 408, or giving no provisional before the ring timeout, is followed by the
 * trunk's next gateway; never after early media, never after a callee's answer (busy, invalid, declined), never after
 * our own hangup. The ring timeout (per gateway attempt) is never below `minRingTimeoutMs` (15 s, the regulatory
 * minimum ring time) and ends the attempt with CANCEL.
 */
import type { Logger } from 'pino'
import { RealClock, type Clock } from '../../clock.js'
import { maskPhone } from '../../leads/lead.js'
import type { AmdDecision } from '../../media/amd.js'
import { failureCauseOf, type InvalidNumberEvent } from '../../media/invalid-number.js'
import {
  CallEvents,
  type CallEventListener,
  type CallEventMap,
  type CallEventName,
  type EndedBy,
  type FailureCause,
  type OriginateRequest,
  type OutsideTransfer,
  type TelephonyPort,
  type TransferContext,
} from '../port.js'
import { OutsideTransferFailed } from '../outside-transfer-failed.js'
import type { TrunkCaps } from '../../store/redis/trunk-caps.js'
import { GatewayBreaker } from '../carriers/gateway-breaker.js'
import { dialString, gatewayUri, presentedCallerId, validateTrunk, type TrunkConfig } from '../carriers/trunk.js'
import type { AgentSessionLookup } from './agent-session-lookup.js'
import type { CallMediaListener, Listening } from './call-media-listener.js'
import { legsOf, recordingMetadata, type CallRecorded, type CallRecordingPolicy, type RecordingState } from './call-recording.js'
import type { LiveCall, OutsideLeg } from './live-call.js'
import { canAudit, canJoin, canPlay, canRecord, type MediaAnchor, type MediaJoiner, type MediaRecorder } from './media-anchor.js'
import { CallAudio } from './call-audio.js'
import { PromptLibrary } from '../prompts/prompt-library.js'
import { TelephonyRefused } from './telephony-refused.js'
import { ConnectionEvents, type DrachtioConnection } from './connection.js'
import { causeOfStatus, mayCrankBack, type OurCancel } from './sip-causes.js'
import { createUac, isUacFailure, type UacDialog, type UacProvisional } from './uac.js'
import { CallEventBus } from '../call-event-bus.js'
import { requestInDialog } from './dialog-request.js'
import { DialogWatch } from './dialog-watch.js'
import { parseSessionExpires, refreshDelayMs, type SessionExpires } from './session-timer.js'
import { dialogAlive, reconcileLiveCalls, type CarriedCall, type ReconcileDecision } from './live-call-reconcile.js'

/** The regulatory minimum ring time; production never goes below it. */
export const MIN_RING_TIMEOUT_MS = 15_000










export interface DrachtioTelephonyOptions {
  connection: DrachtioConnection
  trunks: TrunkConfig[]
  /** Trunk used when the request names none. Defaults to the first. */
  defaultTrunkId?: string
  media: MediaAnchor
  logger: Logger
  clock?: Clock
  /** Floor for ringTimeoutMs. Defaults to 15 s; only tests lower it. */
  minRingTimeoutMs?: number
  /**
   * The trunks' channel and CPS caps, shared with the other engine instances (Redis). Without it the caps in the
   * trunk config are not enforced.
   */
  caps?: TrunkCaps
  /** Skips gateways that keep failing; defaults to 3 failures in a row, 30 s open. */
  breaker?: GatewayBreaker
  /**
   * Agents' nailed-up sessions (agent-sessions.ts), anchored by the same `media`: bridge() joins an answered customer
   * to one by media alone. Without it bridge() refuses.
   */
  agents?: AgentSessionLookup
  /**
   * Longest an answered call may last (ms): past it the call is ended with a BYE and `ended` (system), so a call whose
   * far-end BYE was lost does not hold its channel and agent forever. drachtio-srf 5 has no RFC 4028 session timer
   * for UAC dialogs, so this is the bound. Absent or 0: no limit.
   */
  maxCallMs?: number
  /**
   * Recording of bridged calls (the media anchor must be a MediaRecorder): started once the customer is joined to an
   * agent, stopped before the anchor's delete, told to `onRecorded` after it. Without it only record() records.
   */
  recording?: CallRecordingPolicy
  /**
   * Media analysis of live calls: early media (183 with SDP) screened until the answer, a SIT or an announcement
   * ending the attempt with CANCEL; AMD after answer for requests with `amd`. Without it no early media is screened
   * and an `amd` request gets amd-result `timeout` at once (treated as human by the dialer, never left hanging).
   */
  listener?: CallMediaListener
  /**
   * How often a call kept after a reconnect is probed (in-dialog OPTIONS): drachtio-server answers its far end's BYE
   * with 481 and never tells us, so this is how its end is noticed. Default 30 s.
   */
  orphanProbeMs?: number
  /** Bound on one in-dialog probe beyond the server's own 408 (default 40 s; tests with a short T1 lower it). */
  probeLimitMs?: number
  /**
   * Where play() and hold() find their audio (the media anchor must be a MediaPlayer). Defaults to the prompts shipped
   * with Cadence; rtpengine must be able to read the directory at the same path.
   */
  prompts?: PromptLibrary
  /** The prompt looped while a customer is on hold. Default `hold-music`. */
  holdMusic?: string
}


/** Past AMD's analysis time with no decision (no audio reached us), this much more is waited before `timeout`. */
export const AMD_NO_AUDIO_GRACE_MS = 1000

/** What a media anchor failure before the INVITE is reported as: our media relay, not the carrier, was unavailable. */
const MEDIA_UNAVAILABLE = { status: 503, reason: 'Media relay unavailable' } as const


export class DrachtioTelephony implements TelephonyPort {
  private readonly conn: DrachtioConnection
  private readonly trunks = new Map<string, TrunkConfig>()
  private readonly defaultTrunkId: string
  private readonly media: MediaAnchor
  private readonly log: Logger
  private readonly clock: Clock
  private readonly minRingMs: number
  private readonly caps: TrunkCaps | undefined
  readonly breaker: GatewayBreaker
  private readonly calls = new Map<string, LiveCall>()
  private readonly events: CallEventBus
  private readonly agents: AgentSessionLookup | undefined
  private readonly maxCallMs: number
  private readonly recording: CallRecordingPolicy | undefined
  private readonly listener: CallMediaListener | undefined
  private readonly orphanProbeMs: number
  private readonly probeLimitMs: number
  /** Prompts and hold music; undefined when the anchor cannot play (play() and hold() refuse). */
  private readonly audio: CallAudio | undefined
  /** Trunk channels whose release failed (call id -> trunk id): a reconcile gives them back. */
  private readonly unreleased = new Map<string, string>()
  /** Outside legs of transfers out (leg call id -> its customer call's handler): their events never reach the engine. */
  private readonly outsideLegs = new Map<string, (event: CallEventName, payload: CallEventMap[CallEventName]) => void>()
  /** The reconcile after the last reconnect (tests and the status page wait on it). */
  lastReconcile: Promise<ReconcileDecision> | undefined

  constructor(opts: DrachtioTelephonyOptions) {
    if (opts.trunks.length === 0) throw new TelephonyRefused('no trunk configured')
    for (const t of opts.trunks) this.trunks.set(t.id, validateTrunk(t))
    this.defaultTrunkId = opts.defaultTrunkId ?? opts.trunks[0]!.id
    if (!this.trunks.has(this.defaultTrunkId)) throw new TelephonyRefused(`default trunk ${this.defaultTrunkId} is not configured`)
    this.conn = opts.connection
    this.media = opts.media
    this.log = opts.logger.child({ component: 'drachtio-telephony' })
    this.events = new CallEventBus((err, event) =>
      this.log.error({ err: err instanceof Error ? err.message : String(err), event }, 'call event listener threw'),
    )
    this.clock = opts.clock ?? new RealClock()
    this.minRingMs = opts.minRingTimeoutMs ?? MIN_RING_TIMEOUT_MS
    this.caps = opts.caps
    this.breaker = opts.breaker ?? new GatewayBreaker(this.clock)
    this.agents = opts.agents
    this.maxCallMs = opts.maxCallMs ?? 0
    this.recording = opts.recording
    this.listener = opts.listener
    this.orphanProbeMs = opts.orphanProbeMs ?? 30_000
    this.probeLimitMs = opts.probeLimitMs ?? 40_000
    const media = this.media
    this.audio = canPlay(media)
      ? new CallAudio({ media, prompts: opts.prompts ?? new PromptLibrary(), clock: this.clock, holdMusic: opts.holdMusic ?? 'hold-music' })
      : undefined
    // the agent hanging up their phone is the agent hanging up on the customer they are with
    opts.agents?.onSessionEnded?.((agentId, sessionId) => {
      for (const call of [...this.calls.values()]) {
        if (call.state === 'answered' && call.consult?.sessionId === sessionId) {
          // the consulted agent hung up: the consultation is over, the customer goes back to their agent, and the
          // campaign loop hears it (the consulted agent's part of the call ends: wrap-up)
          call.log.info({ agentId }, 'consulted agent session ended; cancelling the consultation')
          const callId = call.request.callId
          void this.cancelConsult(callId)
            .catch((err: unknown) =>
              call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'consultation not cancelled cleanly'),
            )
            .finally(() => this.events.emit(CallEvents.ConsultEnded, { callId, at: this.clock.now(), agentId }))
          continue
        }
        if (call.state !== 'answered' || call.bridgedTo?.sessionId !== sessionId) continue
        if (call.outside && !call.outside.joined) {
          // a blind transfer out under way: the agent may well hang up; the customer waits for the outside number
          call.log.info({ agentId, sessionId }, 'agent session ended while the outside number rings; the transfer goes on')
          call.outside.agentGone = true
          continue
        }
        call.log.info({ agentId, sessionId }, 'agent session ended; hanging up the customer')
        // the session's media is being released with it: nothing to part
        call.bridgedTo = undefined
        this.endWithBye(call, 'agent')
      }
    })
    // An INVITE whose admin connection is gone never hears its answer through it: such attempts end now, so the
    // engine's accounting (channels, lead in flight) is released; answered dialogs live on in the server.
    this.conn.on(ConnectionEvents.Down, () => {
      for (const call of [...this.calls.values()]) {
        if (call.state !== 'trying') continue
        call.log.warn('drachtio connection lost while the call was being set up')
        this.fail(call, 'trunk-unavailable')
      }
    })
    this.conn.on(ConnectionEvents.Up, (up: { generation: number }) => {
      if (up.generation < 2) return
      this.lastReconcile = this.reconcile().catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'reconcile after reconnect failed')
        return { keep: [], end: [], releaseChannels: [], deleteMedia: [] }
      })
    })
  }

  /**
   * After a reconnect: probes every answered call's dialog on the new connection, gathers what Redis and the media
   * server still hold for this engine's calls, decides (live-call-reconcile.ts) and carries it out. Calls still up
   * are kept (and probed from now on); the others end once, releasing their channel and media as any call does.
   */
  async reconcile(): Promise<ReconcileDecision> {
    const carried = [...this.calls.values()].filter((c) => c.state !== 'done')
    const calls: CarriedCall[] = await Promise.all(
      carried.map(async (c): Promise<CarriedCall> => {
        const base = { callId: c.request.callId, trunkId: c.trunk.id }
        if (c.state !== 'answered') return { ...base, state: 'trying' }
        return { ...base, state: 'answered', ...(c.dialog ? { probe: await requestInDialog(this.conn, c.dialog.id, 'OPTIONS', this.probeLimitMs) } : {}) }
      }),
    )
    const channels: { trunkId: string; callId: string }[] = []
    if (this.caps) {
      const ours = new Map<string, string>([...this.unreleased, ...carried.map((c) => [c.request.callId, c.trunk.id] as [string, string])])
      for (const [callId, trunkId] of ours) if (await this.caps.holds(trunkId, callId)) channels.push({ trunkId, callId })
    }
    const media = canAudit(this.media) ? await this.media.strays() : []
    const decision = reconcileLiveCalls({ calls, channels, media, keepMedia: [] })
    for (const callId of decision.keep) {
      const call = this.calls.get(callId)
      if (!call || call.state !== 'answered') continue
      call.orphaned = true
      call.log.info('call still up after the reconnect; kept (probed every %d ms from now on)', this.orphanProbeMs)
      this.armOrphanProbe(call)
    }
    for (const { callId, why } of decision.end) {
      const call = this.calls.get(callId)
      if (!call || call.state === 'done') continue
      call.log.warn({ why }, 'call lost with the drachtio connection; ending it')
      if (call.state === 'trying') {
        this.fail(call, 'trunk-unavailable')
        continue
      }
      call.orphaned = true
      // the far end may still be there although the probe failed: tell it, on the new connection
      this.endWithBye(call, 'system')
    }
    for (const { trunkId, callId } of decision.releaseChannels) {
      await this.caps?.release(trunkId, callId).then(
        () => this.unreleased.delete(callId),
        (err: unknown) => this.log.error({ callId, trunkId, err: err instanceof Error ? err.message : String(err) }, 'stray trunk channel not released'),
      )
    }
    for (const callId of decision.deleteMedia) {
      if (!canAudit(this.media)) break
      await this.media.purge(callId).catch((err: unknown) =>
        this.log.error({ callId, err: err instanceof Error ? err.message : String(err) }, 'stray media session not deleted'),
      )
    }
    this.log.info(
      { kept: decision.keep.length, ended: decision.end.length, channelsReleased: decision.releaseChannels.length, mediaDeleted: decision.deleteMedia.length },
      'live calls reconciled after reconnecting to drachtio',
    )
    return decision
  }

  /** A kept call's far end hanging up is not reported to us: an OPTIONS now and then finds out. */
  private armOrphanProbe(call: LiveCall): void {
    const dialog = call.dialog
    if (!dialog) return
    call.orphanWatch?.stop()
    call.orphanWatch = new DialogWatch({
      connection: this.conn,
      clock: this.clock,
      dialogId: dialog.id,
      method: 'OPTIONS',
      everyMs: this.orphanProbeMs,
      limitMs: this.probeLimitMs,
      current: () => call.state === 'answered',
      // a connection that is down again says nothing about the far end: the next reconnect's reconcile decides
      whileDown: 'stop',
      gone: (probe) => {
        call.log.info({ probe }, 'kept call no longer answers in its dialog; ending it')
        this.endWithBye(call, 'customer')
      },
    })
  }

  /**
   * RFC 4028 refresh by in-dialog UPDATE (no SDP, so the media is untouched): answered, the session goes on; a 481, a
   * 408 or no answer is a dead peer, and the call is ended. While drachtio is down the refresh waits for the reconnect
   * (whose reconcile probes the call anyway).
   */
  private armRefresh(call: LiveCall, se: SessionExpires): void {
    const dialog = call.dialog
    if (!dialog) return
    call.refreshWatch?.stop()
    call.refreshWatch = new DialogWatch({
      connection: this.conn,
      clock: this.clock,
      dialogId: dialog.id,
      method: 'UPDATE',
      headers: { 'Session-Expires': `${se.seconds};refresher=uac`, Supported: 'timer' },
      everyMs: refreshDelayMs(se),
      limitMs: this.probeLimitMs,
      current: () => call.state === 'answered',
      whileDown: 'ask-again',
      gone: (r) => {
        call.log.warn({ refresh: r }, 'session refresh not answered: the far end is gone; ending the call')
        this.endWithBye(call, 'customer')
      },
    })
  }

  /** Ends an answered call (`ended`, with who ended it) and sends its far end the BYE. */
  private endWithBye(call: LiveCall, endedBy: EndedBy): void {
    const dialog = call.dialog
    this.end(call, endedBy)
    this.bye(call, dialog)
  }

  /** Sends the BYE that ends an answered call: on the dialog, or on the new connection when the dialog is orphaned. */
  private bye(call: LiveCall, dialog: UacDialog | undefined): void {
    if (!dialog) return
    if (call.orphaned) {
      void requestInDialog(this.conn, dialog.id, 'BYE', this.probeLimitMs).then((r) => {
        if (r.kind !== 'response') call.log.warn({ result: r }, 'BYE on the new connection not answered')
      })
      return
    }
    dialog.destroy({}, (err) => {
      if (err) call.log.warn({ err: String(err) }, 'BYE not sent')
    })
  }

  async originate(request: OriginateRequest): Promise<void> {
    if (this.calls.has(request.callId)) throw new TelephonyRefused(`originate: call ${request.callId} already exists`)
    if (!(request.ringTimeoutMs >= this.minRingMs)) {
      throw new TelephonyRefused(`originate: ringTimeoutMs ${request.ringTimeoutMs} is below the ${this.minRingMs} ms minimum`)
    }
    if (!this.conn.connected) throw new TelephonyRefused('originate: not connected to drachtio; not dialing')
    const trunk = this.trunks.get(request.trunkId ?? this.defaultTrunkId)
    if (!trunk) throw new TelephonyRefused(`originate: unknown trunk ${request.trunkId}`)
    if (this.caps && (trunk.maxChannels || trunk.maxCps)) {
      const grant = await this.caps.acquire(trunk.id, request.callId, { maxChannels: trunk.maxChannels ?? 0, maxCps: trunk.maxCps ?? 0 })
      if (!grant.granted) {
        throw new TelephonyRefused(
          grant.limit === 'channels'
            ? `originate: trunk ${trunk.id} has all ${grant.inUse} channels in use`
            : `originate: trunk ${trunk.id} is at its calls-per-second cap; next token in ${grant.retryInMs} ms`,
          grant,
        )
      }
    }
    const call: LiveCall = {
      holdsChannel: this.caps !== undefined && Boolean(trunk.maxChannels || trunk.maxCps),
      request,
      trunk,
      log: this.log.child({ callId: request.callId, campaignId: request.campaignId, trunkId: trunk.id, to: maskPhone(request.number) }),
      state: 'trying',
      cancel: 'none',
      rang: false,
      earlyMedia: false,
      progressed: false,
    }
    this.calls.set(request.callId, call)
    void this.run(call).catch((err: unknown) => {
      // run() handles SIP outcomes itself; this is a bug or a dead connection: the call still ends exactly once
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'call attempt failed unexpectedly')
      this.fail(call, 'trunk-unavailable')
    })
  }

  /**
   * Joins an answered customer to the agent's nailed-up session by media alone (no SIP towards either phone), so the
   * customer is with the agent as soon as rtpengine has the two re-offers. Refused when the call is not answered, the
   * agent has no session up, or the media anchor cannot join.
   */
  async bridge(callId: string, agentId: string): Promise<void> {
    const call = this.calls.get(callId)
    if (!call || call.state !== 'answered') throw new TelephonyRefused(`bridge: call ${callId} is not answered`)
    if (call.bridgedTo) throw new TelephonyRefused(`bridge: call ${callId} is already with agent ${call.bridgedTo.agentId}`)
    const sessionId = this.agents?.sessionId(agentId)
    if (!sessionId) throw new TelephonyRefused(`bridge: agent ${agentId} has no session up`)
    if (!canJoin(this.media)) throw new TelephonyRefused('bridge: the media anchor cannot join calls')
    call.bridgedTo = { agentId, sessionId }
    // the customer's audio goes to the agent from now on: no analysis is listening for it any more
    this.stopListening(call)
    // `answered` is emitted once the anchor has the carrier's SDP; this only catches an answer the anchor refused
    if (!(await call.mediaAnswered) || call.state !== 'answered') {
      call.bridgedTo = undefined
      throw new TelephonyRefused(`bridge: call ${callId} has no media to join (ended, or its answer was refused)`)
    }
    try {
      await this.media.join(callId, sessionId)
    } catch (err) {
      call.bridgedTo = undefined
      call.log.error({ agentId, sessionId, err: err instanceof Error ? err.message : String(err) }, 'media join failed')
      throw err
    }
    // the call may have ended while rtpengine was re-offering: finish() parted what it could, nothing to announce
    if (call.state !== 'answered') return
    call.log.info({ agentId, sessionId }, 'customer joined to the agent session')
    this.emit(CallEvents.Bridged, { callId, agentId, at: this.clock.now() })
    if (this.recording?.wanted(call.request.campaignId) && canRecord(this.media)) {
      // a recording that cannot start costs the recording, never the call
      void this.setRecording(call, true).catch((err: unknown) =>
        call.log.error({ agentId, err: err instanceof Error ? err.message : String(err) }, 'recording not started; the call goes on unrecorded'),
      )
    }
  }

  /**
   * Plays a prompt to the customer (the safe-harbor message to an answered call no agent took) and resolves once it
   * has played out or the call ended. Refused unless the call is answered with its media anchored, the anchor plays,
   * and the prompt exists.
   */
  async play(callId: string, prompt: string): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'play')
    if (!this.audio) throw new TelephonyRefused('play: the media anchor cannot play prompts')
    await this.audio.play(callId, prompt, call.log)
  }

  /** The call, answered and with its media anchored (what play and hold act on); refused otherwise. */
  private async answeredWithMedia(callId: string, what: string): Promise<LiveCall> {
    const call = this.calls.get(callId)
    if (!call || call.state !== 'answered') throw new TelephonyRefused(`${what}: call ${callId} is not answered`)
    if (!(await call.mediaAnswered) || call.state !== 'answered') {
      throw new TelephonyRefused(`${what}: call ${callId} has no media (ended, or its answer was refused)`)
    }
    return call
  }

  /**
   * Pauses (`on` false: card details read out, say) or resumes the call's recording; resuming a call never recorded
   * starts its recording. Refused unless the call is answered and the anchor records; rtpengine's errors are thrown.
   */
  async record(callId: string, on: boolean): Promise<void> {
    const call = this.calls.get(callId)
    if (!call || call.state !== 'answered') throw new TelephonyRefused(`record: call ${callId} is not answered`)
    if (!canRecord(this.media)) throw new TelephonyRefused('record: the media anchor cannot record')
    await this.setRecording(call, on)
    call.log.info({ recording: on }, on ? 'recording on' : 'recording paused')
  }

  /**
   * The customer is with another agent now (a transfer): the recording goes on, and the new agent becomes its agent
   * leg, the earlier ones kept (their voices are in it; processing puts every agent on the agent channel).
   */
  private recordingAgentChanged(call: LiveCall): void {
    const r = call.recording
    const now = call.bridgedTo
    if (!r || !now || r.agent?.sessionId === now.sessionId) return
    if (r.agent) (r.earlierAgents ??= []).push(r.agent)
    const source = canRecord(this.media) ? this.media.mediaSource?.(now.sessionId) : undefined
    r.agent = { party: 'agent', id: now.agentId, sessionId: now.sessionId, ...(source !== undefined ? { source } : {}) }
  }

  /** Starts or pauses the call's recording after whatever recording command is in flight. */
  private async setRecording(call: LiveCall, on: boolean): Promise<void> {
    const media = this.media as MediaAnchor & MediaRecorder
    const callId = call.request.callId
    const r = (call.recording ??= { on: false, segments: 0, recordedMs: 0, ops: Promise.resolve() })
    this.recordingAgentChanged(call)
    const op = r.ops.then(async () => {
      // the call ended while an earlier command was in flight: finish() closes the recording
      if (r.on === on || call.state !== 'answered') return
      if (on) {
        await media.startRecording(callId, recordingMetadata(call.request, call.bridgedTo?.agentId ?? call.recording?.agent?.id))
        const now = this.clock.now()
        r.on = true
        r.onSince = now
        r.startedAt ??= now
        r.segments++
        if (r.segments === 1) this.recordingStarted(call, r, now)
      } else {
        await media.stopRecording(callId, true)
        r.recordedMs += this.clock.now() - (r.onSince ?? this.clock.now())
        r.on = false
      }
    })
    r.ops = op.catch(() => undefined)
    await op
  }

  /**
   * Puts a bridged customer on hold (`on`): they hear the hold music, agent and customer stop hearing each other, the
   * agent's session stays up. `on` false takes them off hold. Idempotent; refused unless the call is with an agent.
   */
  async hold(callId: string, on: boolean): Promise<void> {
    const call = await this.answeredWithMedia(callId, on ? 'hold' : 'unhold')
    if (!call.bridgedTo) throw new TelephonyRefused(`${on ? 'hold' : 'unhold'}: call ${callId} is not with an agent`)
    if (!this.audio) throw new TelephonyRefused('hold: the media anchor cannot play hold music')
    await this.audio.hold(callId, on, call.log)
  }

  /** Whether the customer is on hold (the agent desk and supervisors show it). */
  onHold(callId: string): boolean {
    return this.audio?.isHeld(callId) === true
  }

  /**
   * Blind transfer by media alone: the customer leaves the first agent's session (its media back to its own phone)
   * and is joined to the target's, then the target's phone gets an INFO in its session naming the call and the
   * customer (`X-Cadence-*` headers). A customer on hold comes off hold with the new agent. If the join fails the
   * customer is put back with the first agent and the error thrown. The recording (if any) goes on; its agent leg
   * stays the first agent's until the next pause/resume.
   */
  async transfer(callId: string, toAgentId: string, context: TransferContext = {}): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'transfer')
    const from = call.bridgedTo
    if (!from) throw new TelephonyRefused(`transfer: call ${callId} is not with an agent`)
    if (call.consult) throw new TelephonyRefused(`transfer: call ${callId} is in a consultation; complete or cancel it`)
    if (from.agentId === toAgentId) throw new TelephonyRefused(`transfer: call ${callId} is already with agent ${toAgentId}`)
    const to = this.sessionOf(toAgentId, 'transfer')
    const media = this.joiner('transfer')
    const held = this.onHold(callId)
    await this.moveCustomer(call, media, from, to)
    if (call.state !== 'answered') return
    if (held && this.audio) await this.audio.hold(callId, false, call.log)
    this.recordingAgentChanged(call)
    call.log.info({ fromAgentId: from.agentId, toAgentId, sessionId: to.sessionId }, 'customer transferred to another agent session')
    this.tellTransferred(call, from.agentId, toAgentId, context)
  }

  /**
   * Blind transfer to an outside number (the port's contract): the customer holds while the number is dialled as its
   * own call (`<callId>.outside`: trunk caps, gateways, crank-back and ring timeout as for any call; its events stay
   * here). Answered, the customer leaves the agent's session and is joined to it; from then on either side hanging up
   * ends both. Not answered, the customer comes off hold with the agent and OutsideTransferFailed says why.
   */
  async transferOut(callId: string, to: OutsideTransfer, context: TransferContext = {}): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'transfer out')
    const from = call.bridgedTo
    if (!from) throw new TelephonyRefused(`transfer out: call ${callId} is not with an agent`)
    if (call.consult) throw new TelephonyRefused(`transfer out: call ${callId} is in a consultation; complete or cancel it`)
    if (call.outside) throw new TelephonyRefused(`transfer out: call ${callId} is already being transferred out`)
    const media = this.joiner('transfer out')
    const audio = this.audio
    if (!audio) throw new TelephonyRefused('transfer out: the media anchor cannot hold the customer')
    const leg: OutsideLeg = { legId: `${callId}.outside`, to: maskPhone(to.number), joined: false }
    type LegResult = { answered: true } | { answered: false; cause: FailureCause; sipStatus?: number; sipReason?: string }
    let settle!: (r: LegResult) => void
    const result = new Promise<LegResult>((resolve) => (settle = resolve))
    this.outsideLegs.set(leg.legId, (event, payload) => {
      if (event === CallEvents.Answered) settle({ answered: true })
      else if (event === CallEvents.Failed) {
        const f = payload as CallEventMap['failed']
        this.outsideLegs.delete(leg.legId)
        settle({ answered: false, cause: f.cause, ...(f.sipStatus !== undefined ? { sipStatus: f.sipStatus, sipReason: f.sipReason ?? '' } : {}) })
      } else if (event === CallEvents.Ended) {
        this.outsideLegs.delete(leg.legId)
        leg.ended = true
        // before the join: a hang-up as it answered fails the transfer, or (answered already) ends the call after it
        if (!leg.joined) settle({ answered: false, cause: 'cancelled' })
        else this.outsidePartyLeft(call, leg)
      }
    })
    call.outside = leg
    await audio.hold(callId, true, call.log)
    call.log.info({ agentId: from.agentId, to: leg.to, customerId: context.customerId }, 'transfer out: dialling the outside number, customer on hold')
    try {
      await this.originate({
        callId: leg.legId,
        campaignId: call.request.campaignId,
        leadId: call.request.leadId,
        number: to.number,
        ringTimeoutMs: to.ringTimeoutMs,
        amd: false,
        ...(to.trunkId !== undefined ? { trunkId: to.trunkId } : {}),
        ...(to.callerId !== undefined ? { callerId: to.callerId } : {}),
      })
    } catch (err) {
      this.outsideLegs.delete(leg.legId)
      const refused = err instanceof TelephonyRefused
      call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'transfer out: the outside number could not be dialled')
      settle({ answered: false, cause: refused && err.cap ? 'congestion' : 'trunk-unavailable', ...(refused ? {} : { sipStatus: 503, sipReason: 'Not dialled' }) })
    }
    const r = await result
    if (!r.answered || leg.ended || call.state !== 'answered' || leg.agentGone) {
      if (r.answered && !leg.ended) void this.hangup(leg.legId, 'transfer-abandoned')
      call.outside = undefined
      if (call.state !== 'answered') throw new TelephonyRefused(`transfer out: call ${callId} ended while the outside number rang`)
      // answered and gone again before we could join: as good as no answer
      const failed = r.answered ? new OutsideTransferFailed('cancelled') : new OutsideTransferFailed(r.cause, r.sipStatus, r.sipReason)
      if (leg.agentGone) {
        // nobody to hand the customer back to
        call.log.info({ to: leg.to, cause: failed.failure }, 'transfer out failed and the agent has gone; ending the call')
        this.endWithBye(call, 'agent')
        throw failed
      }
      await audio.hold(callId, false, call.log).catch((err: unknown) =>
        call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'customer not taken off hold after the failed transfer out'),
      )
      call.log.info({ to: leg.to, cause: failed.failure, sipStatus: failed.sipStatus }, 'transfer out failed; the customer is back with the agent')
      throw failed
    }
    try {
      await media.part(from.sessionId)
      await audio.hold(callId, false, call.log)
      await media.join(callId, leg.legId)
    } catch (err) {
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'transfer out: join failed; the customer goes back to the agent')
      call.outside = undefined
      void this.hangup(leg.legId, 'join-failed')
      await media.join(callId, from.sessionId).catch(() => undefined)
      throw err
    }
    if (call.state !== 'answered') return
    leg.joined = true
    call.bridgedTo = undefined
    call.log.info({ agentId: from.agentId, to: leg.to }, 'customer transferred to the outside number; the agent is free')
    if (leg.ended) this.outsidePartyLeft(call, leg)
  }

  /** The outside party of a transfer out hung up: the customer's call ends with it. */
  private outsidePartyLeft(call: LiveCall, leg: OutsideLeg): void {
    if (call.state !== 'answered' || call.outside !== leg) return
    call.log.info({ to: leg.to }, 'the outside party hung up; ending the call')
    this.endWithBye(call, 'agent')
  }

  /**
   * Attended transfer, first step: the customer is put on hold (music) and the agent's session is joined to the
   * target agent's, so the two talk. completeConsult() or cancelConsult() ends it; the call ending ends it too.
   */
  async consult(callId: string, toAgentId: string): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'consult')
    const from = call.bridgedTo
    if (!from) throw new TelephonyRefused(`consult: call ${callId} is not with an agent`)
    if (call.consult) throw new TelephonyRefused(`consult: call ${callId} is already in a consultation with ${call.consult.agentId}`)
    if (from.agentId === toAgentId) throw new TelephonyRefused(`consult: agent ${toAgentId} already has call ${callId}`)
    const to = this.sessionOf(toAgentId, 'consult')
    const media = this.joiner('consult')
    if (!this.audio) throw new TelephonyRefused('consult: the media anchor cannot hold the customer')
    await this.audio.hold(callId, true, call.log)
    call.consult = to
    try {
      await media.join(from.sessionId, to.sessionId)
    } catch (err) {
      call.consult = undefined
      await media.join(callId, from.sessionId).catch(() => undefined)
      await this.audio.hold(callId, false, call.log).catch(() => undefined)
      throw err
    }
    call.log.info({ agentId: from.agentId, consulting: toAgentId }, 'consultation: customer on hold, agents joined')
  }

  /** The consulted agent takes the customer (off hold); the first agent's session goes back to its phone. */
  async completeConsult(callId: string, context: TransferContext = {}): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'complete consult')
    const from = call.bridgedTo
    const to = call.consult
    if (!from || !to) throw new TelephonyRefused(`complete consult: call ${callId} has no consultation`)
    const media = this.joiner('complete consult')
    await media.part(to.sessionId)
    call.consult = undefined
    await this.moveCustomer(call, media, from, to)
    if (call.state !== 'answered') return
    if (this.audio) await this.audio.hold(callId, false, call.log)
    this.recordingAgentChanged(call)
    call.log.info({ fromAgentId: from.agentId, toAgentId: to.agentId }, 'consultation completed: customer with the consulted agent')
    this.tellTransferred(call, from.agentId, to.agentId, context)
  }

  /** The consultation is dropped: the consulted agent's session goes back to its phone, the customer back to the agent. */
  async cancelConsult(callId: string): Promise<void> {
    const call = await this.answeredWithMedia(callId, 'cancel consult')
    const from = call.bridgedTo
    const to = call.consult
    if (!from || !to) throw new TelephonyRefused(`cancel consult: call ${callId} has no consultation`)
    const media = this.joiner('cancel consult')
    call.consult = undefined
    await media.part(to.sessionId)
    await media.join(callId, from.sessionId)
    if (this.audio && call.state === 'answered') await this.audio.hold(callId, false, call.log)
    call.log.info({ agentId: from.agentId, consulted: to.agentId }, 'consultation cancelled: customer back with the agent')
  }

  private sessionOf(agentId: string, what: string): { agentId: string; sessionId: string } {
    const sessionId = this.agents?.sessionId(agentId)
    if (!sessionId) throw new TelephonyRefused(`${what}: agent ${agentId} has no session up`)
    return { agentId, sessionId }
  }

  private joiner(what: string): MediaAnchor & MediaJoiner {
    const media = this.media
    if (!canJoin(media)) throw new TelephonyRefused(`${what}: the media anchor cannot join calls`)
    return media
  }

  /**
   * The customer leaves `from`'s session (its media back to that phone) and joins `to`'s. If the join fails the
   * customer is put back with `from` and the error thrown.
   */
  private async moveCustomer(call: LiveCall, media: MediaAnchor & MediaJoiner, from: { agentId: string; sessionId: string }, to: { agentId: string; sessionId: string }): Promise<void> {
    call.bridgedTo = to
    try {
      await media.part(from.sessionId)
      await media.join(call.request.callId, to.sessionId)
    } catch (err) {
      call.log.error({ toAgentId: to.agentId, err: err instanceof Error ? err.message : String(err) }, 'transfer failed; the customer goes back to the first agent')
      call.bridgedTo = from
      await media.join(call.request.callId, from.sessionId).catch(() => undefined)
      throw err
    }
  }

  /** The new agent's phone hears who the customer is: an INFO in its session. A courtesy: the transfer stands regardless. */
  private tellTransferred(call: LiveCall, fromAgentId: string, toAgentId: string, context: TransferContext): void {
    const headers: Record<string, string> = { 'X-Cadence-Call-Id': call.request.callId, 'X-Cadence-Transferred-By': fromAgentId }
    if (context.customerId !== undefined) headers['X-Cadence-Customer-Id'] = context.customerId
    if (context.leadId !== undefined) headers['X-Cadence-Lead-Id'] = context.leadId
    if (context.campaignId !== undefined) headers['X-Cadence-Campaign-Id'] = context.campaignId
    void this.agents?.inform?.(toAgentId, headers).then((r) => {
      if (r.kind !== 'response' || r.status >= 300) call.log.warn({ toAgentId, result: r }, "the target agent's phone did not take the transfer INFO")
    })
  }

  async hangup(callId: string, cause: string): Promise<void> {
    const call = this.calls.get(callId)
    if (!call || call.state === 'done') return
    call.log.info({ cause }, 'hangup requested')
    if (call.state === 'answered') {
      this.endWithBye(call, 'system')
      return
    }
    this.cancelAttempt(call, 'hangup')
  }

  on<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    this.events.on(event, listener)
  }

  off<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    this.events.off(event, listener)
  }

  /** A call this adapter carries, for supervision (its campaign scopes who may listen; only an answered one can be). */
  liveCall(callId: string): { campaignId: string; answered: boolean; ringing: boolean; agentId?: string } | undefined {
    const call = this.calls.get(callId)
    if (!call || call.state === 'done') return undefined
    return {
      campaignId: call.request.campaignId,
      answered: call.state === 'answered' && call.announced === true,
      ringing: call.state === 'trying' && call.rang,
      ...(call.bridgedTo ? { agentId: call.bridgedTo.agentId } : {}),
    }
  }

  /** Calls not yet ended (a test's and the status page's view of leaks). */
  activeCalls(): number {
    return this.calls.size
  }

  private async run(call: LiveCall): Promise<void> {
    const { request, trunk } = call
    let sdp: string
    try {
      sdp = await this.media.offer(request.callId)
    } catch (err) {
      // no INVITE went out: the carrier was never asked, so this is our media relay's congestion, not the trunk's
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'media anchor refused the offer; not dialing')
      this.fail(call, 'congestion', MEDIA_UNAVAILABLE)
      return
    }
    const user = dialString(trunk, request.number)
    const callingNumber = presentedCallerId(trunk, request.callerId)
    let last: { status: number; reason: string } = { status: 503, reason: 'No gateway tried' }
    const gateways = this.breaker.order(trunk.gateways)
    for (let i = 0; i < gateways.length; i++) {
      if (call.cancel !== 'none') break
      const gateway = gateways[i]!
      const uri = gatewayUri(gateway, user)
      call.progressed = false
      call.invite = undefined
      this.armRingTimer(call)
      call.log.info({ gateway: gateway.address, attempt: i + 1 }, 'INVITE to gateway')
      let dialog: UacDialog
      try {
        dialog = await createUac(
          this.conn.srf,
          uri,
          {
            localSdp: sdp,
            headers: { 'X-Cadence-Call-Id': request.callId },
            ...(callingNumber !== undefined ? { callingNumber } : {}),
            ...(gateway.auth ? { auth: gateway.auth } : {}),
          },
          (req) => {
            call.invite = req
            // hangup() or the timer came before drachtio told us the INVITE was out: cancel now
            if (call.cancel !== 'none') this.cancelAttempt(call, call.cancel)
          },
          (res) => this.onProvisional(call, res),
        )
      } catch (err) {
        this.clearRingTimer(call)
        if (!isUacFailure(err)) throw err
        last = { status: err.status, reason: err.reason }
        // re-read: hangup() or the ring timer may have changed it while we awaited
        const cancel: OurCancel = call.cancel as OurCancel
        const gatewayTimedOut = cancel === 'ring-timeout' && !call.progressed
        const more = i + 1 < gateways.length
        const gatewayFault = gatewayTimedOut || (cancel === 'none' && mayCrankBack(err.status, call.earlyMedia))
        // our own hangup says nothing about the gateway
        if (cancel !== 'hangup') this.breaker.record(gateway.address, !gatewayFault)
        if (more && gatewayFault) {
          call.log.warn({ status: err.status, reason: err.reason, gateway: gateway.address }, 'gateway failed; trying the next one')
          call.cancel = 'none'
          continue
        }
        call.log.info({ status: err.status, reason: err.reason }, 'call failed')
        this.fail(call, causeOfStatus(err.status, cancel), last)
        return
      }
      this.clearRingTimer(call)
      this.breaker.record(gateway.address, true)
      this.onAnswered(call, dialog)
      return
    }
    this.fail(call, call.cancel === 'hangup' ? 'cancelled' : causeOfStatus(last.status, call.cancel), last)
  }

  private onProvisional(call: LiveCall, res: UacProvisional): void {
    if (call.state !== 'trying' || res.status <= 100) return
    call.progressed = true
    const at = this.clock.now()
    if (!call.rang) {
      call.rang = true
      this.emit(CallEvents.Ringing, { callId: call.request.callId, at })
    }
    if (res.status === 183 && res.body && res.body.length > 0 && !call.earlyMedia) {
      call.earlyMedia = true
      // anchor the early media too: announcements and SIT tones before answer are what screening learns from
      const toTag = res.getParsedHeader('To')?.params?.tag ?? ''
      void this.media.answer(call.request.callId, res.body, toTag).then(
        () => this.screenEarlyMedia(call),
        (err: unknown) => {
          call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'early media not anchored')
        },
      )
      this.emit(CallEvents.EarlyMedia, { callId: call.request.callId, at })
    }
  }

  /** Listens to the early media for a SIT or a carrier announcement until the answer (or the attempt's end). */
  private screenEarlyMedia(call: LiveCall): void {
    if (!this.listener || call.state !== 'trying' || call.cancel !== 'none' || call.listening) return
    const from = this.media.engineFacing?.(call.request.callId)
    if (!from) {
      call.log.warn('early media anchored but its address towards the engine is unknown; not screened')
      return
    }
    const { callId, campaignId, number } = call.request
    try {
      call.listening = this.listener.screen({ callId, campaignId, number, from, startedAt: this.clock.now() }, (e) => this.onEarlyEvidence(call, e))
    } catch (err) {
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'early media screen not started')
    }
  }

  /** A SIT or an announcement: nobody will answer this number, so the attempt ends now, before any agent is involved. */
  private onEarlyEvidence(call: LiveCall, e: InvalidNumberEvent): void {
    if (call.state !== 'trying' || call.heard) return
    call.heard = { reason: e.reason, detail: e.detail }
    call.log.info({ reason: e.reason, detail: e.detail, confidence: e.confidence }, 'early media says the number cannot be reached; cancelling')
    this.stopListening(call)
    this.cancelAttempt(call, 'early-media')
  }

  private stopListening(call: LiveCall): void {
    const l = call.listening
    call.listening = undefined
    if (call.amdTimer) this.clock.clearTimeout(call.amdTimer)
    call.amdTimer = undefined
    if (!l) return
    try {
      l.close()
    } catch (err) {
      call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'media analysis did not close cleanly')
    }
  }

  /**
   * AMD from the anchored answer on: the first decision is emitted as amd-result at once (the dialer acts on it; the
   * time it took counts against the 2-second rule from there, as in the simulator). A `machine` decision is followed
   * by the greeting's end or a beep while the call is still up. No audio: `timeout` once AMD's time is over.
   */
  private startAmd(call: LiveCall): void {
    const { callId, campaignId, number } = call.request
    const from = this.listener ? this.media.engineFacing?.(callId) : undefined
    if (!this.listener || !from) {
      this.amdResult(call, { outcome: 'timeout', reason: this.listener ? 'no media address to analyse' : 'no AMD on this engine' })
      return
    }
    let listening: Listening
    try {
      const listened = { callId, campaignId, number, from, startedAt: this.clock.now(), ...(call.request.amdThresholds ? { amdThresholds: call.request.amdThresholds } : {}) }
      listening = this.listener.amd(
        listened,
        (d) => {
          this.amdResult(call, { outcome: d.outcome, reason: d.reason })
          if (d.final) this.stopListening(call)
        },
        (e) => this.onAnsweredEvidence(call, e),
      )
    } catch (err) {
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'AMD not started')
      this.amdResult(call, { outcome: 'timeout', reason: 'AMD could not listen' })
      return
    }
    call.listening = listening
    call.amdTimer = this.clock.setTimeout(() => {
      call.amdTimer = undefined
      if (call.amdDecided || call.state !== 'answered') return
      this.stopListening(call)
      this.amdResult(call, { outcome: 'timeout', reason: `no decision in ${listening.decideWithinMs + AMD_NO_AUDIO_GRACE_MS}ms (no audio reached AMD)` })
    }, listening.decideWithinMs + AMD_NO_AUDIO_GRACE_MS)
  }

  /**
   * A SIT or an announcement after the 200 OK: the carrier answered with a recording, not a person. Unless an agent
   * already has the call, we hang up and say why, so the number is learned and nobody counts it as an abandon.
   */
  private onAnsweredEvidence(call: LiveCall, e: InvalidNumberEvent): void {
    if (call.state !== 'answered' || call.bridgedTo || call.heard) return
    call.heard = { reason: e.reason, detail: e.detail }
    call.log.info({ reason: e.reason, detail: e.detail, confidence: e.confidence }, 'the answer is a carrier recording, not a person; hanging up')
    this.stopListening(call)
    const dialog = call.dialog
    this.end(call, 'system')
    dialog?.destroy({}, (err) => {
      if (err) call.log.warn({ err: String(err) }, 'BYE not sent')
    })
  }

  private amdResult(call: LiveCall, r: { outcome: AmdDecision['outcome']; reason: string }): void {
    if (call.state !== 'answered') return
    if (!call.amdDecided) {
      call.amdDecided = true
      if (call.amdTimer) this.clock.clearTimeout(call.amdTimer)
      call.amdTimer = undefined
    }
    call.log.info({ outcome: r.outcome, reason: r.reason }, 'AMD decided')
    this.emit(CallEvents.AmdResult, { callId: call.request.callId, at: this.clock.now(), outcome: r.outcome, reason: r.reason })
  }

  private onAnswered(call: LiveCall, dialog: UacDialog): void {
    // the screen is for early media only: what follows the answer is AMD's
    this.stopListening(call)
    if (call.state !== 'trying' || call.cancel !== 'none') {
      // the 200 crossed our CANCEL: the far end answered a call we no longer want
      call.log.info('answered after our CANCEL; sending BYE')
      dialog.destroy()
      this.fail(call, call.cancel === 'hangup' ? 'cancelled' : 'no-answer', { status: 487, reason: 'Request Terminated' })
      return
    }
    call.state = 'answered'
    call.dialog = dialog
    call.answeredAt = this.clock.now()
    dialog.on('destroy', () => {
      if (call.state !== 'answered') return
      call.log.info('far end hung up')
      this.end(call, 'customer')
    })
    const se = parseSessionExpires(dialog.res?.has('Session-Expires') ? dialog.res.get('Session-Expires') : dialog.res?.get('x'))
    if (se?.refresher === 'uac') {
      call.log.info({ sessionExpires: se.seconds }, 'session timer: we refresh the session')
      this.armRefresh(call, se)
    }
    if (this.maxCallMs > 0) {
      call.maxTimer = this.clock.setTimeout(() => {
        call.maxTimer = undefined
        if (call.state !== 'answered') return
        call.log.warn({ maxCallMs: this.maxCallMs }, 'maximum call length reached (a lost BYE?); sending BYE')
        void this.hangup(call.request.callId, 'max-call-length')
      }, this.maxCallMs)
    }
    // `answered` waits for the anchor to have the carrier's SDP, so whoever acts on it (bridge() right away) finds the
    // media ready; its `at` stays the 200 OK's time
    call.mediaAnswered = this.media.answer(call.request.callId, dialog.remote.sdp ?? '', dialog.sip.remoteTag).then(
      () => true,
      (err: unknown) => {
        call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'media anchor refused the answer; hanging up')
        return false
      },
    )
    void call.mediaAnswered.then((anchored) => {
      if (call.state !== 'answered') return
      this.announce(call)
      if (!anchored) void this.hangup(call.request.callId, 'media-failure')
      else if (call.request.amd) this.startAmd(call)
    })
  }

  /** Emits `answered` once; an answered call ending before its media was anchored still says it was answered. */
  private announce(call: LiveCall): void {
    if (call.announced || call.answeredAt === undefined) return
    call.announced = true
    call.log.info('answered')
    this.emit(CallEvents.Answered, { callId: call.request.callId, at: call.answeredAt })
  }

  private armRingTimer(call: LiveCall): void {
    this.clearRingTimer(call)
    call.timer = this.clock.setTimeout(() => {
      call.timer = undefined
      if (call.state === 'trying' && call.cancel === 'none') {
        call.log.info({ ringTimeoutMs: call.request.ringTimeoutMs }, 'ring timeout; cancelling')
        this.cancelAttempt(call, 'ring-timeout')
      }
    }, call.request.ringTimeoutMs)
  }

  private clearRingTimer(call: LiveCall): void {
    if (call.timer) this.clock.clearTimeout(call.timer)
    call.timer = undefined
  }

  private cancelAttempt(call: LiveCall, why: Exclude<OurCancel, 'none'>): void {
    if (call.cancel === 'none' || why === 'hangup') call.cancel = why
    try {
      call.invite?.cancel((err) => {
        if (err) call.log.debug({ err: String(err) }, 'CANCEL not sent (the INVITE already had its final answer)')
      })
    } catch (err) {
      // drachtio-srf asserts on a socket that is gone: the admin connection dropped under this call
      call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'CANCEL not sent: no drachtio connection')
      this.fail(call, why === 'hangup' ? 'cancelled' : 'trunk-unavailable')
    }
  }

  private fail(call: LiveCall, cause: FailureCause, sip?: { status: number; reason: string }): void {
    if (call.state === 'done') return
    this.finish(call)
    // what the early media said outweighs the status that followed our CANCEL (487) or the carrier's own final
    const heard = call.heard
    this.emit(CallEvents.Failed, {
      callId: call.request.callId,
      at: this.clock.now(),
      cause: heard ? failureCauseOf(heard.reason) : cause,
      ...(sip ? { sipStatus: sip.status, sipReason: sip.reason } : {}),
      ...(heard ? { earlyMedia: heard } : {}),
    })
  }

  private end(call: LiveCall, endedBy: EndedBy): void {
    if (call.state === 'done') return
    this.announce(call)
    this.finish(call)
    const heard = call.heard
    this.emit(CallEvents.Ended, { callId: call.request.callId, at: this.clock.now(), endedBy, ...(heard ? { earlyMedia: heard } : {}) })
  }

  private finish(call: LiveCall): void {
    call.state = 'done'
    this.audio?.ended(call.request.callId)
    this.stopListening(call)
    this.clearRingTimer(call)
    if (call.maxTimer) this.clock.clearTimeout(call.maxTimer)
    call.maxTimer = undefined
    call.orphanWatch?.stop()
    call.refreshWatch?.stop()
    call.dialog?.removeAllListeners('destroy')
    this.calls.delete(call.request.callId)
    // the customer is gone: so is the outside number they were (being) transferred to
    if (call.outside) void this.hangup(call.outside.legId, 'customer-gone')
    if (call.holdsChannel && this.caps) {
      const { id: trunkId } = call.trunk
      const { callId } = call.request
      void this.caps.release(trunkId, callId).catch((err: unknown) => {
        this.unreleased.set(callId, trunkId)
        call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'trunk channel not released; its lease will run out')
      })
    }
    const bridged = call.bridgedTo
    const media = this.media
    const endedAt = this.clock.now()
    // the recording is closed first, while both parties are still in it; a failed stop is left to the delete
    const rec = call.recording
    const stopped = rec && canRecord(media)
      ? rec.ops.then(async () => {
          if (!rec.on) return
          rec.on = false
          rec.recordedMs += Math.max(0, endedAt - (rec.onSince ?? endedAt))
          await media.stopRecording(call.request.callId, false).catch((err: unknown) => {
            call.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'stop recording failed; the delete closes the recording')
          })
        })
      : Promise.resolve()
    // the agent's session outlives the customer: its media goes back to its own endpoint before the customer's goes
    // (and a consulted agent's too, when the customer hangs up during a consultation)
    const consulted = call.consult
    call.consult = undefined
    const parted = stopped.then(async () => {
      if (!canJoin(media)) return
      for (const s of [bridged, consulted]) {
        if (!s) continue
        await media.part(s.sessionId).catch((err: unknown) => {
          call.log.warn({ agentId: s.agentId, err: err instanceof Error ? err.message : String(err) }, 'agent session media not parted')
        })
      }
    })
    void parted
      .then(() => media.release(call.request.callId))
      .catch((err: unknown) => {
        call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'media not released')
      })
      .then(() => {
        if (rec && rec.segments > 0 && rec.startedAt !== undefined) this.recorded(call, rec, rec.startedAt, endedAt)
      })
  }

  private recordingStarted(call: LiveCall, rec: RecordingState, startedAt: number): void {
    if (!this.recording?.onRecordingStarted) return
    try {
      this.recording.onRecordingStarted({
        callId: call.request.callId,
        campaignId: call.request.campaignId,
        leadId: call.request.leadId,
        agentId: rec.agent?.id ?? null,
        legs: legsOf(call.dialog?.sip.remoteTag ?? '', rec),
        startedAt,
      })
    } catch (err) {
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording start not registered')
    }
  }

  private recorded(call: LiveCall, rec: RecordingState, startedAt: number, endedAt: number): void {
    const legs = legsOf(call.dialog?.sip.remoteTag ?? '', rec)
    const done: CallRecorded = {
      callId: call.request.callId,
      campaignId: call.request.campaignId,
      leadId: call.request.leadId,
      agentId: rec.agent?.id ?? null,
      legs,
      startedAt,
      endedAt,
      recordedMs: rec.recordedMs,
      segments: rec.segments,
    }
    call.log.info({ segments: rec.segments, recordedMs: rec.recordedMs }, 'call recorded')
    try {
      this.recording?.onRecorded(done)
    } catch (err) {
      call.log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording not registered')
    }
  }

  private emit<E extends CallEventName>(event: E, payload: CallEventMap[E]): void {
    const leg = this.outsideLegs.get(payload.callId)
    if (leg) return leg(event, payload)
    this.events.emit(event, payload)
  }
}
