-- Serves the inbox, "my conversations":
--   SELECT ... FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
--   WHERE p.user_id = $1 ORDER BY c.last_message_at DESC, c.id DESC
-- The primary key (conversation_id, user_id) serves the other direction
-- (participants of a conversation); this one starts from the user.
-- last_read_at is included so the viewer's unread counts read it from the index.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_participants_user_id_conversation_id_idx
  ON conversation_participants (user_id, conversation_id) INCLUDE (last_read_at);
