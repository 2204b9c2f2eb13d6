-- messages (author_id, created_at DESC) serves no statement: nothing in the
-- API lists a user's messages (User has no messages field), and no path
-- deletes users, so the foreign key's ON DELETE CASCADE never probes it.
-- Every insert into messages still paid for it: 30 MB beside 126 MB of
-- indexes on messages at 1M messages, no scan in the benchmark database.
-- A feature that reads messages by author adds it back with its statement.
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in the
-- transaction prisma migrate deploy wraps a multi-statement script in.
DROP INDEX CONCURRENTLY IF EXISTS messages_author_id_created_at_idx;
