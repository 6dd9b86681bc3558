#!/usr/bin/env bash
# Crash safety of the log: `truce ingest` is killed with SIGKILL at random moments while it
# appends, 50 times (KILL_ROUNDS). After every kill the next command recovers (cutting leaves the
# store never committed), `truce log verify` passes, and a checkpoint can be signed; at the end
# every checkpoint ever signed is a prefix of the final tree (its root equals the final tree's
# root at its size), so any two of them are provably consistent.
set -euo pipefail
T=${TRUCE:-./truce}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ROUNDS=${KILL_ROUNDS:-50}
command -v sqlite3 >/dev/null || { echo "skipped: no sqlite3 command"; exit 0; }
"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
export TRUCE_DATA="$D/data"
gen() { # gen ROUND: 400 fire reports with client ids of that round
  awk -v r="$1" 'BEGIN {
    split("Avdiivka Svitlodarsk Marinka Popasna Zolote Horlivka", p, " ");
    for (i = 1; i <= 400; i++)
      printf "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"c%d-%d\",\"time\":\"2016-10-%02dT10:00:00+03:00\",\"means\":\"patrol\",\"observer\":{\"place\":\"%s\"},\"bearings\":[\"NE\"],\"distance_km\":[1,4],\"events\":[{\"type\":\"shot\",\"count\":%d}]}}\n", r, i, 1 + i % 28, p[1 + i % 6], 1 + i % 9;
  }'
}
for r in $(seq 1 "$ROUNDS"); do
  gen "$r" > "$D/in.ndjson"
  "$T" ingest --quiet --batch 40 "$D/in.ndjson" > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.3f", rand() * 0.25 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  out=$("$T" log verify 2>&1) || fail "round $r: verify after kill: $out"
  "$T" log checkpoint > /dev/null 2>&1 || fail "round $r: no checkpoint after recovery"
done
size=$("$T" log root | awk '{print $1}')
n=0
while IFS='|' read -r csize croot; do
  want=$("$T" log root --size "$csize" | awk '{print $2}')
  [ "$want" = "$croot" ] || fail "checkpoint at size $csize (root $croot) is not a prefix of the final tree ($want)"
  n=$((n + 1))
done < <(sqlite3 "$D/data/truce.db" "SELECT size, root_hex FROM checkpoints ORDER BY id")
[ "$n" -ge 2 ] || fail "only $n checkpoints were signed"
prev=-1
while read -r csize; do
  [ "$csize" -ge "$prev" ] || fail "checkpoint sizes went down: $prev then $csize"
  prev=$csize
done < <(sqlite3 "$D/data/truce.db" "SELECT size FROM checkpoints ORDER BY id")
echo "ok: $ROUNDS kills, $n checkpoints all consistent with the final tree of $size leaves"
