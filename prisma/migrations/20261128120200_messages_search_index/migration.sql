-- Serves searchMessages' index strategy (findMatches in
-- src/modules/search/sql.ts): every match of a query, for a term rare
-- enough that reading them all costs less than walking a history:
--   SELECT ... FROM messages
--   WHERE search_vector @@ websearch_to_tsquery('english', $1)
--     AND conversation_id = ANY($2)
-- fastupdate off: a new message's words go straight into the index instead
-- of a pending list that every search reads whole until VACUUM merges it;
-- a search's cost stays what its matches cost, and sendMessage pays a few
-- index page updates instead.
-- One statement per file: CREATE INDEX CONCURRENTLY cannot share a
-- multi-statement script with anything else under prisma migrate deploy.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_search_vector_idx
  ON messages USING gin (search_vector) WITH (fastupdate = off);
