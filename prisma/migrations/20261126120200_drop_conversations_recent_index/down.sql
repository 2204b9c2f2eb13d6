CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_activity_at_id_idx
  ON conversations ((coalesce(last_message_at, created_at)) DESC, id DESC);
