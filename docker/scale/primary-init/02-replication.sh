#!/bin/bash
# Run once by the postgres image when the scale profile's primary volume is
# first created: the streaming replica (scale-replica) may connect for
# replication, with the password, from the compose network.
set -euo pipefail
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "${PGDATA}/pg_hba.conf"
