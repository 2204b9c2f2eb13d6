CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_author_id_created_at_idx
  ON messages (author_id, created_at DESC);
