// The worker-thread entry piscina loads. On Node 20 a worker does not get the TypeScript loader the engine was
// started with (tsx's --import registers its hooks for the main thread only: the worker fails with "Unknown file
// extension .ts"), so the loader is registered here, in the worker, before the tasks are imported.
import { register } from 'tsx/esm/api'

register()
// @evan/opus's native addon brings the whole process down (SIGSEGV) when a worker thread that loaded it ends: at every
// pool shutdown, so at every engine stop. Its WASM build is the same libopus (byte-identical output) at ~2/3 of the
// speed, still past 200x realtime per core (README, bench:workers), so worker threads use it. This env is this
// thread's own copy: the main thread (and bench:workers) keep the native addon.
process.env.OPUS_FORCE_WASM ||= '1'
const tasks = await import('./tasks.ts')

export const compressRecording = tasks.compressRecording
export const spotKeywords = tasks.spotKeywords
