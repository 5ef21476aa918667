/** The reconcile decision after a drachtio reconnect (live-call-reconcile.ts): pure, over what the probes and Redis say. */
import t from 'tap'
import { dialogAlive, reconcileLiveCalls } from '../../../engine/telephony/drachtio/live-call-reconcile.js'

t.test('a dialog is alive unless its far end says it does not exist, times out, or could not be asked', async (t) => {
  t.ok(dialogAlive({ kind: 'response', status: 200 }))
  t.ok(dialogAlive({ kind: 'response', status: 405 }), 'a peer that does not do OPTIONS in a dialog is still there')
  t.notOk(dialogAlive({ kind: 'response', status: 481 }))
  t.notOk(dialogAlive({ kind: 'response', status: 408 }))
  t.notOk(dialogAlive({ kind: 'no-response' }))
  t.notOk(dialogAlive({ kind: 'not-sent', detail: 'no socket' }))
  t.notOk(dialogAlive(undefined), 'an answered call with no probe is not assumed alive')
})

t.test('kept, ended, and the strays each released once', async (t) => {
  const d = reconcileLiveCalls({
    calls: [
      { callId: 'up', trunkId: 'a', state: 'answered', probe: { kind: 'response', status: 200 } },
      { callId: 'gone', trunkId: 'a', state: 'answered', probe: { kind: 'response', status: 481 } },
      { callId: 'silent', trunkId: 'b', state: 'answered', probe: { kind: 'no-response' } },
      { callId: 'ringing', trunkId: 'b', state: 'trying' },
    ],
    channels: [
      { trunkId: 'a', callId: 'up' },
      { trunkId: 'a', callId: 'gone' },
      { trunkId: 'b', callId: 'stray-channel' },
    ],
    media: ['up', 'silent', 'stray-media', 'agent-session', 'stray-media'],
    keepMedia: ['agent-session'],
  })
  t.strictSame(d.keep, ['up'])
  t.strictSame(d.end.map((e) => e.callId), ['gone', 'silent', 'ringing'])
  t.match(d.end[0]!.why, /481/)
  t.match(d.end[1]!.why, /no-response/)
  t.match(d.end[2]!.why, /set up/)
  t.strictSame(d.releaseChannels, [{ trunkId: 'b', callId: 'stray-channel' }], 'ending a call releases its own channel; only the stray is released here')
  t.strictSame(d.deleteMedia, ['stray-media'], 'kept calls, ended calls and agent sessions are not deleted here; a stray once')
})

t.test('nothing carried, nothing held: nothing to do', async (t) => {
  t.strictSame(reconcileLiveCalls({ calls: [], channels: [], media: [], keepMedia: [] }), { keep: [], end: [], releaseChannels: [], deleteMedia: [] })
})
