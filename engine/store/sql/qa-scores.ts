/**
 * QA scores: a reviewer's answers to a form for one recorded call, the score computed from them (engine/qa/score.ts:
 * n.a. items out of the denominator) and a coaching note for the agent. Reads take a scope: agents see the scores of
 * their own calls only, another site's score is not found.
 */
import { randomUUID } from 'node:crypto'
import type { QaAnswer } from '../../qa/score.js'
import type { Queryable } from './db.js'
import type { RecordingScope } from './recordings.js'
import { msOf } from './row-time.js'

export interface QaAnswerRecord {
  itemId: string
  answer: QaAnswer
}

export interface QaScore {
  id: string
  siteId: string
  recordingId: string
  callId: string
  formId: string
  agentId: string | null
  reviewer: string
  answers: QaAnswerRecord[]
  earned: number
  possible: number
  score: number | null
  failedRequired: string[]
  coachingNote: string | null
  createdAt: number
  updatedAt: number
}

export interface QaScoreFilter {
  recordingId?: string
  agentId?: string
  formId?: string
  from?: number
  to?: number
}

interface ScoreRow {
  id: string
  site_id: string
  recording_id: string
  call_id: string
  form_id: string
  agent_id: string | null
  reviewer: string
  answers: QaAnswerRecord[]
  earned: number
  possible: number
  score: number | null
  failed_required: string[]
  coaching_note: string | null
  created_at: Date
  updated_at: Date
}

const Columns = `id, site_id, recording_id, call_id, form_id, agent_id, reviewer, answers, earned, possible, score, failed_required,
  coaching_note, created_at, updated_at`

const toScore = (r: ScoreRow): QaScore => ({
  id: r.id,
  siteId: r.site_id,
  recordingId: r.recording_id,
  callId: r.call_id,
  formId: r.form_id,
  agentId: r.agent_id,
  reviewer: r.reviewer,
  answers: r.answers,
  earned: Number(r.earned),
  possible: Number(r.possible),
  score: r.score === null ? null : Number(r.score),
  failedRequired: r.failed_required,
  coachingNote: r.coaching_note,
  createdAt: msOf(r.created_at),
  updatedAt: msOf(r.updated_at),
})

export class QaScoreRepository {
  constructor(private readonly db: Queryable) {}

  async create(s: Omit<QaScore, 'id' | 'createdAt' | 'updatedAt'>): Promise<QaScore> {
    const r = await this.db.query<ScoreRow>(
      `INSERT INTO qa_scores (id, site_id, recording_id, call_id, form_id, agent_id, reviewer, answers, earned, possible, score,
         failed_required, coaching_note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13) RETURNING ${Columns}`,
      [
        randomUUID(),
        s.siteId,
        s.recordingId,
        s.callId,
        s.formId,
        s.agentId,
        s.reviewer,
        JSON.stringify(s.answers),
        s.earned,
        s.possible,
        s.score,
        [...s.failedRequired],
        s.coachingNote,
      ],
    )
    return toScore(r.rows[0]!)
  }

  async get(id: string, scope: RecordingScope): Promise<QaScore | undefined> {
    const r = await this.db.query<ScoreRow>(
      `SELECT ${Columns} FROM qa_scores WHERE id = $1 AND ($2::text IS NULL OR site_id = $2) AND ($3::text IS NULL OR agent_id = $3)`,
      [id, scope.siteId, scope.agentId],
    )
    return r.rows[0] && toScore(r.rows[0])
  }

  /** Newest first. */
  async list(f: QaScoreFilter, scope: RecordingScope, page: { limit: number; offset: number }): Promise<{ items: QaScore[]; total: number }> {
    const where = `($1::text IS NULL OR site_id = $1) AND ($2::text IS NULL OR agent_id = $2) AND ($3::text IS NULL OR recording_id = $3)
      AND ($4::text IS NULL OR agent_id = $4) AND ($5::text IS NULL OR form_id = $5)
      AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)`
    const params = [
      scope.siteId,
      scope.agentId,
      f.recordingId ?? null,
      f.agentId ?? null,
      f.formId ?? null,
      f.from === undefined ? null : new Date(f.from),
      f.to === undefined ? null : new Date(f.to),
    ]
    const r = await this.db.query<ScoreRow>(`SELECT ${Columns} FROM qa_scores WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9`, [
      ...params,
      page.limit,
      page.offset,
    ])
    const n = await this.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM qa_scores WHERE ${where}`, params)
    return { items: r.rows.map(toScore), total: Number(n.rows[0]?.n ?? 0) }
  }

  /** New answers (with their computed figures) and/or a new coaching note; null clears the note. */
  async update(
    id: string,
    patch: {
      answers?: { answers: QaAnswerRecord[]; earned: number; possible: number; score: number | null; failedRequired: string[] }
      coachingNote?: string | null
    },
  ): Promise<QaScore | undefined> {
    const a = patch.answers
    const r = await this.db.query<ScoreRow>(
      `UPDATE qa_scores SET
         answers = CASE WHEN $2::boolean THEN $3::jsonb ELSE answers END,
         earned = CASE WHEN $2::boolean THEN $4::double precision ELSE earned END,
         possible = CASE WHEN $2::boolean THEN $5::double precision ELSE possible END,
         score = CASE WHEN $2::boolean THEN $6::double precision ELSE score END,
         failed_required = CASE WHEN $2::boolean THEN $9::text[] ELSE failed_required END,
         coaching_note = CASE WHEN $7::boolean THEN $8::text ELSE coaching_note END,
         updated_at = now()
       WHERE id = $1 RETURNING ${Columns}`,
      [
        id,
        a !== undefined,
        a === undefined ? null : JSON.stringify(a.answers),
        a?.earned ?? null,
        a?.possible ?? null,
        a?.score ?? null,
        patch.coachingNote !== undefined,
        patch.coachingNote ?? null,
        a === undefined ? null : [...a.failedRequired],
      ],
    )
    return r.rows[0] && toScore(r.rows[0])
  }
}
