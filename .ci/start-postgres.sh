#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1:5433 (data under /tmp/pgtest) for the test suites.
# Used by .ci/run, and by developers who want the PostgreSQL runs locally:
#   bash .ci/start-postgres.sh && export FAIRLOOP_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5433/postgres
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGROOT=${PGROOT:-/tmp/pgtest}
PGPORT=${PGPORT:-5433}
if [ -f "$PGROOT/data/postmaster.pid" ]; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast stop >/dev/null 2>&1 || true
fi
rm -rf "$PGROOT"
mkdir -p "$PGROOT/data" "$PGROOT/sock"
chown -R postgres:postgres "$PGROOT"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGROOT/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 30 \
  -o "-p $PGPORT -k $PGROOT/sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null
echo "postgres://postgres@127.0.0.1:$PGPORT/postgres"
