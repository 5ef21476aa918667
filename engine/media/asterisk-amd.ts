/**
 * A reimplementation of Asterisk's AMD() (apps/app_amd.c), the energy-based detector behind VICIdial and most
 * classic dialers: the baseline bench/amd measures our AmdDetector against. Parameters and results follow its
 * documentation (https://docs.asterisk.org/Latest_API/API_Documentation/Dialplan_Applications/AMD) and amd.conf
 * sample defaults; silence is Asterisk's DSP rule, a frame whose mean absolute sample is below silenceThreshold.
 *
 * Kept faithful on purpose, including its known weaknesses (a fixed energy threshold; a long initial silence
 * counted as a machine; word counting that calls a chatty person a machine): it is the thing to beat.
 */
import type { AmdOutcome } from '../telephony/port.js'
import { FRAME_MS } from './frames.js'

export interface AsteriskAmdParams {
  initialSilence: number
  greeting: number
  afterGreetingSilence: number
  totalAnalysisTime: number
  minimumWordLength: number
  betweenWordsSilence: number
  maximumNumberOfWords: number
  silenceThreshold: number
  maximumWordLength: number
}

export const ASTERISK_AMD_DEFAULTS: Readonly<AsteriskAmdParams> = Object.freeze({
  initialSilence: 2500,
  greeting: 1500,
  afterGreetingSilence: 800,
  totalAnalysisTime: 5000,
  minimumWordLength: 100,
  betweenWordsSilence: 50,
  maximumNumberOfWords: 3,
  silenceThreshold: 256,
  maximumWordLength: 5000,
})

export type AsteriskAmdStatus = 'MACHINE' | 'HUMAN' | 'NOTSURE'

export interface AsteriskAmdResult {
  status: AsteriskAmdStatus
  /** AMDCAUSE, e.g. "LONGGREETING-1500-1500". */
  cause: string
  /** Stream time (ms) of the deciding frame. */
  at: number
  /** The same result in our outcome vocabulary: MACHINE → machine, HUMAN → human, NOTSURE → timeout. */
  outcome: AmdOutcome
}

export class AsteriskAmd {
  readonly params: AsteriskAmdParams
  private totalTime = 0
  private dspSilence = 0
  private silenceDuration = 0
  private consecutiveVoiceDuration = 0
  private voiceDuration = 0
  private wordsCount = 0
  private inWord = true
  private inInitialSilence = true
  private inGreeting = false
  private result: AsteriskAmdResult | undefined

  constructor(params: Partial<AsteriskAmdParams> = {}) {
    this.params = { ...ASTERISK_AMD_DEFAULTS, ...params }
  }

  get decided(): AsteriskAmdResult | undefined {
    return this.result
  }

  push(frame: Int16Array): AsteriskAmdResult | undefined {
    if (this.result) return undefined
    const p = this.params
    const frameLength = (frame.length / 8) | 0 || FRAME_MS
    this.totalTime += frameLength
    if (this.totalTime >= p.totalAnalysisTime) return this.decide('NOTSURE', `TOOLONG-${this.totalTime}`)

    let sum = 0
    for (let i = 0; i < frame.length; i++) sum += Math.abs(frame[i]!)
    // ast_dsp_silence: consecutive silent ms so far, 0 as soon as a frame is loud.
    this.dspSilence = sum / frame.length < p.silenceThreshold ? this.dspSilence + frameLength : 0

    if (this.dspSilence > 0) {
      this.silenceDuration = this.dspSilence
      if (this.silenceDuration >= p.betweenWordsSilence) {
        this.inWord = false
        this.consecutiveVoiceDuration = 0
      }
      if (this.inInitialSilence && this.silenceDuration >= p.initialSilence) {
        return this.decide('MACHINE', `INITIALSILENCE-${this.silenceDuration}-${p.initialSilence}`)
      }
      if (this.silenceDuration >= p.afterGreetingSilence && this.inGreeting) {
        return this.decide('HUMAN', `HUMAN-${this.silenceDuration}-${p.afterGreetingSilence}`)
      }
    } else {
      this.consecutiveVoiceDuration += frameLength
      this.voiceDuration += frameLength
      if (this.consecutiveVoiceDuration >= p.minimumWordLength && !this.inWord) {
        this.wordsCount++
        this.inWord = true
      }
      if (this.consecutiveVoiceDuration >= p.maximumWordLength) {
        return this.decide('MACHINE', `MAXWORDLENGTH-${this.consecutiveVoiceDuration}`)
      }
      if (this.wordsCount >= p.maximumNumberOfWords) {
        return this.decide('MACHINE', `MAXWORDS-${this.wordsCount}-${p.maximumNumberOfWords}`)
      }
      if (this.inGreeting && this.voiceDuration >= p.greeting) {
        return this.decide('MACHINE', `LONGGREETING-${this.voiceDuration}-${p.greeting}`)
      }
      if (this.voiceDuration >= p.minimumWordLength) this.silenceDuration = 0
      if (this.consecutiveVoiceDuration >= p.minimumWordLength && !this.inGreeting) {
        this.inInitialSilence = false
        this.inGreeting = true
      }
    }
    return undefined
  }

  private decide(status: AsteriskAmdStatus, cause: string): AsteriskAmdResult {
    const outcome: AmdOutcome = status === 'MACHINE' ? 'machine' : status === 'HUMAN' ? 'human' : 'timeout'
    this.result = { status, cause, at: this.totalTime, outcome }
    return this.result
  }
}
