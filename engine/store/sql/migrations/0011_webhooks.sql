-- Webhooks: integrations told of a site's events, signed and retried. The secret signs payloads, so it is stored
-- encrypted (PiiCipher) and shown once at creation. One delivery row per (webhook, event): a second API instance
-- seeing the same event adds nothing.
CREATE TABLE webhooks (
  id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  site_id     text NOT NULL REFERENCES sites (id),
  url         text NOT NULL CHECK (url ~ '^https?://'),
  secret_enc  text NOT NULL,
  event_types text[] NOT NULL,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_site_idx ON webhooks (site_id) WHERE active;

CREATE TABLE webhook_deliveries (
  id              bigserial PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        text NOT NULL,
  event_type      text NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
