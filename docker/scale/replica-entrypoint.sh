#!/bin/bash
# The scale profile's streaming replica (docker-compose.yml): on its first
# start, a base backup of the primary (pg_basebackup -R: standby.signal and
# primary_conninfo written); then PostgreSQL as a hot standby, streaming.
# Runs as root, as the postgres image's own entrypoint does, and hands over
# to the postgres user.
set -euo pipefail
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  mkdir -p "${PGDATA}"
  chown postgres:postgres "${PGDATA}"
  chmod 700 "${PGDATA}"
  until gosu postgres pg_basebackup --pgdata="${PGDATA}" --write-recovery-conf --wal-method=stream --checkpoint=fast \
    --host=scale-primary --port=5432 --username="${POSTGRES_USER}" --no-password; do
    echo "scale-replica: waiting for the primary to take a base backup"
    # A backup cut short leaves files pg_basebackup will not write over.
    find "${PGDATA}" -mindepth 1 -delete
    sleep 2
  done
fi
exec gosu postgres postgres -c hot_standby=on -c shared_preload_libraries=pg_stat_statements
