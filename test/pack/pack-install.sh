#!/usr/bin/env bash
# Packs the package (npm pack), installs the tarball into a fresh project in a temporary folder,
# compiles the README's examples there with that project's own tsc and runs them: the order
# example on an embedded PostgreSQL started from the installed package (or on DATABASE_URL when
# set), the simulation example in memory. Exits non-zero when any of that fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

# Under root the embedded server runs as the postgres user: the folder must be traversable (0755).
work=$(mktemp -d /tmp/statekeeper-pack-XXXXXX)
chmod 0755 "$work"
app="$work/app"
cleanup() {
  # A failed run may leave its embedded server up: stop it (fast shutdown) before removing its data.
  local pidfile="$app/.statekeeper-example/pg/postmaster.pid"
  if [ -f "$pidfile" ]; then kill -INT "$(head -1 "$pidfile")" 2>/dev/null || true; sleep 1; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- npm pack"
npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
tarball=$(ls "$work"/statekeeper-*.tgz)
echo "$(basename "$tarball"): $(tar -tzf "$tarball" | wc -l) files"

# The tarball holds the build and the README only: no sources, tests or local data.
if tar -tzf "$tarball" | grep -Ev '^package/(dist/.*\.(js|d\.ts|js\.map)|package\.json|README\.md)$'; then
  echo "unexpected files in the tarball (above)"
  exit 1
fi

version() { node -p "require('$repo/package.json').devDependencies['$1']"; }
mkdir -m 0755 "$app"
cat >"$app/package.json" <<JSON
{
  "name": "statekeeper-pack-check",
  "private": true,
  "type": "module"
}
JSON
cat >"$app/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2023",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "rewriteRelativeImportExtensions": true,
    "strict": true,
    "skipLibCheck": true,
    "types": ["node"],
    "outDir": "out"
  },
  "include": ["*.ts"]
}
JSON

echo "-- npm install <tarball> xstate typescript @types/node"
(cd "$app" && npm install --no-audit --no-fund --loglevel=error \
  "$tarball" "xstate@$(version xstate)" "typescript@$(version typescript)" "@types/node@$(version @types/node)")

# The README's examples, as files (examples.test.ts checks that the README shows them verbatim).
cp examples/order-machine.ts examples/order.ts examples/order-simulation.ts "$app/"

# Every entry point resolves, with its types, from the installed package.
cat >"$app/entry-points.ts" <<'TS'
import { createRuntime, RuntimeError, step } from 'statekeeper';
import { openDatabase, PgInstanceStore, startEmbeddedPostgres } from 'statekeeper/adapters/postgres';
import { defineSaga } from 'statekeeper/sagas';
import { createSimulation } from 'statekeeper/testing';

const exported = { createRuntime, RuntimeError, step, openDatabase, PgInstanceStore, startEmbeddedPostgres, defineSaga, createSimulation };
const missing = Object.entries(exported).filter(([, v]) => typeof v !== 'function');
if (missing.length) throw new Error(`not exported: ${missing.map(([k]) => k).join(', ')}`);
console.log(`entry points: ${Object.keys(exported).length} exports resolved`);
TS

echo "-- tsc (the project's own)"
(cd "$app" && ./node_modules/.bin/tsc -p .)

(cd "$app" && node out/entry-points.js)

echo "-- node out/order-simulation.js"
(cd "$app" && node out/order-simulation.js)

echo "-- node out/order.js (${DATABASE_URL:+DATABASE_URL}${DATABASE_URL:-embedded PostgreSQL})"
output=$(cd "$app" && node out/order.js)
echo "$output"
grep -Eq '^order \S+: done$' <<<"$output"
echo "pack-install: the packed package installs, compiles and runs the README examples"
