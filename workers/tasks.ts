/**
 * The worker-thread entry: one named export per task, run by piscina (`pool.run(payload, { name })`). Each task
 * lives in its own file; this module only gathers them.
 */
export { default as compressRecording } from './compress-recording.js'
export { default as spotKeywords } from './spot-keywords.js'
