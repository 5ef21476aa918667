/**
 * The media worker pool: piscina threads for CPU-heavy work off the engine's event loop (recording compression,
 * keyword spotting). The queue is bounded: when it is full, submit() fails at once with QueueFullError rather than
 * letting work pile up; the engine never waits on the pool, it records the refusal and retries later (a recording
 * stays uncompressed on disk until then, nothing is lost).
 */
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import type { CompressRecordingResult, CompressRecordingTask } from './compress-recording.js'
import type { SpotKeywordsResult, SpotKeywordsTask } from './spot-keywords.js'

export interface TaskTypes {
  compressRecording: { payload: CompressRecordingTask; result: CompressRecordingResult }
  spotKeywords: { payload: SpotKeywordsTask; result: SpotKeywordsResult }
}
export type TaskName = keyof TaskTypes

export class QueueFullError extends Error {
  constructor(
    readonly task: string,
    readonly queued: number,
  ) {
    super(`media worker queue full (${queued} waiting): ${task} refused, retry later`)
    this.name = 'QueueFullError'
  }
}

export interface WorkerPoolOptions {
  /** Worker threads; default: cores - 1, at least 1. */
  threads?: number
  /** Tasks allowed to wait for a thread; default 64. */
  maxQueue?: number
}

export class MediaWorkerPool {
  private readonly pool: Piscina
  readonly maxQueue: number

  constructor(opts: WorkerPoolOptions = {}) {
    const threads = opts.threads ?? Math.max(1, availableParallelism() - 1)
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`worker threads must be a positive integer, got ${threads}`)
    this.maxQueue = opts.maxQueue ?? 64
    this.pool = new Piscina({
      // A plain module that registers the TypeScript loader in the worker, then loads ./tasks.ts (see there why).
      filename: fileURLToPath(new URL('./tasks-entry.mjs', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      maxQueue: this.maxQueue,
    })
  }

  get queued(): number {
    return this.pool.queueSize
  }

  /** Starts a task, or fails at once with QueueFullError when the queue is full. */
  submit<K extends TaskName>(name: K, payload: TaskTypes[K]['payload']): Promise<TaskTypes[K]['result']> {
    if (this.pool.queueSize >= this.maxQueue) return Promise.reject(new QueueFullError(name, this.pool.queueSize))
    return this.pool.run(payload, { name }) as Promise<TaskTypes[K]['result']>
  }

  async close(): Promise<void> {
    await this.pool.destroy()
  }
}
