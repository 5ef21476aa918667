-- Lead imports: one row per uploaded file with progress a client can poll while it runs, and the bad rows by line.
-- A list may carry a default region for national-format numbers (an import may still name another).
ALTER TABLE lead_lists ADD COLUMN region text CHECK (region ~ '^[A-Z]{2}$');
CREATE INDEX lead_lists_campaign_idx ON lead_lists (campaign_id, created_at, id);
-- Export pages a list's leads in insertion order.
CREATE INDEX leads_list_seq_idx ON leads (list_id, seq) WHERE list_id IS NOT NULL;

CREATE TABLE lead_imports (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  list_id     text NOT NULL REFERENCES lead_lists (id),
  campaign_id text NOT NULL REFERENCES campaigns (id),
  format      text NOT NULL CHECK (format IN ('csv', 'xlsx')),
  -- 'running' until the last batch commits; 'failed' when the stream broke (the rows committed before stay).
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  rows_read   integer NOT NULL DEFAULT 0,
  inserted    integer NOT NULL DEFAULT 0,
  duplicates  integer NOT NULL DEFAULT 0,
  bad         integer NOT NULL DEFAULT 0,
  error       text,
  actor       text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX lead_imports_list_idx ON lead_imports (list_id, started_at, id);

CREATE TABLE lead_import_errors (
  import_id text NOT NULL REFERENCES lead_imports (id) ON DELETE CASCADE,
  -- Line in the file (1 = the header line for CSV), so a human can open the file there.
  line      integer NOT NULL,
  reason    text NOT NULL,
  -- The offending value, cut short; enough to recognise it, not a copy of the file.
  value     text,
  PRIMARY KEY (import_id, line)
);

-- DNC entries are listed newest first by scope.
CREATE INDEX dnc_entries_list_idx ON dnc_entries (coalesce(campaign_id, ''), created_at DESC, id);
