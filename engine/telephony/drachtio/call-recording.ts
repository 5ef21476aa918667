/** What a recorded call is, who hears of it, and the per-call recording state the drachtio adapter keeps. */

/** One party of a recorded call, as the recording holds it. */
export interface RecordedLeg {
  party: 'customer' | 'agent'
  /** The customer's SIP dialog tag, or the agent's id. */
  id: string
  /** The agent's nailed-up session the customer was joined to. */
  sessionId?: string
  /** "ip:port" this party's RTP reached the recorded call from, when the anchor knows it (the agent's). */
  source?: string
}

/** A recorded call, told once the call ended and the anchor closed its recording (after rtpengine's delete). */
export interface CallRecorded {
  callId: string
  campaignId: string
  leadId: string
  agentId: string | null
  legs: RecordedLeg[]
  /** When recording first started (ms). */
  startedAt: number
  endedAt: number
  /** Time recorded, pauses left out. */
  recordedMs: number
  /** Recording starts that succeeded (rtpengine 10.5 writes one pcap per start). */
  segments: number
  /** The far party's number as it came (an inbound caller's From), for a call with no lead to read it from. */
  number?: string
}

/** A call whose recording has just started (told once, at its first start). */
export type RecordingStarted = Pick<CallRecorded, 'callId' | 'campaignId' | 'leadId' | 'agentId' | 'legs' | 'startedAt' | 'number'>

/** Which bridged calls are recorded, and who hears of each recording as it starts and once the call is over. */
export interface CallRecordingPolicy {
  wanted(campaignId: string): boolean
  /** So a recording is known even if this process dies before the call ends. */
  onRecordingStarted?(started: RecordingStarted): void
  onRecorded(recorded: CallRecorded): void
}

/** One call's recording as the adapter runs it. */
export interface RecordingState {
  on: boolean
  segments: number
  startedAt?: number
  onSince?: number
  recordedMs: number
  /** Recording commands run one after another (a pause never overtakes the start it follows). */
  ops: Promise<void>
  /** The agent the customer is with. */
  agent?: RecordedLeg
  /** Agents the customer was with before a transfer, first first: the recording holds their voices too. */
  earlierAgents?: RecordedLeg[]
}

/** The parties of a recording: the customer (by dialog tag) and the agents it was joined to, in turn, if any. */
export function legsOf(customerTag: string, rec: RecordingState): RecordedLeg[] {
  const legs: RecordedLeg[] = [{ party: 'customer', id: customerTag }]
  for (const a of rec.earlierAgents ?? []) legs.push({ ...a })
  if (rec.agent) legs.push({ ...rec.agent })
  return legs
}

/** rtpengine keeps this beside the pcap: ids only, never the customer's number. */
export function recordingMetadata(ids: { callId: string; campaignId: string; leadId: string }, agent: string | undefined): string {
  return `cadence:call=${ids.callId};campaign=${ids.campaignId};lead=${ids.leadId}${agent ? `;agent=${agent}` : ''}`
}
