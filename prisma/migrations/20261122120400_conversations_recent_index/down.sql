DROP INDEX CONCURRENTLY IF EXISTS conversations_activity_at_id_idx;
