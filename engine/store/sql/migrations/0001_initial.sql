-- Schema v1: campaigns and their leads, agents, one CDR per call, dispositions, callbacks, DNC, users and API keys,
-- and the audit log. Ids are text (UUIDs by default) so the engine's own call ids and the simulator's ids fit too.
-- Times are timestamptz; repositories hand epoch milliseconds to the engine.

CREATE TABLE campaigns (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The state the operators asked for; an engine taking the campaign's lease after a restart resumes it.
  state       text NOT NULL DEFAULT 'stopped' CHECK (state IN ('stopped', 'running', 'paused')),
  -- Dial mode, pacing, screening policy and caps (shape: CampaignSettings in campaigns.ts).
  settings    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_created_idx ON campaigns (created_at, id);

CREATE TABLE agents (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  extension   text,
  team        text,
  skills      jsonb NOT NULL DEFAULT '{}'::jsonb,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_extension_key ON agents (extension) WHERE extension IS NOT NULL;

CREATE TABLE lead_lists (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id text NOT NULL REFERENCES campaigns (id),
  name        text NOT NULL,
  source      text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leads (
  id                text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id       text NOT NULL REFERENCES campaigns (id),
  list_id           text REFERENCES lead_lists (id),
  phone             text NOT NULL,
  e164              text,
  region            text,
  timezone          text,
  status            text NOT NULL DEFAULT 'new' CHECK (status IN (
                      'new', 'callback', 'no-answer', 'busy', 'machine', 'abandoned', 'contacted', 'invalid', 'dnc',
                      'refused', 'done')),
  attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- Every dial attempt, oldest first: attempt caps per 24 h and 7 days are counted from it.
  attempt_times     timestamptz[] NOT NULL DEFAULT '{}',
  last_attempt_at   timestamptz,
  last_abandoned_at timestamptz,
  owner_agent_id    text REFERENCES agents (id),
  customer_id       text,
  callback_at       timestamptz,
  priority          integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One number once per campaign: imports de-duplicate on it.
CREATE UNIQUE INDEX leads_campaign_e164_key ON leads (campaign_id, e164) WHERE e164 IS NOT NULL;
CREATE INDEX leads_campaign_status_idx ON leads (campaign_id, status, priority DESC, id);
CREATE INDEX leads_callback_idx ON leads (campaign_id, callback_at) WHERE callback_at IS NOT NULL;
CREATE INDEX leads_owner_idx ON leads (owner_agent_id) WHERE owner_agent_id IS NOT NULL;

-- Exactly one row per call (invariant 4): call_id is the primary key and inserts are ON CONFLICT DO NOTHING.
-- lead_id and agent_id carry no foreign key: a CDR is a record that must outlive the lead or agent it names.
CREATE TABLE cdrs (
  call_id       text PRIMARY KEY,
  campaign_id   text NOT NULL REFERENCES campaigns (id),
  lead_id       text NOT NULL,
  agent_id      text,
  outcome       text NOT NULL,
  disposition   text NOT NULL,
  dialed_at     timestamptz NOT NULL,
  answered_at   timestamptz,
  bridged_at    timestamptz,
  ended_at      timestamptz NOT NULL,
  talk_seconds  double precision NOT NULL DEFAULT 0,
  wait_seconds  double precision,
  abandoned     boolean NOT NULL,
  abandon_kind  text,
  amd_result    text,
  amd_reason    text,
  sip_status    integer,
  sip_reason    text,
  ended_by      text,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cdrs_campaign_ended_idx ON cdrs (campaign_id, ended_at);
CREATE INDEX cdrs_agent_ended_idx ON cdrs (agent_id, ended_at) WHERE agent_id IS NOT NULL;
CREATE INDEX cdrs_lead_idx ON cdrs (lead_id);

-- The disposition codes an agent may choose, global (campaign_id NULL) or per campaign, and the lead status each
-- leaves behind.
CREATE TABLE dispositions (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id text REFERENCES campaigns (id),
  code        text NOT NULL CHECK (code ~ '^[a-z0-9:_-]{1,64}$'),
  label       text NOT NULL,
  lead_status text NOT NULL,
  books_callback boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dispositions_scope_code_key ON dispositions (coalesce(campaign_id, ''), code);

CREATE TABLE callbacks (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id text NOT NULL REFERENCES campaigns (id),
  lead_id     text NOT NULL REFERENCES leads (id),
  -- The owning agent gets it first; NULL: anyone.
  agent_id    text REFERENCES agents (id),
  due_at      timestamptz NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'offered', 'done', 'cancelled')),
  note        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX callbacks_due_idx ON callbacks (status, due_at);

-- Do-not-call: a full number or a prefix, global (campaign_id NULL) or per campaign.
CREATE TABLE dnc_entries (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  campaign_id text REFERENCES campaigns (id),
  kind        text NOT NULL DEFAULT 'number' CHECK (kind IN ('number', 'prefix')),
  number      text NOT NULL CHECK (number ~ '^\+?[0-9]{1,20}$'),
  reason      text,
  source      text,
  expires_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX dnc_entries_scope_key ON dnc_entries (coalesce(campaign_id, ''), kind, number);

CREATE TABLE users (
  id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name          text NOT NULL,
  email         text UNIQUE,
  role          text NOT NULL CHECK (role IN ('admin', 'supervisor', 'qa', 'agent')),
  agent_id      text REFERENCES agents (id),
  password_hash text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

-- API keys are random 256-bit secrets: a SHA-256 of the key is enough to store and look them up (no slow hash
-- needed, unlike passwords). key_prefix is shown to humans to tell keys apart.
CREATE TABLE api_keys (
  id           text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('admin', 'supervisor', 'qa', 'agent')),
  key_hash     text NOT NULL UNIQUE,
  key_prefix   text NOT NULL,
  user_id      text REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  -- Who: 'api-key:<id>', 'user:<id>' or 'system'.
  actor      text NOT NULL,
  action     text NOT NULL,
  entity     text NOT NULL,
  entity_id  text,
  detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, at);
