#!/usr/bin/env bash
# /employee/list under load: cached (Redis), uncached (cache disabled) and the /health ceiling,
# all in one run against one PostgreSQL database of 1,000 employees. Prints requests per second,
# p99 latency and the ratios the goal is stated in. Needs PostgreSQL and Redis on localhost (as
# the tests do); installs wrk from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
PG_ADMIN=${BENCH_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
CACHED_PORT=${CACHED_PORT:-18181}
UNCACHED_PORT=${UNCACHED_PORT:-18182}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/employee-avatars

DB=ea_bench_$$
WORK=$(mktemp -d)
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export APP__DATABASE__URL="${PG_ADMIN%/*}/$DB"
export APP__DEMO__SEED=false
export APP__STORAGE__DIR="$WORK/avatars"
export RUST_LOG=warn
# The benchmark is one client address and one session: lift the rate limits.
export APP__LIMITS__REQUESTS_PER_SECOND=1000000 APP__LIMITS__BURST=1000000
$BIN user create --login bench --password bench >/dev/null

start() { # port, extra env...
  local port=$1; shift
  env APP__SERVER__BIND="127.0.0.1:$port" "$@" $BIN serve >"$WORK/server-$port.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "server on $port did not start" >&2; cat "$WORK/server-$port.log" >&2; exit 1
}
start "$CACHED_PORT" APP__REDIS__URL="$REDIS" APP__CACHE__KEY_PREFIX="bench-$$"
start "$UNCACHED_PORT" APP__CACHE__ENABLED=false

HASH=$(curl -s -X POST "http://127.0.0.1:$CACHED_PORT/user/auth" -H 'Content-Type: application/json' \
  -d '{"login":"bench","password":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')

python3 - "$CACHED_PORT" "$HASH" <<'PY'
import json, sys, urllib.request
port, hash_ = sys.argv[1], sys.argv[2]
for n in range(1000):
    employee = {"first_name": f"Driver{n}", "last_name": f"Fleet{n % 37}", "phone": f"4915{n:07d}",
                "email": f"driver{n}@example.com", "tracker_id": n + 1, "tags": [n % 5]}
    body = json.dumps({"hash": hash_, "employee": employee}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/employee/create", body,
                                     {"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(request))
    assert answer["success"], answer
PY

LIST="/employee/list?hash=$HASH${LIST_QUERY:-}"
measure() { # label, url
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$2" >"$WORK/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
  if grep -q "Non-2xx" "$WORK/wrk.txt"; then echo "$1: non-2xx answers" >&2; cat "$WORK/wrk.txt" >&2; exit 1; fi
  printf '%-34s %12s %10s\n' "$1" "$rps" "$p99"
  echo "$rps" >"$WORK/$3.rps"
}

curl -sf "http://127.0.0.1:$CACHED_PORT$LIST" >/dev/null   # fill the cache
echo "1,000 employees (a ~$(curl -s "http://127.0.0.1:$CACHED_PORT$LIST" | wc -c)-byte page), $CONNECTIONS connections, $DURATION each, $(nproc) cores"
printf '%-34s %12s %10s\n' "route" "requests/s" "p99"
measure "/health (ceiling)" "http://127.0.0.1:$CACHED_PORT/health" ceiling
measure "/employee/list cached (Redis)" "http://127.0.0.1:$CACHED_PORT$LIST" cached
measure "/employee/list uncached" "http://127.0.0.1:$UNCACHED_PORT$LIST" uncached
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
read = lambda name: float(open(f"{w}/{name}.rps").read())
ceiling, cached, uncached = read("ceiling"), read("cached"), read("uncached")
print(f"cached / ceiling  = {cached / ceiling:6.2f}   (goal >= 0.70)")
print(f"cached / uncached = {cached / uncached:6.2f}   (goal >= 10)")
PY
