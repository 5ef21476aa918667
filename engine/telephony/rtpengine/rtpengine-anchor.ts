/**
 * Media anchoring of outbound calls on rtpengine (the MediaAnchor of DrachtioTelephony): the engine's own side (its
 * RTP endpoint) is offered to rtpengine, rtpengine's rewritten SDP goes to the carrier, the carrier's answer SDP
 * comes back through `answer`. Every offer is released by a `delete` on every exit path: release() is called by the
 * adapter when a call ends in any way, is idempotent, and a failed delete is logged, never thrown away silently.
 */
import type { Logger } from 'pino'
import type { MediaAnchor } from '../drachtio/drachtio-telephony.js'
import type { NgPool, RtpengineAddress } from './ng-pool.js'

interface Anchored {
  engine: RtpengineAddress
  fromTag: string
}

/** ng flags every offer/answer uses: plain RTP/AVP on the carrier side, our addresses in the SDP. */
const FLAGS = { ICE: 'remove', replace: ['origin', 'session-connection'] }

export class RtpengineAnchor implements MediaAnchor {
  private readonly calls = new Map<string, Anchored>()
  private readonly log: Logger

  constructor(
    private readonly pool: NgPool,
    /** The engine-side SDP for a call (its RTP endpoint for analysis, or an agent's leg). */
    private readonly localSdp: (callId: string) => string,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'rtpengine-anchor' })
  }

  async offer(callId: string): Promise<string> {
    const engine = this.pool.pick()
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
    await this.pool.command(a.engine, 'answer', { 'call-id': callId, 'from-tag': a.fromTag, 'to-tag': remoteTag, sdp: remoteSdp, ...FLAGS })
  }

  async release(callId: string): Promise<void> {
    const a = this.calls.get(callId)
    if (!a) return
    this.calls.delete(callId)
    try {
      await this.pool.command(a.engine, 'delete', { 'call-id': callId, 'from-tag': a.fromTag, 'delete delay': 0 })
    } catch (err) {
      this.log.error({ callId, err: err instanceof Error ? err.message : String(err) }, 'rtpengine delete failed; the session may linger until its timeout')
      throw err
    }
  }

  /** Calls holding an offer (a leak check for tests and the status page). */
  anchored(): number {
    return this.calls.size
  }
}
