-- Sites and user logins. A region runs several sites (call-center floors) on one platform: every campaign, agent,
-- user and API key belongs to one site, and every query a site's user makes is scoped to it. A user or key with no
-- site (site_id NULL) is platform-wide: only admins may be (checked by the repositories and a CHECK here).
CREATE TABLE sites (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The site's own zone, for reports "per day" at that site; leads keep their own zones for calling hours.
  time_zone  text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Everything that existed before sites belongs to the default site.
INSERT INTO sites (id, name) VALUES ('default', 'Default site');

ALTER TABLE campaigns ADD COLUMN site_id text NOT NULL DEFAULT 'default' REFERENCES sites (id);
CREATE INDEX campaigns_site_idx ON campaigns (site_id, created_at, id);
ALTER TABLE agents ADD COLUMN site_id text NOT NULL DEFAULT 'default' REFERENCES sites (id);
CREATE INDEX agents_site_idx ON agents (site_id, created_at, id);
ALTER TABLE lead_lists ADD COLUMN site_id text NOT NULL DEFAULT 'default' REFERENCES sites (id);

ALTER TABLE users ADD COLUMN site_id text REFERENCES sites (id);
ALTER TABLE users ADD CONSTRAINT users_platform_admin_only CHECK (site_id IS NOT NULL OR role = 'admin');
ALTER TABLE users ADD CONSTRAINT users_agent_has_agent CHECK (role <> 'agent' OR agent_id IS NOT NULL);
ALTER TABLE api_keys ADD COLUMN site_id text REFERENCES sites (id);
ALTER TABLE api_keys ADD COLUMN agent_id text REFERENCES agents (id);
-- Keys created before sites: the admin ones stay platform-wide, the others belong to the default site.
UPDATE api_keys SET site_id = 'default' WHERE role <> 'admin';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_platform_admin_only CHECK (site_id IS NOT NULL OR role = 'admin');

-- Login tokens: short-lived opaque bearer tokens (like API keys, 256 random bits, stored as SHA-256), revocable at
-- logout. Expired rows are purged by the repository.
CREATE TABLE user_tokens (
  token_hash text PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, expires_at);
