-- Serves the history page of a conversation and the last message of each
-- conversation:
--   SELECT ... FROM messages WHERE conversation_id = $1
--   AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4
-- author_id is included so the unread count
--   SELECT count(*) FROM messages WHERE conversation_id = $1
--   AND created_at > $2 AND author_id <> $3
-- is an index-only scan.
-- One statement per file: CREATE INDEX CONCURRENTLY cannot share a
-- multi-statement script with anything else under prisma migrate deploy.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_conversation_id_created_at_id_idx
  ON messages (conversation_id, created_at DESC, id DESC) INCLUDE (author_id);
