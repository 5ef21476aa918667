/**
 * Recordings of a real site, put together for engine/main.ts: the media worker pool, the recording pipeline writing
 * into the output directory, the campaigns' keyword lists (checked before anything starts) and the processor that
 * registers each recorded call and feeds the pipeline. `policy` goes to the SIP engine (DrachtioTelephony records
 * bridged calls of the campaigns it wants and reports them to it).
 */
import { mkdirSync } from 'node:fs'
import type { Logger } from 'pino'
import type { RecordingConfig } from '../../config/config.js'
import { MediaWorkerPool } from '../../workers/pool.js'
import type { EngineMetrics } from '../campaign/metrics.js'
import type { Clock } from '../clock.js'
import type { PiiCipher } from '../security/pii-cipher.js'
import type { Db } from '../store/sql/db.js'
import { RecordingRegistrationRepository } from '../store/sql/recording-registrations.js'
import { repositories } from '../store/sql/repositories.js'
import { loadKeywordLists, type KeywordLists } from './keyword-lists.js'
import { RecordingPipeline } from './recording-pipeline.js'
import { RecordingProcessor } from './recording-processor.js'

export interface RecordingService {
  policy: RecordingProcessor
  start(): void
  /** Stops taking new work, waits for the jobs under way, closes the worker pool. */
  stop(): Promise<void>
}

export function createRecordingService(o: {
  config: RecordingConfig
  db: Db
  pii: PiiCipher
  clock: Clock
  logger: Logger
  /** This engine instance's id: the owner of the registrations it claims. */
  owner: string
  /** Worker threads; default cores - 1. */
  threads?: number
  /** config.telephony.maxCallMs: a recording whose call never reported its end is processed after this. */
  maxCallMs?: number
  /** Exports the worker pool's backlog (`cadence_worker_queued_tasks{pool="media"}`, the CadenceWorkerBacklog alert). */
  metrics?: Pick<EngineMetrics, 'watchWorkerPool'>
}): RecordingService {
  const c = o.config
  const lists: KeywordLists = c.keywordsFile !== undefined ? loadKeywordLists(c.keywordsFile) : new Map()
  mkdirSync(c.outputDir, { recursive: true })
  const workers = new MediaWorkerPool(o.threads !== undefined ? { threads: o.threads } : {})
  const unwatch = o.metrics?.watchWorkerPool('media', workers)
  const log = o.logger.child({ component: 'recordings' })
  const pipeline = new RecordingPipeline({ pool: workers, db: o.db, pii: o.pii, clock: o.clock, log, outputDir: c.outputDir, layout: c.layout })
  const repos = repositories(o.db, o.pii)
  const campaigns = c.campaigns === '*' ? undefined : new Set(c.campaigns)
  const processor = new RecordingProcessor({
    registrations: new RecordingRegistrationRepository(o.db, o.pii),
    recordingOfCall: (callId) => repos.recordings.getByCall(callId),
    lead: (id) => repos.leads.get(id),
    customerByNumber: async (e164, siteId) => (await repos.customers.findByPhone(e164, { siteId, agentId: null }, 1))[0]?.id,
    campaignSite: async (id) => (await repos.campaigns.get(id))?.siteId,
    pipeline,
    clock: o.clock,
    logger: o.logger,
    owner: o.owner,
    recordingDir: c.dir,
    recorded: (campaignId) => c.enabled && (campaigns === undefined || campaigns.has(campaignId)),
    keywords: (campaignId) => lists.get(campaignId),
    ...(o.maxCallMs !== undefined ? { maxCallMs: o.maxCallMs } : {}),
  })
  log.info(
    { dir: c.dir, outputDir: c.outputDir, layout: c.layout, campaigns: c.campaigns, keywordLists: [...lists.keys()] },
    'bridged calls are recorded by rtpengine and processed on the media workers',
  )
  return {
    policy: processor,
    start: () => processor.start(),
    async stop() {
      await processor.stop()
      unwatch?.()
      await workers.close()
    },
  }
}
