#!/usr/bin/env bash
# A whole tiendo cluster on this machine's loopback, from the project's own
# files: 3 NATS JetStream servers (tiendo log-server), ZooKeeper, 2
# ClickHouse replicas (ReplicatedMergeTree), 3 tiendo nodes and haproxy in
# front of them. deploy/cluster/README.md is the operations page.
#
#   scripts/cluster.sh start DIR               start every part; returns when each is ready
#                                              and DIR/cluster.json says where they are
#   scripts/cluster.sh stop DIR                stop every part (the data stays in DIR)
#   scripts/cluster.sh restart DIR PART INDEX  start a killed part again with its data
#                                              (PART: node, nats, clickhouse) and update
#                                              its pid in DIR/cluster.json
#   scripts/cluster.sh demo DIR                make cluster: start (nodes on the replay
#                                              clock), replay the campaign through the
#                                              proxy, print the URLs; Ctrl-C stops it all
#
# DIR/cluster.json:
#   {"proxy": "http://127.0.0.1:P", "admin_token": "…",
#    "nodes": [{"url": "http://127.0.0.1:P1", "pid": N}, …],
#    "nats": [{"url": "nats://127.0.0.1:P", "pid": N}, …],
#    "clickhouse": [{"tcp": "127.0.0.1:P", "http": "http://127.0.0.1:P", "database": "tiendo", "pid": N}, …],
#    "zookeeper": {"pid": N}, "haproxy": {"pid": N}}
# Each pid is the process to signal for that part. Logs are in DIR/*/.
set -euo pipefail
cmd=${1:?usage: $0 start|stop|restart DIR [PART INDEX]}
dir=${2:?data dir}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
bin="$here/bin/tiendo"
NODES=3 NATS=3 REPLICAS=2

say() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# What a fresh machine lacks: the project's own dependencies, ZooKeeper and
# haproxy from Debian, the binary from the Go modules.
deps() {
  "$here/scripts/install-deps.sh" >&2
  local need=()
  [ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
  if ((${#need[@]})); then
    say "apt-get install ${need[*]}"
    local sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  (cd "$here" && CGO_ENABLED=0 go build -o bin/tiendo ./cmd/tiendo)
}

# Ports: free loopback ports, chosen once and kept in DIR/ports.env so that
# a restart reuses them; below the kernel's ephemeral range, which every
# outgoing connection draws from (a port chosen there may be taken by a
# client socket before its server binds it).
taken=" "
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
freeport() {
  local p
  while :; do
    p=$((10000 + RANDOM % (low - 10000)))
    case "$taken" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then taken+="$p "; echo "$p"; return; fi
  done
}
ports() {
  if [ -f "$dir/ports.env" ]; then . "$dir/ports.env"; return; fi
  {
    echo "CLOCK=${TIENDO_CLOCK:-wall}" # the nodes' --clock (make cluster replays: replay)
    printf 'SERVE_FLAGS=%q\n' "${TIENDO_SERVE_FLAGS:-}" # more serve flags for every node (make bench: no rate limits)
    echo "PROXY=$(freeport)"
    echo "ZK=$(freeport)"
    for i in $(seq 0 $((NATS - 1))); do echo "NATS_$i=$(freeport)"; echo "ROUTE_$i=$(freeport)"; done
    for i in $(seq 0 $((REPLICAS - 1))); do echo "CH_TCP_$i=$(freeport)"; echo "CH_HTTP_$i=$(freeport)"; echo "CH_IS_$i=$(freeport)"; done
    for i in $(seq 0 $((NODES - 1))); do echo "NODE_$i=$(freeport)"; done
  } > "$dir/ports.env"
  . "$dir/ports.env"
}
port() { local v="$1_$2"; echo "${!v}"; }

nats_urls() { local u=() i; for i in $(seq 0 $((NATS - 1))); do u+=("nats://127.0.0.1:$(port NATS "$i")"); done; (IFS=,; echo "${u[*]}"); }
ch_dsn() { local h=() i; for i in $(seq 0 $((REPLICAS - 1))); do h+=("127.0.0.1:$(port CH_TCP "$i")"); done; (IFS=,; echo "tcp://${h[*]}/tiendo"); }

wait_for() { # what, seconds, command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what not ready within ${secs}s"
}

start_nats() {
  local i=$1 d="$dir/nats-$1" routes=() j
  alive "$d/pid" && return 0
  mkdir -p "$d"
  for j in $(seq 0 $((NATS - 1))); do routes+=("nats://127.0.0.1:$(port ROUTE "$j")"); done
  : > "$d/log"
  "$bin" log-server --data "$d/data" --addr "127.0.0.1:$(port NATS "$i")" --cluster "127.0.0.1:$(port ROUTE "$i")" \
    --routes "$(IFS=,; echo "${routes[*]}")" >>"$d/log" 2>&1 &
  echo $! > "$d/pid"
}
nats_ready() { grep -q "nats://" "$dir/nats-$1/log"; }

start_zk() {
  local d="$dir/zookeeper"
  alive "$d/pid" && return 0
  mkdir -p "$d/data"
  sed -e "s#@DATA@#$d/data#g" -e "s#@PORT@#$ZK#g" "$here/deploy/cluster/zoo.cfg" > "$d/zoo.cfg"
  java -Dzookeeper.log.dir="$d" -Xmx256m -cp "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >>"$d/log" 2>&1 &
  echo $! > "$d/pid"
}
zk_ready() { exec 3<>"/dev/tcp/127.0.0.1/$ZK" && printf ruok >&3 && grep -q imok <&3; }

start_ch() {
  local i=$1
  CH_REPLICA="r$((i + 1))" CH_ZK_PORT=$ZK CH_INTERSERVER_PORT=$(port CH_IS "$i") \
    "$here/scripts/clickhouse-server.sh" start "$dir/clickhouse-$i" "$(port CH_TCP "$i")" "$(port CH_HTTP "$i")" >&2
}

start_node() {
  local i=$1 d="$dir/node-$1"
  alive "$d/pid" && return 0
  mkdir -p "$d"
  "$bin" serve --data "$d" --addr "127.0.0.1:$(port NODE "$i")" --clickhouse "$(ch_dsn)" --log "$(nats_urls)" \
    --node-name "node-$i" --trusted-proxies 127.0.0.1 --clock "$CLOCK" $SERVE_FLAGS >>"$d/serve.log" 2>&1 &
  echo $! > "$d/pid"
}
node_ready() { curl -fs "http://127.0.0.1:$(port NODE "$1")/readyz"; }

start_haproxy() {
  local d="$dir/haproxy" servers="" i
  alive "$d/pid" && return 0
  mkdir -p "$d"
  for i in $(seq 0 $((NODES - 1))); do servers+="    server node-$i 127.0.0.1:$(port NODE "$i") check"$'\n'; done
  awk -v port="$PROXY" -v servers="$servers" '{ gsub("@PORT@", port); if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
    "$here/deploy/cluster/haproxy.cfg" > "$d/haproxy.cfg"
  haproxy -db -f "$d/haproxy.cfg" >>"$d/log" 2>&1 &
  echo $! > "$d/pid"
}
proxy_ready() { curl -fs "http://127.0.0.1:$PROXY/readyz"; }

pid_of() { cat "$1" 2>/dev/null || echo 0; }

write_json() {
  local i sep out admin
  admin=$(cat "$dir/node-0/admin.token" 2>/dev/null || true)
  out="{\"proxy\": \"http://127.0.0.1:$PROXY\", \"admin_token\": \"$admin\",\n \"nodes\": ["
  sep=""; for i in $(seq 0 $((NODES - 1))); do
    out+="$sep{\"url\": \"http://127.0.0.1:$(port NODE "$i")\", \"pid\": $(pid_of "$dir/node-$i/pid")}"; sep=", "; done
  out+="],\n \"nats\": ["
  sep=""; for i in $(seq 0 $((NATS - 1))); do
    out+="$sep{\"url\": \"nats://127.0.0.1:$(port NATS "$i")\", \"pid\": $(pid_of "$dir/nats-$i/pid")}"; sep=", "; done
  out+="],\n \"clickhouse\": ["
  sep=""; for i in $(seq 0 $((REPLICAS - 1))); do
    out+="$sep{\"tcp\": \"127.0.0.1:$(port CH_TCP "$i")\", \"http\": \"http://127.0.0.1:$(port CH_HTTP "$i")\", \"database\": \"tiendo\", \"pid\": $(pid_of "$dir/clickhouse-$i/clickhouse.pid")}"; sep=", "; done
  out+="],\n \"zookeeper\": {\"pid\": $(pid_of "$dir/zookeeper/pid")}, \"haproxy\": {\"pid\": $(pid_of "$dir/haproxy/pid")}}\n"
  printf "$out" > "$dir/cluster.json.tmp" && mv "$dir/cluster.json.tmp" "$dir/cluster.json"
}

case "$cmd" in
start)
  deps
  ports
  say "starting in $dir (logs there)"
  for i in $(seq 0 $((NATS - 1))); do start_nats "$i"; done
  start_zk
  for i in $(seq 0 $((NATS - 1))); do wait_for "log server $i" 60 nats_ready "$i"; done
  wait_for ZooKeeper 60 zk_ready
  for i in $(seq 0 $((REPLICAS - 1))); do start_ch "$i"; done
  say "schema on both replicas (tiendo migrate)"
  "$bin" migrate --clickhouse "$(ch_dsn)" >&2
  start_node 0
  wait_for "node 0" 120 node_ready 0 # the first node seeds the shared state
  for i in $(seq 1 $((NODES - 1))); do start_node "$i"; done
  for i in $(seq 1 $((NODES - 1))); do wait_for "node $i" 120 node_ready "$i"; done
  start_haproxy
  wait_for haproxy 30 proxy_ready
  write_json
  say "ready: proxy http://127.0.0.1:$PROXY; $dir/cluster.json" ;;
stop)
  [ -f "$dir/ports.env" ] || exit 0
  ports
  for f in "$dir/haproxy/pid" "$dir"/node-*/pid "$dir"/nats-*/pid "$dir/zookeeper/pid"; do
    [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  for i in $(seq 0 $((REPLICAS - 1))); do "$here/scripts/clickhouse-server.sh" stop "$dir/clickhouse-$i" >&2 || true; done
  for f in "$dir/haproxy/pid" "$dir"/node-*/pid "$dir"/nats-*/pid "$dir/zookeeper/pid"; do
    [ -f "$f" ] || continue
    for _ in $(seq 1 100); do kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  say "stopped; data kept in $dir" ;;
restart)
  part=${3:?PART: node, nats or clickhouse}; index=${4:?INDEX}
  ports
  case "$part" in
  node) [ "$index" -lt $NODES ] || die "no node $index"; start_node "$index"; wait_for "node $index" 120 node_ready "$index" ;;
  nats) [ "$index" -lt $NATS ] || die "no log server $index"; start_nats "$index"; wait_for "log server $index" 60 nats_ready "$index" ;;
  clickhouse) [ "$index" -lt $REPLICAS ] || die "no replica $index"; start_ch "$index" ;;
  *) die "PART is node, nats or clickhouse, not $part" ;;
  esac
  write_json
  say "$part $index running again" ;;
demo)
  TIENDO_CLOCK=replay "$0" start "$dir"
  ports
  trap '"$0" stop "$dir"' EXIT INT TERM
  admin=$(cat "$dir/node-0/admin.token")
  pwfile="$dir/demo.password" # kept, so a second run reuses it
  [ -s "$pwfile" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16 >"$pwfile")
  TIENDO_ADMIN_TOKEN=$admin "$bin" user add --server "http://127.0.0.1:$PROXY" --name demo --role leader --password-stdin <"$pwfile" >/dev/null
  cat <<MSG

Tiến Độ cluster is running (3 nodes behind haproxy, 3 log servers, 2 ClickHouse replicas):
  through the proxy: http://127.0.0.1:$PROXY/        sign in as: demo / $(cat "$pwfile")
  each node:         $(for i in $(seq 0 $((NODES - 1))); do printf 'http://127.0.0.1:%s/ ' "$(port NODE "$i")"; done)
  snapshot API:      curl -H "Authorization: Bearer \$(cat $dir/node-0/admin.token)" "http://127.0.0.1:$PROXY/api/v1/snapshot?scope=province"
  parts, pids:       $dir/cluster.json
Replaying the campaign at a day a minute through the proxy (log: $dir/simulate.log); Ctrl-C stops everything.
MSG
  TIENDO_ADMIN_TOKEN=$admin "$bin" simulate --server "http://127.0.0.1:$PROXY" --speed 1440 >>"$dir/simulate.log" 2>&1 ;;
*) die "usage: $0 start|stop|restart|demo DIR [PART INDEX]" ;;
esac
