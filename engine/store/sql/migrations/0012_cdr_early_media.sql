-- What early media said when it ended an attempt (a SIT tone or a carrier announcement, heard by the engine before
-- any answer): the invalid-number reason and the detector's detail, beside the SIP status that followed our CANCEL.
ALTER TABLE cdrs ADD COLUMN early_media_reason text;
ALTER TABLE cdrs ADD COLUMN early_media_detail text;
