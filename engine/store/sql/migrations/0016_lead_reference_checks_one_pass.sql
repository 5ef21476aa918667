-- The per-statement reference check of 0015, one pass over the new rows instead of four. Its queries joined the
-- transition table to campaigns and lead_lists under FOR KEY SHARE, which makes PostgreSQL carry a whole-row copy of
-- every new row for a possible re-check, and scanned the rows again for each DISTINCT: ~9% of the server's time in a
-- lead import (perf, PostgreSQL 15). Now the distinct (campaign, list) pairs are found by one hash aggregate over the
-- new rows (an import's batch has one pair) and each is locked and checked by primary key.
CREATE OR REPLACE FUNCTION leads_check_new_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ref record;
  locked_campaign text;
BEGIN
  FOR ref IN SELECT DISTINCT n.campaign_id, n.list_id FROM new_leads n LOOP
    IF locked_campaign IS DISTINCT FROM ref.campaign_id THEN
      PERFORM 1 FROM campaigns c WHERE c.id = ref.campaign_id FOR KEY SHARE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "leads" violates foreign key constraint "leads_campaign_id_fkey"'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'leads', CONSTRAINT = 'leads_campaign_id_fkey',
                DETAIL = format('Key (campaign_id)=(%s) is not present in table "campaigns".', ref.campaign_id);
      END IF;
      locked_campaign := ref.campaign_id;
    END IF;
    IF ref.list_id IS NOT NULL THEN
      PERFORM 1 FROM lead_lists l WHERE l.id = ref.list_id FOR KEY SHARE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "leads" violates foreign key constraint "leads_list_id_fkey"'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'leads', CONSTRAINT = 'leads_list_id_fkey',
                DETAIL = format('Key (list_id)=(%s) is not present in table "lead_lists".', ref.list_id);
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
