#!/usr/bin/env bash
# Platform benchmarks (issue 2 targets), on a release build, SQLite by default or PostgreSQL with
#   DATABASE_URL=postgres://… bash bench/run.sh
# Prints: fresh start time, CLI and HTTP import rates for 1,000,000 items, claim+submit cycles/s and latency with
# 200 simulated workers, export rate, and the server's peak memory. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/fairloop}
ITEMS=${ITEMS:-1000000}
WORKERS=${WORKERS:-200}
DURATION=${DURATION:-20}
PORT=${PORT:-8190}
OUT=bench/out; mkdir -p "$OUT"
DATA=$(mktemp -d)
DBARGS=()
if [ -n "${DATABASE_URL:-}" ]; then DBARGS=(--database-url "$DATABASE_URL"); fi

[ -x "$BIN" ] || cargo build --release -p fairloop
[ -f "$OUT/items.jsonl" ] && [ "$(wc -l < "$OUT/items.jsonl")" -eq "$ITEMS" ] || $BIN bench gen-items --count "$ITEMS" --output "$OUT/items.jsonl"

TOKEN=$($BIN users add --data-dir "$DATA" "${DBARGS[@]}" --email bench-admin@bench.test --role admin --org Bench 2>/dev/null | tail -1)

start_server() {
  local t0 t1
  t0=$(date +%s.%N)
  $BIN serve --data-dir "$DATA" "${DBARGS[@]}" --listen 127.0.0.1:$PORT > "$OUT/server.out" 2> "$OUT/server.err" &
  SERVER=$!
  until grep -q "listening on" "$OUT/server.out" 2>/dev/null; do sleep 0.01; done
  t1=$(date +%s.%N)
  echo "start to ready: $(echo "$t1 - $t0" | bc) s"
}
start_server
trap 'kill $SERVER 2>/dev/null || true' EXIT
U=http://127.0.0.1:$PORT
mkproject() {
  curl -sf -X POST $U/api/v1/projects -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"$1\",\"overlap\":3,\"template\":{\"fields\":[{\"name\":\"text\",\"type\":\"text\"}],\"questions\":[{\"name\":\"label\",\"type\":\"single_choice\",\"options\":[\"a\",\"b\",\"c\"],\"required\":true}]}}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

echo "== import $ITEMS items with the CLI (atomic: validate pass + write pass)"
P1=$(mkproject cli-import)
$BIN import --data-dir "$DATA" "${DBARGS[@]}" "$P1" "$OUT/items.jsonl"

echo "== import $ITEMS items over HTTP (skip mode)"
P2=$(mkproject http-import)
t0=$(date +%s.%N)
curl -sf -X POST "$U/api/v1/projects/$P2/items?mode=skip" -H "Authorization: Bearer $TOKEN" \
  -H 'content-type: application/x-ndjson' --data-binary @"$OUT/items.jsonl" -o /dev/null
t1=$(date +%s.%N)
echo "HTTP import: $(echo "$ITEMS / ($t1 - $t0)" | bc) items/s"
echo "server peak RSS with $((ITEMS * 2)) items loaded: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MB"}')"

echo "== claim+submit with $WORKERS workers for ${DURATION}s"
$BIN bench queue --url $U --token "$TOKEN" --workers "$WORKERS" --items 100000 --duration "$DURATION" | tee "$OUT/queue.txt"

echo "== export over HTTP"
if [ -z "${DATABASE_URL:-}" ]; then
  # 200,000 items with 3 annotations each, written straight into the (stopped) database by a fixture script.
  PE=$(mkproject export)
  kill $SERVER; wait $SERVER 2>/dev/null || true
  python3 bench/seed_annotations.py "$DATA/fairloop.db" "$PE" 200000 3
  start_server >/dev/null
else
  PE=$(curl -sf $U/api/v1/projects -H "Authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
fi
ANN=$(curl -sf $U/api/v1/projects/$PE/stats -H "Authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["annotations"])')
for F in jsonl parquet csv; do
  t0=$(date +%s.%N)
  curl -sf "$U/api/v1/projects/$PE/export?format=$F" -H "Authorization: Bearer $TOKEN" -o "$OUT/export.$F"
  t1=$(date +%s.%N)
  echo "HTTP export $F: $ANN annotations in $(echo "$t1 - $t0" | bc) s = $(echo "$ANN / ($t1 - $t0)" | bc) annotations/s"
done
echo "== export of $ITEMS items (CLI, JSONL)"
$BIN export --data-dir "$DATA" "${DBARGS[@]}" "$P1" --format jsonl --output "$OUT/export-1m.jsonl"
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2/1024 " MB"}')"
kill $SERVER; wait $SERVER 2>/dev/null || true
echo "== restart on the loaded database"
start_server
kill $SERVER
rm -rf "$DATA"
