/**
 * RFC 4028 on customer legs (issue 5 §4: session timers for long calls): a carrier answering with
 * `Session-Expires: 90;refresher=uac` is refreshed by an in-dialog UPDATE every 45 s (sipp requires both refreshes
 * before our BYE), and a carrier that vanished is found dead by the refresh nobody answers, ending the call once. The
 * adapter's timers run on a VirtualClock while SIP runs for real; the header parsing is checked as a pure function.
 */
import t from 'tap'
import { VirtualClock } from '../../../engine/clock.js'
import { parseSessionExpires, refreshDelayMs } from '../../../engine/telephony/drachtio/session-timer.js'
import { CallEvents } from '../../../engine/telephony/port.js'
import { until } from '../../doubles/drachtio/replay/target.js'
import { gateway, harness, request } from './telephony-harness.js'

t.test('Session-Expires parsing', async (t) => {
  t.strictSame(parseSessionExpires('1800;refresher=uac'), { seconds: 1800, refresher: 'uac' })
  t.strictSame(parseSessionExpires(' 90 ; refresher=UAS'), { seconds: 90, refresher: 'uas' })
  t.strictSame(parseSessionExpires('600'), { seconds: 600, refresher: undefined })
  t.equal(parseSessionExpires('89;refresher=uac'), undefined, 'below the RFC 4028 minimum of 90 s')
  t.equal(parseSessionExpires('soon'), undefined)
  t.equal(parseSessionExpires(undefined), undefined)
  t.equal(refreshDelayMs({ seconds: 90, refresher: 'uac' }), 45_000, 'refreshed at half the interval')
})

t.test('a carrier naming us the refresher gets an UPDATE every half interval; a vanished one is found dead', async (t) => {
  const clock = new VirtualClock(Date.now())
  const refreshed = await gateway('carrier-session-timer-refreshed.xml')
  const vanishes = await gateway('carrier-session-timer-vanish.xml')
  const h = await harness({
    clock,
    // the double's 408 for the UPDATE nobody answers comes after 64*T1
    t1Ms: 20,
    probeLimitMs: 10_000,
    trunks: ({ trunk }) => [
      { ...trunk(refreshed), id: 'trunk-refreshed' },
      { ...trunk(vanishes), id: 'trunk-vanishes' },
    ],
  })
  t.teardown(() => h.close())
  const live = request({ trunkId: 'trunk-refreshed' })
  const dead = request({ trunkId: 'trunk-vanishes' })
  await h.port.originate(live)
  await h.port.originate(dead)
  await h.waitFor(CallEvents.Answered, live.callId)
  await h.waitFor(CallEvents.Answered, dead.callId)
  t.equal((await vanishes.done).code, 0, 'the vanishing carrier answered and went away without a BYE')

  const updatesAnswered = (): number => h.target.recorder.frames.filter((f) => /\r\nSIP\/2\.0 200 OK\r\n[\s\S]*CSeq: \d+ UPDATE/.test(f.payload)).length
  clock.advanceBy(44_999)
  t.equal(updatesAnswered(), 0, 'no refresh before half the interval')
  clock.advanceBy(1)
  await h.waitFor(CallEvents.Ended, dead.callId)
  t.strictSame(h.names(dead.callId), [CallEvents.Ringing, CallEvents.Answered, CallEvents.Ended], 'the dead call ended exactly once')
  await until(() => updatesAnswered() === 1, 'the live carrier to answer the first refresh')
  t.notOk(h.names(live.callId).includes(CallEvents.Ended), 'the refreshed call goes on')
  clock.advanceBy(45_000)
  await until(() => updatesAnswered() === 2, 'the live carrier to answer the second refresh')
  await h.port.hangup(live.callId, 'test')
  const run = await refreshed.done
  t.equal(run.code, 0, 'sipp saw both refreshes and our BYE', { stderr: run.stderr })
  t.equal(h.port.activeCalls(), 0, 'nothing left in the adapter')
  await until(() => h.target.double?.dialogCount === 0 || !h.target.double, 'the double to forget every dialog', 20_000)
})
