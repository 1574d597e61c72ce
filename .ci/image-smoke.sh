#!/usr/bin/env bash
# The Docker image's build and start, without a Docker engine: what the image's runtime stage holds
# (production dependencies only, dist, package.json, sessions.cfg, dictionaries) is assembled in a
# scratch directory, the shipped config is checked with the image's own entry point, and the image's
# start command (ENTRYPOINT + CMD, read from the Dockerfile) runs until "gateway started", then
# stops on SIGTERM with status 0. Catches a runtime dependency declared as a dev dependency, a file
# the image forgets to copy, and a shipped config that does not pass `check`.
# Needs dist/ built (npm run build; .ci/run builds it with npm test).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
[ -f dist/main.js ] || { echo "dist/main.js missing: build first" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/image-smoke.XXXXXX")
gw_pid=""
cleanup() {
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then kill -KILL "$gw_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "== image smoke: runtime stage in $scratch =="
cp package.json package-lock.json sessions.cfg "$scratch/"
cp -r dictionaries dist "$scratch/"
(cd "$scratch" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
rm "$scratch/package-lock.json" # the runtime stage copies package.json only
test ! -e "$scratch/node_modules/typescript" || { echo "dev dependency installed in the runtime stage" >&2; exit 1; }

# The image's start command: ENTRYPOINT + CMD, as the Dockerfile writes them (JSON arrays).
mapfile -t start < <(node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  const last = (k) => { const m = [...text.matchAll(new RegExp("^" + k + "\\s+(\\[.*\\])\\s*$", "gm"))].pop(); return m ? JSON.parse(m[1]) : []; };
  for (const a of [...last("ENTRYPOINT"), ...last("CMD")]) console.log(a);
' "$repo/Dockerfile")
echo "start command: ${start[*]}"
config="sessions.cfg"
for ((i = 0; i < ${#start[@]} - 1; i++)); do [ "${start[$i]}" = "--config" ] && config="${start[$((i + 1))]}"; done

cd "$scratch"
export NODE_ENV=production
echo "== check --config $config =="
node dist/main.js check --config "$config"

# Free ports for this run (the shipped ones may be taken on a CI machine); everything else as shipped.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
sed -i -e "s/^SocketAcceptPort=.*/SocketAcceptPort=$(free_port)/" -e "s/^HttpAcceptPort=.*/HttpAcceptPort=$(free_port)/" "$config"
node dist/main.js check --config "$config" >/dev/null

echo "== start: ${start[*]} =="
"${start[@]}" >gateway.out 2>gateway.err &
gw_pid=$!
for _ in $(seq 1 300); do
  grep -q '"msg":"gateway started"' gateway.out && break
  kill -0 "$gw_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '"msg":"gateway started"' gateway.out; then
  echo "the image's start command did not start the gateway" >&2
  tail -20 gateway.out gateway.err >&2
  exit 1
fi
# Piped stdout means JSON logs: the banner's facts are one "sessions" log line, not text.
# It is logged right after "gateway started": wait for it rather than race the write.
for _ in $(seq 1 50); do grep -q '"clientSenderCompId".*"msg":"sessions"' gateway.out && break; sleep 0.1; done
grep -q '"clientSenderCompId".*"msg":"sessions"' gateway.out || { echo "no start-up sessions line" >&2; tail -5 gateway.out >&2; exit 1; }
kill -TERM "$gw_pid"
status=0
wait "$gw_pid" || status=$?
gw_pid=""
if [ "$status" -ne 0 ]; then
  echo "gateway exited $status on SIGTERM" >&2
  tail -20 gateway.err >&2
  exit 1
fi
test ! -e var/store/gateway.lock || { echo "store lock left behind after a clean stop" >&2; exit 1; }
echo "image smoke: ok (production dependencies only; check passed; started and stopped cleanly)"
