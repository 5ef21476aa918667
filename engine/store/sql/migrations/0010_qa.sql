-- Recordings and QA (issue 4): one compressed recording per call (workers/compress-recording), the keyword hits found in
-- it (workers/spot-keywords), scoring forms, scores with coaching notes, and sampling runs.
-- The customer's number is personal data: stored as an AES-256-GCM ciphertext (engine/security/pii-cipher.ts, the
-- recording's id as additional data) and found by its keyed hash, the same hash the CRM's customer_phones use, so a
-- number searched for in either place hashes alike. Ids are made by the application (the ciphertext needs the id).

CREATE TABLE recordings (
  id              text PRIMARY KEY,
  -- One recording per call: a worker that retries after a lost reply cannot store a second one.
  call_id         text NOT NULL UNIQUE,
  site_id         text NOT NULL REFERENCES sites (id),
  -- No foreign keys to campaigns, agents or customers: a recording is evidence that must outlive what it names.
  campaign_id     text,
  agent_id        text,
  customer_id     text,
  started_at      timestamptz NOT NULL,
  duration_ms     integer NOT NULL CHECK (duration_ms >= 0),
  path            text NOT NULL,
  format          text NOT NULL CHECK (format IN ('opus', 'ogg', 'wav')),
  checksum_sha256 text NOT NULL CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes      bigint NOT NULL CHECK (size_bytes >= 0),
  channels        smallint NOT NULL DEFAULT 1 CHECK (channels BETWEEN 1 AND 2),
  number_enc      text,
  number_hash     text,
  -- Required phrases (identity, consent) spot-keywords did not hear; NULL until the recording was analysed.
  required_missing text[],
  analysed_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((number_enc IS NULL) = (number_hash IS NULL))
);
CREATE INDEX recordings_site_started_idx ON recordings (site_id, started_at, id);
CREATE INDEX recordings_site_agent_started_idx ON recordings (site_id, agent_id, started_at);
CREATE INDEX recordings_number_idx ON recordings (number_hash, site_id) WHERE number_hash IS NOT NULL;
CREATE INDEX recordings_customer_idx ON recordings (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX recordings_campaign_started_idx ON recordings (campaign_id, started_at);

CREATE TABLE keyword_hits (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  recording_id text NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
  keyword      text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 100),
  party        text NOT NULL CHECK (length(party) BETWEEN 1 AND 40),
  -- Offset from the start of the recording.
  at_ms        integer NOT NULL CHECK (at_ms >= 0),
  confidence   real NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  -- A hit of a required phrase (identity, consent) rather than of a watched word (投诉, 退款).
  required     boolean NOT NULL DEFAULT false
);
CREATE INDEX keyword_hits_recording_idx ON keyword_hits (recording_id, at_ms);
CREATE INDEX keyword_hits_keyword_idx ON keyword_hits (keyword, recording_id);

-- A scoring form: items answered yes / no / n.a., each with a weight. items is a JSON array of
-- {id, label, weight, required}: the shape QaForm in qa-forms.ts checks before it is written.
CREATE TABLE qa_forms (
  id          text PRIMARY KEY,
  site_id     text NOT NULL REFERENCES sites (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  items       jsonb NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX qa_forms_site_name_key ON qa_forms (site_id, name);

-- A reviewer's score of one recorded call on one form. score is earned / possible × 100 with n.a. items left out of
-- possible; NULL when every item was n.a. (nothing to score). agent_id repeats the recording's so agents' reads of
-- their own scores need no join.
CREATE TABLE qa_scores (
  id            text PRIMARY KEY,
  site_id       text NOT NULL REFERENCES sites (id),
  recording_id  text NOT NULL REFERENCES recordings (id),
  call_id       text NOT NULL,
  form_id       text NOT NULL REFERENCES qa_forms (id),
  agent_id      text,
  reviewer      text NOT NULL,
  answers       jsonb NOT NULL,
  earned        double precision NOT NULL CHECK (earned >= 0),
  possible      double precision NOT NULL CHECK (possible >= 0),
  score         double precision CHECK (score >= 0 AND score <= 100),
  -- Required items answered no: the call fails them whatever its score.
  failed_required text[] NOT NULL DEFAULT '{}',
  coaching_note text CHECK (length(coaching_note) <= 5000),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qa_scores_recording_idx ON qa_scores (recording_id);
CREATE INDEX qa_scores_site_agent_idx ON qa_scores (site_id, agent_id, created_at);
CREATE INDEX qa_scores_form_idx ON qa_scores (form_id);

-- A sampling run: percent of one day's recorded calls per agent, chosen by a seeded hash so the same seed over the same
-- calls picks the same ones.
CREATE TABLE qa_samples (
  id          text PRIMARY KEY,
  site_id     text NOT NULL REFERENCES sites (id),
  day         date NOT NULL,
  time_zone   text NOT NULL,
  percent     double precision NOT NULL CHECK (percent > 0 AND percent <= 100),
  seed        text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qa_samples_site_day_idx ON qa_samples (site_id, day, created_at);

CREATE TABLE qa_sample_items (
  sample_id    text NOT NULL REFERENCES qa_samples (id) ON DELETE CASCADE,
  recording_id text NOT NULL REFERENCES recordings (id),
  agent_id     text,
  PRIMARY KEY (sample_id, recording_id)
);
