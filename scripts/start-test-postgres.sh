#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the service tests: initdb + pg_ctl as user postgres in
# a temp dir, listening on a free loopback port only. Prints the connection URL on stdout (last
# line); `export WATCHNEXT_TEST_PG=$(scripts/start-test-postgres.sh)`. Stop it with
# `scripts/start-test-postgres.sh stop <dir>` (the dir is printed on stderr) or let the machine go.
# Needs Debian's postgresql package (apt-get install -y postgresql).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "start-test-postgres: PostgreSQL not found under /usr/lib/postgresql (apt-get install -y postgresql)" >&2
  exit 1
fi

if [ "${1:-}" = "stop" ]; then
  dir=${2:?usage: start-test-postgres.sh stop <dir>}
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast stop >&2
  rm -rf "$dir"
  exit 0
fi

# Root runs the cluster as postgres (initdb refuses root); another user runs it as itself.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/watchnext-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" start >&2 ||
  { cat "$dir/server.log" >&2; exit 1; }
echo "start-test-postgres: cluster in $dir on 127.0.0.1:$port" >&2
echo "postgres://postgres@127.0.0.1:$port/postgres"
