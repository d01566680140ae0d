#!/usr/bin/env bash
# The Postgres-server suite's runtime files through PgBouncer in transaction mode, in front of the server in
# DATABASE_URL: hot-path statements unnamed (DATABASE_PREPARED_STATEMENTS=off: PgBouncer before 1.21 does not
# track prepared statements), LISTEN on a direct connection (DATABASE_LISTEN_URL; a listening session cannot live
# in a transaction-mode pool). Usage: test/pgbouncer/run.sh [vitest arguments...]; exits with vitest's status.
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL server to put PgBouncer in front of}"
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
if [ ! -x "$PGBOUNCER" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  PGBOUNCER=/usr/sbin/pgbouncer
fi
"$PGBOUNCER" --version | head -1

read -r HOST PORT USERNAME PASSWORD <<<"$(node -e '
const u = new URL(process.argv[1]);
console.log(u.hostname, u.port || 5432, decodeURIComponent(u.username), decodeURIComponent(u.password) || "-");' "$DATABASE_URL")"
LISTEN_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
DIR=$(mktemp -d)
chmod 755 "$DIR"
cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=$HOST port=$PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $LISTEN_PORT
unix_socket_dir =
auth_type = plain
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
printf '"%s" "%s"\n' "$USERNAME" "$PASSWORD" >"$DIR/userlist.txt"
# PgBouncer refuses to run as root: it drops to the postgres user then.
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$DIR"
  "$PGBOUNCER" -d -u postgres "$DIR/pgbouncer.ini"
else
  "$PGBOUNCER" -d "$DIR/pgbouncer.ini"
fi
stop() {
  [ -f "$DIR/pgbouncer.pid" ] && kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null
  sleep 0.3
  rm -rf "$DIR"
}
trap stop EXIT
for _ in $(seq 1 50); do
  node -e 'require("net").connect(+process.argv[1], "127.0.0.1").on("connect", () => process.exit(0)).on("error", () => process.exit(1))' \
    "$LISTEN_PORT" && break
  sleep 0.2
done

POOLED=$(node -e 'const u = new URL(process.argv[1]); u.hostname = "127.0.0.1"; u.port = process.argv[2]; console.log(u.toString())' \
  "$DATABASE_URL" "$LISTEN_PORT")
echo "PgBouncer (transaction mode) on port $LISTEN_PORT in front of $HOST:$PORT"
DATABASE_LISTEN_URL="$DATABASE_URL" DATABASE_URL="$POOLED" DATABASE_PREPARED_STATEMENTS="${DATABASE_PREPARED_STATEMENTS:-off}" \
  npx vitest run --config vitest.pg-server.config.ts \
  ${PGBOUNCER_TESTS:-test/runtime.pg.test.ts test/persistence.pg.test.ts test/concurrency.pg.test.ts test/commit-batch.pg.test.ts \
  test/pause.pg.test.ts test/children.pg.test.ts test/failover.pg.test.ts} "$@"
