CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_body_search_idx
  ON messages USING gin (to_tsvector('english', body));
