/**
 * What the drachtio adapter and the agent sessions need from whatever anchors a call's media (rtpengine in
 * production, a fixed SDP in signalling tests), and the optional abilities an anchor may have (join, record, audit):
 * each checked at run time, so an anchor without one is refused with a reason instead of failing half-way.
 */

/**
 * Where a call's media is anchored. The adapter asks for the SDP to offer, hands over the far end's SDP (early or
 * final), and releases the call's media on every exit path (release is idempotent).
 */
export interface MediaAnchor {
  offer(callId: string): Promise<string>
  answer(callId: string, remoteSdp: string, remoteTag: string): Promise<void>
  release(callId: string): Promise<void>
  /**
   * Where the anchor sends the call's far-end audio to the engine from, once it has the far end's SDP: the key media
   * analysis listens by (rtpengine: the engine-facing port of its answer). Absent: no analysis.
   */
  engineFacing?(callId: string): { host: string; port: number } | undefined
}

/** A media anchor that can join two answered calls' media (rtpengine: RtpengineAnchor.join) and undo it. */
export interface MediaJoiner {
  join(callA: string, callB: string): Promise<void>
  part(callId: string): Promise<void>
}

/**
 * A media anchor that records calls (rtpengine: RtpengineAnchor, a pcap per call in its recording directory). A
 * recording stopped with `pause` may be started again; the anchor's delete closes whatever is still open.
 */
export interface MediaRecorder {
  startRecording(callId: string, metadata: string): Promise<void>
  stopRecording(callId: string, pause: boolean): Promise<void>
  /** "ip:port" a call's media reaches the calls joined to it from (the agent's side of a recorded customer call). */
  mediaSource?(callId: string): string | undefined
}

/**
 * A media anchor that plays prompts to a call's far end and mutes the engine side's audio in either direction
 * (rtpengine: RtpengineAnchor, `play media` / `block media`): the safe-harbor message, hold music, IVR prompts.
 */
export interface MediaPlayer {
  /** Starts playing `file` to the far end; resolves with its length (ms). `repeat` loops it. */
  playToFarEnd(callId: string, file: string, opts?: { repeat?: number }): Promise<number>
  stopPlaying(callId: string): Promise<void>
  /** What the far end hears from the engine side (the joined agent): off while `on`. */
  muteTowardsFarEnd(callId: string, on: boolean): Promise<void>
  /** What the engine side (the joined agent) hears from the far end: off while `on`. */
  muteFromFarEnd(callId: string, on: boolean): Promise<void>
}

export function canPlay(m: MediaAnchor): m is MediaAnchor & MediaPlayer {
  const p = m as Partial<MediaPlayer>
  return typeof p.playToFarEnd === 'function' && typeof p.stopPlaying === 'function' && typeof p.muteTowardsFarEnd === 'function'
}

/**
 * A media anchor that can say which of the sessions it failed to delete its media server still holds (rtpengine:
 * `list`), and delete them: what a reconcile after a reconnect cleans up.
 */
export interface MediaAudit {
  strays(): Promise<string[]>
  purge(callId: string): Promise<void>
}

export function canAudit(m: MediaAnchor): m is MediaAnchor & MediaAudit {
  const a = m as Partial<MediaAudit>
  return typeof a.strays === 'function' && typeof a.purge === 'function'
}

export function canRecord(m: MediaAnchor): m is MediaAnchor & MediaRecorder {
  const r = m as Partial<MediaRecorder>
  return typeof r.startRecording === 'function' && typeof r.stopRecording === 'function'
}

export function canJoin(m: MediaAnchor): m is MediaAnchor & MediaJoiner {
  const j = m as Partial<MediaJoiner>
  return typeof j.join === 'function' && typeof j.part === 'function'
}

/** An SDP given as is: no media anchoring (tests of signalling, or a site whose carrier talks straight to phones). */
export class StaticSdp implements MediaAnchor {
  constructor(private readonly sdp: string) {}
  async offer(): Promise<string> {
    return this.sdp
  }
  async answer(): Promise<void> {}
  async release(): Promise<void> {}
}
