import type { Clock, TimerHandle } from '../../clock.js'
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
} from '../port.js'
import { OutsideTransferFailed } from '../outside-transfer-failed.js'
import { Rng } from '../../random/rng.js'
import { SimAgents } from './agents.js'
import { SimCarrier, type DialFate } from './carrier.js'
import type { Scenario } from './scenario.js'
import { CallEventBus } from '../call-event-bus.js'

/**
 * The TelephonyPort over the simulated carrier, so the live engine can run a campaign on the simulated site
 * (RealClock for `npm start`, VirtualClock in tests). Per call it emits ringing, then answered (+ amd-result when
 * AMD was asked for) or failed; bridged on bridge(); ended when the customer, the agent (SimAgents decides when a
 * bridged conversation ends) or hangup() ends it. Every call ends exactly once: `failed` before answer, or `ended`
 * after it, never both.
 */

const SIP_FOR: Record<FailureCause, { status: number; reason: string }> = {
  busy: { status: 486, reason: 'Busy Here' },
  'no-answer': { status: 480, reason: 'Temporarily Unavailable' },
  'invalid-number': { status: 404, reason: 'Not Found' },
  congestion: { status: 503, reason: 'Service Unavailable' },
  rejected: { status: 603, reason: 'Decline' },
  cancelled: { status: 487, reason: 'Request Terminated' },
  'trunk-unavailable': { status: 503, reason: 'Service Unavailable' },
}

/** How long an unattended machine keeps the line open (recording the silence) before it hangs up. */
const MACHINE_LINE_OPEN_MS = 60_000

interface PortCall {
  request: OriginateRequest
  fate: DialFate
  state: 'ringing' | 'answered' | 'bridged' | 'done'
  agentId?: string
  /** The agent the call's agent is consulting (attended transfer under way). */
  consultWith?: string
  timers: TimerHandle[]
}

export class SimTelephonyError extends Error {
  override name = 'SimTelephonyError'
}

export class SimTelephony implements TelephonyPort {
  readonly agents: SimAgents
  private readonly carrier: SimCarrier
  private readonly calls = new Map<string, PortCall>()
  private readonly events = new CallEventBus()
  /** Outside numbers a transfer out fails at, and how (a test's knob); any other number answers at once. */
  readonly outsideFailures = new Map<string, FailureCause>()

  constructor(
    private readonly clock: Clock,
    scenario: Scenario,
    seed: number,
    /** Start of the simulated shift (the answer rate follows time since then). Defaults to now. */
    shiftStartMs: number = clock.now(),
  ) {
    const rng = new Rng(seed)
    this.carrier = new SimCarrier(scenario, rng.fork('carrier'), shiftStartMs)
    this.agents = new SimAgents(scenario, rng.fork('agents'))
  }

  async originate(request: OriginateRequest): Promise<void> {
    if (this.calls.has(request.callId)) throw new SimTelephonyError(`originate: call ${request.callId} already exists`)
    if (!(request.ringTimeoutMs >= 15_000)) throw new SimTelephonyError(`originate: ringTimeoutMs ${request.ringTimeoutMs} is below the 15 s minimum`)
    const fate = this.carrier.dial(this.clock.now(), request.amd)
    // The request's own ring timeout wins over the carrier's when shorter.
    if ((fate.outcome === 'human' || fate.outcome === 'machine') && fate.afterMs >= request.ringTimeoutMs) {
      fate.outcome = 'no-answer'
      fate.afterMs = request.ringTimeoutMs
    } else if (fate.outcome === 'no-answer') fate.afterMs = request.ringTimeoutMs
    const call: PortCall = { request, fate, state: 'ringing', timers: [] }
    this.calls.set(request.callId, call)
    const id = request.callId
    const ringAt = Math.min(fate.afterMs, 300 + (fate.afterMs % 700))
    if (fate.outcome !== 'invalid') this.after(call, ringAt, () => this.emit(CallEvents.Ringing, { callId: id, at: this.clock.now() }))
    if (fate.outcome === 'busy' || fate.outcome === 'invalid' || fate.outcome === 'no-answer') {
      const cause: FailureCause = fate.outcome === 'invalid' ? 'invalid-number' : fate.outcome
      this.after(call, fate.afterMs, () => this.fail(call, cause))
      return
    }
    this.after(call, fate.afterMs, () => {
      call.state = 'answered'
      this.emit(CallEvents.Answered, { callId: id, at: this.clock.now() })
      const amd = fate.amd
      if (request.amd && amd) {
        this.after(call, amd.delayMs, () =>
          this.emit(CallEvents.AmdResult, {
            callId: id,
            at: this.clock.now(),
            outcome: amd.saysHuman ? 'human' : 'machine',
            reason: `simulated ${fate.outcome}`,
          }),
        )
      }
      // Nobody attends the call: a person gives up, a machine eventually stops recording.
      const giveUp = fate.outcome === 'human' ? (amd?.delayMs ?? 0) + (fate.patienceMs ?? 5000) + 1000 : MACHINE_LINE_OPEN_MS
      this.after(call, giveUp, () => {
        if (call.state === 'answered') this.end(call, 'customer')
      })
    })
  }

  async bridge(callId: string, agentId: string): Promise<void> {
    const call = this.live(callId, 'bridge')
    if (call.state !== 'answered') throw new SimTelephonyError(`bridge: call ${callId} is ${call.state}, not answered`)
    call.state = 'bridged'
    call.agentId = agentId
    this.emit(CallEvents.Bridged, { callId, agentId, at: this.clock.now() })
    const kind = call.fate.outcome === 'human' ? 'human' : 'machine'
    const dur = this.agents.callDurationMs(kind)
    this.after(call, dur, () => this.end(call, kind === 'machine' ? 'agent' : this.agents.endedBy()))
  }

  async play(callId: string, prompt: string): Promise<void> {
    const call = this.live(callId, 'play')
    if (call.state === 'ringing') throw new SimTelephonyError(`play: call ${callId} is not answered (prompt ${prompt})`)
  }

  async record(callId: string): Promise<void> {
    this.live(callId, 'record')
  }

  async hold(callId: string): Promise<void> {
    this.live(callId, 'hold')
  }

  async transfer(callId: string, toAgentId: string): Promise<void> {
    const call = this.live(callId, 'transfer')
    if (call.state !== 'bridged') throw new SimTelephonyError(`transfer: call ${callId} is not bridged`)
    call.agentId = toAgentId
    call.consultWith = undefined
  }

  /** The outside number answers at once (unless listed in outsideFailures); the conversation ends when it would have. */
  async transferOut(callId: string, to: OutsideTransfer): Promise<void> {
    const call = this.live(callId, 'transfer out')
    if (call.state !== 'bridged') throw new SimTelephonyError(`transfer out: call ${callId} is not bridged`)
    if (call.consultWith !== undefined) throw new SimTelephonyError(`transfer out: call ${callId} is in a consultation`)
    const failure = this.outsideFailures.get(to.number)
    if (failure !== undefined) {
      const sip = SIP_FOR[failure]
      throw new OutsideTransferFailed(failure, sip.status, sip.reason)
    }
    call.agentId = undefined
  }

  async consult(callId: string, toAgentId: string): Promise<void> {
    const call = this.live(callId, 'consult')
    if (call.state !== 'bridged') throw new SimTelephonyError(`consult: call ${callId} is not bridged`)
    if (call.consultWith !== undefined) throw new SimTelephonyError(`consult: call ${callId} is already in a consultation`)
    call.consultWith = toAgentId
  }

  async completeConsult(callId: string): Promise<void> {
    const call = this.live(callId, 'complete consult')
    if (call.consultWith === undefined) throw new SimTelephonyError(`complete consult: call ${callId} has no consultation`)
    call.agentId = call.consultWith
    call.consultWith = undefined
  }

  async cancelConsult(callId: string): Promise<void> {
    const call = this.live(callId, 'cancel consult')
    if (call.consultWith === undefined) throw new SimTelephonyError(`cancel consult: call ${callId} has no consultation`)
    call.consultWith = undefined
  }

  /** The consulted agent of an attended transfer hangs up their phone (a site event, as the real adapter reports it). */
  consultedHangsUp(callId: string): void {
    const call = this.live(callId, 'consulted hang-up')
    const agentId = call.consultWith
    if (agentId === undefined) throw new SimTelephonyError(`consulted hang-up: call ${callId} has no consultation`)
    call.consultWith = undefined
    this.emit(CallEvents.ConsultEnded, { callId, at: this.clock.now(), agentId })
  }

  async hangup(callId: string, _cause: string): Promise<void> {
    const call = this.calls.get(callId)
    if (!call || call.state === 'done') return
    if (call.state === 'ringing') this.fail(call, 'cancelled')
    else this.end(call, 'system')
  }

  on<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    this.events.on(event, listener)
  }

  off<E extends CallEventName>(event: E, listener: CallEventListener<E>): void {
    this.events.off(event, listener)
  }

  /** Calls not yet ended (for tests and the demo's status page). */
  activeCalls(): number {
    let n = 0
    for (const c of this.calls.values()) if (c.state !== 'done') n++
    return n
  }

  private live(callId: string, op: string): PortCall {
    const call = this.calls.get(callId)
    if (!call || call.state === 'done') throw new SimTelephonyError(`${op}: no active call ${callId}`)
    return call
  }

  private after(call: PortCall, ms: number, fn: () => void): void {
    call.timers.push(
      this.clock.setTimeout(() => {
        if (call.state !== 'done') fn()
      }, ms),
    )
  }

  private fail(call: PortCall, cause: FailureCause): void {
    this.finish(call)
    const sip = SIP_FOR[cause]
    this.emit(CallEvents.Failed, { callId: call.request.callId, at: this.clock.now(), cause, sipStatus: sip.status, sipReason: sip.reason })
  }

  private end(call: PortCall, endedBy: EndedBy): void {
    this.finish(call)
    this.emit(CallEvents.Ended, { callId: call.request.callId, at: this.clock.now(), endedBy })
  }

  private finish(call: PortCall): void {
    call.state = 'done'
    for (const t of call.timers) this.clock.clearTimeout(t)
    call.timers = []
    // Keep the map small on long demo runs: forget a finished call.
    this.calls.delete(call.request.callId)
  }

  private emit<E extends CallEventName>(event: E, payload: CallEventMap[E]): void {
    this.events.emit(event, payload)
  }
}
