/**
 * Keyword hits in a recording (workers/spot-keywords): the keyword, which party said it, its offset from the start
 * of the recording and the spotter's confidence, flagged when the keyword is a required phrase (identity, consent)
 * rather than a watched word (投诉, 退款). Analysing a recording again replaces its hits.
 */
import type { Queryable } from './db.js'

export interface KeywordHitRecord {
  keyword: string
  party: string
  atMs: number
  confidence: number
  required: boolean
}

interface HitRow {
  keyword: string
  party: string
  at_ms: number
  confidence: number
  required: boolean
}

export class KeywordHitRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * A recording's analysis: replaces its hits with these and records which required phrases were not heard (empty:
   * all were). Run inside the caller's transaction. False when there is no such recording.
   */
  async storeAnalysis(recordingId: string, hits: readonly KeywordHitRecord[], requiredMissing: readonly string[]): Promise<boolean> {
    const marked = await this.db.query('UPDATE recordings SET required_missing = $2, analysed_at = now() WHERE id = $1', [recordingId, [...requiredMissing]])
    if (marked.rowCount !== 1) return false
    await this.db.query('DELETE FROM keyword_hits WHERE recording_id = $1', [recordingId])
    // A recording has tens of hits at most: one multi-row INSERT, chunked so a pathological one stays under limits.
    for (let i = 0; i < hits.length; i += 500) {
      const chunk = hits.slice(i, i + 500)
      const params: unknown[] = [recordingId]
      const values = chunk.map((h) => {
        params.push(h.keyword, h.party, Math.max(0, Math.round(h.atMs)), Math.min(1, Math.max(0, h.confidence)), h.required)
        const b = params.length - 5
        return `($1, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`
      })
      await this.db.query(`INSERT INTO keyword_hits (recording_id, keyword, party, at_ms, confidence, required) VALUES ${values.join(', ')}`, params)
    }
    return true
  }

  /** In the order they were heard. */
  async list(recordingId: string): Promise<KeywordHitRecord[]> {
    const r = await this.db.query<HitRow>(
      'SELECT keyword, party, at_ms, confidence, required FROM keyword_hits WHERE recording_id = $1 ORDER BY at_ms, id',
      [recordingId],
    )
    return r.rows.map((x) => ({ keyword: x.keyword, party: x.party, atMs: x.at_ms, confidence: Number(x.confidence), required: x.required }))
  }
}
