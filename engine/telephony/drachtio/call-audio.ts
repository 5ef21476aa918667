/**
 * What a customer hears besides the agent: prompts (the safe-harbor message) and music on hold, played by the media
 * anchor (rtpengine `play media`) on the customer's call. One instance per adapter; its state is per call id and is
 * dropped with `ended()`, which also ends any wait for a prompt (the anchor's delete stops the playback itself).
 *
 * While a prompt or the hold music plays, the engine side's own audio (the agent joined to the call) is muted towards
 * the customer: rtpengine 10.5 would otherwise send both streams. On hold the agent stops hearing the customer too.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../clock.js'
import type { MediaAnchor, MediaPlayer } from './media-anchor.js'
import { PromptLibrary, UnknownPrompt } from '../prompts/prompt-library.js'
import { TelephonyRefused } from './telephony-refused.js'

/**
 * Waited past a prompt's length before what follows it (the next prompt, the music, unmuting the agent): rtpengine's
 * player starts a few packets after its reply, and a short prompt ("nine") lost its end to the music without it.
 */
const PLAYOUT_MARGIN_MS = 300

/** Times the hold music is looped: a tune of at least a second lasts past the longest call allowed by default (4 h). */
const HOLD_REPEATS = 14_400

interface AudioState {
  /** Commands on one call run one after another (an unhold never overtakes the hold it follows). */
  ops: Promise<void>
  held: boolean
  /** A prompt is playing: ends its wait early when the call ends. */
  prompt?: { timer: TimerHandle; done: () => void }
}

export interface CallAudioOptions {
  media: MediaAnchor & MediaPlayer
  prompts: PromptLibrary
  clock: Clock
  /** The prompt looped while a call is on hold. */
  holdMusic: string
}

export class CallAudio {
  private readonly calls = new Map<string, AudioState>()

  constructor(private readonly o: CallAudioOptions) {}

  private state(callId: string): AudioState {
    let s = this.calls.get(callId)
    if (!s) {
      s = { ops: Promise.resolve(), held: false }
      this.calls.set(callId, s)
    }
    return s
  }

  private file(prompt: string): string {
    try {
      return this.o.prompts.resolve(prompt)
    } catch (err) {
      if (err instanceof UnknownPrompt) throw new TelephonyRefused(`play: ${err.message}`)
      throw err
    }
  }

  private queue(s: AudioState, step: () => Promise<void>): Promise<void> {
    const op = s.ops.then(step)
    s.ops = op.catch(() => undefined)
    return op
  }

  /**
   * Plays `prompt` to the customer and resolves when it has played out (the length rtpengine gave, on the injected
   * clock) or the call ended. Refused while the call is on hold (the music owns the player).
   */
  play(callId: string, prompt: string, log: Logger): Promise<void> {
    const file = this.file(prompt)
    const s = this.state(callId)
    return this.queue(s, async () => {
      if (!this.calls.has(callId)) return
      if (s.held) throw new TelephonyRefused(`play: call ${callId} is on hold`)
      await this.o.media.muteTowardsFarEnd(callId, true)
      let ms: number
      try {
        ms = await this.o.media.playToFarEnd(callId, file)
      } catch (err) {
        await this.o.media.muteTowardsFarEnd(callId, false).catch(() => undefined)
        throw err
      }
      log.info({ prompt, ms }, 'prompt playing')
      await new Promise<void>((resolve) => {
        if (!this.calls.has(callId)) return resolve()
        const timer = this.o.clock.setTimeout(() => {
          s.prompt = undefined
          resolve()
        }, ms + PLAYOUT_MARGIN_MS)
        s.prompt = { timer, done: resolve }
      })
      if (!this.calls.has(callId)) return
      // played out: the agent (if one is joined) is heard again
      await this.o.media.muteTowardsFarEnd(callId, false)
    })
  }

  /** Puts the customer on hold (music, agent and customer no longer hear each other) or takes them off it. */
  hold(callId: string, on: boolean, log: Logger): Promise<void> {
    const music = on ? this.file(this.o.holdMusic) : ''
    const s = this.state(callId)
    return this.queue(s, async () => {
      if (!this.calls.has(callId) || s.held === on) return
      if (on) {
        await this.o.media.muteTowardsFarEnd(callId, true)
        await this.o.media.muteFromFarEnd(callId, true)
        s.held = true
        const ms = await this.o.media.playToFarEnd(callId, music, { repeat: HOLD_REPEATS })
        log.info({ music: this.o.holdMusic, loopMs: ms }, 'customer on hold')
      } else {
        await this.o.media.stopPlaying(callId)
        await this.o.media.muteFromFarEnd(callId, false)
        await this.o.media.muteTowardsFarEnd(callId, false)
        s.held = false
        log.info('customer off hold')
      }
    })
  }

  isHeld(callId: string): boolean {
    return this.calls.get(callId)?.held === true
  }

  /**
   * Cuts a playing prompt short (an agent became free for a queued caller): its wait ends now and rtpengine stops the
   * playback, so what is queued behind it (the bridge) runs at once.
   */
  interrupt(callId: string): void {
    const s = this.calls.get(callId)
    if (!s?.prompt) return
    this.o.clock.clearTimeout(s.prompt.timer)
    s.prompt.done()
    s.prompt = undefined
    void this.o.media.stopPlaying(callId)
  }

  /** The call is over: its waits end now; rtpengine's delete has taken the playback and the blocks with the call. */
  ended(callId: string): void {
    const s = this.calls.get(callId)
    if (!s) return
    this.calls.delete(callId)
    if (s.prompt) {
      this.o.clock.clearTimeout(s.prompt.timer)
      s.prompt.done()
      s.prompt = undefined
    }
  }
}
