-- The GIN index on to_tsvector('english', body) serves no statement yet:
-- searchMessages is not implemented. A GIN index is the dearest to keep up
-- on every sendMessage and editMessage (27 MB at 1M messages, and the
-- longest part of a seed's index builds). The migration that brings search
-- adds it back beside the statement it serves.
-- One statement per file: DROP INDEX CONCURRENTLY cannot run in a transaction.
DROP INDEX CONCURRENTLY IF EXISTS messages_body_search_idx;
