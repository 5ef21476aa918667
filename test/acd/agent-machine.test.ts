import fc from 'fast-check'
import t from 'tap'
import { AgentStates, type AgentState } from '../../engine/acd/agent-state.js'
import { LEGAL, applyEvent, newAgent, timeInState, type Agent, type AgentEvent } from '../../engine/acd/agent-machine.js'

const T0 = 1_800_000_000_000

const ALLOWED_MOVES = new Set([
  'logged-out>paused',
  'logged-out>ready',
  'ready>paused',
  'ready>ready',
  'ready>reserved',
  'ready>logged-out',
  'paused>ready',
  'paused>paused',
  'paused>logged-out',
  'reserved>on-call',
  'reserved>ready',
  'reserved>paused',
  'on-call>wrap-up',
  'wrap-up>ready',
  'wrap-up>paused',
  'wrap-up>logged-out',
])

const callIdArb = fc.constantFrom('call-1', 'call-2', 'call-3')
const eventArb = fc.tuple(
  fc.integer({ min: 0, max: 60_000 }),
  fc.oneof(
    fc.record({ type: fc.constant('login' as const), ready: fc.boolean() }),
    fc.constant({ type: 'ready' as const }),
    fc.record({ type: fc.constant('pause' as const), reason: fc.constantFrom('break', 'lunch', '') }),
    fc.record({ type: fc.constant('reserve' as const), callId: callIdArb }),
    fc.record({ type: fc.constant('answer' as const), callId: callIdArb }),
    fc.record({ type: fc.constant('reserve-cancel' as const), callId: callIdArb }),
    fc.record({ type: fc.constant('reserve-timeout' as const), callId: callIdArb }),
    fc.record({ type: fc.constant('hangup' as const), callId: callIdArb }),
    fc.constant({ type: 'logout' as const }),
  ),
)

t.test('random event sequences: legal moves only, one call at a time, time fully accounted', async (t) => {
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 80 }), (steps) => {
      let agent: Agent = newAgent('a1', T0)
      let now = T0
      let heldCall: string | undefined
      for (const [dt, partial] of steps) {
        now += dt
        const event = { ...partial, at: now } as AgentEvent
        const before = agent
        const res = applyEvent(agent, event)
        if (!res.ok) {
          if (res.agent !== before) throw new Error('a refused event changed the agent')
          if (LEGAL[before.state].includes(event.type) && !('callId' in event) && event.type !== 'pause') {
            throw new Error(`legal ${event.type} refused in ${before.state}: ${res.error}`)
          }
          continue
        }
        agent = res.agent
        const move = `${before.state}>${agent.state}`
        if (!ALLOWED_MOVES.has(move)) throw new Error(`illegal move ${move} on ${event.type}`)
        // One call at a time: a reservation only from ready, and only the held call moves the agent after that.
        if (event.type === 'reserve') {
          if (heldCall !== undefined) throw new Error('reserved while holding a call')
          heldCall = event.callId
        } else if ('callId' in event && event.callId !== heldCall) {
          throw new Error(`${event.type} for ${event.callId} accepted while holding ${heldCall}`)
        }
        if (agent.state === 'ready' || agent.state === 'paused' || agent.state === 'logged-out') heldCall = undefined
        if (agent.callId !== heldCall) throw new Error(`callId ${agent.callId} but model holds ${heldCall}`)
        if (event.type === 'reserve-timeout') {
          if (agent.state !== 'paused' || agent.pauseReason !== 'no-answer') throw new Error('timeout did not pause')
        }
        const total = Object.values(timeInState(agent, now)).reduce((a, b) => a + b, 0)
        if (total !== now - T0) throw new Error(`time in states ${total} != elapsed ${now - T0}`)
      }
    }),
    { numRuns: 500 },
  )
  t.pass('property held over 500 random sequences')
})

t.test('a reserved agent who does not answer ends paused with reason no-answer, not lost', async (t) => {
  let a = newAgent('a1', T0)
  const step = (e: AgentEvent): void => {
    const r = applyEvent(a, e)
    if (!r.ok) throw new Error(r.error)
    a = r.agent
  }
  step({ type: 'login', at: T0, ready: true })
  step({ type: 'reserve', at: T0 + 1000, callId: 'c1' })
  t.notOk(applyEvent(a, { type: 'reserve', at: T0 + 1500, callId: 'c2' }).ok, 'no second reservation')
  t.notOk(applyEvent(a, { type: 'answer', at: T0 + 1500, callId: 'c2' }).ok, 'another call cannot move it')
  t.notOk(applyEvent(a, { type: 'logout', at: T0 + 1500 }).ok, 'cannot log out while reserved')
  step({ type: 'reserve-timeout', at: T0 + 16_000, callId: 'c1' })
  t.equal(a.state, 'paused')
  t.equal(a.pauseReason, 'no-answer')
  t.equal(a.callId, undefined)
  t.equal(a.stats.noAnswers, 1)
  t.same(timeInState(a, T0 + 20_000), {
    'logged-out': 0,
    ready: 1000,
    reserved: 15_000,
    'on-call': 0,
    'wrap-up': 0,
    paused: 4000,
  })
})

t.test('a call: talk and wrap-up times and calls are counted', async (t) => {
  let a = newAgent('a1', T0)
  for (const e of [
    { type: 'login', at: T0 },
    { type: 'ready', at: T0 + 10 },
    { type: 'reserve', at: T0 + 20, callId: 'c' },
    { type: 'answer', at: T0 + 30, callId: 'c' },
    { type: 'hangup', at: T0 + 1030, callId: 'c' },
    { type: 'pause', at: T0 + 1530, reason: 'break' },
  ] as AgentEvent[]) {
    const r = applyEvent(a, e)
    t.ok(r.ok, e.type)
    a = r.agent
  }
  t.equal(a.state, 'paused')
  t.equal(a.pauseReason, 'break')
  t.equal(a.stats.calls, 1)
  t.equal(a.stats.talkMs, 1000)
  t.equal(a.stats.wrapUpMs, 500)
  t.equal(a.lastCallEndedAt, T0 + 1030)
  t.notOk(applyEvent(a, { type: 'ready', at: T0 }).ok, 'time cannot go backwards')
})

t.test('every state refuses the events it does not list', async (t) => {
  const all: AgentEvent['type'][] = ['login', 'ready', 'pause', 'reserve', 'answer', 'reserve-cancel', 'reserve-timeout', 'hangup', 'logout']
  for (const state of AgentStates as readonly AgentState[]) {
    const agent: Agent = { ...newAgent('x', T0), state, callId: 'c' }
    for (const type of all) {
      if (LEGAL[state].includes(type)) continue
      const e = { type, at: T0 + 1, callId: 'c', reason: 'break' } as AgentEvent
      t.notOk(applyEvent(agent, e).ok, `${type} refused while ${state}`)
    }
  }
})
