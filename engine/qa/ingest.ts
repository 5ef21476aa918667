/**
 * Where the recording workers' results land: compress-recording's file (one Opus file per call, with its duration and
 * checksum) becomes the call's recording row, and spot-keywords' hits and required phrases become its keyword hits.
 * Both are idempotent: a retried task stores nothing twice.
 */
import { extname } from 'node:path'
import type { CompressRecordingResult } from '../../workers/compress-recording.js'
import type { SpotKeywordsResult } from '../../workers/spot-keywords.js'
import type { PiiCipher } from '../security/pii-cipher.js'
import type { Db } from '../store/sql/db.js'
import { KeywordHitRepository } from '../store/sql/keyword-hits.js'
import { RecordingRepository, RecordingFormats, type Recording, type RecordingFormat } from '../store/sql/recordings.js'
import { AuditLogRepository } from '../store/sql/audit-log.js'

/** What the engine knows of the call the recording is of. */
export interface RecordedCall {
  callId: string
  siteId: string
  campaignId?: string | null
  agentId?: string | null
  customerId?: string | null
  startedAt: number
  /** The customer's number, E.164. */
  number?: string | null
}

/** The worker writes Ogg Opus; the extension tells .opus from .ogg (both are Ogg, served alike but named apart). */
export function formatOf(path: string): RecordingFormat {
  const ext = extname(path).slice(1).toLowerCase()
  return (RecordingFormats as readonly string[]).includes(ext) ? (ext as RecordingFormat) : 'ogg'
}

export async function storeCompressedRecording(
  db: Db,
  pii: PiiCipher,
  call: RecordedCall,
  result: CompressRecordingResult,
): Promise<{ created: boolean; recording: Recording }> {
  return db.transaction(async (tx) => {
    const stored = await new RecordingRepository(tx, pii).add({
      ...call,
      durationMs: result.durationMs,
      path: result.output,
      format: formatOf(result.output),
      checksumSha256: result.sha256,
      sizeBytes: result.bytes,
      channels: result.channels,
    })
    if (stored.created) {
      await new AuditLogRepository(tx).append({
        actor: 'worker:compress-recording',
        action: 'create',
        entity: 'recording',
        entityId: stored.recording.id,
        detail: { callId: call.callId, siteId: call.siteId, bytes: result.bytes, durationMs: Math.round(result.durationMs) },
      })
    }
    return stored
  })
}

/** Replaces the recording's hits with the spotter's and records which required phrases were missing. */
export async function storeKeywordSpotting(db: Db, recordingId: string, result: SpotKeywordsResult): Promise<void> {
  const required = new Set(result.required.map((r) => r.keyword))
  const missing = result.required.filter((r) => !r.present).map((r) => r.keyword)
  await db.transaction(async (tx) => {
    const hits = result.hits.map((h) => ({ keyword: h.keyword, party: h.party, atMs: h.atMs, confidence: h.confidence, required: required.has(h.keyword) }))
    if (!(await new KeywordHitRepository(tx).storeAnalysis(recordingId, hits, missing))) {
      throw new Error(`keyword spotting of recording ${recordingId}: no such recording`)
    }
  })
}
