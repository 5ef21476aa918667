/** The agents' state-time samples (see engine/reports/agent-state-sampler.ts), written in one statement per tick. */
import type { AgentStateSample, AgentStateSampleSink } from '../../reports/agent-state-sampler.js'
import type { Queryable } from './db.js'

export class AgentStateSampleRepository implements AgentStateSampleSink {
  constructor(private readonly db: Queryable) {}

  async appendSamples(samples: readonly AgentStateSample[]): Promise<void> {
    if (samples.length === 0) return
    await this.db.query(
      `INSERT INTO agent_state_samples (agent_id, at, seconds)
       SELECT a, to_timestamp(t / 1000.0), s::jsonb FROM unnest($1::text[], $2::float8[], $3::text[]) AS x(a, t, s)
       ON CONFLICT (agent_id, at) DO UPDATE SET seconds = excluded.seconds`,
      [samples.map((s) => s.agentId), samples.map((s) => s.at), samples.map((s) => JSON.stringify(s.seconds))],
    )
  }
}
