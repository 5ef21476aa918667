// Types for @echogarden/fvad-wasm (libfvad, the WebRTC VAD, compiled by Emscripten), which ships none.
declare module '@echogarden/fvad-wasm' {
  export interface FvadModule {
    _fvad_new(): number
    _fvad_free(handle: number): void
    _fvad_reset(handle: number): void
    /** 0 (least aggressive) .. 3 (most); returns 0 on success. */
    _fvad_set_mode(handle: number, mode: number): number
    /** 8000, 16000, 32000 or 48000; returns 0 on success. */
    _fvad_set_sample_rate(handle: number, rate: number): number
    /** 10, 20 or 30 ms of 16-bit samples at `bufPtr`; returns 1 speech, 0 not, -1 error. */
    _fvad_process(handle: number, bufPtr: number, samples: number): number
    _malloc(bytes: number): number
    _free(ptr: number): void
    HEAP16: Int16Array
  }
  const createModule: () => Promise<FvadModule>
  export default createModule
}
