-- Serves the order of the inbox, newest activity first, and keyset pages
-- over it (a conversation without messages sorts by its creation):
--   ... ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id DESC
--   WHERE (coalesce(c.last_message_at, c.created_at), c.id) < ($2, $3)
-- For a user in many conversations the planner can walk this index in order
-- and stop after a page, instead of sorting all of them.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_activity_at_id_idx
  ON conversations ((coalesce(last_message_at, created_at)) DESC, id DESC);
