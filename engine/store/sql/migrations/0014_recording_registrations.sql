-- Recordings registered by the engine as each recorded call ends (issue 5 §6), before the media workers process them:
-- who and what the call was and where rtpengine wrote it, so a recording is not lost when the engine dies between the
-- end of the call and the end of the processing. A row is 'pending' until an engine claims it ('processing', with a
-- lease; claimed with FOR UPDATE SKIP LOCKED, so two engines never process one call; an engine that dies leaves a
-- lease that runs out and the row is taken again), then 'done' (the recording's id) or 'failed' (the last error; the
-- files stay on disk). No phone number here: the processing reads it from the lead, as the recording row stores it.
CREATE TABLE recording_registrations (
  call_id         text PRIMARY KEY,
  site_id         text NOT NULL,
  campaign_id     text,
  lead_id         text,
  customer_id     text,
  agent_id        text,
  -- [{ party: 'customer' | 'agent', id, sessionId?, source? }]: the parties as the recording holds them
  legs            jsonb NOT NULL,
  started_at      timestamptz NOT NULL,
  -- from the first start of recording to the end of the call; recorded_ms leaves out pauses
  duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
  recorded_ms     integer NOT NULL CHECK (recorded_ms >= 0),
  -- rtpengine's --recording-dir as this engine sees it; the call's pcaps are <dir>/pcaps/<call_id>-<hex>.pcap
  recording_dir   text NOT NULL,
  -- how many pcaps rtpengine was asked to open (one per start of recording on rtpengine 10.5)
  segments        integer NOT NULL CHECK (segments >= 1),
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processing', 'done', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  claimed_by      text,
  lease_until     timestamptz,
  recording_id    text,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recording_registrations_due_idx ON recording_registrations (next_attempt_at) WHERE state IN ('pending', 'processing');
