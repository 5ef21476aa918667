import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { CallEvents, type CallEventMap, type CallEventName } from '../../../engine/telephony/port.js'
import { parseScenario } from '../../../engine/telephony/sim/scenario.js'
import { SimTelephony, SimTelephonyError } from '../../../engine/telephony/sim/sim-telephony.js'

type Logged = { event: CallEventName; e: CallEventMap[CallEventName] }

function harness(seed: number, scenario = parseScenario({ name: 't' })) {
  const clock = new VirtualClock(Date.UTC(2026, 10, 23, 9))
  const port = new SimTelephony(clock, scenario, seed)
  const log = new Map<string, Logged[]>()
  for (const event of Object.values(CallEvents)) {
    port.on(event, (e: CallEventMap[typeof event]) => {
      const list = log.get(e.callId) ?? []
      list.push({ event, e })
      log.set(e.callId, list)
    })
  }
  return { clock, port, log }
}

t.test('every call ends exactly once (failed xor ended), in a consistent order, when the engine bridges answers', async (t) => {
  const { clock, port, log } = harness(17)
  // A crude engine: bridge every call AMD calls human, hang up machines, leave some unattended.
  let agentN = 0
  port.on(CallEvents.AmdResult, (e) => {
    if (e.outcome === 'human') {
      if (agentN++ % 5 !== 4) void port.bridge(e.callId, `agent-${agentN}`)
    } else void port.hangup(e.callId, 'machine')
  })
  const ids: string[] = []
  for (let i = 0; i < 400; i++) {
    const callId = `call-${i}`
    ids.push(callId)
    clock.setTimeout(() => {
      void port.originate({ callId, campaignId: 'c', leadId: `l${i}`, number: '+15550100000', ringTimeoutMs: 25_000, amd: true })
    }, i * 500)
    // Cancel a few while they ring.
    if (i % 37 === 0) clock.setTimeout(() => void port.hangup(callId, 'cancel'), i * 500 + 1000)
  }
  clock.runUntilIdle()
  t.equal(port.activeCalls(), 0)
  const kinds = new Set<string>()
  for (const id of ids) {
    const events = (log.get(id) ?? []).map((x) => x.event)
    const terminal = events.filter((e) => e === 'failed' || e === 'ended')
    t.equal(terminal.length, 1, `${id}: one terminal event (${events.join(',')})`)
    t.equal(events[events.length - 1], terminal[0], `${id}: nothing after the end`)
    if (events.includes('failed')) t.notOk(events.includes('answered'), `${id}: failed calls were never answered`)
    if (events.includes('ended')) t.ok(events.includes('answered'), `${id}: ended calls were answered`)
    if (events.includes('amd-result')) t.ok(events.indexOf('answered') < events.indexOf('amd-result'))
    if (events.includes('bridged')) t.ok(events.indexOf('amd-result') < events.indexOf('bridged'))
    const times = (log.get(id) ?? []).map((x) => x.e.at)
    t.same(times, [...times].sort((a, b) => a - b), `${id}: events in time order`)
    const failed = log.get(id)!.find((x) => x.event === 'failed')
    if (failed) kinds.add((failed.e as CallEventMap['failed']).cause)
  }
  for (const cause of ['busy', 'no-answer', 'invalid-number', 'cancelled']) t.ok(kinds.has(cause), `saw ${cause}`)
})

t.test('without AMD no amd-result is sent; the port rejects bad requests clearly', async (t) => {
  const { clock, port, log } = harness(3)
  for (let i = 0; i < 50; i++) void port.originate({ callId: `c${i}`, campaignId: 'c', leadId: 'l', number: '+1', ringTimeoutMs: 20_000, amd: false })
  clock.runUntilIdle()
  for (const list of log.values()) t.notOk(list.some((x) => x.event === 'amd-result'))
  await t.rejects(port.originate({ callId: 'x', campaignId: 'c', leadId: 'l', number: '+1', ringTimeoutMs: 5000, amd: false }), /15 s minimum/)
  await t.rejects(port.bridge('nope', 'a1'), SimTelephonyError)
  await port.originate({ callId: 'dup', campaignId: 'c', leadId: 'l', number: '+1', ringTimeoutMs: 20_000, amd: false })
  await t.rejects(port.originate({ callId: 'dup', campaignId: 'c', leadId: 'l', number: '+1', ringTimeoutMs: 20_000, amd: false }), /already exists/)
  await t.rejects(port.bridge('dup', 'a1'), /not answered/)
})

t.test('a bridged call is ended by SimAgents after a talk time drawn from the scenario', async (t) => {
  const sc = parseScenario({ name: 't', carrier: { answerRate: 0.85, machineRate: 0.02 }, agentBehaviour: { talk: { kind: 'constant', value: 42 } } })
  const { clock, port, log } = harness(5, sc)
  port.on(CallEvents.AmdResult, (e) => void port.bridge(e.callId, 'agent-1'))
  await port.originate({ callId: 'one', campaignId: 'c', leadId: 'l', number: '+1', ringTimeoutMs: 25_000, amd: true })
  clock.runUntilIdle()
  const events = log.get('one')!
  const bridged = events.find((x) => x.event === 'bridged')
  const ended = events.find((x) => x.event === 'ended')
  if (bridged && ended && events.some((x) => x.event === 'amd-result' && (x.e as CallEventMap['amd-result']).outcome === 'human')) {
    t.equal(ended.e.at - bridged.e.at, 42_000)
  } else t.ok(ended || events.some((x) => x.event === 'failed'), 'call ended one way or another')
  t.ok(port.agents.wrapUpMs('human') >= 0)
})
