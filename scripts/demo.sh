#!/usr/bin/env bash
# make demo: starts tiendo serve on the embedded engine with its data in
# DATA, replays the campaign (CAMPAIGN: langson-2021, the Lạng Sơn 2021
# campaign, at a day a minute; vietnam-2021, the nation's 12,700 stations,
# at a day in four minutes, what one embedded engine on a small machine
# keeps up with) with the simulator, signs in a demo leader, prints the
# URLs, and stops everything on Ctrl-C. A second run resumes from the
# stored data.
set -euo pipefail
data=${1:?data dir}; addr=${2:-127.0.0.1:8080}; campaign=${3:-langson-2021}
case "$campaign" in
  langson-2021) speed=1440; pace="a day a minute"; sim_flags=() ;;
  vietnam-2021) speed=360; pace="a day in four minutes"; sim_flags=(--heartbeat 15m) ;;
  *) echo "unknown CAMPAIGN $campaign (langson-2021 or vietnam-2021)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
url="http://$addr"
mkdir -p "$data"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; data kept in $data (make demo again resumes)"
}
trap cleanup EXIT INT TERM

echo "starting tiendo serve --campaign $campaign (embedded ClickHouse in $data/chdb; log: $data/serve.log)"
./bin/tiendo serve --campaign "$campaign" --data "$data" --addr "$addr" --clock replay >>"$data/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; kill -0 "${pids[0]}" 2>/dev/null || break; sleep 0.2; done
curl -fs "$url/readyz" >/dev/null || { echo "server did not start; see $data/serve.log" >&2; tail "$data/serve.log" >&2; exit 1; }

# A demo leader: the password is kept in DATA so a second run reuses it.
pwfile="$data/demo.password"
[ -s "$pwfile" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16 >"$pwfile")
./bin/tiendo user add --server "$url" --data "$data" --name demo --role leader --password-stdin <"$pwfile" >/dev/null
screen=$(./bin/tiendo token issue --server "$url" --data "$data" --role screen | grep -o 'http[^ ]*/screen/activate/[^ ]*' || true)

# Resume where the stored data stops (the first run starts at the
# campaign's first day).
echo "replaying $campaign at $pace (simulator log: $data/simulate.log)"
./bin/tiendo simulate --server "$url" --data "$data" --campaign "$campaign" --from resume --speed "$speed" "${sim_flags[@]}" >>"$data/simulate.log" 2>&1 &
pids+=($!)

cat <<MSG

Tiến Độ is running:
  overview:      $url/            sign in as: demo / $(cat "$pwfile")
  command room:  $screen
                 (one-time link; afterwards $url/screen)
  station chief: $url/station/LS-BS-VULE$( [ "$campaign" = vietnam-2021 ] && printf '\n  a province:    %s/unit/LS' "$url")
  snapshot API:  curl -H "Authorization: Bearer \$(cat $data/admin.token)" "$url/api/v1/snapshot?scope=province"
Ctrl-C stops it.
MSG
wait "${pids[0]}"
