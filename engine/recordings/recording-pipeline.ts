/**
 * From a finished call's raw recording to what QA searches: keywords spotted on the original (the spotter reads
 * WAV), the audio compressed to one Opus file (the original deleted only once the compressed file is verified, by
 * the worker), the recording row and its keyword hits stored. All CPU work runs on the media worker pool; when its
 * queue is full the job waits and is tried again (the original stays on disk meanwhile: nothing is lost). The
 * engine only enqueues: it never waits on this.
 */
import { basename, join } from 'node:path'
import type { Clock } from '../clock.js'
import type { PiiCipher } from '../security/pii-cipher.js'
import type { Db } from '../store/sql/db.js'
import { storeCompressedRecording, storeKeywordSpotting, type RecordedCall } from '../qa/ingest.js'
import type { KeywordExample, SpotKeywordsResult } from '../../workers/spot-keywords.js'
import type { TaskName, TaskTypes } from '../../workers/pool.js'
import { QueueFullError } from '../../workers/pool.js'

export interface RecordingJob {
  call: RecordedCall
  /** The raw recording: a WAV, or rtpengine's pcap. */
  input: string
  /** pcap input: the "ip:port" of the agent's side, so the agent is channel 0 (left) and the customer channel 1. */
  firstSource?: string
  /** The campaign's keyword list: enrolled examples and the phrases that must be heard. */
  keywords?: { examples: KeywordExample[]; required?: string[] }
}

export interface WorkerSubmit {
  submit<K extends TaskName>(name: K, payload: TaskTypes[K]['payload']): Promise<TaskTypes[K]['result']>
}

export interface PipelineLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface RecordingPipelineOptions {
  pool: WorkerSubmit
  db: Db
  pii: PiiCipher
  clock: Clock
  log: PipelineLog
  /** Where compressed files go; default beside the original. */
  outputDir?: string
  bitrate?: number
  layout?: 'stereo' | 'mixed'
  /** Wait before trying a job again after the pool refused it; default 5 s. */
  retryMs?: number
}

export class RecordingPipeline {
  private pending = 0

  constructor(private readonly o: RecordingPipelineOptions) {}

  /** Jobs accepted and not finished (waiting for the pool or running). */
  get inFlight(): number {
    return this.pending
  }

  /** Process a job; resolves with the recording's id. Throws QueueFullError when the pool refuses a task. */
  async process(job: RecordingJob): Promise<{ recordingId: string; keywordHits: number | null }> {
    const log = this.o.log
    const first = job.firstSource !== undefined ? { firstSource: job.firstSource } : {}
    let spotted: SpotKeywordsResult | undefined
    if (job.keywords && job.keywords.examples.length > 0) {
      // the spotter reads the original (WAV or pcap): before compression, which deletes it
      spotted = await this.o.pool.submit('spotKeywords', { recording: job.input, examples: job.keywords.examples, required: job.keywords.required ?? [], ...first })
    }
    const output = join(this.o.outputDir ?? job.input.slice(0, job.input.length - basename(job.input).length), `${job.call.callId}.opus`)
    const compressed = await this.o.pool.submit('compressRecording', {
      input: job.input,
      output,
      bitrate: this.o.bitrate ?? 16_000,
      layout: this.o.layout ?? 'stereo',
      deleteOriginal: true,
      ...first,
    })
    const { recording } = await storeCompressedRecording(this.o.db, this.o.pii, job.call, compressed)
    if (spotted) await storeKeywordSpotting(this.o.db, recording.id, spotted)
    log.info(
      { callId: job.call.callId, recordingId: recording.id, bytes: compressed.bytes, hits: spotted?.hits.length ?? null },
      'recording stored',
    )
    return { recordingId: recording.id, keywordHits: spotted?.hits.length ?? null }
  }

  /** Fire and forget: retried while the pool is full, failures logged with the call id; never throws. */
  enqueue(job: RecordingJob, onDone?: (r: { recordingId: string } | { error: Error }) => void): void {
    this.pending++
    const attempt = (): void => {
      this.process(job).then(
        (r) => {
          this.pending--
          onDone?.(r)
        },
        (err: unknown) => {
          if (err instanceof QueueFullError) {
            this.o.log.warn({ callId: job.call.callId, queued: err.queued }, 'media workers busy; recording kept on disk, retrying')
            this.o.clock.setTimeout(attempt, this.o.retryMs ?? 5000)
            return
          }
          this.pending--
          this.o.log.error({ err, callId: job.call.callId, input: job.input }, 'recording could not be processed; the original stays on disk')
          onDone?.({ error: err as Error })
        },
      )
    }
    attempt()
  }
}
