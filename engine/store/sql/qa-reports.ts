/**
 * The weekly QA report, per agent, for a period (a week in the site's zone, chosen by the caller):
 * - calls: recorded calls that started in the period; requiredMissingCalls: those of them in which the keyword spotter
 *   did not hear every required phrase (identity, consent), and the phrases missed in all;
 * - keyword hits in those calls, per watched keyword (投诉 complaint, 退款 refund);
 * - scoredCalls and averageScore: the reviews made in the period (the QA team's week), whatever day the call was;
 *   scores that were all n.a. count as scored but not in the average.
 */
import type { Queryable } from './db.js'

export interface QaReportRow {
  agentId: string
  name: string | null
  calls: number
  scoredCalls: number
  averageScore: number | null
  requiredMissingCalls: number
  requiredMissingPhrases: number
  keywordHits: Record<string, number>
}

export interface QaReportScope {
  from: number
  to: number
  siteId: string | null
  agentId: string | null
}

const num = (v: string | number | null): number => (v === null ? 0 : Number(v))

export class QaReportRepository {
  constructor(private readonly db: Queryable) {}

  async weekly(s: QaReportScope, keywords: readonly string[]): Promise<QaReportRow[]> {
    const base = [new Date(s.from), new Date(s.to), s.siteId, s.agentId]
    const calls = await this.db.query<{ agent_id: string; calls: string | number; missing_calls: string | number; missing: string | number | null }>(
      `SELECT agent_id, count(*) AS calls,
         count(*) FILTER (WHERE cardinality(required_missing) > 0) AS missing_calls,
         sum(coalesce(cardinality(required_missing), 0)) AS missing
       FROM recordings
       WHERE started_at >= $1 AND started_at < $2 AND ($3::text IS NULL OR site_id = $3) AND ($4::text IS NULL OR agent_id = $4)
         AND agent_id IS NOT NULL
       GROUP BY agent_id`,
      base,
    )
    const scores = await this.db.query<{ agent_id: string; scored: string | number; average: number | null }>(
      `SELECT agent_id, count(DISTINCT recording_id) AS scored, avg(score) AS average
       FROM qa_scores
       WHERE created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR site_id = $3) AND ($4::text IS NULL OR agent_id = $4)
         AND agent_id IS NOT NULL
       GROUP BY agent_id`,
      base,
    )
    const hits = await this.db.query<{ agent_id: string; keyword: string; n: string | number }>(
      `SELECT r.agent_id, k.keyword, count(*) AS n
       FROM keyword_hits k JOIN recordings r ON r.id = k.recording_id
       WHERE r.started_at >= $1 AND r.started_at < $2 AND ($3::text IS NULL OR r.site_id = $3) AND ($4::text IS NULL OR r.agent_id = $4)
         AND r.agent_id IS NOT NULL AND k.keyword = ANY($5::text[])
       GROUP BY r.agent_id, k.keyword`,
      [...base, [...keywords]],
    )
    const rows = new Map<string, QaReportRow>()
    const row = (agentId: string): QaReportRow => {
      let r = rows.get(agentId)
      if (!r) {
        r = {
          agentId,
          name: null,
          calls: 0,
          scoredCalls: 0,
          averageScore: null,
          requiredMissingCalls: 0,
          requiredMissingPhrases: 0,
          keywordHits: Object.fromEntries(keywords.map((k) => [k, 0])),
        }
        rows.set(agentId, r)
      }
      return r
    }
    for (const c of calls.rows) {
      const r = row(c.agent_id)
      r.calls = num(c.calls)
      r.requiredMissingCalls = num(c.missing_calls)
      r.requiredMissingPhrases = num(c.missing)
    }
    for (const x of scores.rows) {
      const r = row(x.agent_id)
      r.scoredCalls = num(x.scored)
      r.averageScore = x.average === null ? null : Math.round(Number(x.average) * 100) / 100
    }
    for (const h of hits.rows) row(h.agent_id).keywordHits[h.keyword] = num(h.n)
    if (rows.size > 0) {
      const names = await this.db.query<{ id: string; name: string }>('SELECT id, name FROM agents WHERE id = ANY($1::text[])', [[...rows.keys()]])
      for (const n of names.rows) rows.get(n.id)!.name = n.name
    }
    return [...rows.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0))
  }
}
