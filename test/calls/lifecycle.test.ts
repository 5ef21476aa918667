import t from 'tap'
import fc from 'fast-check'
import { newCall, step, isTerminal, type CallInput, type CallRecord, type LifecycleOptions } from '../../engine/calls/lifecycle.js'
import { toCdr } from '../../engine/calls/cdr.js'
import { AmdOutcomes, FailureCauses } from '../../engine/telephony/port.js'

const noAmd: LifecycleOptions = { maxAgentWaitMs: 2000, amd: false }
const withAmd: LifecycleOptions = { maxAgentWaitMs: 2000, amd: true }

function run(inputs: CallInput[], opts: LifecycleOptions) {
  let call: CallRecord = newCall('c1', 'camp', 'lead', 0)
  const effects = []
  for (const input of inputs) {
    const tr = step(call, input, opts)
    call = tr.call
    effects.push(...tr.effects)
  }
  return { call, effects }
}

t.test('answered human without AMD waits for an agent, is bridged, completes with one finalize', async (t) => {
  const { call, effects } = run(
    [
      { type: 'ringing', at: 100 },
      { type: 'answered', at: 5000 },
      { type: 'agent-reserved', at: 5100, agentId: 'a1' },
      { type: 'bridged', at: 5200, agentId: 'a1' },
      { type: 'ended', at: 65200, endedBy: 'customer' },
    ],
    noAmd,
  )
  t.equal(call.state, 'completed')
  t.same(
    effects.map((e) => e.type),
    ['start-agent-wait-timer', 'route-to-agent', 'bridge', 'agent-to-wrap', 'finalize'],
  )
  const cdr = toCdr(call)
  t.equal(cdr.outcome, 'connected')
  t.equal(cdr.talkSeconds, 60)
  t.equal(cdr.agentId, 'a1')
  t.equal(cdr.abandoned, false)
})

t.test('no agent within the wait: safe-harbor message, then abandoned', async (t) => {
  const { call, effects } = run(
    [
      { type: 'answered', at: 1000 },
      { type: 'agent-wait-expired', at: 3000 },
      { type: 'ended', at: 9000, endedBy: 'system' },
    ],
    noAmd,
  )
  t.equal(call.state, 'abandoned')
  t.equal(call.abandonKind, 'no-agent')
  t.ok(effects.some((e) => e.type === 'play-safe-harbor'))
  t.equal(toCdr(call).abandoned, true)
})

t.test('a reserved agent wins over the wait timer', async (t) => {
  const { call } = run(
    [
      { type: 'answered', at: 1000 },
      { type: 'agent-reserved', at: 2900, agentId: 'a1' },
      { type: 'agent-wait-expired', at: 3000 },
      { type: 'bridged', at: 3100, agentId: 'a1' },
    ],
    noAmd,
  )
  t.equal(call.state, 'bridged')
})

t.test('customer hangs up while waiting with an agent reserved: agent released, abandoned', async (t) => {
  const { call, effects } = run(
    [
      { type: 'answered', at: 1000 },
      { type: 'agent-reserved', at: 1500, agentId: 'a9' },
      { type: 'ended', at: 1600, endedBy: 'customer' },
    ],
    noAmd,
  )
  t.equal(call.state, 'abandoned')
  t.equal(call.abandonKind, 'customer-hangup-waiting')
  t.ok(effects.some((e) => e.type === 'release-agent' && e.agentId === 'a9'))
})

t.test('AMD machine hangs up and records a machine outcome; AMD human is routed', async (t) => {
  const m = run([{ type: 'answered', at: 1000 }, { type: 'amd-result', at: 3000, outcome: 'machine' }], withAmd)
  t.equal(m.call.state, 'machine')
  t.equal(toCdr(m.call).outcome, 'machine')
  const h = run([{ type: 'answered', at: 1000 }, { type: 'amd-result', at: 2500, outcome: 'human' }], withAmd)
  t.equal(h.call.state, 'waiting-agent')
  t.equal(h.call.waitingSince, 2500)
})

t.test('failed call keeps the SIP status and reason for the CDR', async (t) => {
  const { call } = run([{ type: 'failed', at: 400, cause: 'invalid-number', sipStatus: 404, sipReason: 'Not Found' }], noAmd)
  const cdr = toCdr(call)
  t.equal(cdr.outcome, 'invalid-number')
  t.equal(cdr.sipStatus, 404)
  t.equal(cdr.sipReason, 'Not Found')
})

const inputArb: fc.Arbitrary<CallInput> = fc.oneof(
  fc.record({ type: fc.constant('ringing' as const), at: fc.nat(100000) }),
  fc.record({ type: fc.constant('early-media' as const), at: fc.nat(100000) }),
  fc.record({ type: fc.constant('answered' as const), at: fc.nat(100000) }),
  fc.record({ type: fc.constant('amd-result' as const), at: fc.nat(100000), outcome: fc.constantFrom(...AmdOutcomes) }),
  fc.record({ type: fc.constant('agent-reserved' as const), at: fc.nat(100000), agentId: fc.constantFrom('a1', 'a2') }),
  fc.record({ type: fc.constant('bridged' as const), at: fc.nat(100000), agentId: fc.constantFrom('a1', 'a2') }),
  fc.record({ type: fc.constant('agent-wait-expired' as const), at: fc.nat(100000) }),
  fc.record({ type: fc.constant('transferred' as const), at: fc.nat(100000), toAgentId: fc.constantFrom('a1', 'a2', 'a3') }),
  fc.record({ type: fc.constant('transferred-out' as const), at: fc.nat(100000) }),
  fc.record({ type: fc.constant('failed' as const), at: fc.nat(100000), cause: fc.constantFrom(...FailureCauses) }),
  fc.record({ type: fc.constant('ended' as const), at: fc.nat(100000), endedBy: fc.constantFrom('customer' as const, 'agent' as const, 'system' as const) }),
)

t.test('a carrier that answers with a SIT or an announcement: failed with what was heard, never an abandon', async (t) => {
  const sit = { reason: 'sit-vacant-code', detail: 'SIT VC HL/LSL' } as const
  // during AMD
  const during = run([{ type: 'answered', at: 1000 }, { type: 'ended', at: 2500, endedBy: 'system', earlyMedia: sit }], withAmd)
  t.equal(during.call.state, 'failed')
  t.equal(during.call.failureCause, 'invalid-number')
  t.equal(during.call.earlyMediaReason, 'sit-vacant-code')
  t.equal(during.call.earlyMediaDetail, 'SIT VC HL/LSL')
  t.strictSame(during.effects.map((e) => e.type), ['finalize'])
  t.equal(toCdr(during.call).outcome, 'invalid-number')
  t.equal(toCdr(during.call).abandoned, false)
  // waiting for an agent, one already reserved: the agent goes back
  const waiting = run(
    [{ type: 'answered', at: 1000 }, { type: 'agent-reserved', at: 1100, agentId: 'a1' }, { type: 'ended', at: 1500, endedBy: 'system', earlyMedia: { reason: 'sit-reorder', detail: 'SIT RO' } }],
    noAmd,
  )
  t.equal(waiting.call.state, 'failed')
  t.equal(waiting.call.failureCause, 'congestion', 'reorder: the network, not the number')
  t.ok(waiting.effects.some((e) => e.type === 'release-agent' && e.agentId === 'a1'))
  // once bridged, an agent heard it: the call completed as any other
  const bridged = run(
    [{ type: 'answered', at: 1000 }, { type: 'agent-reserved', at: 1100, agentId: 'a1' }, { type: 'bridged', at: 1200, agentId: 'a1' }, { type: 'ended', at: 9000, endedBy: 'system', earlyMedia: sit }],
    noAmd,
  )
  t.equal(bridged.call.state, 'completed')
  t.equal(bridged.call.earlyMediaReason, undefined)
})

t.test('a blind transfer: the call goes on with the new agent, the first wraps up, one CDR naming the last agent', async (t) => {
  const { call, effects } = run(
    [
      { type: 'answered', at: 1000 },
      { type: 'agent-reserved', at: 1100, agentId: 'a1' },
      { type: 'bridged', at: 1200, agentId: 'a1' },
      { type: 'transferred', at: 30_000, toAgentId: 'a2' },
      { type: 'transferred', at: 40_000, toAgentId: 'a2' },
      { type: 'ended', at: 61_200, endedBy: 'customer' },
    ],
    noAmd,
  )
  t.equal(call.state, 'completed')
  t.same(call.transferredFrom, ['a1'], 'a transfer to the agent who has the call changes nothing')
  t.same(
    effects.filter((e) => e.type === 'agent-to-wrap'),
    [{ type: 'agent-to-wrap', agentId: 'a1' }, { type: 'agent-to-wrap', agentId: 'a2' }],
    'the first agent wraps up at the transfer, the second when the call ends',
  )
  t.equal(effects.filter((e) => e.type === 'finalize').length, 1)
  const cdr = toCdr(call)
  t.equal(cdr.agentId, 'a2')
  t.equal(cdr.talkSeconds, 60, 'talk time is the call\'s, from the first bridge')
  // not bridged yet: nothing to transfer
  const early = run([{ type: 'answered', at: 1000 }, { type: 'transferred', at: 1500, toAgentId: 'a2' }], noAmd)
  t.equal(early.call.agentId, undefined)
  t.same(early.call.transferredFrom, undefined)
})

t.test('a transfer out: the agent wraps up at once, the call goes on to its end with one CDR naming that agent', async (t) => {
  const { call, effects } = run(
    [
      { type: 'answered', at: 1000 },
      { type: 'agent-reserved', at: 1100, agentId: 'a1' },
      { type: 'bridged', at: 1200, agentId: 'a1' },
      { type: 'transferred-out', at: 30_000 },
      { type: 'transferred-out', at: 31_000 },
      { type: 'transferred', at: 32_000, toAgentId: 'a2' },
      { type: 'ended', at: 91_200, endedBy: 'agent' },
    ],
    noAmd,
  )
  t.equal(call.state, 'completed')
  t.equal(call.transferredOutAt, 30_000)
  t.same(
    effects.filter((e) => e.type === 'agent-to-wrap'),
    [{ type: 'agent-to-wrap', agentId: 'a1' }],
    'a1 wraps up at the transfer out, and not again when the call ends; no agent can take it back',
  )
  t.equal(effects.filter((e) => e.type === 'finalize').length, 1)
  const cdr = toCdr(call)
  t.equal(cdr.agentId, 'a1')
  t.equal(cdr.talkSeconds, 90, 'talk time runs to the end of the call, the outside part included')
  t.equal(cdr.abandoned, false)
  const early = run([{ type: 'answered', at: 1000 }, { type: 'transferred-out', at: 1500 }], noAmd)
  t.equal(early.call.state, 'waiting-agent', 'not with an agent yet: nothing to transfer')
})

t.test('an agent-bound call (preview dial): answer bridged to that agent at once; any end is theirs, never an abandon', async (t) => {
  const bound = (inputs: CallInput[], opts = withAmd) => {
    let call: CallRecord = { ...newCall('c1', 'camp', 'lead', 0), boundAgentId: 'a7' }
    const effects = []
    for (const input of inputs) {
      const tr = step(call, input, opts)
      call = tr.call
      effects.push(...tr.effects)
    }
    return { call, effects }
  }
  const talked = bound([
    { type: 'ringing', at: 100 },
    { type: 'answered', at: 5000 },
    { type: 'bridged', at: 5100, agentId: 'a7' },
    { type: 'ended', at: 65_100, endedBy: 'agent' },
  ])
  t.same(talked.effects.map((e) => e.type), ['bridge', 'agent-to-wrap', 'finalize'], 'no AMD wait, no routing, no wait timer')
  t.match(toCdr(talked.call), { outcome: 'connected', agentId: 'a7', talkSeconds: 60, abandoned: false })
  const busy = bound([{ type: 'failed', at: 3000, cause: 'busy' }])
  t.same(busy.effects, [{ type: 'agent-to-wrap', agentId: 'a7' }, { type: 'finalize' }], 'a failed attempt is the agent\'s to disposition')
  t.match(toCdr(busy.call), { outcome: 'busy', agentId: 'a7' })
  const gone = bound([{ type: 'answered', at: 5000 }, { type: 'ended', at: 5050, endedBy: 'customer' }])
  t.equal(gone.call.state, 'completed', 'hung up before the media joined: not an abandon')
  t.equal(toCdr(gone.call).abandoned, false)
  t.same(gone.effects.map((e) => e.type), ['bridge', 'agent-to-wrap', 'finalize'])
})

t.test('property: any event sequence finalizes at most once, only in a terminal state, and a CDR follows', async (t) => {
  fc.assert(
    fc.property(fc.array(inputArb, { maxLength: 30 }), fc.boolean(), (inputs, amd) => {
      const opts = amd ? withAmd : noAmd
      let call = newCall('c', 'k', 'l', 0)
      let finalizes = 0
      for (const input of inputs) {
        const before = call
        const tr = step(call, input, opts)
        if (isTerminal(before) && tr.call !== before) return false
        call = tr.call
        for (const e of tr.effects) {
          if (e.type === 'finalize') {
            finalizes++
            if (!isTerminal(call)) return false
            const cdr = toCdr(call)
            if (cdr.callId !== 'c' || !cdr.disposition) return false
          }
          if (e.type === 'bridge' && call.state !== 'waiting-agent') return false
        }
      }
      return finalizes === (isTerminal(call) ? 1 : 0)
    }),
    { numRuns: 2000 },
  )
  t.pass('held for 2000 random sequences')
})
