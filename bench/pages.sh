#!/usr/bin/env bash
# Console and workbench page render times at 1,000,000 items (issue 3 measure: under 50 ms server time), on a
# release build with SQLite. Seeds a data directory once (1 M items, some answers), signs a requester and a
# worker in over HTTP like a browser, then times each page N times with curl on 127.0.0.1 and prints p50/p95.
#   bash bench/pages.sh            # N=50 per page
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/fairloop}
ITEMS=${ITEMS:-1000000}
N=${N:-50}
PORT=${PORT:-8191}
OUT=bench/out; mkdir -p "$OUT"
DATA=$(mktemp -d)
[ -x "$BIN" ] || cargo build --release -p fairloop
[ -f "$OUT/items.jsonl" ] && [ "$(wc -l < "$OUT/items.jsonl")" -eq "$ITEMS" ] || $BIN bench gen-items --count "$ITEMS" --output "$OUT/items.jsonl"

REQ_TOKEN=$(echo bench-password-1 | $BIN users add --data-dir "$DATA" --email req@bench.test --role requester --org Bench --password-stdin 2>/dev/null | tail -1)
TOKEN=$(echo bench-password-1 | $BIN users add --data-dir "$DATA" --email worker@bench.test --role worker --org Bench --password-stdin 2>/dev/null | tail -1)
$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT > "$OUT/pages-server.out" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until grep -q "listening on" "$OUT/pages-server.out" 2>/dev/null; do sleep 0.05; done
U=http://127.0.0.1:$PORT
P=$(curl -sf -X POST $U/api/v1/projects -H "Authorization: Bearer $REQ_TOKEN" -H 'content-type: application/json' \
  -d '{"name":"Million","overlap":3,"template":{"fields":[{"name":"text","type":"text"}],"questions":[{"name":"label","type":"single_choice","options":["a","b","c"],"required":true}]}}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
kill $SERVER; wait $SERVER 2>/dev/null || true
$BIN import --data-dir "$DATA" "$P" "$OUT/items.jsonl" >/dev/null
$BIN serve --data-dir "$DATA" --listen 127.0.0.1:$PORT > "$OUT/pages-server.out" 2>&1 &
SERVER=$!
until grep -q "listening on" "$OUT/pages-server.out" 2>/dev/null; do sleep 0.05; done
# Some answers, so the dashboard, the quality job and the worker's home have something to show.
$BIN bench queue --url $U --token "$TOKEN" --workers 20 --items 2000 --duration 5 >/dev/null 2>&1 || true

signin() { # email → cookie jar
  local jar=$OUT/jar-$1; rm -f "$jar"
  local csrf
  csrf=$(curl -s -c "$jar" -b "$jar" $U/signin | grep -o 'name="_csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{64\}')
  curl -s -c "$jar" -b "$jar" -o /dev/null -d "_csrf=$csrf&email=$1&password=bench-password-1" $U/signin
  echo "$jar"
}
RJ=$(signin req%40bench.test)
WJ=$(signin worker%40bench.test)
sleep 3 # let the roll-up and quality jobs take a first pass

time_page() { # name jar path
  local samples=()
  for _ in $(seq "$N"); do
    samples+=("$(curl -s -o /dev/null -b "$2" -w '%{http_code} %{time_total}' "$U$3")")
  done
  printf '%s\n' "${samples[@]}" | python3 -c '
import sys
rows=[l.split() for l in sys.stdin if l.strip()]
codes={r[0] for r in rows}; t=sorted(float(r[1])*1000 for r in rows)
p=lambda q: t[min(len(t)-1,int(q*len(t)))]
print(f"%-34s status %s  p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms" % (sys.argv[1], ",".join(sorted(codes)), p(.5), p(.95), t[-1]))' "$1"
}
echo "== pages with $ITEMS items (N=$N each, curl time_total on 127.0.0.1, release build, SQLite)"
time_page "GET /projects" "$RJ" /projects
time_page "GET /projects/{id} (dashboard)" "$RJ" "/projects/$P"
time_page "GET /projects/{id}/live" "$RJ" "/projects/$P/live"
time_page "GET /projects/{id}/items" "$RJ" "/projects/$P/items"
time_page "GET items, page at item 900,000" "$RJ" "/projects/$P/items?state=all&after=900000"
time_page "GET items, id prefix search" "$RJ" "/projects/$P/items?q=item-0099"
time_page "GET items, state=done" "$RJ" "/projects/$P/items?state=done"
time_page "GET /projects/{id}/quality" "$RJ" "/projects/$P/quality"
time_page "GET / (worker home)" "$WJ" /
BENCH=$(curl -s -o /dev/null -b "$WJ" -w '%{redirect_url}' "$U/work/$P")
time_page "GET workbench (held lease)" "$WJ" "${BENCH#$U}"
echo "== submit-to-next-item (POST answer, 303, GET /work/{p} claims, 303, GET workbench), N=$N"
python3 - "$U" "$P" "$WJ" "$N" <<'PY'
import http.cookiejar, sys, time, urllib.parse, urllib.request, re
u, p, jar, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cj = http.cookiejar.MozillaCookieJar(jar); cj.load(ignore_discard=True, ignore_expires=True)
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
page = op.open(f"{u}/work/{p}")
times = []
for _ in range(n):
    html = page.read().decode(); url = page.geturl()
    csrf = re.search(r'name="_csrf" value="([0-9a-f]{64})"', html).group(1)
    t0 = time.perf_counter()
    page = op.open(url, data=urllib.parse.urlencode({"_csrf": csrf, "q.label": "a"}).encode())
    page.peek() if hasattr(page, "peek") else None
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print("submit to next item rendered: p50 %.1f ms  p95 %.1f ms" % (times[len(times)//2], times[int(len(times)*.95)]))
PY
