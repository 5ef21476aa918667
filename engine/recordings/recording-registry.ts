/**
 * Pure decisions about registered recordings (no I/O; recording-processor.ts acts on them): what a recorded call's
 * registration says, which file the media workers get (rtpengine's one pcap, several merged into one, or the merged
 * file an earlier attempt left), when a job that failed is tried again and when it is given up.
 */
import type { CallRecorded, RecordingStarted } from '../telephony/drachtio/call-recording.js'
import type { NewRecordingRegistration, RecordingRegistration } from '../store/sql/recording-registrations.js'
import type { RecordingSegment } from './rtpengine-files.js'

export interface RegistryPolicy {
  /** First wait after a failed attempt; doubled each time up to maxRetryMs. */
  retryMs: number
  maxRetryMs: number
  /** Failed attempts (not counting a busy pool) before the registration is marked failed. */
  maxAttempts: number
  /** Attempts that find fewer finished pcaps than were started wait for the rest, up to this many. */
  segmentWaitAttempts: number
}

export const DEFAULT_REGISTRY_POLICY: RegistryPolicy = { retryMs: 5_000, maxRetryMs: 300_000, maxAttempts: 5, segmentWaitAttempts: 3 }

export function registrationOf(
  rec: CallRecorded,
  ctx: { siteId: string; customerId: string | null; recordingDir: string; number?: string | null },
): NewRecordingRegistration {
  return {
    number: ctx.number ?? null,
    callId: rec.callId,
    siteId: ctx.siteId,
    campaignId: rec.campaignId,
    leadId: rec.leadId,
    customerId: ctx.customerId,
    agentId: rec.agentId,
    legs: rec.legs.map((l) => ({ ...l })),
    startedAt: rec.startedAt,
    durationMs: Math.max(0, rec.endedAt - rec.startedAt),
    recordedMs: Math.max(0, rec.recordedMs),
    recordingDir: ctx.recordingDir,
    segments: Math.max(1, rec.segments),
  }
}

/** The registration made as the recording starts: one segment, no duration yet (the end brings them). */
export function registrationAtStart(
  started: RecordingStarted,
  ctx: { siteId: string; customerId: string | null; recordingDir: string; number?: string | null },
): NewRecordingRegistration {
  return registrationOf({ ...started, endedAt: started.startedAt, recordedMs: 0, segments: 1 }, ctx)
}

/**
 * When a registration made at the start of a recording is due if its call never reports its end (the engine died):
 * once the longest call allowed is surely over and rtpengine has closed the pcap (its own session timeout).
 */
export function dueWithoutEnd(startedAt: number, maxCallMs: number): number {
  const longest = maxCallMs > 0 ? maxCallMs : 4 * 3600_000
  return startedAt + longest + 10 * 60_000
}

export type InputPlan =
  /** Not every pcap is finished yet (rtpengine moves a metadata file once its pcap is closed): try later. */
  | { kind: 'wait'; found: number; expected: number }
  | { kind: 'single'; input: string; segments: RecordingSegment[] }
  | { kind: 'merge'; inputs: string[]; output: string; segments: RecordingSegment[] }
  /** An earlier attempt merged the segments and removed them; the merged file is the original now. */
  | { kind: 'merged'; input: string }
  /** Nothing on disk: processed already (its recording row tells), or lost. */
  | { kind: 'nothing' }

/**
 * `attempt` counts from 0 (this attempt's number of earlier failed attempts); `open` is how many of the call's pcaps
 * rtpengine is still writing (no metadata file moved into place yet).
 */
export function planInput(
  reg: Pick<RecordingRegistration, 'segments'>,
  found: readonly RecordingSegment[],
  merged: { path: string; exists: boolean },
  attempt: number,
  policy: RegistryPolicy = DEFAULT_REGISTRY_POLICY,
  open = 0,
): InputPlan {
  if (open > 0 && attempt < policy.segmentWaitAttempts) return { kind: 'wait', found: found.length, expected: Math.max(reg.segments, found.length + open) }
  if (found.length === 0) return merged.exists ? { kind: 'merged', input: merged.path } : { kind: 'nothing' }
  if (found.length < reg.segments && attempt < policy.segmentWaitAttempts) return { kind: 'wait', found: found.length, expected: reg.segments }
  if (found.length === 1) return { kind: 'single', input: found[0]!.pcap, segments: [...found] }
  return { kind: 'merge', inputs: found.map((s) => s.pcap), output: merged.path, segments: [...found] }
}

/** Exponential backoff from the number of failed attempts so far (1 after the first failure). */
export function retryDelay(failedAttempts: number, policy: RegistryPolicy = DEFAULT_REGISTRY_POLICY): number {
  return Math.min(policy.maxRetryMs, policy.retryMs * 2 ** Math.max(0, failedAttempts - 1))
}

export type AfterFailure = { kind: 'retry'; at: number } | { kind: 'give-up' }

/** A job failed (not a busy pool): tried again later, or given up after `maxAttempts` failures. */
export function afterFailure(failedBefore: number, now: number, policy: RegistryPolicy = DEFAULT_REGISTRY_POLICY): AfterFailure {
  const failed = failedBefore + 1
  return failed >= policy.maxAttempts ? { kind: 'give-up' } : { kind: 'retry', at: now + retryDelay(failed, policy) }
}

/** The agent's leg gives the pcap party on the left channel (`firstSource`), so channel 0 is the agent's voice. */
export function agentSource(reg: Pick<RecordingRegistration, 'legs'>): string | undefined {
  return reg.legs.find((l) => l.party === 'agent')?.source
}
