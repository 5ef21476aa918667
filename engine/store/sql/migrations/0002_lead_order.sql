-- Insertion order of leads, so the hopper can page a campaign's leads with a keyset cursor that later imports never
-- land behind (UUID ids have no order). Existing rows are numbered as the column is added.
ALTER TABLE leads ADD COLUMN seq bigserial;
CREATE UNIQUE INDEX leads_campaign_seq_key ON leads (campaign_id, seq);
