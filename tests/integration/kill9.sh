#!/usr/bin/env bash
# Durability: `truce ingest` is killed with SIGKILL at random moments while it stores a large
# file; every record it had reported as accepted must be in the store afterwards, the store must
# pass SQLite's integrity check, and resubmitting the file must complete it with no record twice.
set -euo pipefail
T=${TRUCE:-./truce}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
N=${KILL9_RECORDS:-40000}
ROUNDS=${KILL9_ROUNDS:-5}
"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
export TRUCE_DATA="$D/data"
places=(Avdiivka Svitlodarsk Marinka Popasna Zolote Horlivka Yasynuvata Shchastia Debaltseve Mariupol)
awk -v n="$N" 'BEGIN {
  split("Avdiivka Svitlodarsk Marinka Popasna Zolote Horlivka Yasynuvata Shchastia Debaltseve Mariupol", p, " ");
  split("N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW", c, " ");
  for (i = 1; i <= n; i++) {
    printf "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"k9-%d\",", i;
    printf "\"time\":\"2016-10-%02dT%02d:%02d:00+03:00\",\"means\":\"patrol\",\"observer\":{\"place\":\"%s\"},", 1 + i % 28, i % 24, i % 60, p[1 + i % 10];
    printf "\"bearings\":[\"%s\"],\"distance_km\":[%d,%d],\"events\":[{\"type\":\"undetermined_explosion\",\"count\":%d}]}}\n", c[1 + i % 16], 1 + i % 3, 4 + i % 5, 1 + i % 40;
  }
}' > "$D/in.ndjson"
acked() { grep -ho 'accepted as observation [0-9]* (client id k9-[0-9]*)' "$@" | grep -o 'k9-[0-9]*' | sort -u; }
for r in $(seq 1 "$ROUNDS"); do
  "$T" ingest --batch 500 "$D/in.ndjson" > "$D/out.$r" 2>/dev/null &
  pid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.5 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  acked "$D/out.$r" > "$D/acked.$r" || true
  "$T" observations | grep -o '"client_id":"k9-[0-9]*"' | grep -o 'k9-[0-9]*' | sort -u > "$D/stored.$r"
  missing=$(comm -23 "$D/acked.$r" "$D/stored.$r" | wc -l)
  [ "$missing" = 0 ] || fail "round $r: $missing acknowledged records missing after kill -9"
  ok=$(sqlite3 "$D/data/truce.db" 'PRAGMA integrity_check' 2>/dev/null || echo "no sqlite3")
  [ "$ok" = ok ] || [ "$ok" = "no sqlite3" ] || fail "round $r: integrity check: $ok"
  echo "round $r: $(wc -l < "$D/acked.$r") acknowledged in this run, all present; $(wc -l < "$D/stored.$r") stored"
done
# resume: everything stored once
"$T" ingest --quiet "$D/in.ndjson" > "$D/final"
grep -q "$N records: [0-9]* accepted, [0-9]* duplicates, 0 rejected" "$D/final" || fail "resume: $(cat "$D/final")"
total=$("$T" observations | grep -c '"client_id":"k9-')
[ "$total" = "$N" ] || fail "expected $N stored observations, found $total"
echo "ok: $N records stored exactly once after $ROUNDS kills"
