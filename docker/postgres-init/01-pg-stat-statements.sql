-- Run once, by the postgres image, when its data volume is first created
-- (docker-compose.yml mounts this folder into /docker-entrypoint-initdb.d).
-- The library is preloaded by the server's command line; the extension makes
-- its view, pg_stat_statements, queryable in the parley database.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
