-- The CRM (issue 4): customers with several phone numbers, notes, dispositions and callbacks booked to the minute.
-- Personal data never sits in clear: names, numbers, profiles and note texts are AES-256-GCM ciphertexts made by
-- engine/security/pii-cipher.ts with the row's id as additional data, and are found by keyed hashes (HMAC-SHA-256
-- of the normalized value: E.164 for numbers, NFKC + lower case without spaces for names). A hash only answers
-- "equal to"; prefix search and sorting by name cannot be done by the database (see README, CRM).
-- Ids are made by the application (the ciphertext's additional data needs the id before the INSERT).

CREATE TABLE customers (
  id             text PRIMARY KEY,
  site_id        text NOT NULL REFERENCES sites (id),
  type           text NOT NULL DEFAULT 'prospect' CHECK (type IN ('prospect', 'follow-up', 'closed', 'member')),
  -- The agent the customer trusts (sticky routing, agents see only their own); NULL: in the site's pool.
  owner_agent_id text REFERENCES agents (id),
  name_enc       text NOT NULL,
  name_hash      text NOT NULL,
  -- Encrypted JSON: age, address, occupation, interests.
  profile_enc    text,
  -- Tags are campaign vocabulary ("high-intent", "vip"), not personal data, so they stay searchable in clear.
  tags           text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_site_name_idx ON customers (site_id, name_hash);
CREATE INDEX customers_site_created_idx ON customers (site_id, created_at, id);
CREATE INDEX customers_site_updated_idx ON customers (site_id, updated_at, id);
CREATE INDEX customers_site_owner_idx ON customers (site_id, owner_agent_id, updated_at);
CREATE INDEX customers_tags_idx ON customers USING gin (tags);

CREATE TABLE customer_phones (
  id          text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  -- The customer's site, repeated so the screen-pop lookup (hash, site) needs no join to filter.
  site_id     text NOT NULL REFERENCES sites (id),
  number_enc  text NOT NULL,
  phone_hash  text NOT NULL,
  label       text CHECK (length(label) <= 40),
  -- What the number says of itself (not personal beyond the number): ISO country and mobile/fixed-line.
  country     text CHECK (country ~ '^[A-Z]{2}$'),
  number_type text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- The hot read: "who is calling" by the keyed hash of the caller's E.164.
CREATE INDEX customer_phones_hash_idx ON customer_phones (phone_hash, site_id);
CREATE UNIQUE INDEX customer_phones_customer_hash_key ON customer_phones (customer_id, phone_hash);

CREATE TABLE customer_notes (
  id          text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  site_id     text NOT NULL REFERENCES sites (id),
  -- Who wrote it: an agent id where the writer works as one, and the audit actor always.
  agent_id    text,
  actor       text NOT NULL,
  text_enc    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id, created_at);

-- What an agent concluded about the customer, on a call (call_id) or outside one. The call's own CDR keeps the
-- system disposition; this is the customer's history.
CREATE TABLE customer_dispositions (
  id          text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  site_id     text NOT NULL REFERENCES sites (id),
  call_id     text,
  code        text NOT NULL CHECK (code ~ '^[a-z0-9:_-]{1,64}$'),
  agent_id    text,
  actor       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_dispositions_customer_idx ON customer_dispositions (customer_id, created_at);

-- Calls reach a customer's timeline through the leads that name the customer.
CREATE INDEX leads_customer_idx ON leads (customer_id) WHERE customer_id IS NOT NULL;

-- Callbacks: a lead's (the dialer's, as before) or a customer's (the CRM's). A customer callback is booked to the
-- whole minute, for the owning agent (agent_id) or anyone (NULL).
ALTER TABLE callbacks ALTER COLUMN campaign_id DROP NOT NULL;
ALTER TABLE callbacks ALTER COLUMN lead_id DROP NOT NULL;
ALTER TABLE callbacks ADD COLUMN site_id text NOT NULL DEFAULT 'default' REFERENCES sites (id);
ALTER TABLE callbacks ADD COLUMN customer_id text REFERENCES customers (id) ON DELETE CASCADE;
ALTER TABLE callbacks ADD COLUMN note_enc text;
ALTER TABLE callbacks ADD COLUMN created_by text;
ALTER TABLE callbacks ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE callbacks ADD CONSTRAINT callbacks_has_subject CHECK (lead_id IS NOT NULL OR customer_id IS NOT NULL);
ALTER TABLE callbacks ADD CONSTRAINT callbacks_customer_minute
  CHECK (customer_id IS NULL OR extract(epoch FROM due_at)::numeric % 60 = 0);
CREATE INDEX callbacks_site_due_idx ON callbacks (site_id, status, due_at) WHERE customer_id IS NOT NULL;
CREATE INDEX callbacks_customer_idx ON callbacks (customer_id, due_at) WHERE customer_id IS NOT NULL;

-- The screen pop (CustomerRepository.findByPhone) as a function: PL/pgSQL keeps the statement's plan for the session,
-- where a parameterized query from the pool is parsed and planned on every call. Measured on PostgreSQL 15 here:
-- about 650 us of server time a call planned each time, 60 us with the kept plan (a primary-key read: 50 us).
CREATE FUNCTION customers_by_phone_hash(p_hash text, p_site text, p_agent text, p_limit integer)
RETURNS TABLE (id text, site_id text, type text, owner_agent_id text, name_enc text, profile_enc text, tags text[],
               created_at timestamptz, updated_at timestamptz, phones json)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT c.id, c.site_id, c.type, c.owner_agent_id, c.name_enc, c.profile_enc, c.tags, c.created_at, c.updated_at,
    coalesce((SELECT json_agg(json_build_object('id', p.id, 'number_enc', p.number_enc, 'label', p.label,
        'country', p.country, 'number_type', p.number_type, 'created_at', p.created_at) ORDER BY p.created_at, p.id)
      FROM customer_phones p WHERE p.customer_id = c.id), '[]'::json)
  FROM customers c
  WHERE c.id IN (SELECT h.customer_id FROM customer_phones h WHERE h.phone_hash = p_hash AND (p_site IS NULL OR h.site_id = p_site))
    AND (p_site IS NULL OR c.site_id = p_site) AND (p_agent IS NULL OR c.owner_agent_id = p_agent)
  ORDER BY c.updated_at DESC, c.id
  LIMIT p_limit;
END
$fn$;
