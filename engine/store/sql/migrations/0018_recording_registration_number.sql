-- The far party's number of a recorded call that has no lead to read it from (an inbound caller, a voicemail): kept
-- with the registration until the recording row stores it, AES-GCM encrypted and bound to the call id (PiiCipher),
-- like every number at rest. Outbound calls leave it NULL: their number is the lead's.
ALTER TABLE recording_registrations ADD COLUMN number_enc text;
