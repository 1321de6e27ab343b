#!/usr/bin/env bash
# make demo: starts tiendo serve on the embedded engine with its data in
# DATA, feeds it, prints the URLs, and stops everything on Ctrl-C. A second
# run starts from the stored data.
set -euo pipefail
data=${1:?data dir}; addr=${2:-127.0.0.1:8080}
cd "$(dirname "$0")/.."
url="http://$addr"
mkdir -p "$data"

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; echo "demo stopped; data kept in $data"; }
trap cleanup EXIT INT TERM

./bin/tiendo serve --data "$data" --addr "$addr" --clock replay >"$data/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$url/readyz" >/dev/null || { echo "server did not start; see $data/serve.log" >&2; tail "$data/serve.log" >&2; exit 1; }

if [ -x ./bin/tiendo ] && ./bin/tiendo help 2>/dev/null | grep -q '^  tiendo simulate'; then
  ./bin/tiendo simulate --server "$url" --data "$data" --speed 1440 &
  pids+=($!)
else
  # Until the simulator lands: a few example events from Vũ Lễ (Bắc Sơn).
  tok=$(./bin/tiendo token issue --server "$url" --data "$data" --station LS-BS-VULE | tail -1)
  curl -fs -X POST "$url/api/v1/events" -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' --data-binary @- <<'NDJSON'
{"id":"demo-hb-1","type":"heartbeat","station":"LS-BS-VULE","ts":"2021-03-20T21:15:03+07:00","queue":37,"staff":4,"lanes":3,"status":"open","lat":21.90,"lon":106.31}
{"id":"demo-c-1","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:16:40+07:00","count":3,"fingerprint_retries":2,"kind":"standard"}
{"id":"demo-c-2","type":"completion","station":"LS-BS-VULE","ts":"2021-03-20T21:40:00+07:00","count":4,"fingerprint_retries":0,"kind":"student"}
NDJSON
  echo
fi

echo "Tiến Độ is running:"
echo "  overview:       $url/"
echo "  command room:   $url/screen"
echo "  snapshot JSON:  $url/api/v1/snapshot?scope=province"
echo "  admin token:    $data/admin.token"
echo "Ctrl-C stops it."
wait "${pids[0]}"
