-- Lead numbers at rest (issue 4: personal data encrypted): a lead's number, as written and in E.164, is stored as one
-- PiiCipher ciphertext bound to the lead's id (engine/store/sql/lead-numbers.ts), and found again or de-duplicated by
-- the keyed hash of its E.164 form, the same hash customers' phones carry. The plaintext columns stay, nullable, for
-- rows written before this version: the engine seals them at start-up (engine/security/seal-lead-numbers.ts) and
-- clears them; readers take the ciphertext when there is one.
ALTER TABLE leads
  ADD COLUMN number_enc text,
  ADD COLUMN e164_hash text,
  ALTER COLUMN phone DROP NOT NULL,
  ADD CONSTRAINT leads_number_present CHECK (number_enc IS NOT NULL OR phone IS NOT NULL);

-- One number once per campaign: imports de-duplicate on the hash now. Plaintext rows are sealed (and given their
-- hash) before an engine writes anything, and were unique on e164 before, so their hashes are unique too.
DROP INDEX leads_campaign_e164_key;
CREATE UNIQUE INDEX leads_campaign_e164_hash_key ON leads (campaign_id, e164_hash) WHERE e164_hash IS NOT NULL;
-- The sealing pass and its progress check find what is left to seal without a scan of every sealed row.
CREATE INDEX leads_unsealed_idx ON leads (id) WHERE number_enc IS NULL;
