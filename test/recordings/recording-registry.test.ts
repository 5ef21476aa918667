/**
 * The pure decisions about registered recordings: the registration of a recorded call, which file the workers get,
 * the backoff and when a job is given up.
 */
import t from 'tap'
import {
  afterFailure,
  agentSource,
  DEFAULT_REGISTRY_POLICY,
  dueWithoutEnd,
  planInput,
  registrationAtStart,
  registrationOf,
  retryDelay,
} from '../../engine/recordings/recording-registry.js'

const policy = { retryMs: 1000, maxRetryMs: 10_000, maxAttempts: 4, segmentWaitAttempts: 2 }
const seg = (n: number) => ({ pcap: `/spool/pcaps/c-${n}.pcap`, metadata: `/spool/metadata/m-${n}.txt`, pcapExists: true })
const merged = { path: '/spool/merged/c.pcap', exists: false }

t.test('a recorded call becomes its registration: duration from the first start to the end, legs kept', async (t) => {
  const legs = [
    { party: 'customer' as const, id: 'tag-1' },
    { party: 'agent' as const, id: 'ag-1', sessionId: 's-1', source: '127.0.0.1:40002' },
  ]
  const r = registrationOf(
    { callId: 'c', campaignId: 'camp', leadId: 'l', agentId: 'ag-1', legs, startedAt: 1000, endedAt: 61_000, recordedMs: 50_000, segments: 2 },
    { siteId: 'site-a', customerId: 'cust-1', recordingDir: '/spool' },
  )
  t.strictSame(r, {
    number: null,
    callId: 'c',
    siteId: 'site-a',
    campaignId: 'camp',
    leadId: 'l',
    customerId: 'cust-1',
    agentId: 'ag-1',
    legs,
    startedAt: 1000,
    durationMs: 60_000,
    recordedMs: 50_000,
    recordingDir: '/spool',
    segments: 2,
  })
  t.not(r.legs[1], legs[1], 'legs are copied, not shared with the port')
  t.equal(agentSource(r), '127.0.0.1:40002', 'the agent leg names the left channel')
  t.equal(agentSource({ legs: [{ party: 'customer', id: 'x' }] }), undefined)
})

t.test('which file the workers get', async (t) => {
  t.strictSame(planInput({ segments: 1 }, [seg(1)], merged, 0, policy), { kind: 'single', input: seg(1).pcap, segments: [seg(1)] })
  t.strictSame(planInput({ segments: 2 }, [seg(1), seg(2)], merged, 0, policy), {
    kind: 'merge',
    inputs: [seg(1).pcap, seg(2).pcap],
    output: merged.path,
    segments: [seg(1), seg(2)],
  })
  t.strictSame(planInput({ segments: 3 }, [seg(1)], merged, 0, policy), { kind: 'wait', found: 1, expected: 3 }, 'a pcap not finished yet is waited for')
  t.strictSame(planInput({ segments: 3 }, [seg(1)], merged, 1, policy).kind, 'wait')
  t.strictSame(planInput({ segments: 3 }, [seg(1), seg(2)], merged, 2, policy).kind, 'merge', 'then what was found is processed')
  t.strictSame(planInput({ segments: 2 }, [], { ...merged, exists: true }, 0, policy), { kind: 'merged', input: merged.path })
  t.strictSame(planInput({ segments: 2 }, [], merged, 0, policy), { kind: 'nothing' })
  t.strictSame(planInput({ segments: 1 }, [seg(1)], merged, 0, policy, 1), { kind: 'wait', found: 1, expected: 2 }, 'a pcap rtpengine still writes is waited for')
  t.strictSame(planInput({ segments: 1 }, [], merged, 0, policy, 1), { kind: 'wait', found: 0, expected: 1 })
  t.equal(planInput({ segments: 1 }, [seg(1)], merged, 2, policy, 1).kind, 'single', 'not forever')
})

t.test('a recording registered as it starts: one segment, no duration, due after the longest call allowed', async (t) => {
  const r = registrationAtStart(
    { callId: 'c', campaignId: 'camp', leadId: 'l', agentId: null, legs: [{ party: 'customer', id: 'tag' }], startedAt: 5000 },
    { siteId: 'default', customerId: null, recordingDir: '/spool' },
  )
  t.match(r, { callId: 'c', startedAt: 5000, durationMs: 0, recordedMs: 0, segments: 1, agentId: null })
  t.equal(dueWithoutEnd(5000, 3600_000), 5000 + 3600_000 + 600_000, 'the longest call, then 10 min for rtpengine to close the pcap')
  t.equal(dueWithoutEnd(5000, 0), 5000 + 4 * 3600_000 + 600_000, 'no limit configured: 4 h')
})

t.test('failures back off exponentially, then the job is given up; a busy pool is not a failure', async (t) => {
  t.equal(retryDelay(1, policy), 1000)
  t.equal(retryDelay(2, policy), 2000)
  t.equal(retryDelay(3, policy), 4000)
  t.equal(retryDelay(10, policy), 10_000, 'capped')
  t.strictSame(afterFailure(0, 5000, policy), { kind: 'retry', at: 6000 })
  t.strictSame(afterFailure(2, 5000, policy), { kind: 'retry', at: 9000 })
  t.strictSame(afterFailure(3, 5000, policy), { kind: 'give-up' }, `given up at the ${policy.maxAttempts}th failure`)
  t.ok(DEFAULT_REGISTRY_POLICY.segmentWaitAttempts < DEFAULT_REGISTRY_POLICY.maxAttempts, 'waiting for pcaps never gives the job up on its own')
})
