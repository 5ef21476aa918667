-- What reports need beyond the CDRs: which dispositions count as a conversion, the direction of a call (inbound
-- calls land here once the inbound IVR writes CDRs), and the agents' time in each state.
ALTER TABLE dispositions ADD COLUMN counts_as_conversion boolean NOT NULL DEFAULT false;
ALTER TABLE cdrs ADD COLUMN direction text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound'));
CREATE INDEX cdrs_ended_idx ON cdrs (ended_at);

-- Each agent's cumulative seconds in every state, sampled by the engine every minute. A report over [from, to) sums
-- the growth between consecutive samples inside the period; a counter that went down (the agent's live record was
-- rebuilt) counts from zero again. Precision is the sampling interval, which the reports name.
CREATE TABLE agent_state_samples (
  agent_id text NOT NULL,
  at       timestamptz NOT NULL,
  seconds  jsonb NOT NULL,
  PRIMARY KEY (agent_id, at)
);
CREATE INDEX agent_state_samples_at_idx ON agent_state_samples (at);
