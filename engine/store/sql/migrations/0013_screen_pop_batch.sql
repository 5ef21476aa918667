-- The screen pop for several numbers in one statement: customers_by_phone_hash (0005) once per hash, each with its own
-- limit and order, tagged with the hash it answers. Concurrent lookups share it (CustomerRepository.findByPhones), so
-- under load a lookup costs a share of one round trip instead of one each: a round trip (a socket write to another
-- process and its wake-up) cost more than the rest of the request (bench:api, profiled). PL/pgSQL for the same
-- reason as 0005: the plan is kept for the session instead of made on every call.
CREATE FUNCTION customers_by_phone_hashes(p_hashes text[], p_site text, p_agent text, p_limit integer)
RETURNS TABLE (matched_hash text, id text, site_id text, type text, owner_agent_id text, name_enc text, profile_enc text,
               tags text[], created_at timestamptz, updated_at timestamptz, phones json)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT q.hash, m.id, m.site_id, m.type, m.owner_agent_id, m.name_enc, m.profile_enc, m.tags, m.created_at,
    m.updated_at, m.phones
  FROM unnest(p_hashes) WITH ORDINALITY AS q(hash, n)
  CROSS JOIN LATERAL (
    SELECT c.id, c.site_id, c.type, c.owner_agent_id, c.name_enc, c.profile_enc, c.tags, c.created_at, c.updated_at,
      coalesce((SELECT json_agg(json_build_object('id', p.id, 'number_enc', p.number_enc, 'label', p.label,
          'country', p.country, 'number_type', p.number_type, 'created_at', p.created_at) ORDER BY p.created_at, p.id)
        FROM customer_phones p WHERE p.customer_id = c.id), '[]'::json) AS phones
    FROM customers c
    WHERE c.id IN (SELECT h.customer_id FROM customer_phones h WHERE h.phone_hash = q.hash AND (p_site IS NULL OR h.site_id = p_site))
      AND (p_site IS NULL OR c.site_id = p_site) AND (p_agent IS NULL OR c.owner_agent_id = p_agent)
    ORDER BY c.updated_at DESC, c.id
    LIMIT p_limit
  ) m
  ORDER BY q.n, m.updated_at DESC, m.id;
END
$fn$;
