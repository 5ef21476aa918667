/**
 * The figures a manager lives by, for any period [from, to), per agent, per campaign and per site, from the CDRs and
 * the agents' state samples. Definitions, named in every answer so nobody guesses:
 * - connect: a call answered by a live person and put through to an agent (outcome `connected`);
 * - connect rate: connects / calls dialed;
 * - abandon rate: abandoned / (connects + abandoned), the live-answers denominator of the pacing default;
 * - conversion: an agent disposition marked `counts_as_conversion`; conversion rate = conversions / connects;
 * - lost inbound call: an inbound call that ended before reaching an agent; inbound wait: its time in queue.
 */
import type { Queryable } from './db.js'

export interface ReportPeriod {
  from: number
  to: number
  /** null: every site. */
  siteId: string | null
}

export interface AgentReportRow {
  agentId: string
  name: string
  calls: number
  talkSeconds: number
  averageTalkSeconds: number
  conversions: number
  /** Seconds in each agent state during the period, from one-minute samples. */
  stateSeconds: Record<string, number>
}

export interface CampaignReportRow {
  campaignId: string
  name: string
  dialed: number
  connects: number
  abandoned: number
  machines: number
  conversions: number
  talkSeconds: number
  averageTalkSeconds: number
  connectRate: number
  abandonRate: number
  conversionRate: number
  averageWaitSeconds: number
}

export interface SiteReport {
  siteId: string | null
  dialed: number
  connects: number
  abandoned: number
  conversions: number
  talkSeconds: number
  connectRate: number
  abandonRate: number
  conversionRate: number
  inbound: { calls: number; lost: number; averageWaitSeconds: number }
}

export const AbandonDenominator = 'live-answers'

const ratio = (n: number, d: number): number => (d > 0 ? n / d : 0)

// Conversion: the CDR's disposition is a code (global or the campaign's own) that counts as one.
const conversionExpr = `EXISTS (SELECT 1 FROM dispositions x WHERE x.code = d.disposition
  AND (x.campaign_id = d.campaign_id OR x.campaign_id IS NULL) AND x.counts_as_conversion)`

export class ReportRepository {
  constructor(private readonly db: Queryable) {}

  /** Every active agent of the scope, with or without calls in the period; `agentId` limits it to one agent. */
  async agents(p: ReportPeriod, agentId: string | null = null): Promise<AgentReportRow[]> {
    const r = await this.db.query<{
      agent_id: string
      name: string
      calls: string | number | null
      talk: number | null
      conversions: string | number | null
      states: Record<string, number> | null
    }>(
      `WITH calls AS (
         SELECT d.agent_id, count(*) AS calls, sum(d.talk_seconds) AS talk, count(*) FILTER (WHERE ${conversionExpr}) AS conversions
         FROM cdrs d
         WHERE d.agent_id IS NOT NULL AND d.ended_at >= to_timestamp($1 / 1000.0) AND d.ended_at < to_timestamp($2 / 1000.0)
         GROUP BY d.agent_id
       ), deltas AS (
         SELECT s.agent_id, e.key AS state, s.at,
                e.value::float8 - lag(e.value::float8) OVER (PARTITION BY s.agent_id, e.key ORDER BY s.at) AS grew,
                e.value::float8 AS value,
                lag(e.value::float8) OVER (PARTITION BY s.agent_id, e.key ORDER BY s.at) AS prev
         FROM agent_state_samples s CROSS JOIN LATERAL jsonb_each_text(s.seconds) e
         -- One sample before the period gives the starting point of the first span inside it.
         WHERE s.at < to_timestamp($2 / 1000.0) AND s.at >= to_timestamp($1 / 1000.0) - interval '1 day'
       ), states AS (
         SELECT agent_id, jsonb_object_agg(state, seconds) AS states FROM (
           SELECT agent_id, state, sum(CASE WHEN prev IS NULL THEN 0 WHEN grew >= 0 THEN grew ELSE value END) AS seconds
           FROM deltas WHERE at >= to_timestamp($1 / 1000.0) GROUP BY agent_id, state
         ) per_state GROUP BY agent_id
       )
       SELECT a.id AS agent_id, a.name, c.calls, c.talk, c.conversions, st.states
       FROM agents a LEFT JOIN calls c ON c.agent_id = a.id LEFT JOIN states st ON st.agent_id = a.id
       WHERE ($3::text IS NULL OR a.site_id = $3) AND ($4::text IS NULL OR a.id = $4)
         AND (a.active OR c.calls IS NOT NULL)
       ORDER BY a.name, a.id`,
      [p.from, p.to, p.siteId, agentId],
    )
    return r.rows.map((row) => {
      const calls = Number(row.calls ?? 0)
      const talk = Number(row.talk ?? 0)
      const stateSeconds: Record<string, number> = {}
      for (const [k, v] of Object.entries(row.states ?? {})) stateSeconds[k] = Math.round(Number(v) * 1000) / 1000
      return {
        agentId: row.agent_id,
        name: row.name,
        calls,
        talkSeconds: talk,
        averageTalkSeconds: ratio(talk, calls),
        conversions: Number(row.conversions ?? 0),
        stateSeconds,
      }
    })
  }

  async campaigns(p: ReportPeriod): Promise<CampaignReportRow[]> {
    const r = await this.db.query<{
      campaign_id: string
      name: string
      dialed: string | number
      connects: string | number
      abandoned: string | number
      machines: string | number
      conversions: string | number
      talk: number | null
      wait: number | null
    }>(
      `SELECT c.id AS campaign_id, c.name,
              count(d.call_id) AS dialed,
              count(*) FILTER (WHERE d.outcome = 'connected') AS connects,
              count(*) FILTER (WHERE d.abandoned) AS abandoned,
              count(*) FILTER (WHERE d.outcome = 'machine') AS machines,
              count(*) FILTER (WHERE d.call_id IS NOT NULL AND ${conversionExpr}) AS conversions,
              sum(d.talk_seconds) FILTER (WHERE d.outcome = 'connected') AS talk,
              avg(d.wait_seconds) FILTER (WHERE d.wait_seconds IS NOT NULL) AS wait
       FROM campaigns c
       LEFT JOIN cdrs d ON d.campaign_id = c.id AND d.direction = 'outbound'
         AND d.ended_at >= to_timestamp($1 / 1000.0) AND d.ended_at < to_timestamp($2 / 1000.0)
       WHERE ($3::text IS NULL OR c.site_id = $3) AND (c.archived_at IS NULL OR d.call_id IS NOT NULL)
       GROUP BY c.id, c.name ORDER BY c.name, c.id`,
      [p.from, p.to, p.siteId],
    )
    return r.rows.map((row) => {
      const dialed = Number(row.dialed)
      const connects = Number(row.connects)
      const abandoned = Number(row.abandoned)
      const conversions = Number(row.conversions)
      const talk = Number(row.talk ?? 0)
      return {
        campaignId: row.campaign_id,
        name: row.name,
        dialed,
        connects,
        abandoned,
        machines: Number(row.machines),
        conversions,
        talkSeconds: talk,
        averageTalkSeconds: ratio(talk, connects),
        connectRate: ratio(connects, dialed),
        abandonRate: ratio(abandoned, connects + abandoned),
        conversionRate: ratio(conversions, connects),
        averageWaitSeconds: Number(row.wait ?? 0),
      }
    })
  }

  async site(p: ReportPeriod): Promise<SiteReport> {
    const r = await this.db.query<{
      dialed: string | number
      connects: string | number
      abandoned: string | number
      conversions: string | number
      talk: number | null
      inbound: string | number
      lost: string | number
      inbound_wait: number | null
    }>(
      `SELECT count(*) FILTER (WHERE d.direction = 'outbound') AS dialed,
              count(*) FILTER (WHERE d.direction = 'outbound' AND d.outcome = 'connected') AS connects,
              count(*) FILTER (WHERE d.direction = 'outbound' AND d.abandoned) AS abandoned,
              count(*) FILTER (WHERE ${conversionExpr}) AS conversions,
              sum(d.talk_seconds) AS talk,
              count(*) FILTER (WHERE d.direction = 'inbound') AS inbound,
              count(*) FILTER (WHERE d.direction = 'inbound' AND d.agent_id IS NULL) AS lost,
              avg(d.wait_seconds) FILTER (WHERE d.direction = 'inbound' AND d.wait_seconds IS NOT NULL) AS inbound_wait
       FROM cdrs d JOIN campaigns c ON c.id = d.campaign_id
       WHERE d.ended_at >= to_timestamp($1 / 1000.0) AND d.ended_at < to_timestamp($2 / 1000.0)
         AND ($3::text IS NULL OR c.site_id = $3)`,
      [p.from, p.to, p.siteId],
    )
    const row = r.rows[0]!
    const connects = Number(row.connects)
    const abandoned = Number(row.abandoned)
    const conversions = Number(row.conversions)
    const dialed = Number(row.dialed)
    return {
      siteId: p.siteId,
      dialed,
      connects,
      abandoned,
      conversions,
      talkSeconds: Number(row.talk ?? 0),
      connectRate: ratio(connects, dialed),
      abandonRate: ratio(abandoned, connects + abandoned),
      conversionRate: ratio(conversions, connects),
      inbound: { calls: Number(row.inbound), lost: Number(row.lost), averageWaitSeconds: Number(row.inbound_wait ?? 0) },
    }
  }
}
