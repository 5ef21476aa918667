/**
 * Live media analysis of calls (issue 3): the engine's own side of every anchored call is this process's RtpSocket,
 * so whatever the carrier sends reaches us through rtpengine until an agent is joined. Per call the adapter asks for
 * the early-media screen (183 with SDP until the answer: SIT tones, carrier announcements) or for AMD (the first
 * seconds after answer), keyed by the address rtpengine sends the call's media from; each returns a handle that
 * stops listening (idempotent) and frees the socket's registration.
 *
 * Everything here runs on the engine's event loop, beside SIP. A SIT-only screen or AMD costs about 6-16 µs per 20 ms
 * frame (over a thousand streams per core); announcement templates cost about 15 µs per template per frame (18
 * templates: ~260 µs, ~75 streams per core; `npx tsx bench/amd/live-cost.ts`). So at most `maxAnnouncementScreens`
 * calls are template-matched at once; beyond that a call's screen hears SIT tones only (counted in
 * `announcementScreensSkipped`, logged), and the event loop stays free for signalling.
 */
import type { CallMediaListener, ListenedCall, Listening } from '../telephony/drachtio/call-media-listener.js'
import { AmdDetector, amdThresholds, type AmdDecision } from './amd.js'
import { EarlyMediaScreen, type EarlyMediaScreenOptions } from './early-media-screen.js'
import type { InvalidNumberEvent } from './invalid-number.js'
import type { RtpSocket, RtpStream } from './rtp-socket.js'
import type { Template } from './template-matcher.js'
import type { Vad } from './vad.js'
import type { Logger } from 'pino'

export interface CallListenerOptions {
  socket: RtpSocket
  /** Enrolled carrier announcements (labels are invalid-number reasons); without them only SIT tones are heard. */
  templates?: readonly Template[]
  announcementThreshold?: number
  /** A fresh VAD per AMD stream (it keeps state); the energy VAD when absent. */
  vad?: () => Vad
  /** Calls template-matched for announcements at once (DEFAULT_MAX_ANNOUNCEMENT_SCREENS); the rest hear SITs only. */
  maxAnnouncementScreens?: number
  logger?: Logger
}

/** About half a core at 18 templates (see above). */
export const DEFAULT_MAX_ANNOUNCEMENT_SCREENS = 40

const addr = (a: { host: string; port: number }): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

export class CallListener implements CallMediaListener {
  private templateScreens = 0
  /** Screens that heard SIT tones only because `maxAnnouncementScreens` were already template-matching. */
  announcementScreensSkipped = 0

  constructor(private readonly o: CallListenerOptions) {}

  /** Template-matched calls now. */
  get announcementScreens(): number {
    return this.templateScreens
  }

  /** A screen's options, and what closing it gives back (a template-matching slot). */
  private screenOptions(call: ListenedCall, onEvidence: (e: InvalidNumberEvent) => void): { opts: EarlyMediaScreenOptions; release: () => void } {
    const base: EarlyMediaScreenOptions = {
      startedAt: call.startedAt,
      callId: call.callId,
      number: call.number,
      onInvalidNumber: onEvidence,
      ...(this.o.announcementThreshold !== undefined ? { threshold: this.o.announcementThreshold } : {}),
    }
    if (!this.o.templates?.length) return { opts: base, release: () => undefined }
    if (this.templateScreens >= (this.o.maxAnnouncementScreens ?? DEFAULT_MAX_ANNOUNCEMENT_SCREENS)) {
      this.announcementScreensSkipped++
      // the first, then every 100th: under load this would otherwise be a line per call
      if (this.announcementScreensSkipped % 100 === 1) {
        this.o.logger?.warn(
          { callId: call.callId, busy: this.templateScreens, skipped: this.announcementScreensSkipped },
          'announcement screening at its limit: this call is screened for SIT tones only',
        )
      }
      return { opts: base, release: () => undefined }
    }
    this.templateScreens++
    let released = false
    return {
      opts: { ...base, templates: this.o.templates },
      release: () => {
        if (released) return
        released = true
        this.templateScreens--
      },
    }
  }

  screen(call: ListenedCall, onEvidence: (e: InvalidNumberEvent) => void): Listening {
    const { opts, release } = this.screenOptions(call, onEvidence)
    const screen = new EarlyMediaScreen(opts)
    let stream: RtpStream
    try {
      stream = this.o.socket.open({ source: addr(call.from), onFrame: (f) => void screen.push(f) })
    } catch (err) {
      release()
      throw err
    }
    return {
      close: () => {
        release()
        stream.close()
      },
      decideWithinMs: Number.POSITIVE_INFINITY,
      stats: stream.stats,
    }
  }

  amd(call: ListenedCall, onDecision: (d: AmdDecision) => void, onEvidence?: (e: InvalidNumberEvent) => void): Listening {
    // the campaign's own (checked when it was saved), over the defaults tuned on the corpus
    const thresholds = amdThresholds(call.amdThresholds ?? {})
    const vad = this.o.vad?.()
    const amd = new AmdDetector({ thresholds, startedAt: call.startedAt, ...(vad ? { vad } : {}) })
    // carriers that answer dead numbers play the SIT after a 200 OK: AMD alone would call a SIT with silence after it
    // a short greeting (a person). SIT tones only: an announcement is a long greeting that AMD calls a machine before
    // a template could match the whole phrase, so templates here would cost their CPU for nothing
    const screen = onEvidence
      ? new EarlyMediaScreen({ startedAt: call.startedAt, callId: call.callId, number: call.number, onInvalidNumber: onEvidence })
      : undefined
    let stream: RtpStream | undefined
    let closed = false
    const close = (): void => {
      if (closed) return
      closed = true
      stream?.close()
      ;(vad as { dispose?: () => void } | undefined)?.dispose?.()
    }
    try {
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
    } catch (err) {
      close()
      throw err
    }
    return { close, decideWithinMs: thresholds.totalAnalysisMs, stats: stream.stats }
  }
}
