-- conversations ((coalesce(last_message_at, created_at)) DESC, id DESC) was
-- meant for the inbox of a user in many conversations, but the inbox
-- statement (findInboxPages) reads each key's page in a LATERAL subquery
-- whose user id the planner cannot see: it always starts from the user's
-- participations and sorts, and never walks this index, even for a user in
-- 90% of the conversations (test/integration/plans.test.ts).
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction.
DROP INDEX CONCURRENTLY IF EXISTS conversations_activity_at_id_idx;
