/**
 * What to do with the calls an engine carried when its drachtio admin connection came back (issue 5: contain a
 * garbled stream, reconnect, reconcile live calls). drachtio-server keeps the dialogs of a vanished connection
 * (orphaned: the far end's BYE is answered 481 by the server and never reaches us), so each answered call is probed
 * by an in-dialog OPTIONS sent on the new connection: a far end that still answers keeps its call, one that says the
 * dialog does not exist (481), times out (408) or could not be asked is ended once, and everything the engine holds
 * for it (trunk channel, media) is given back. Pure: the I/O that gathers the input and carries out the decision is
 * DrachtioTelephony's.
 */

/** What an in-dialog OPTIONS on the new connection found. */
export type DialogProbe =
  | { kind: 'response'; status: number }
  /** No final response in time, or drachtio-srf could not send it (the connection dropped again). */
  | { kind: 'not-sent' | 'no-response'; detail?: string }

export interface CarriedCall {
  callId: string
  trunkId: string
  state: 'trying' | 'answered'
  /** Answered calls only: what the probe of its dialog said. */
  probe?: DialogProbe
}

export interface ReconcileInput {
  /** The calls the adapter still carries. */
  calls: readonly CarriedCall[]
  /** Trunk channels Redis holds under call ids this engine placed (live or not). */
  channels: readonly { trunkId: string; callId: string }[]
  /** rtpengine's own call list (`list`), restricted to ids this engine anchored. */
  media: readonly string[]
  /** Media ids that are not customer calls and stay up (agents' nailed-up sessions). */
  keepMedia: readonly string[]
}

export interface ReconcileDecision {
  keep: string[]
  /** Calls to end once (one `ended`/`failed`, hence one CDR), with why for the log. */
  end: { callId: string; why: string }[]
  /** Channels held for calls that are not kept (ending a call releases its own; these are the strays). */
  releaseChannels: { trunkId: string; callId: string }[]
  /** rtpengine sessions of calls that are not kept (ending a call deletes its own; these are the strays). */
  deleteMedia: string[]
}

/**
 * A far end that answers anything but 481 (no such dialog) or 408 (nobody) still has the call: 405/501 to an
 * OPTIONS say the peer is there but does not do OPTIONS in a dialog.
 */
export function dialogAlive(probe: DialogProbe | undefined): boolean {
  if (!probe || probe.kind !== 'response') return false
  return probe.status >= 200 && probe.status !== 481 && probe.status !== 408
}

export function reconcileLiveCalls(input: ReconcileInput): ReconcileDecision {
  const keep: string[] = []
  const end: ReconcileDecision['end'] = []
  for (const c of input.calls) {
    if (c.state === 'trying') {
      // its INVITE went out on the dead connection: its final answer can never reach us
      end.push({ callId: c.callId, why: 'being set up when drachtio was lost' })
    } else if (dialogAlive(c.probe)) {
      keep.push(c.callId)
    } else {
      const p = c.probe
      end.push({
        callId: c.callId,
        why: !p ? 'dialog not probed' : p.kind === 'response' ? `dialog probe answered ${p.status}` : `dialog probe ${p.kind}${p.detail ? `: ${p.detail}` : ''}`,
      })
    }
  }
  const kept = new Set(keep)
  const ending = new Set(end.map((e) => e.callId))
  // what ending a call releases by itself is left to it, so nothing is released twice
  const releaseChannels = input.channels.filter((ch) => !kept.has(ch.callId) && !ending.has(ch.callId))
  const keepMedia = new Set(input.keepMedia)
  const deleteMedia = [...new Set(input.media)].filter((id) => !kept.has(id) && !ending.has(id) && !keepMedia.has(id))
  return { keep, end, releaseChannels, deleteMedia }
}
