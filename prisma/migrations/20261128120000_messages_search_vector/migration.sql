-- Each message's text search document, stored beside its body, for
-- searchMessages (src/modules/search/sql.ts). Stored rather than an index on
-- the expression to_tsvector('english', body): the search reads it for
-- every message it looks at (to match it when it walks a history, to rank
-- the matches) and to_tsvector costs about 10 µs per body, which made a
-- ranked search of a common word 3 to 4 times slower (bench/results).
--
-- The trigger is its only writer, for every INSERT and UPDATE whatever the
-- statement sets, so no path (the API, the seed, psql) can store a body
-- with another document. tsvector_update_trigger is built in (C) and writes
-- exactly to_tsvector('english', body).
--
-- Nullable and without a default: adding it rewrites nothing, and the lock
-- is held for an instant. Rows written before it are filled by the next
-- migration, in batches.
ALTER TABLE messages ADD COLUMN search_vector tsvector;

CREATE TRIGGER messages_search_vector
  BEFORE INSERT OR UPDATE ON messages
  FOR EACH ROW EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', body);
