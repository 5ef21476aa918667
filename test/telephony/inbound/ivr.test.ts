import t from 'tap'
import { inboundStep, newInboundCall, validateInboundNumbers, type InboundCall, type InboundEffect, type InboundInput, type IvrMenu } from '../../../engine/telephony/inbound/ivr.js'

const menu: IvrMenu = { prompt: 'ivr-menu', options: { '1': { queue: 'sales' }, '2': { queue: 'service' } }, timeoutMs: 5000, retries: 1 }

function run(inputs: InboundInput[], voicemail = false): { call: InboundCall; effects: InboundEffect[] } {
  let { call, effects } = newInboundCall()
  const all = [...effects]
  for (const input of inputs) {
    ;({ call, effects } = inboundStep(menu, call, input, voicemail))
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

t.test('a number that takes messages: greeting, then the message until #, its time limit or the hang-up', async (t) => {
  const queued: InboundInput[] = [{ type: 'digit', digit: '1', at: 1 }, { type: 'max-wait', at: 60_000 }]
  const hash = run([...queued, { type: 'agent-found', agentId: 'late', at: 60_001 }, { type: 'digit', digit: '5', at: 61_000 }, { type: 'greeting-played', at: 64_000 }, { type: 'digit', digit: '3', at: 70_000 }, { type: 'digit', digit: '#', at: 80_000 }], true)
  t.same(hash.effects.map((e) => e.type), ['play-menu', 'enqueue', 'request-callback', 'play-greeting', 'record-message', 'hangup', 'finish'], 'no agent and no key but # once the wait is over')
  t.equal(hash.call.outcome, 'voicemail')
  const timeout = run([...queued, { type: 'greeting-played', at: 64_000 }, { type: 'message-timeout', at: 124_000 }], true)
  t.same(timeout.effects.slice(-2), [{ type: 'hangup' }, { type: 'finish', outcome: 'voicemail' }])
  const hungUp = run([...queued, { type: 'greeting-played', at: 64_000 }, { type: 'caller-hung-up', at: 90_000 }], true)
  t.same(hungUp.effects.slice(-1), [{ type: 'finish', outcome: 'voicemail' }], 'hanging up ends the message (no BYE of ours)')
  const noMessage = run([...queued, { type: 'caller-hung-up', at: 62_000 }], true)
  t.same(noMessage.effects.map((e) => e.type), ['play-menu', 'enqueue', 'request-callback', 'play-greeting', 'finish'])
  t.equal(noMessage.call.outcome, 'overflow', 'gone during the greeting: no message, an overflow')
  t.equal(run(queued).effects.some((e) => e.type === 'play-greeting'), false, 'a number without voicemail says goodbye instead')
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
  const base = { number: '4008001235', campaignId: 'c1', menu: { prompt: 'ivr-menu', options: { '1': { queue: 'sales' } }, timeoutMs: 5000 }, maxWaitMs: 60_000, overflowPrompt: 'callback' }
  t.same(validateInboundNumbers([{ ...base, voicemail: { prompt: 'voicemail' } }])[0]!.voicemail, { prompt: 'voicemail', maxMessageMs: 60_000 }, 'a message is a minute by default')
  t.throws(() => validateInboundNumbers([{ ...base, voicemail: { prompt: '', maxMessageMs: 100 } }]), /inbound\[0\]\.voicemail\.prompt.*inbound\[0\]\.voicemail\.maxMessageMs: expected an integer of at least 5000/)
})
