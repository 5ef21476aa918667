/**
 * Media anchoring of outbound calls on rtpengine (the MediaAnchor of DrachtioTelephony): the engine's own side (its
 * RTP endpoint) is offered to rtpengine, rtpengine's rewritten SDP goes to the carrier, the carrier's answer SDP
 * comes back through `answer`. Every offer is released by a `delete` on every exit path: release() is called by the
 * adapter when a call ends in any way, is idempotent, and a failed delete is logged, never thrown away silently.
 */
import type { Logger } from 'pino'
import type { MediaAnchor, MediaPlayer, MediaRecorder } from '../drachtio/media-anchor.js'
import type { NgPool, RtpengineAddress } from './ng-pool.js'

interface Anchored {
  engine: RtpengineAddress
  fromTag: string
  /** The far end's answer, kept to complete a re-offer (join). */
  remote?: { sdp: string; tag: string }
  /** Where rtpengine takes the engine side's media for this call (from the answer's reply SDP). */
  engineFacing?: { host: string; port: number }
}

/** Which side of an anchored call a subscribed stream carries: the engine side (the agent once bridged) or the far end. */
export type SubscribedParty = 'engine-side' | 'far-end'

export interface MediaSubscription {
  /** rtpengine's sendonly offer, one m=audio per party. */
  sdp: string
  /** The subscription's tag (rtpengine's to-tag), for the answer and unsubscribe. */
  tag: string
  /** The party each m=audio of `sdp` carries, in order. */
  parties: SubscribedParty[]
}

/** The first audio stream's address in an SDP (c= line and m=audio port). */
export function audioAddress(sdp: string): { host: string; port: number } | undefined {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp)
  const m = /^m=audio (\d+) /m.exec(sdp)
  return c && m ? { host: c[1]!, port: Number(m[1]) } : undefined
}

/** ng flags every offer/answer uses: plain RTP/AVP on the carrier side, our addresses in the SDP. */
const FLAGS = { ICE: 'remove', replace: ['origin', 'session-connection'] }

export class RtpengineAnchor implements MediaAnchor, MediaRecorder, MediaPlayer {
  private readonly calls = new Map<string, Anchored>()
  /** Calls whose delete is on its way to rtpengine. */
  private readonly releasing = new Set<string>()
  /** Per call, the last re-offer or delete in flight (serial()). */
  private readonly ops = new Map<string, Promise<void>>()
  /** Sessions whose delete failed (call id -> engine): rtpengine may still hold them. */
  private readonly unreleased = new Map<string, RtpengineAddress>()
  private readonly log: Logger

  constructor(
    private readonly pool: NgPool,
    /** The engine-side SDP for a call (its RTP endpoint for analysis, or an agent's leg). */
    private readonly localSdp: (callId: string) => string,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'rtpengine-anchor' })
  }

  /** A new call's offer goes to the next healthy engine; if that one fails it (after its own retry), to another. */
  async offer(callId: string): Promise<string> {
    const first = this.pool.pick()
    try {
      return await this.offerOn(callId, first)
    } catch (err) {
      const other = this.pool.healthy().find((e) => e.host !== first.host || e.port !== first.port)
      if (!other) throw err
      this.log.warn(
        { callId, engine: `${first.host}:${first.port}`, next: `${other.host}:${other.port}`, err: err instanceof Error ? err.message : String(err) },
        'rtpengine offer failed; offering on another engine',
      )
      // the first engine may hold a half-made session: delete it (best effort), it would only time out there
      void this.pool.command(first, 'delete', { 'call-id': callId, 'from-tag': `cadence-${callId}`, 'delete delay': 0 }).catch(() => undefined)
      return await this.offerOn(callId, other)
    }
  }

  private async offerOn(callId: string, engine: RtpengineAddress): Promise<string> {
    const fromTag = `cadence-${callId}`
    // remembered before the command: if the reply is lost, release() still deletes what rtpengine may hold
    this.calls.set(callId, { engine, fromTag })
    const reply = await this.pool.command(engine, 'offer', { 'call-id': callId, 'from-tag': fromTag, sdp: this.localSdp(callId), ...FLAGS })
    if (!reply.sdp) throw new Error(`rtpengine offer for ${callId} returned no SDP`)
    return reply.sdp
  }

  async answer(callId: string, remoteSdp: string, remoteTag: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) throw new Error(`rtpengine answer for ${callId}: no offer`)
    const reply = await this.pool.command(a.engine, 'answer', { 'call-id': callId, 'from-tag': a.fromTag, 'to-tag': remoteTag, sdp: remoteSdp, ...FLAGS })
    a.remote = { sdp: remoteSdp, tag: remoteTag }
    const facing = reply.sdp ? audioAddress(reply.sdp) : undefined
    if (facing) a.engineFacing = facing
  }

  /**
   * Where rtpengine sends this call's far-end audio to the engine side from (the port of its answer reply, early or
   * final): media analysis tells calls apart by it.
   */
  engineFacing(callId: string): { host: string; port: number } | undefined {
    return this.calls.get(callId)?.engineFacing
  }

  /**
   * Joins the media of two answered calls anchored here (a customer and an agent's nailed-up session) without any
   * SIP re-INVITE: each call's engine side is re-offered to rtpengine as the other call's engine-facing port, so
   * rtpengine hairpins the audio between its two sessions. `port-latching` keeps every port the far ends already
   * send to. Checked on the Debian rtpengine 10.5 in userspace mode (test/telephony/drachtio/agent-bridge.test.ts).
   */
  async join(callA: string, callB: string): Promise<void> {
    const a = this.answered(callA)
    const b = this.answered(callB)
    await this.redirect(callA, a, sdpAt(b.engineFacing, `join-${callA}`))
    await this.redirect(callB, b, sdpAt(a.engineFacing, `join-${callB}`))
  }

  /**
   * Sends an answered call's engine side to another media endpoint (a conference server's leg), with the same
   * port-latched re-offer as join(); join() or part() undoes it.
   */
  async redirectTo(callId: string, sdp: string): Promise<void> {
    const a = this.answered(callId)
    await this.redirect(callId, a, sdp)
  }

  /** Sends the call's engine side back to its own endpoint (the other call of a join ended or moved on). */
  async part(callId: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a?.remote) return
    await this.redirect(callId, a, this.localSdp(callId))
  }

  private answered(callId: string): Anchored & { remote: { sdp: string; tag: string }; engineFacing: { host: string; port: number } } {
    const a = this.calls.get(callId)
    if (!a?.remote || !a.engineFacing) throw new Error(`rtpengine join: call ${callId} is not answered through this anchor`)
    return a as Anchored & { remote: { sdp: string; tag: string }; engineFacing: { host: string; port: number } }
  }

  private redirect(callId: string, a: Anchored, engineSdp: string): Promise<void> {
    return this.serial(callId, async () => {
      // released while this waited its turn: an offer now would make rtpengine open the call again, and leak it
      if (this.calls.get(callId) !== a) return
      const latch = { ...FLAGS, flags: ['port-latching'] }
      await this.pool.command(a.engine, 'offer', { 'call-id': callId, 'from-tag': a.fromTag, sdp: engineSdp, ...latch })
      if (a.remote) {
        await this.pool.command(a.engine, 'answer', { 'call-id': callId, 'from-tag': a.fromTag, 'to-tag': a.remote.tag, sdp: a.remote.sdp, ...latch })
      }
    })
  }

  /**
   * One call's re-offers and its delete run one after another: a delete overtaking a re-offer in flight (an agent
   * logging out while the customer's hang-up parts their session) would let that offer open the call again in rtpengine.
   */
  private serial<T>(callId: string, step: () => Promise<T>): Promise<T> {
    const prev = this.ops.get(callId) ?? Promise.resolve()
    const next = prev.then(step)
    const settled = next.then(
      () => undefined,
      () => undefined,
    )
    this.ops.set(callId, settled)
    void settled.then(() => {
      if (this.ops.get(callId) === settled) this.ops.delete(callId)
    })
    return next
  }

  /**
   * rtpengine records the call (`--recording-method=pcap`: every RTP packet it receives from either side, written to
   * `<recording-dir>/pcaps/<call-id>-<16 hex>.pcap`, with `<recording-dir>/metadata/rtpengine-meta-<call-id>-<same
   * hex>.txt` naming the pcap and carrying `metadata`, moved there once the pcap is closed). The metadata must hold no
   * phone number: it is a plain file beside the recording.
   */
  async startRecording(callId: string, metadata: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) throw new Error(`rtpengine start recording for ${callId}: not anchored here`)
    await this.pool.command(a.engine, 'start recording', { 'call-id': callId, 'from-tag': a.fromTag, metadata })
  }

  /** Closes the call's pcap (`pause`: the call may be recorded again, into a new pcap on rtpengine 10.5). */
  async stopRecording(callId: string, pause: boolean): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) throw new Error(`rtpengine stop recording for ${callId}: not anchored here`)
    await this.pool.command(a.engine, 'stop recording', { 'call-id': callId, 'from-tag': a.fromTag, ...(pause ? { flags: ['pause'] } : {}) })
  }

  /**
   * Where a joined call's media comes from, as another call anchored here sees it: the call's engine-facing port,
   * from which rtpengine hairpins its audio into the other call (so the agent's side of a recorded customer call).
   */
  mediaSource(callId: string): string | undefined {
    const f = this.calls.get(callId)?.engineFacing
    return f ? `${f.host}:${f.port}` : undefined
  }

  /**
   * A copy of both parties' audio of an answered call for a listener (a supervisor's phone): rtpengine's `subscribe
   * request` over the engine side and the far end's tag returns a sendonly offer with one m=audio per party, in the
   * order of `parties`, and the subscription's own tag. Checked on the Debian rtpengine 10.5 (multi-party subscriptions
   * through `from-tags`; it does not mix them into one stream). The subscription goes with the call's `delete`.
   */
  async subscribe(callId: string): Promise<MediaSubscription> {
    const a = this.calls.get(callId)
    if (!a?.remote) throw new Error(`rtpengine subscribe for ${callId}: the call is not answered through this anchor`)
    const reply = await this.pool.command(a.engine, 'subscribe request', { 'call-id': callId, 'from-tags': [a.fromTag, a.remote.tag], ...FLAGS })
    const tag = reply['to-tag']
    if (!reply.sdp || typeof tag !== 'string') throw new Error(`rtpengine subscribe request for ${callId} returned no SDP or to-tag`)
    const order = Array.isArray(reply['from-tags']) ? (reply['from-tags'] as unknown[]) : [a.fromTag, a.remote.tag]
    const parties = order.map((t): SubscribedParty => (t === a.fromTag ? 'engine-side' : 'far-end'))
    return { sdp: reply.sdp, tag, parties }
  }

  /** The listener's answer SDP: rtpengine starts sending to the addresses it names. */
  async subscribeAnswer(callId: string, tag: string, sdp: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) throw new Error(`rtpengine subscribe answer for ${callId}: not anchored here`)
    await this.pool.command(a.engine, 'subscribe answer', { 'call-id': callId, 'to-tag': tag, sdp, ...FLAGS })
  }

  /** Stops a subscription; a call already released took its subscriptions with it. */
  async unsubscribe(callId: string, tag: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) return
    await this.pool.command(a.engine, 'unsubscribe', { 'call-id': callId, 'to-tag': tag })
  }

  async release(callId: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) return
    this.calls.delete(callId)
    // counted by anchored() until rtpengine has answered the delete: a leak check then sees what rtpengine holds
    this.releasing.add(callId)
    try {
      // the whole call, not one from-tag's dialogue: rtpengine 10.5 keeps a call whose `delete` names the engine side
      // while a supervisor's subscription party (idle after `unsubscribe`, or never answered) is left in it
      await this.serial(callId, () => this.pool.command(a.engine, 'delete', { 'call-id': callId, 'delete delay': 0 }))
    } catch (err) {
      this.unreleased.set(callId, a.engine)
      this.log.error({ callId, err: err instanceof Error ? err.message : String(err) }, 'rtpengine delete failed; the session may linger until its timeout')
      throw err
    } finally {
      this.releasing.delete(callId)
    }
  }

  /**
   * Sessions whose delete failed that their rtpengine still lists (`list`): what a reconcile deletes. An id rtpengine
   * no longer lists is forgotten (its own timeout took it).
   */
  async strays(): Promise<string[]> {
    const out: string[] = []
    const byEngine = new Map<RtpengineAddress, string[]>()
    for (const [callId, engine] of this.unreleased) byEngine.set(engine, [...(byEngine.get(engine) ?? []), callId])
    for (const [engine, ids] of byEngine) {
      const reply = await this.pool.command(engine, 'list', { limit: 100_000 })
      const listed = new Set(Array.isArray(reply['calls']) ? (reply['calls'] as unknown[]).map(String) : [])
      for (const id of ids) {
        if (listed.has(id)) out.push(id)
        else this.unreleased.delete(id)
      }
    }
    return out
  }

  /** Deletes a stray session (strays()); "Unknown call-id" counts as done. */
  async purge(callId: string): Promise<void> {
    const engine = this.unreleased.get(callId)
    if (!engine) return
    try {
      await this.pool.command(engine, 'delete', { 'call-id': callId, 'delete delay': 0 })
    } catch (err) {
      // gone in between (its own timeout): what a purge wanted
      if (!/unknown call/i.test(err instanceof Error ? err.message : String(err))) throw err
    }
    this.unreleased.delete(callId)
  }

  /**
   * Plays an audio file (a WAV rtpengine can read at this path) to the call's far end: `play media` names the party
   * that hears it (checked on the Debian rtpengine 10.5; the far end's tag). Resolves with the file's length in ms once
   * playback has started; `repeat` loops it (hold music). The engine side's own audio still reaches the far end beside
   * the player's, so callers mute it first (muteTowardsFarEnd).
   */
  async playToFarEnd(callId: string, file: string, opts: { repeat?: number } = {}): Promise<number> {
    const a = this.answered(callId)
    const reply = await this.pool.command(a.engine, 'play media', {
      'call-id': callId,
      'from-tag': a.remote.tag,
      file,
      ...(opts.repeat !== undefined && opts.repeat > 1 ? { 'repeat-times': opts.repeat } : {}),
    })
    const ms = Number(reply['duration'])
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`rtpengine play media for ${callId} gave no duration`)
    return ms
  }

  /** Stops what playToFarEnd started; a call already released (or a playback that ran out) is nothing to stop. */
  async stopPlaying(callId: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a?.remote) return
    try {
      await this.pool.command(a.engine, 'stop media', { 'call-id': callId, 'from-tag': a.remote.tag })
    } catch (err) {
      // 10.5 answers an error when nothing is playing any more (the prompt ended on its own): the state wanted
      this.log.debug({ callId, err: err instanceof Error ? err.message : String(err) }, 'stop media: nothing playing')
    }
  }

  /**
   * Stops (on) or restores what the far end hears from the engine side (the agent joined to it): `block media` names
   * the party whose media is dropped (checked on the real daemon). A player's stream (playToFarEnd) still gets through.
   */
  async muteTowardsFarEnd(callId: string, on: boolean): Promise<void> {
    const a = this.answered(callId)
    await this.pool.command(a.engine, on ? 'block media' : 'unblock media', { 'call-id': callId, 'from-tag': a.fromTag })
  }

  /** Stops (on) or restores what the engine side (the agent joined to it) hears from the far end. */
  async muteFromFarEnd(callId: string, on: boolean): Promise<void> {
    const a = this.answered(callId)
    await this.pool.command(a.engine, on ? 'block media' : 'unblock media', { 'call-id': callId, 'from-tag': a.remote.tag })
  }

  /** Calls holding an offer, or whose delete rtpengine has not answered yet (a leak check for tests and the status page). */
  anchored(): number {
    return this.calls.size + this.releasing.size
  }
}

/** A minimal PCMU SDP whose audio goes to `at` (also the SDP a conference leg is given for an rtpengine port). */
export function sdpAt(at: { host: string; port: number }, session: string): string {
  const id = Math.floor(Math.random() * 1e9)
  return [
    'v=0',
    `o=cadence ${id} 1 IN IP4 ${at.host}`,
    `s=${session}`,
    `c=IN IP4 ${at.host}`,
    't=0 0',
    `m=audio ${at.port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n')
}
