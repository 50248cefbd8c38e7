#!/bin/sh
# Sizes the machine's PostgreSQL like a server kept for this data before a bench run:
# shared_buffers a quarter of the memory, PostgreSQL's own starting advice for a dedicated server,
# instead of the packaged 128 MB, which holds the quick run's workflows table and indexes (47 MB)
# but not the scale run's (4.5 GB of a 12 GB database; finding 27). Restarts the cluster once
# when the setting changes (ALTER SYSTEM keeps it, in postgresql.auto.conf; `ALTER SYSTEM RESET
# shared_buffers` and a restart undo it). Where the server cannot be restarted from here it says
# so and the run goes on with what is set: RESULTS.md records the setting each run measured with.
set -eu
admin=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
want_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 4 / 1024 }' /proc/meminfo)
have_mb=$(psql "$admin" -Atc "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'")
if [ "$have_mb" -ge "$want_mb" ]; then
  echo "PostgreSQL shared_buffers: ${have_mb} MB"
  exit 0
fi
version=$(ls /etc/postgresql 2>/dev/null | head -n 1)
if [ -z "$version" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "PostgreSQL shared_buffers stays ${have_mb} MB (a quarter of memory is ${want_mb} MB): no local cluster to restart" >&2
  exit 0
fi
psql "$admin" -qc "ALTER SYSTEM SET shared_buffers = '${want_mb}MB'"
pg_ctlcluster --skip-systemctl-redirect "$version" main restart
for _ in $(seq 1 60); do
  pg_isready -q -d "$admin" && break
  sleep 1
done
echo "PostgreSQL shared_buffers: $(psql "$admin" -Atc 'SHOW shared_buffers') (was ${have_mb} MB)"
