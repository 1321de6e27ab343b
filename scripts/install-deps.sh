#!/usr/bin/env bash
# Installs what building, testing and the demo need on a fresh Debian machine:
# Debian's clickhouse-server (the production engine, 18.16), chromium (browser
# tests), poppler-utils (the printed brief's PDF as a picture) and nginx-light (the reverse-proxy set-up of deploy/nginx), the pinned npm packages (libchdb.so for the embedded engine, ECharts,
# playwright-core) and the Go modules. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v clickhouse-server >/dev/null || need_apt+=(clickhouse-server)
command -v clickhouse-client >/dev/null || need_apt+=(clickhouse-client)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/sbin/nginx ] || need_apt+=(nginx-light) # the shipped reverse-proxy set-up runs in a real nginx in the tests
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils) # the browser tests render the printed daily brief's PDF to PNG
if ((${#need_apt[@]})); then
  echo "install-deps: apt-get install ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

lib=node_modules/@chdb/lib-linux-x64-gnu/libchdb.so
if [ ! -f "$lib" ] || [ ! -d node_modules/echarts ] || [ ! -d node_modules/playwright-core ] \
   || ! cmp -s package-lock.json node_modules/.tiendo-lock.json 2>/dev/null; then
  echo "install-deps: npm ci (libchdb, echarts, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.tiendo-lock.json
fi
[ -f "$lib" ] || { echo "install-deps: $lib missing after npm ci" >&2; exit 1; }

# ECharts is served by tiendo itself and embedded in the binary (never a
# CDN): static/ embeds static/vendor/, where this copy is gitignored.
if ! cmp -s node_modules/echarts/dist/echarts.min.js static/vendor/echarts.min.js; then
  cp node_modules/echarts/dist/echarts.min.js static/vendor/echarts.min.js
  echo "install-deps: copied ECharts $(node -p "require('./node_modules/echarts/package.json').version") to static/vendor/"
fi

# chdb-go loads libchdb.so while the program initialises, before main can
# set anything: from $CHDB_LIB_PATH (the Makefile exports it) or else from
# /usr/local/lib. Link it there too, so a hand-run bin/tiendo finds it.
if [ -w /usr/local/lib ] && [ "$(readlink -f /usr/local/lib/libchdb.so 2>/dev/null)" != "$(readlink -f "$lib")" ]; then
  ln -sf "$(pwd)/$lib" /usr/local/lib/libchdb.so
fi

go mod download
echo "install-deps: ok (clickhouse-server $(clickhouse-client --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1), chdb $(node -p "require('./node_modules/@chdb/lib-linux-x64-gnu/package.json').version"), $(/usr/bin/chromium --version 2>/dev/null))"
