-- Fills search_vector for the messages written before the trigger existed,
-- 5,000 at a time, each batch in its own transaction: the rows of a batch
-- are locked for a few tens of milliseconds (an editMessage on one of them
-- waits that long), never the table, and nothing else waits. Setting body to
-- itself is enough: the trigger computes the vector.
--
-- Runs outside a transaction (the COMMITs in the block need it); a run that
-- stops half-way can be run again (down.sql): it skips the rows done.
-- One statement per file: the block is one statement for prisma migrate
-- deploy, which may only commit inside a DO block sent alone.
DO $$
DECLARE
  low bigint := 0;
  high bigint;
BEGIN
  LOOP
    SELECT max(id) INTO high FROM (SELECT id FROM messages WHERE id > low ORDER BY id LIMIT 5000) AS batch;
    EXIT WHEN high IS NULL;
    UPDATE messages SET body = body WHERE id > low AND id <= high AND search_vector IS NULL;
    COMMIT;
    low := high;
  END LOOP;
END
$$;
