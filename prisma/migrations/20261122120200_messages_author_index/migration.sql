-- Serves a user's messages, newest first (activity, moderation, the seed's
-- consistency checks):
--   SELECT ... FROM messages WHERE author_id = $1 ORDER BY created_at DESC LIMIT $2
-- and the foreign key to users, which would otherwise scan messages when a
-- user is deleted.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_author_id_created_at_idx
  ON messages (author_id, created_at DESC);
