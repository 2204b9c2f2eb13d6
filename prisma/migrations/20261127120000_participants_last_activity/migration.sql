-- The inbox's sort key on each participant's row: the last activity of the
-- conversation, coalesce(conversations.last_message_at, conversations.created_at).
-- With it, "my conversations, newest activity first" is a range of one
-- index (next migration) that stops after a page, instead of a probe into
-- conversations for every conversation the user is in and a sort of them all.
--
-- It always equals the conversation's value: sendMessage and
-- createConversation write both in the same transaction (and the seed both
-- in its one). Servers of the previous version do not write it: if they ran
-- beside this one during a deploy, run the UPDATE below again once they are
-- gone (it is idempotent).
--
-- One transaction: the table is locked while the rows are rewritten, about a
-- second per 200,000 participants.
ALTER TABLE conversation_participants ADD COLUMN last_activity_at timestamptz(3);

UPDATE conversation_participants AS p
SET last_activity_at = coalesce(c.last_message_at, c.created_at)
FROM conversations AS c
WHERE c.id = p.conversation_id;

ALTER TABLE conversation_participants ALTER COLUMN last_activity_at SET NOT NULL;
