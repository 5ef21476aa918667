/**
 * A call recorded as captured RTP (rtpengine's pcap, or any capture of the call's media) back to audio: one channel
 * per party, on one time line.
 *
 * rtpengine writes the packets it received from each side, so a party is a source address; a party that changes
 * its SSRC (re-INVITE, a new device after transfer) stays the same party, and a party whose port changed mid-call
 * is recognised by the rtpengine port it sent to. Each packet is placed by its RTP timestamp from where its stream
 * started on the capture clock, so lost packets, silence suppression and hold come out as silence of the right
 * length, reordered and duplicated packets land in their place, and the two parties stay in step. A stream whose
 * RTP clock jumps more than a second away from the capture clock is re-anchored on the capture clock.
 * Packets that are not G.711 RTP (RTCP, DTMF events, comfort noise, garbage) are counted and left out.
 */
import { decodeG711, type G711Law } from '../engine/media/g711.js'
import { parseRtp, STATIC_G711 } from '../engine/media/rtp.js'
import type { UdpDatagram } from './pcap.js'
import type { PcmAudio } from './wav.js'

const RATE = 8000
/** Beyond this (in samples) the RTP clock and the capture clock disagree: the stream jumped. */
const MAX_DRIFT = RATE

export interface RecordingParty {
  /** "ip:port" the party sent from (the first, when it moved). */
  source: string
  ssrcs: number[]
  packets: number
  /** Samples of the time line with no packet (loss, silence suppression, hold). */
  missingSamples: number
}

export interface RtpRecording {
  audio: PcmAudio
  parties: RecordingParty[]
  /** Datagrams that were not G.711 RTP. */
  ignored: number
}

export interface RtpRecordingOptions {
  /** Dynamic payload types negotiated for G.711 (static 0 = PCMU and 8 = PCMA are always known). */
  payloadTypes?: Record<number, G711Law>
  /** Put the party sending from this "ip:port" on the left channel (the customer, say); default: who spoke first. */
  firstSource?: string
}

interface Party {
  source: string
  destinations: Set<string>
  ssrcs: number[]
  packets: number
  samples: Int16Array
  covered: Uint8Array
  length: number
  streams: Map<number, { anchorPos: number; anchorTs: number }>
}

function ensure(p: Party, end: number): void {
  if (end <= p.samples.length) return
  let n = Math.max(p.samples.length * 2, RATE * 10)
  while (n < end) n *= 2
  const s = new Int16Array(n)
  s.set(p.samples)
  p.samples = s
  const c = new Uint8Array(n)
  c.set(p.covered)
  p.covered = c
}

export function readRtpRecording(datagrams: readonly UdpDatagram[], opts: RtpRecordingOptions = {}): RtpRecording {
  const types: Record<number, G711Law> = { ...STATIC_G711, ...opts.payloadTypes }
  const sorted = [...datagrams].sort((a, b) => a.timeUs - b.timeUs)
  const parties: Party[] = []
  const bySource = new Map<string, Party>()
  let ignored = 0
  let t0: number | undefined

  for (const d of sorted) {
    const rtp = parseRtp(d.payload)
    // RTCP shares the version bits; its packet types 200-204 read as marker + payload type 72-76.
    const law = rtp && !(rtp.marker && rtp.payloadType >= 72 && rtp.payloadType <= 76) ? types[rtp.payloadType] : undefined
    if (!rtp || !law || rtp.payload.length === 0) {
      ignored++
      continue
    }
    t0 ??= d.timeUs
    let party = bySource.get(d.source)
    if (!party) {
      party = parties.find((p) => p.destinations.has(d.destination))
      if (!party) {
        party = { source: d.source, destinations: new Set(), ssrcs: [], packets: 0, samples: new Int16Array(0), covered: new Uint8Array(0), length: 0, streams: new Map() }
        parties.push(party)
      }
      bySource.set(d.source, party)
    }
    party.destinations.add(d.destination)
    party.packets++
    const wallPos = Math.round(((d.timeUs - t0) * RATE) / 1e6)
    let stream = party.streams.get(rtp.ssrc)
    if (!stream) {
      stream = { anchorPos: wallPos, anchorTs: rtp.timestamp }
      party.streams.set(rtp.ssrc, stream)
      party.ssrcs.push(rtp.ssrc)
    }
    // Signed 32-bit distance on the RTP clock, so the timestamp may wrap.
    let pos = stream.anchorPos + ((rtp.timestamp - stream.anchorTs) | 0)
    if (Math.abs(pos - wallPos) > MAX_DRIFT) {
      stream.anchorPos = wallPos
      stream.anchorTs = rtp.timestamp
      pos = wallPos
    }
    if (pos < 0) continue
    const pcm = decodeG711(rtp.payload, law)
    ensure(party, pos + pcm.length)
    party.samples.set(pcm, pos)
    party.covered.fill(1, pos, pos + pcm.length)
    party.length = Math.max(party.length, pos + pcm.length)
  }
  if (parties.length === 0) throw new Error(`no G.711 RTP in the recording (${ignored} other packets)`)
  if (parties.length > 2) {
    throw new Error(`${parties.length} parties in the recording (${parties.map((p) => p.source).join(', ')}); expected one or two`)
  }
  if (opts.firstSource && parties[1]?.source === opts.firstSource) parties.reverse()

  const length = Math.max(...parties.map((p) => p.length))
  const channels = parties.length
  const samples = new Int16Array(length * channels)
  const out: RecordingParty[] = []
  parties.forEach((p, ch) => {
    let missing = 0
    for (let i = 0; i < length; i++) {
      if (i < p.length && p.covered[i]) samples[i * channels + ch] = p.samples[i]!
      else missing++
    }
    out.push({ source: p.source, ssrcs: p.ssrcs, packets: p.packets, missingSamples: missing })
  })
  return { audio: { sampleRate: RATE, channels, samples }, parties: out, ignored }
}
