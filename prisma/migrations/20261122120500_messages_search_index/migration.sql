-- Serves searchMessages:
--   SELECT ... FROM messages
--   WHERE to_tsvector('english', body) @@ websearch_to_tsquery('english', $1)
-- The query must spell the expression exactly so for the planner to use it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_body_search_idx
  ON messages USING gin (to_tsvector('english', body));
