#!/usr/bin/env bash
# Runs the QuickFIX acceptance definitions (shared/at) against the gateway's echo session.
# Usage: test/at/run-at.sh [extra run_at.py args]   (expects `npm run build` done)
# Prints run_at.py's output; exit status is run_at.py's.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="${SHARED_DIR:-$root/../shared}"
rm -rf "$root/.at-work"
node "$root/dist/main.js" --config "$here/at.cfg" > "$root/.at-work.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null' EXIT
python3 "$shared/at/run_at.py" --port 15042 --wait-port 30 "$@" "$shared/at/defs/fix42"
