#!/usr/bin/env bash
# Builds the QuickFIX C++ test client (qfclient) and its stub acceptor (qfstub) from the shared,
# read-only reference folder into a private copy, so the build never writes into shared/.
#   scripts/build-qfclient.sh            -> prints the absolute paths of qfclient and qfstub
#   SHARED_DIR=/path/to/shared scripts/build-qfclient.sh
# Installs Debian's libquickfix-dev (QuickFIX 1.15.1) with apt-get when its headers are missing.
# Idempotent: a second run only re-syncs changed sources and lets make decide (fast when built).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED_DIR:-$root/../shared}"
src="$shared/qfclient"
dest="$root/.qfbuild/qfclient"

if [ ! -f "$src/qfclient.cpp" ] || [ ! -f "$src/Makefile" ]; then
  echo "build-qfclient: no qfclient sources in $src (set SHARED_DIR)" >&2
  exit 2
fi

# .qfbuild/ holds build output only: keep it out of git (another engineer may edit .gitignore too,
# so append one line, and only when it is missing).
if [ -f "$root/.gitignore" ] && ! grep -qx '.qfbuild/' "$root/.gitignore"; then
  echo '.qfbuild/' >> "$root/.gitignore"
fi

# Copy sources that changed (a fresh mtime on a changed file makes make rebuild what depends on it).
mkdir -p "$dest"
( cd "$src" && find . -type f ! -name qfclient ! -name qfstub ! -name '*.o' -print0 ) |
  while IFS= read -r -d '' f; do
    if [ ! -f "$dest/$f" ] || ! cmp -s "$src/$f" "$dest/$f"; then
      mkdir -p "$dest/$(dirname "$f")"
      cp "$src/$f" "$dest/$f"
    fi
  done
chmod u+w -R "$dest"

header=/usr/include/quickfix/Session.h
if [ ! -f "$header" ]; then
  echo "build-qfclient: $header missing; installing libquickfix-dev with apt-get" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo -n); else sudo=(); fi
  export DEBIAN_FRONTEND=noninteractive
  installed=0
  # Retry while another process holds the dpkg/apt lock (up to 5 minutes); give up after three
  # failures of any other kind (no network, no such package).
  failures=0
  for attempt in $(seq 1 30); do
    # apt-get update only when the package is not known yet (saves the network round trip).
    if ! apt-cache show libquickfix-dev >/dev/null 2>&1; then
      "${sudo[@]}" apt-get update >/dev/null 2>&1 || true
    fi
    if out="$("${sudo[@]}" apt-get install -y --no-install-recommends libquickfix-dev 2>&1)"; then
      installed=1
      break
    fi
    if ! grep -qi 'lock' <<<"$out"; then
      failures=$((failures + 1))
      echo "build-qfclient: apt-get install failed (attempt $attempt): $(tail -n 2 <<<"$out" | tr '\n' ' ')" >&2
      [ "$failures" -ge 3 ] && break
    else
      echo "build-qfclient: dpkg/apt lock held by another process, retrying in 10 s" >&2
    fi
    sleep 10
  done
  if [ "$installed" -ne 1 ] || [ ! -f "$header" ]; then
    echo "build-qfclient: FAILED to install libquickfix-dev ($header still missing)." >&2
    echo "build-qfclient: qfclient needs Debian's QuickFIX 1.15.1 headers and library; install it by hand:" >&2
    echo "build-qfclient:   apt-get update && apt-get install -y libquickfix-dev" >&2
    exit 3
  fi
fi

make -s -C "$dest" qfclient qfstub >&2

for bin in qfclient qfstub; do
  if [ ! -x "$dest/$bin" ]; then
    echo "build-qfclient: $dest/$bin was not built" >&2
    exit 4
  fi
  echo "$dest/$bin"
done
