-- DNC numbers at rest (issue 4: personal data encrypted): a listed number is stored as one PiiCipher ciphertext bound
-- to its entry's id (engine/store/sql/dnc.ts) and found, de-duplicated and mirrored to Redis by the keyed hash of its
-- E.164 form (the hash customers' phones and leads carry). Prefixes (area codes, number ranges) are not anyone's
-- number and stay readable. Entries written before this version keep their number in the clear `number` column until
-- the engine seals them at start-up (engine/security/seal-dnc-numbers.ts); readers take either form meanwhile.
ALTER TABLE dnc_entries
  ADD COLUMN number_enc text,
  ADD COLUMN number_hash text,
  ALTER COLUMN number DROP NOT NULL,
  DROP CONSTRAINT IF EXISTS dnc_entries_number_check,
  ADD CONSTRAINT dnc_entries_number_form CHECK (
    (number IS NULL OR number ~ '^\+?[0-9]{1,20}$')
    AND (number IS NOT NULL OR (kind = 'number' AND number_enc IS NOT NULL AND number_hash IS NOT NULL))
  );

-- One entry per number (or prefix) per list: sealed numbers by their hash, prefixes and unsealed numbers as written.
DROP INDEX dnc_entries_scope_key;
CREATE UNIQUE INDEX dnc_entries_scope_key ON dnc_entries (coalesce(campaign_id, ''), kind, coalesce(number_hash, number));
CREATE INDEX dnc_entries_unsealed_idx ON dnc_entries (id) WHERE kind = 'number' AND number IS NOT NULL;
