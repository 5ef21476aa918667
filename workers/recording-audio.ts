/**
 * A call's recording as audio, whatever rtpengine wrote: its pcap (`--recording-method=pcap`, read by pcap.ts and
 * rtp-recording.ts, one channel per party) or a WAV. What the keyword spotter reads; compress-recording reads the
 * same way.
 */
import { isPcap, parsePcap } from './pcap.js'
import { readRtpRecording } from './rtp-recording.js'
import { parseWav, type PcmAudio } from './wav.js'

/** `firstSource`: for a pcap, the "ip:port" whose party goes on channel 0 (default: who spoke first). */
export function recordingAudio(file: Uint8Array, firstSource?: string): PcmAudio {
  if (!isPcap(file)) return parseWav(file)
  return readRtpRecording(parsePcap(file).datagrams, firstSource === undefined ? {} : { firstSource }).audio
}
