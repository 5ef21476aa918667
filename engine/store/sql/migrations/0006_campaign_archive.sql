-- Campaigns are archived, not deleted: their CDRs, leads and recordings stay answerable for reports and audits.
ALTER TABLE campaigns ADD COLUMN archived_at timestamptz;
