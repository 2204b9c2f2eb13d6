-- Run once by the postgres image when the scale profile's primary volume is
-- first created. Through PgBouncer a connection cannot ask for its own
-- statement timeout: the API's role carries it (DATABASE_STATEMENT_TIMEOUT_MS's
-- default), on the primary and, replicated, on the replica.
ALTER ROLE CURRENT_USER SET statement_timeout = '15s';
