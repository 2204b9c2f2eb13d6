DROP INDEX CONCURRENTLY IF EXISTS messages_body_search_idx;
