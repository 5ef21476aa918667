/**
 * The WebRTC VAD (libfvad) through @echogarden/fvad-wasm. Loading the WASM is asynchronous, so it is created with
 * `await WebRtcVad.create()`; each frame is then a synchronous call. One instance per stream (it keeps state), and
 * `dispose()` frees its WASM memory.
 */
import createFvad, { type FvadModule } from '@echogarden/fvad-wasm'
import { FRAME_SAMPLES, SAMPLE_RATE } from './frames.js'
import type { Vad } from './vad.js'

let modulePromise: Promise<FvadModule> | undefined

export class WebRtcVad implements Vad {
  readonly name: string
  private disposed = false

  private constructor(
    private readonly m: FvadModule,
    private readonly handle: number,
    private readonly buf: number,
    mode: number,
  ) {
    this.name = `webrtc-mode${mode}`
  }

  /** mode: 0 (keeps most as speech) .. 3 (most aggressive at calling things non-speech). */
  static async create(mode: 0 | 1 | 2 | 3 = 2): Promise<WebRtcVad> {
    modulePromise ??= createFvad()
    const m = await modulePromise
    const handle = m._fvad_new()
    if (!handle) throw new Error('fvad_new failed: out of WASM memory')
    if (m._fvad_set_mode(handle, mode) !== 0 || m._fvad_set_sample_rate(handle, SAMPLE_RATE) !== 0) {
      m._fvad_free(handle)
      throw new Error(`fvad rejected mode ${mode} or rate ${SAMPLE_RATE}`)
    }
    return new WebRtcVad(m, handle, m._malloc(FRAME_SAMPLES * 2), mode)
  }

  isSpeech(frame: Int16Array): boolean {
    if (this.disposed) throw new Error('WebRtcVad used after dispose()')
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`WebRTC VAD takes ${FRAME_SAMPLES}-sample frames`)
    // HEAP16 is re-read each time: the view is replaced when WASM memory grows.
    this.m.HEAP16.set(frame, this.buf >> 1)
    return this.m._fvad_process(this.handle, this.buf, frame.length) === 1
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.m._free(this.buf)
    this.m._fvad_free(this.handle)
  }
}
