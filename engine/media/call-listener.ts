/**
 * Live media analysis of calls (issue 3): the engine's own side of every anchored call is this process's RtpSocket,
 * so whatever the carrier sends reaches us through rtpengine until an agent is joined. Per call the adapter asks for
 * the early-media screen (183 with SDP until the answer: SIT tones, carrier announcements) or for AMD (the first
 * seconds after answer), keyed by the address rtpengine sends the call's media from; each returns a handle that
 * stops listening (idempotent) and frees the socket's registration.
 */
import type { CallMediaListener, ListenedCall, Listening } from '../telephony/drachtio/drachtio-telephony.js'
import { AmdDetector, amdThresholds, type AmdDecision } from './amd.js'
import { EarlyMediaScreen, type EarlyMediaScreenOptions } from './early-media-screen.js'
import type { InvalidNumberEvent } from './invalid-number.js'
import type { RtpSocket, RtpStream } from './rtp-socket.js'
import type { Template } from './template-matcher.js'
import type { Vad } from './vad.js'

export interface CallListenerOptions {
  socket: RtpSocket
  /** Enrolled carrier announcements (labels are invalid-number reasons); without them only SIT tones are heard. */
  templates?: readonly Template[]
  announcementThreshold?: number
  /** A fresh VAD per AMD stream (it keeps state); the energy VAD when absent. */
  vad?: () => Vad
}

const addr = (a: { host: string; port: number }): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

export class CallListener implements CallMediaListener {
  constructor(private readonly o: CallListenerOptions) {}

  private screenOptions(call: ListenedCall, onEvidence: (e: InvalidNumberEvent) => void): EarlyMediaScreenOptions {
    return {
      startedAt: call.startedAt,
      callId: call.callId,
      number: call.number,
      onInvalidNumber: onEvidence,
      ...(this.o.templates ? { templates: this.o.templates } : {}),
      ...(this.o.announcementThreshold !== undefined ? { threshold: this.o.announcementThreshold } : {}),
    }
  }

  screen(call: ListenedCall, onEvidence: (e: InvalidNumberEvent) => void): Listening {
    const screen = new EarlyMediaScreen(this.screenOptions(call, onEvidence))
    const stream = this.o.socket.open({ source: addr(call.from), onFrame: (f) => void screen.push(f) })
    return { close: () => stream.close(), decideWithinMs: Number.POSITIVE_INFINITY, stats: stream.stats }
  }

  amd(call: ListenedCall, onDecision: (d: AmdDecision) => void, onEvidence?: (e: InvalidNumberEvent) => void): Listening {
    // the campaign's own (checked when it was saved), over the defaults tuned on the corpus
    const thresholds = amdThresholds(call.amdThresholds ?? {})
    const vad = this.o.vad?.()
    const amd = new AmdDetector({ thresholds, startedAt: call.startedAt, ...(vad ? { vad } : {}) })
    // carriers that answer dead numbers play the SIT or the announcement after a 200 OK: AMD alone would call a SIT
    // with silence after it a short greeting (a person) and an announcement a machine
    const screen = onEvidence ? new EarlyMediaScreen(this.screenOptions(call, onEvidence)) : undefined
    let stream: RtpStream | undefined
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      stream?.close()
      ;(vad as { dispose?: () => void } | undefined)?.dispose?.()
    }
    stream = this.o.socket.open({
      source: addr(call.from),
      onFrame: (f) => {
        if (closed) return
        screen?.push(f)
        if (closed) return
        for (const d of amd.push(f)) onDecision(d)
        // the last decision is in: the rest of the call is the agent's (or nobody's), not ours to hear
        if (amd.done) close()
      },
    })
    return { close, decideWithinMs: thresholds.totalAnalysisMs, stats: stream.stats }
  }
}
