-- SIP credentials of agents (issue 5): the registrar authenticates REGISTERs by digest against HA1 =
-- MD5(username:realm:password); the password itself is never stored. The realm is kept beside the hash because the
-- hash depends on it (changing the deployment's realm means setting every password again).
ALTER TABLE agents
  ADD COLUMN sip_username text CHECK (sip_username ~ '^[A-Za-z0-9_.!~*''()&=+$,;?/-]{1,64}$'),
  ADD COLUMN sip_realm    text CHECK (length(sip_realm) BETWEEN 1 AND 128),
  ADD COLUMN sip_ha1      text CHECK (sip_ha1 ~ '^[0-9a-f]{32}$'),
  ADD CONSTRAINT agents_sip_credentials_complete
    CHECK ((sip_username IS NULL) = (sip_ha1 IS NULL) AND (sip_ha1 IS NULL) = (sip_realm IS NULL));
CREATE UNIQUE INDEX agents_sip_username_key ON agents (sip_username) WHERE sip_username IS NOT NULL;
