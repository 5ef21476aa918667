import t from 'tap'
import { inboundStep, newInboundCall, validateInboundNumbers, type InboundCall, type InboundEffect, type InboundInput, type IvrMenu } from '../../../engine/telephony/inbound/ivr.js'

const menu: IvrMenu = { prompt: 'ivr-menu', options: { '1': { queue: 'sales' }, '2': { queue: 'service' } }, timeoutMs: 5000, retries: 1 }

function run(inputs: InboundInput[]): { call: InboundCall; effects: InboundEffect[] } {
  let { call, effects } = newInboundCall()
  const all = [...effects]
  for (const input of inputs) {
    ;({ call, effects } = inboundStep(menu, call, input))
    all.push(...effects)
  }
  return { call, effects: all }
}

t.test('a key leads to its queue, an agent is found, the call is answered', async (t) => {
  const r = run([
    { type: 'digit', digit: '2', at: 3000 },
    { type: 'agent-found', agentId: 'a1', at: 9000 },
    { type: 'caller-hung-up', at: 60_000 },
  ])
  t.same(r.effects, [{ type: 'play-menu' }, { type: 'enqueue', queue: 'service' }, { type: 'bridge', agentId: 'a1' }, { type: 'finish', outcome: 'answered' }])
  t.match(r.call, { phase: 'done', queue: 'service', queuedAt: 3000, agentId: 'a1', bridgedAt: 9000, outcome: 'answered' })
})

t.test('a wrong key or silence plays the menu again, a bounded number of times, then lets the caller go', async (t) => {
  const r = run([{ type: 'digit', digit: '9', at: 1000 }, { type: 'menu-timeout', at: 9000 }])
  t.same(r.effects.map((e) => e.type), ['play-menu', 'play-menu', 'hangup', 'finish'])
  t.equal(r.call.outcome, 'no-choice')
  const late = run([{ type: 'menu-timeout', at: 5000 }, { type: 'digit', digit: '1', at: 7000 }])
  t.equal(late.call.phase, 'queued', 'a key during the replay still counts')
})

t.test('hanging up in the queue is a lost call; the wait running out asks for a callback, then says goodbye', async (t) => {
  t.equal(run([{ type: 'digit', digit: '1', at: 1 }, { type: 'caller-hung-up', at: 5 }]).call.outcome, 'lost')
  const over = run([{ type: 'digit', digit: '1', at: 1 }, { type: 'max-wait', at: 60_000 }, { type: 'agent-found', agentId: 'late', at: 60_001 }, { type: 'left', at: 65_000 }])
  t.same(over.effects.map((e) => e.type), ['play-menu', 'enqueue', 'request-callback', 'play-overflow', 'hangup', 'finish'], 'no agent once the caller is leaving')
  t.equal(over.call.outcome, 'overflow')
  t.equal(run([{ type: 'caller-hung-up', at: 5 }]).call.outcome, 'no-choice', 'gone during the menu')
  const after = run([{ type: 'caller-hung-up', at: 5 }, { type: 'digit', digit: '1', at: 6 }])
  t.equal(after.effects.length, 2, 'nothing after the end')
})

t.test('inbound numbers are validated, every problem named', async (t) => {
  const ok = validateInboundNumbers([{ number: '4008001234', campaignId: 'c1', menu: { prompt: 'ivr-menu', options: { '1': { queue: 'sales' } }, timeoutMs: 5000 }, maxWaitMs: 60_000, overflowPrompt: 'callback' }])
  t.equal(ok[0]!.menu.retries, 2, 'retries default to 2')
  t.throws(() => validateInboundNumbers({}), /expected an array/)
  t.throws(
    () => validateInboundNumbers([{ number: '', campaignId: 'c1', menu: { prompt: 'p', options: { x: { queue: 'a b' } }, timeoutMs: 10 }, maxWaitMs: 60_000, overflowPrompt: 'o' }]),
    /inbound\[0\]\.number.*inbound\[0\]\.menu\.options\.x: a key.*queue.*timeoutMs/,
  )
  t.throws(() => validateInboundNumbers([ok[0], ok[0]]), /configured twice/)
})
