-- How a site organizes its agents: teams, call queues (what they need of an agent and what happens when nobody
-- takes a call in time) and the pause codes agents may choose. Everything belongs to one site; names and codes are
-- unique within it, so two sites may each have a "Renewals" team or a "lunch" code.

CREATE TABLE teams (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  site_id     text NOT NULL REFERENCES sites (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_site_name_key ON teams (site_id, lower(name));

-- An agent's team is a real team of its site now; the free-text `team` column of 0001 is kept for what was written
-- before (nothing reads it for routing).
-- Deleting a team leaves its agents teamless rather than refusing.
ALTER TABLE agents ADD COLUMN team_id text REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE agents ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX agents_team_idx ON agents (team_id) WHERE team_id IS NOT NULL;

CREATE TABLE queues (
  id               text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  site_id          text NOT NULL REFERENCES sites (id),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Higher first when one agent could take calls from several queues (engine/acd/call-queue.ts queueScore).
  priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
  strategy         text NOT NULL DEFAULT 'longest-idle'
                     CHECK (strategy IN ('longest-idle', 'fewest-calls', 'least-talk-time')),
  -- Skill name -> the worst tier still accepted (1 best): {"mandarin": 2} takes tier-1 and tier-2 speakers.
  required_skills  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(required_skills) = 'object'),
  -- How long a caller waits before the overflow applies; NULL: until an agent frees up or the caller leaves.
  max_wait_seconds integer CHECK (max_wait_seconds BETWEEN 1 AND 86400),
  -- Where a call goes after max_wait_seconds: another queue of the same site, or NULL (the call ends as lost).
  overflow_queue_id text REFERENCES queues (id) ON DELETE SET NULL,
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (overflow_queue_id IS NULL OR overflow_queue_id <> id)
);
CREATE UNIQUE INDEX queues_site_name_key ON queues (site_id, lower(name));

CREATE TABLE pause_codes (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  site_id     text NOT NULL REFERENCES sites (id),
  -- What the ACD stores as the agent's pause reason; same alphabet as its Redis field values.
  code        text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
  -- Paid pauses (training, meetings) count as working time in reports; unpaid ones (lunch) do not.
  paid        boolean NOT NULL DEFAULT false,
  -- A pause longer than this is flagged to supervisors; NULL: no limit.
  max_minutes integer CHECK (max_minutes BETWEEN 1 AND 1440),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pause_codes_site_code_key ON pause_codes (site_id, code);

-- The codes the ACD already knew by name, for the sites that exist now; 'login' and 'no-answer' are the system's own
-- reasons (set by the engine, never chosen by an agent), so they are not codes.
INSERT INTO pause_codes (site_id, code, label, paid, max_minutes)
SELECT s.id, c.code, c.label, c.paid, c.max_minutes
FROM sites s
CROSS JOIN (VALUES
  ('break', 'Break', false, 15),
  ('lunch', 'Lunch', false, 60),
  ('training', 'Training', true, NULL::integer),
  ('meeting', 'Meeting', true, NULL::integer)
) AS c (code, label, paid, max_minutes);
