/**
 * Inbound calls from the carriers' trunks to our numbers (issue 5 §5): the drachtio shell of telephony/inbound/ivr.ts.
 *
 * An INVITE to a configured number is answered through rtpengine (the engine side is the media analysis socket, whose
 * SDP offers telephone-event, so the caller's keypresses reach us as RFC 4733 packets), the menu prompt is played by
 * rtpengine, a key picks a queue (an ACD skill), and while the caller waits they hear the hold music and the queue is
 * tried for a free agent every `pollMs` (the customer's owning agent first, from the CRM). A free agent's nailed-up
 * session is joined by media alone, as for outbound calls. Past the number's maximum wait the caller hears the
 * overflow prompt, a callback request is filed, and we hang up; or, where the number takes messages, the greeting plays and
 * the caller's message is recorded (until #, the time limit or their hang-up) and registered like a call recording,
 * with no agent leg, a callback request filed as well. Every call ends with one inbound CDR (direction
 * inbound; a lost call has no agent; its queue wait in wait_seconds) and its media released on every path.
 *
 * After a drachtio reconnect the server keeps our dialogs but no longer tells us of a caller's BYE (the dialogs belong
 * to the lost connection): each call is probed in its dialog (OPTIONS) on the new connection; a caller who still
 * answers keeps the call (probed every orphanProbeMs from then on), one who does not is ended once, as a hang-up, with
 * its CDR, and told by a BYE on the new connection.
 *
 * A call with an agent is recorded as outbound calls are (the recording policy decides by campaign): rtpengine starts
 * once the caller is joined, stops before the media is released, and the recording is told to the policy with the
 * inbound CDR's lead id (`inbound:<call id>`) after rtpengine's delete.
 */
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type Srf from 'drachtio-srf'
import type { Clock, TimerHandle } from '../../clock.js'
import type { Cdr, CallOutcome } from '../../calls/cdr.js'
import { maskPhone } from '../../leads/lead.js'
import { DtmfCollector } from '../../media/telephone-event.js'
import type { RtpSocket, RtpStream } from '../../media/rtp-socket.js'
import { inboundStep, newInboundCall, type InboundCall, type InboundEffect, type InboundInput, type InboundNumber } from '../inbound/ivr.js'
import { PromptLibrary } from '../prompts/prompt-library.js'
import type { AgentSessionLookup } from './agent-session-lookup.js'
import { CallAudio } from './call-audio.js'
import { ConnectionEvents, type DrachtioConnection } from './connection.js'
import { requestInDialog, stackDialogId } from './dialog-request.js'
import { DialogWatch } from './dialog-watch.js'
import { dialogAlive, type DialogProbe } from './live-call-reconcile.js'
import type { QueuePositions } from '../../store/redis/inbound-queue-positions.js'
import { canRecord, type MediaAnchor, type MediaJoiner, type MediaPlayer } from './media-anchor.js'
import { recordingMetadata, type CallRecordingPolicy, type RecordedLeg } from './call-recording.js'

/** What inbound calls need of the ACD (RedisAcd through a small adapter in the SIP engine). */
export interface InboundAcd {
  /** Atomically reserve a ready agent with the queue's skill (the owner first when given). */
  reserve(queue: string, callId: string, now: number, ownerAgentId?: string): Promise<string | undefined>
  onCall(agentId: string, callId: string, now: number): Promise<void>
  release(agentId: string, now: number): Promise<void>
  wrapUp(agentId: string, now: number): Promise<void>
}

export interface InboundCallsOptions {
  connection: DrachtioConnection
  media: MediaAnchor & MediaJoiner & MediaPlayer
  /** The engine side's RTP endpoint (the media analysis socket): DTMF arrives there. */
  rtp: Pick<RtpSocket, 'open'>
  numbers: InboundNumber[]
  agents: AgentSessionLookup
  acd: InboundAcd
  cdrs: { write(cdr: Cdr): Promise<boolean> }
  /** The agent who owns the caller (CRM), tried first. */
  ownerOf?: (callerNumber: string) => Promise<string | undefined>
  /** Files the callback a caller asked for by waiting past the maximum. */
  requestCallback?: (request: { callId: string; campaignId: string; callerNumber: string; queue: string; at: number }) => Promise<void>
  prompts?: PromptLibrary
  holdMusic?: string
  clock: Clock
  logger: Logger
  /** How often a waiting caller's queue is tried for a free agent. Default 500 ms. */
  pollMs?: number
  /** How often a queued caller hears their position (from the moment they are queued). Default 30 s; 0: never. */
  positionEveryMs?: number
  /** Which calls with an agent are recorded, and who hears of each recording (as for outbound calls). */
  recording?: CallRecordingPolicy
  /**
   * Positions counted over every engine's callers (RedisQueuePositions); without it, this engine's callers only.
   */
  positions?: QueuePositions
  /** How often a call kept across a drachtio reconnect is probed in its dialog. Default 30 s. */
  orphanProbeMs?: number
  /** Bound on one in-dialog probe beyond the server's own 408. Default 40 s. */
  probeLimitMs?: number
}

/** Inbound events for tests and the status page. */
export interface InboundLive {
  callId: string
  number: string
  phase: InboundCall['phase']
  agentId?: string
}

interface Live {
  callId: string
  cfg: InboundNumber
  caller: string
  state: InboundCall
  dialog?: Srf.Dialog
  stream?: RtpStream
  /** The agent session the caller is joined to. */
  sessionId?: string
  timer?: TimerHandle
  poll?: TimerHandle
  /** The next position announcement. */
  announce?: TimerHandle
  answeredAt: number
  log: Logger
  /** Effects run one after another. */
  ops: Promise<void>
  finished: boolean
  /** The caller's dialog tag (the customer leg of a recording). */
  callerTag: string
  /** The dialog belongs to a lost admin connection: probed now and then, hung up by a BYE on the new connection. */
  orphaned?: boolean
  orphanWatch?: DialogWatch
  /** The recording under way, once the caller is with an agent (or leaving a message: no agent leg). */
  recording?: { startedAt: number; agent?: RecordedLeg }
}

export class InboundCalls {
  private readonly calls = new Map<string, Live>()
  private readonly byNumber = new Map<string, InboundNumber>()
  private readonly audio: CallAudio
  private readonly log: Logger
  private readonly pollMs: number
  /** Calls finished (tests wait on it). */
  readonly finished: Array<{ callId: string; outcome: CallOutcome; agentId?: string }> = []
  /** The reconcile after the last reconnect (tests wait on it): call ids kept and ended. */
  lastReconcile?: Promise<{ kept: string[]; ended: string[] }>

  constructor(private readonly o: InboundCallsOptions) {
    for (const n of o.numbers) this.byNumber.set(n.number, n)
    this.log = o.logger.child({ component: 'inbound' })
    this.pollMs = o.pollMs ?? 500
    this.audio = new CallAudio({ media: o.media, prompts: o.prompts ?? new PromptLibrary(), clock: o.clock, holdMusic: o.holdMusic ?? 'hold-music' })
    // the agent hanging up their phone ends the caller's call, as for outbound calls
    o.agents.onSessionEnded?.((_agentId, sessionId) => {
      for (const l of [...this.calls.values()]) {
        if (l.sessionId === sessionId) this.input(l, { type: 'agent-hung-up', at: o.clock.now() })
      }
    })
  }

  /** Routes INVITEs to this app, and reconciles its calls after every reconnect. */
  start(): void {
    this.o.connection.on(ConnectionEvents.Up, (up: { generation: number }) => {
      if (up.generation >= 2) this.lastReconcile = this.reconcile()
    })
    this.o.connection.srf.invite((req, res) => {
      void this.onInvite(req, res).catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'inbound call failed')
        if (!res.finalResponseSent) res.send(500, 'Server Internal Error', {})
      })
    })
  }

  /** Engine stop: every inbound call is hung up and closed with its CDR, its media released. */
  async close(): Promise<void> {
    for (const l of [...this.calls.values()]) {
      l.log.info('engine stopping: hanging up the inbound call')
      l.dialog?.destroy()
      const outcome = l.state.phase === 'bridged' ? 'answered' : l.state.phase === 'menu' ? 'no-choice' : l.state.phase === 'message' ? 'voicemail' : 'lost'
      await l.ops.catch(() => undefined)
      await this.finish(l, outcome)
    }
  }

  /** Probes every call's dialog on the new connection: kept, or ended as a hang-up (see the file's comment). */
  async reconcile(): Promise<{ kept: string[]; ended: string[] }> {
    const kept: string[] = []
    const ended: string[] = []
    await Promise.all(
      [...this.calls.values()].map(async (l) => {
        const dialog = l.dialog
        if (!dialog || l.finished) return
        l.orphaned = true
        const probe = await requestInDialog(this.o.connection, stackDialogId(dialog), 'OPTIONS', this.o.probeLimitMs ?? 40_000)
        if (l.finished) return
        if (dialogAlive(probe)) {
          kept.push(l.callId)
          l.log.info('inbound call still up after the reconnect; kept')
          this.armOrphanProbe(l)
          return
        }
        ended.push(l.callId)
        this.callerGone(l, probe, 'inbound call lost with the drachtio connection; ending it')
      }),
    )
    this.log.info({ kept: kept.length, ended: ended.length }, 'inbound calls reconciled after reconnecting to drachtio')
    return { kept, ended }
  }

  /** A kept call's caller hanging up is not reported to us: an OPTIONS now and then finds out. */
  private armOrphanProbe(l: Live): void {
    const dialog = l.dialog
    if (!dialog) return
    l.orphanWatch?.stop()
    l.orphanWatch = new DialogWatch({
      connection: this.o.connection,
      clock: this.o.clock,
      dialogId: stackDialogId(dialog),
      method: 'OPTIONS',
      everyMs: this.o.orphanProbeMs ?? 30_000,
      limitMs: this.o.probeLimitMs ?? 40_000,
      current: () => !l.finished,
      // a connection that is down again says nothing about the caller: the next reconnect's reconcile decides
      whileDown: 'stop',
      gone: (probe) => this.callerGone(l, probe, 'kept inbound call no longer answers in its dialog; ending it'),
    })
  }

  /** The caller is gone (or cannot be reached): the call ends as their hang-up, and they are told on the new connection. */
  private callerGone(l: Live, probe: DialogProbe, why: string): void {
    l.log.warn({ probe }, why)
    this.byeOrphaned(l)
    this.input(l, { type: 'caller-hung-up', at: this.o.clock.now() })
  }

  /** A BYE for a dialog of a lost connection goes through the new one (destroy() would use the dead one). */
  private byeOrphaned(l: Live): void {
    const dialog = l.dialog
    if (!dialog) return
    void requestInDialog(this.o.connection, stackDialogId(dialog), 'BYE', this.o.probeLimitMs ?? 40_000).then((r) => {
      if (r.kind !== 'response') l.log.warn({ result: r }, 'BYE to the caller not answered')
    })
  }

  live(): InboundLive[] {
    return [...this.calls.values()].map((l) => ({ callId: l.callId, number: l.cfg.number, phase: l.state.phase, ...(l.state.agentId ? { agentId: l.state.agentId } : {}) }))
  }

  private async onInvite(req: Srf.SrfRequest, res: Srf.SrfResponse): Promise<void> {
    const called = req.calledNumber
    const cfg = this.byNumber.get(called)
    const caller = req.callingNumber
    if (!cfg) {
      this.log.info({ to: maskPhone(called), from: maskPhone(caller) }, 'INVITE to a number we do not serve')
      res.send(404, 'No Such Number', {})
      return
    }
    const callId = randomUUID()
    const log = this.log.child({ callId, campaignId: cfg.campaignId, to: cfg.number, from: maskPhone(caller) })
    const { media, clock } = this.o
    const fromTag = req.getParsedHeader('From').params?.['tag']
    if (!req.body || typeof fromTag !== 'string') {
      res.send(488, 'Not Acceptable Here', {})
      return
    }
    let sdp: string
    try {
      sdp = await media.offer(callId)
      await media.answer(callId, req.body, fromTag)
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'media relay refused the call')
      await media.release(callId).catch(() => undefined)
      res.send(503, 'Media Relay Unavailable', {})
      return
    }
    let dialog: Srf.Dialog
    try {
      dialog = await this.o.connection.srf.createUAS(req, res, { localSdp: sdp })
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'caller gone before the answer')
      await media.release(callId).catch(() => undefined)
      return
    }
    const start = newInboundCall()
    const l: Live = { callId, cfg, caller, state: start.call, dialog, answeredAt: clock.now(), log, ops: Promise.resolve(), finished: false, callerTag: fromTag }
    this.calls.set(callId, l)
    log.info('inbound call answered: menu')
    dialog.on('destroy', () => this.input(l, { type: 'caller-hung-up', at: clock.now() }))
    const from = media.engineFacing?.(callId)
    if (from) {
      const dtmf = new DtmfCollector(101)
      l.stream = this.o.rtp.open({
        source: `${from.host}:${from.port}`,
        onFrame: () => undefined,
        onPacket: (p) => {
          const digit = dtmf.push(p)
          if (digit !== undefined) {
            log.info({ digit }, 'caller pressed a key')
            this.input(l, { type: 'digit', digit, at: clock.now() })
          }
        },
      })
    } else log.warn('no media address towards the engine: keypresses cannot be heard')
    this.run(l, start.effects)
  }

  private input(l: Live, input: InboundInput): void {
    if (l.finished) return
    const next = inboundStep(l.cfg.menu, l.state, input, l.cfg.voicemail !== undefined)
    // an agent is free: a position announcement under way is cut short so the bridge queued behind it runs now
    if (l.state.phase === 'queued' && next.call.phase !== 'queued') {
      this.clearAnnounce(l)
      this.audio.interrupt(l.callId)
      this.leaveQueue(l)
    }
    // a key during the menu cuts it short (barge-in): the caller is queued at once
    if (l.state.phase === 'menu' && next.call.phase !== 'menu') this.audio.interrupt(l.callId)
    l.state = next.call
    this.run(l, next.effects)
  }

  private run(l: Live, effects: InboundEffect[]): void {
    if (effects.length === 0) return
    l.ops = l.ops.then(async () => {
      for (const e of effects) {
        try {
          await this.effect(l, e)
        } catch (err) {
          l.log.error({ effect: e.type, err: err instanceof Error ? err.message : String(err) }, 'inbound effect failed')
          if (e.type === 'bridge') {
            // the agent could not be joined: back in the queue, the agent back to ready
            await this.o.acd.release(e.agentId, this.o.clock.now()).catch(() => undefined)
            l.state = { ...l.state, phase: 'queued' }
            delete l.state.agentId
            this.armPoll(l)
          }
        }
      }
    })
  }

  private async effect(l: Live, e: InboundEffect): Promise<void> {
    const { clock } = this.o
    switch (e.type) {
      case 'play-menu': {
        this.clearTimer(l)
        const plays = l.state.plays
        // a key during the prompt counts (barge-in): the timeout runs from the prompt's end
        void this.audio.play(l.callId, l.cfg.menu.prompt, l.log).then(
          () => {
            if (l.state.phase !== 'menu' || l.state.plays !== plays || l.finished) return
            l.timer = clock.setTimeout(() => this.input(l, { type: 'menu-timeout', at: clock.now() }), l.cfg.menu.timeoutMs)
          },
          (err: unknown) => l.log.error({ err: err instanceof Error ? err.message : String(err) }, 'menu prompt not played'),
        )
        return
      }
      case 'enqueue':
        this.clearTimer(l)
        await this.o.media.stopPlaying(l.callId)
        await this.audio.hold(l.callId, true, l.log)
        l.log.info({ queue: e.queue }, 'caller queued')
        await this.o.positions?.join(e.queue, l.callId, l.state.queuedAt ?? clock.now()).catch((err: unknown) =>
          l.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'queue position not shared; counting this engine\'s callers'),
        )
        l.timer = clock.setTimeout(() => this.input(l, { type: 'max-wait', at: clock.now() }), l.cfg.maxWaitMs)
        this.armPoll(l)
        if ((this.o.positionEveryMs ?? 30_000) > 0) this.announcePosition(l)
        return
      case 'bridge': {
        const sessionId = this.o.agents.sessionId(e.agentId)
        if (!sessionId) throw new Error(`agent ${e.agentId} has no session up`)
        this.clearTimer(l)
        await this.audio.hold(l.callId, false, l.log)
        await this.o.media.join(l.callId, sessionId)
        await this.o.acd.onCall(e.agentId, l.callId, clock.now())
        l.sessionId = sessionId
        l.log.info({ agentId: e.agentId, waitedMs: clock.now() - (l.state.queuedAt ?? clock.now()) }, 'caller with an agent')
        await this.startRecording(l, e.agentId, sessionId)
        return
      }
      case 'request-callback':
        this.clearPoll(l)
        await this.o.requestCallback?.({ callId: l.callId, campaignId: l.cfg.campaignId, callerNumber: l.caller, queue: l.state.queue ?? '', at: clock.now() })
        l.log.info('the wait ran out: callback requested')
        return
      case 'play-overflow':
        await this.audio.hold(l.callId, false, l.log)
        await this.audio.play(l.callId, l.cfg.overflowPrompt, l.log)
        this.input(l, { type: 'left', at: clock.now() })
        return
      case 'play-greeting':
        await this.audio.hold(l.callId, false, l.log)
        await this.audio.play(l.callId, l.cfg.voicemail?.prompt ?? l.cfg.overflowPrompt, l.log)
        this.input(l, { type: 'greeting-played', at: clock.now() })
        return
      case 'record-message':
        await this.recordMessage(l)
        l.timer = clock.setTimeout(() => this.input(l, { type: 'message-timeout', at: clock.now() }), l.cfg.voicemail?.maxMessageMs ?? 60_000)
        return
      case 'hangup':
        if (l.orphaned) this.byeOrphaned(l)
        else l.dialog?.destroy()
        return
      case 'finish':
        await this.finish(l, e.outcome)
        return
    }
  }

  /**
   * "You are caller number N" (N among this engine's callers waiting in the same queue, by the time they were
   * queued), music off meanwhile, then again every positionEveryMs while the caller waits. Runs in the call's effect
   * chain, so it never overlaps the bridge; an agent becoming free cuts it short (input()).
   */
  private announcePosition(l: Live): void {
    this.clearAnnounce(l)
    const { clock } = this.o
    l.ops = l.ops.then(async () => {
      if (l.finished || l.state.phase !== 'queued') return
      const position = await this.positionOf(l)
      try {
        await this.audio.hold(l.callId, false, l.log)
        await this.audio.play(l.callId, 'queue-position', l.log)
        if (position <= 9 && l.state.phase === 'queued') await this.audio.play(l.callId, `number-${position}`, l.log)
        if (!l.finished && l.state.phase === 'queued') await this.audio.hold(l.callId, true, l.log)
      } catch (err) {
        l.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'position not announced')
        if (!l.finished && l.state.phase === 'queued') await this.audio.hold(l.callId, true, l.log).catch(() => undefined)
      }
      if (!l.finished && l.state.phase === 'queued') l.announce = clock.setTimeout(() => this.announcePosition(l), this.o.positionEveryMs ?? 30_000)
    })
  }

  /** Across engines when positions are shared (Redis), else among this engine's callers; Redis away: the latter. */
  private async positionOf(l: Live): Promise<number> {
    const shared = this.o.positions
    if (shared && l.state.queue !== undefined) {
      try {
        return await shared.position(l.state.queue, l.callId, this.o.clock.now(), l.cfg.maxWaitMs)
      } catch (err) {
        l.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'shared queue position unavailable; counting this engine\'s callers')
      }
    }
    return this.localPositionOf(l)
  }

  private localPositionOf(l: Live): number {
    const mine = l.state.queuedAt ?? 0
    let ahead = 0
    for (const other of this.calls.values()) {
      if (other !== l && other.state.phase === 'queued' && other.state.queue === l.state.queue && (other.state.queuedAt ?? 0) < mine) ahead++
    }
    return ahead + 1
  }

  /** The call with its agent, recorded when the campaign's calls are. */
  private async startRecording(l: Live, agentId: string, sessionId: string): Promise<void> {
    if (!this.o.recording?.wanted(l.cfg.campaignId)) return
    const source = canRecord(this.o.media) ? this.o.media.mediaSource?.(sessionId) : undefined
    await this.beginRecording(l, { party: 'agent', id: agentId, sessionId, ...(source !== undefined ? { source } : {}) })
  }

  /**
   * The caller's message, recorded whatever the campaign's call-recording choice (a message nobody can hear is no
   * message); registered through the recording policy like a call, with no agent leg.
   */
  private async recordMessage(l: Live): Promise<void> {
    if (!this.o.recording || !canRecord(this.o.media)) return void l.log.warn('voicemail: the media anchor cannot record or no recording policy is set; the message is lost')
    if (await this.beginRecording(l, undefined)) l.log.info('voicemail: recording the message')
  }

  /**
   * rtpengine starts recording the call (with the agent's leg, or none: a message) and the policy hears of it. A
   * recording that cannot start costs the recording, never the call. Returns whether it started.
   */
  private async beginRecording(l: Live, agent: RecordedLeg | undefined): Promise<boolean> {
    const { media, recording, clock } = this.o
    if (!recording || !canRecord(media)) return false
    const metadata = recordingMetadata(this.ids(l), agent?.id)
    try {
      await media.startRecording(l.callId, agent ? metadata : `${metadata};voicemail=1`)
    } catch (err) {
      l.log.error({ agentId: agent?.id, err: err instanceof Error ? err.message : String(err) }, 'recording not started; the call goes on unrecorded')
      return false
    }
    l.recording = { startedAt: clock.now(), ...(agent ? { agent } : {}) }
    try {
      recording.onRecordingStarted?.({ ...this.ids(l), agentId: agent?.id ?? null, legs: this.legs(l), startedAt: l.recording.startedAt, number: l.caller })
    } catch (err) {
      l.log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording start not registered')
    }
    return true
  }

  /** The ids a recording of the call is filed under: the inbound CDR's. */
  private ids(l: Live): { callId: string; campaignId: string; leadId: string } {
    return { callId: l.callId, campaignId: l.cfg.campaignId, leadId: `inbound:${l.callId}` }
  }

  private legs(l: Live): RecordedLeg[] {
    const agent = l.recording?.agent
    return [{ party: 'customer', id: l.callerTag }, ...(agent ? [{ ...agent }] : [])]
  }

  private leaveQueue(l: Live): void {
    const queue = l.state.queue
    if (!this.o.positions || queue === undefined) return
    void this.o.positions.leave(queue, l.callId).catch((err: unknown) =>
      l.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'queue position not removed; it expires with the maximum wait'),
    )
  }

  private clearAnnounce(l: Live): void {
    if (l.announce) this.o.clock.clearTimeout(l.announce)
    l.announce = undefined
  }

  private armPoll(l: Live): void {
    this.clearPoll(l)
    const { clock } = this.o
    const tryOnce = async (owner: string | undefined): Promise<void> => {
      if (l.finished || l.state.phase !== 'queued') return
      const agentId = await this.o.acd.reserve(l.state.queue ?? '', l.callId, clock.now(), owner)
      if (!agentId) return void (l.poll = clock.setTimeout(() => void tryOnce(owner), this.pollMs))
      if (l.finished || l.state.phase !== 'queued') return void (await this.o.acd.release(agentId, clock.now()))
      this.input(l, { type: 'agent-found', agentId, at: clock.now() })
    }
    void (this.o.ownerOf?.(l.caller) ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .then((owner) => tryOnce(owner))
  }

  private clearTimer(l: Live): void {
    if (l.timer) this.o.clock.clearTimeout(l.timer)
    l.timer = undefined
  }

  private clearPoll(l: Live): void {
    if (l.poll) this.o.clock.clearTimeout(l.poll)
    l.poll = undefined
  }

  private async finish(l: Live, outcome: InboundCall['outcome'] & string): Promise<void> {
    if (l.finished) return
    l.finished = true
    const { clock } = this.o
    this.clearTimer(l)
    this.clearPoll(l)
    this.clearAnnounce(l)
    l.orphanWatch?.stop()
    this.leaveQueue(l)
    this.calls.delete(l.callId)
    this.audio.ended(l.callId)
    l.stream?.close()
    l.dialog?.removeAllListeners('destroy')
    const agentId = l.state.agentId
    const endedAt = clock.now()
    // the recording is closed first, while both parties are still in it; a failed stop is left to the delete
    const rec = l.recording
    if (rec && canRecord(this.o.media)) {
      await this.o.media.stopRecording(l.callId, false).catch((err: unknown) =>
        l.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'stop recording failed; the delete closes the recording'),
      )
    }
    if (agentId && l.sessionId) {
      await this.o.media.part(l.sessionId).catch(() => undefined)
      await this.o.acd.wrapUp(agentId, endedAt).catch((err: unknown) => l.log.warn({ err, agentId }, 'agent not moved to wrap-up'))
    }
    await this.o.media.release(l.callId).catch((err: unknown) => l.log.error({ err: err instanceof Error ? err.message : String(err) }, 'media not released'))
    if (rec) {
      const recordedMs = Math.max(0, endedAt - rec.startedAt)
      l.log.info({ recordedMs }, 'call recorded')
      try {
        this.o.recording?.onRecorded({ ...this.ids(l), agentId: rec.agent?.id ?? null, legs: this.legs(l), startedAt: rec.startedAt, endedAt, recordedMs, segments: 1, number: l.caller })
      } catch (err) {
        l.log.error({ err: err instanceof Error ? err.message : String(err) }, 'recording not registered')
      }
    }
    const cdrOutcome: CallOutcome = outcome === 'answered' ? 'connected' : outcome === 'no-choice' ? 'cancelled' : 'abandoned'
    const waitEnd = l.state.bridgedAt ?? endedAt
    const cdr: Cdr = {
      callId: l.callId,
      campaignId: l.cfg.campaignId,
      leadId: this.ids(l).leadId,
      direction: 'inbound',
      ...(agentId ? { agentId } : {}),
      outcome: cdrOutcome,
      disposition: `system:inbound-${outcome}`,
      dialedAt: l.answeredAt,
      answeredAt: l.answeredAt,
      ...(l.state.bridgedAt !== undefined ? { bridgedAt: l.state.bridgedAt } : {}),
      endedAt,
      talkSeconds: l.state.bridgedAt !== undefined ? Math.max(0, (endedAt - l.state.bridgedAt) / 1000) : 0,
      ...(l.state.queuedAt !== undefined ? { waitSeconds: Math.max(0, (waitEnd - l.state.queuedAt) / 1000) } : {}),
      // a lost inbound call is not a predictive dialer's abandon: the abandon rate is about calls we placed
      abandoned: false,
    }
    await this.o.cdrs.write(cdr).catch((err: unknown) => l.log.error({ err }, 'inbound CDR not written'))
    this.finished.push({ callId: l.callId, outcome: cdrOutcome, ...(agentId ? { agentId } : {}) })
    l.log.info({ outcome, agentId }, 'inbound call finished')
  }
}
