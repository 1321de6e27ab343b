#!/usr/bin/env bash
# Starts Debian's clickhouse-server as a plain background process on loopback,
# with the project's own config, and waits until it answers.
#   scripts/clickhouse-server.sh start DIR [TCP_PORT] [HTTP_PORT]
#   scripts/clickhouse-server.sh stop DIR
# DIR holds the data, logs and pid file. Idempotent: start on a running server is a no-op.
# CH_OWNER_PID=PID (tests): the server is stopped when that process is gone, however it
# ended (a test binary killed at its timeout, a fuzz worker the fuzzer interrupts), and with
# CH_OWNER_TEMP=1 DIR is removed then too.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data dir}
tcp=${3:-19000}; http=${4:-18123}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
pidfile="$dir/clickhouse.pid"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
start)
  if running; then echo "clickhouse-server already running (pid $(cat "$pidfile"))"; exit 0; fi
  command -v clickhouse-server >/dev/null || { echo "clickhouse-server is not installed: run scripts/install-deps.sh" >&2; exit 1; }
  mkdir -p "$dir/conf" "$dir/log" "$dir/tmp"
  sed -e "s#@DATA@#$dir#g" -e "s#@TCP_PORT@#$tcp#g" -e "s#@HTTP_PORT@#$http#g" \
    "$here/deploy/clickhouse/config.xml" > "$dir/conf/config.xml"
  cp "$here/deploy/clickhouse/users.xml" "$dir/conf/users.xml"
  # A replica of the cluster (scripts/cluster.sh): CH_REPLICA names it,
  # CH_ZK_PORT is ZooKeeper's port, CH_INTERSERVER_PORT its replication port.
  if [ -n "${CH_REPLICA:-}" ]; then
    mkdir -p "$dir/conf/config.d"
    sed -e "s#@REPLICA@#$CH_REPLICA#g" -e "s#@ZK_PORT@#${CH_ZK_PORT:?}#g" -e "s#@INTERSERVER_PORT@#${CH_INTERSERVER_PORT:?}#g" \
      "$here/deploy/cluster/clickhouse-replica.xml" > "$dir/conf/config.d/replica.xml"
  fi
  nohup clickhouse-server --config-file="$dir/conf/config.xml" >"$dir/log/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  if [ -n "${CH_OWNER_PID:-}" ]; then
    # The watchdog leaves a server stopped or restarted by its owner alone:
    # it acts only once the owner is gone, on this server's own pid.
    nohup bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
      kill -0 "$1" 2>/dev/null && exit 0
      kill "$2" 2>/dev/null; for _ in $(seq 1 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$2" 2>/dev/null; [ -z "$3" ] || rm -rf "$4"' watchdog "$CH_OWNER_PID" "$(cat "$pidfile")" "${CH_OWNER_TEMP:-}" "$dir" \
      </dev/null >/dev/null 2>&1 &
  fi
  for _ in $(seq 1 100); do
    if clickhouse-client --host 127.0.0.1 --port "$tcp" --query 'SELECT 1' >/dev/null 2>&1; then
      echo "clickhouse-server $(clickhouse-client --host 127.0.0.1 --port "$tcp" --query 'SELECT version()') on tcp://127.0.0.1:$tcp"
      exit 0
    fi
    sleep 0.2
  done
  echo "clickhouse-server did not answer within 20 s; log:" >&2
  tail -n 20 "$dir/log/"*.log >&2 || true
  exit 1 ;;
stop)
  if running; then
    pid=$(cat "$pidfile"); kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" ;;
*) echo "usage: $0 start|stop DIR [TCP_PORT] [HTTP_PORT]" >&2; exit 2 ;;
esac
