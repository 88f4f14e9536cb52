#!/usr/bin/env bash
# HTTP uploads of one 3 MP photo from 16 concurrent clients (wrk with a multipart body), next to
# `normalize`'s throughput on the same photo with the same number of workers, in one run. Prints
# uploads per second, p50 and p99 latency, the server's peak RSS, and the ratio upload/normalize.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-16}
DURATION=${DURATION:-15s}
WORKERS=${WORKERS:-$(nproc)}
PORT=${PORT:-18281}
TESTDATA=${TESTDATA_DIR:-../shared/testdata}/exif-orientation

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
python3 -c 'import PIL' 2>/dev/null || pip install -q pillow
cargo build --release --quiet
BIN=$PWD/target/release/employee-avatars
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
python3 bench/make_photos.py "$TESTDATA" "$WORK/in" 1
PHOTO="$WORK/in/3mp_00.jpg"

export RUST_LOG=warn APP__IMAGES__WORKERS=$WORKERS
# normalize: the same photo as many times as the upload run is likely to reach in a few seconds.
for i in $(seq 1 48); do cp "$PHOTO" "$WORK/in/copy_$i.jpg"; done
/usr/bin/time -f "%e" -o "$WORK/normalize.time" "$BIN" normalize --out "$WORK/out" "$WORK"/in/copy_*.jpg >/dev/null
NORMALIZE=$(python3 -c "print(48 / float(open('$WORK/normalize.time').read()))")

cd "$WORK"
APP__SERVER__BIND=127.0.0.1:$PORT APP__DATABASE__URL="sqlite://$WORK/app.db?mode=rwc" \
  APP__STORAGE__DIR="$WORK/avatars" APP__LIMITS__REQUESTS_PER_SECOND=1000000 \
  APP__LIMITS__BURST=1000000 APP__IMAGES__QUEUE_CAPACITY=256 "$BIN" serve 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
HASH=$(curl -s -X POST "http://127.0.0.1:$PORT/user/auth" -H 'Content-Type: application/json' \
  -d '{"login":"demo","password":"demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')

python3 - "$PHOTO" "$HASH" >"$WORK/upload.lua" <<'PY'
import sys
photo, hash_ = open(sys.argv[1], "rb").read(), sys.argv[2]
boundary = "bench7b1f"
head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash_}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"employee_id\"\r\n\r\n1\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
        f"Content-Type: image/jpeg\r\n\r\n").encode()
body = head + photo + f"\r\n--{boundary}--\r\n".encode()
escaped = "".join(f"\\{b}" for b in body)
print('wrk.method = "POST"')
print(f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"')
print(f'wrk.body = "{escaped}"')
print('response = function(status) if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end end')
PY
wrk -t2 -c"$CLIENTS" -d"$DURATION" --latency -s "$WORK/upload.lua" "http://127.0.0.1:$PORT/employee/avatar/upload" >"$WORK/wrk.txt" 2>"$WORK/wrk.err"
RSS=$(awk '/VmHWM/ {print $2}' /proc/$SERVER/status)
if [ -s "$WORK/wrk.err" ]; then echo "some uploads were not answered 200:"; sort "$WORK/wrk.err" | uniq -c; fi
RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
P50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
P99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
echo "3 MP JPEG ($(stat -c %s "$PHOTO") bytes), $CLIENTS clients, $DURATION, $WORKERS image workers, $(nproc) cores"
printf 'HTTP upload: %8.1f uploads/s   p50 %s   p99 %s   server peak RSS %d MB\n' "$RPS" "$P50" "$P99" $((RSS / 1024))
printf 'normalize:   %8.1f images/s\n' "$NORMALIZE"
python3 -c "print(f'upload / normalize = {$RPS / $NORMALIZE:.2f}   (target >= 0.85)')"
