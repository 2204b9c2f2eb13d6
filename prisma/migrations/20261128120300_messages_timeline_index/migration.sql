-- Serves searchMessages' timeline strategy (findTimelineMatches in
-- src/modules/search/sql.ts): a user's messages, newest first, across all
-- their conversations, for a term common enough that the newest matches
-- come soon:
--   SELECT id, created_at FROM messages
--   WHERE conversation_id + 0 = ANY($1) AND (created_at, id) < ($2, $3)
--   ORDER BY created_at DESC, id DESC
-- conversation_id is included so the scan drops other users' messages
-- without reading the table (an index-only scan): only the user's own
-- messages are fetched to be matched.
-- One statement per file: CREATE INDEX CONCURRENTLY cannot share a
-- multi-statement script with anything else under prisma migrate deploy.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_created_at_id_idx
  ON messages (created_at DESC, id DESC) INCLUDE (conversation_id);
