-- Serves the inbox, "my conversations, newest activity first", as a range
-- of one index read in order and stopped after the page (findInboxPages):
--   SELECT p.conversation_id FROM conversation_participants p
--   WHERE p.user_id = $1 AND (p.last_activity_at, p.conversation_id) < ($2, $3)
--   ORDER BY p.last_activity_at DESC, p.conversation_id DESC LIMIT $4
-- An index-only scan: the page reads about a page of rows however many
-- conversations the user is in.
-- One statement per file: CREATE INDEX CONCURRENTLY cannot share a
-- multi-statement script with anything else under prisma migrate deploy.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_participants_user_id_last_activity_at_idx
  ON conversation_participants (user_id, last_activity_at DESC, conversation_id DESC);
