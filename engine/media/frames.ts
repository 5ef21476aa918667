/**
 * Telephone audio arrives in packets of any size (RTP ptime 10/20/30/60 ms, or file chunks); every analyser here
 * works on fixed 20 ms frames at 8 kHz. A FrameAssembler turns the stream into those frames, carrying the
 * remainder over so that no sample is dropped or duplicated between packets.
 */
export const SAMPLE_RATE = 8000
export const FRAME_MS = 20
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000

export class FrameAssembler {
  private pending: Int16Array
  private filled = 0
  private emitted = 0

  constructor(private readonly frameSamples = FRAME_SAMPLES) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) throw new RangeError(`bad frame size ${frameSamples}`)
    this.pending = new Int16Array(frameSamples)
  }

  /** Feed samples; returns the whole frames completed by them (each a fresh array the caller may keep). */
  push(samples: Int16Array): Int16Array[] {
    const frames: Int16Array[] = []
    let offset = 0
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.filled, samples.length - offset)
      this.pending.set(samples.subarray(offset, offset + take), this.filled)
      this.filled += take
      offset += take
      if (this.filled === this.frameSamples) {
        frames.push(this.pending)
        this.pending = new Int16Array(this.frameSamples)
        this.filled = 0
        this.emitted++
      }
    }
    return frames
  }

  /** Frames handed out so far: frame n covers [n*20, (n+1)*20) ms of the stream. */
  get framesEmitted(): number {
    return this.emitted
  }
}

/** Cut a whole signal into 20 ms frames (the tail shorter than a frame is dropped), for files and tests. */
export function framesOf(pcm: Int16Array, frameSamples = FRAME_SAMPLES): Int16Array[] {
  const out: Int16Array[] = []
  for (let i = 0; i + frameSamples <= pcm.length; i += frameSamples) out.push(pcm.slice(i, i + frameSamples))
  return out
}
