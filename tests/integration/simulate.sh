#!/usr/bin/env bash
# The simulator end to end: `truce simulate` on the minsk-2015 agreement twice with one seed
# (identical files), `truce init` + `truce ingest` of what it wrote (every record accepted),
# `truce evaluate` on a no-fusion answer (one incident per observation: targets missed, exit 1;
# --no-targets exit 0; JSON written), usage and file errors, and - when the binary has
# `truce incidents` (the fusion branch) - the whole pipeline scored.
set -euo pipefail
T=${TRUCE:-./truce}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { # expect WANT_EXIT CMD...: runs CMD, checks its exit status, leaves output in $out
  local want=$1; shift
  set +e; out=$("$@" 2>&1); local got=$?; set -e
  [ "$got" = "$want" ] || fail "exit $got (wanted $want) from: $* -> $out"
}
has() { grep -qF -- "$1" <<<"$out" || fail "output lacks: $1 -- got: $out"; }
AG=examples/minsk-2015/agreement.json

expect 0 "$T" simulate --help; has "usage: truce simulate"
expect 0 "$T" evaluate --help; has "usage: truce evaluate"
expect 2 "$T" simulate --agreement $AG --seed 1 --days 0 --events-per-day 5 --out "$D/x"
has "--days takes 1 to 366, not 0"
expect 2 "$T" simulate --agreement $AG --seed -4 --days 1 --events-per-day 5 --out "$D/x"
has "--seed takes 0 to"
expect 2 "$T" simulate --agreement $AG --seed 1 --days 366 --events-per-day 100000 --out "$D/x"
has "is over 2000000"
expect 2 "$T" simulate --agreement $AG --seed 1 --days 2 --events-per-day 5 --out "$D/x" --start 1.10.2016
has "--start takes a date YYYY-MM-DD"
expect 2 "$T" simulate --agreement $AG --seed 1 --days 2 --events-per-day 5 --out "$D/x" --noise-scale 5
has "--noise-scale takes 0 to 4, not 5"
expect 2 "$T" simulate --seed 1; has "needs --agreement"
[ ! -e "$D/x" ] || fail "a refused run created its directory"

expect 0 "$T" simulate --agreement $AG --seed 42 --days 4 --events-per-day 30 --out "$D/a" --start 2016-10-10
has "simulated 120 events over 4 days (seed 42)"
expect 0 "$T" simulate --agreement $AG --seed 42 --days 4 --events-per-day 30 --out "$D/b" --start 2016-10-10
cmp -s "$D/a/observations.ndjson" "$D/b/observations.ndjson" || fail "same seed, different observations"
cmp -s "$D/a/truth.json" "$D/b/truth.json" || fail "same seed, different truth"
expect 0 "$T" simulate --agreement $AG --seed 43 --days 4 --events-per-day 30 --out "$D/c" --start 2016-10-10 --quiet
[ -z "$out" ] || fail "--quiet printed: $out"
cmp -s "$D/a/observations.ndjson" "$D/c/observations.ndjson" && fail "another seed, same observations"
n=$(wc -l < "$D/a/observations.ndjson")
[ "$n" -gt 50 ] || fail "only $n observations"
grep -q '"start":"2016-10-10T' "$D/a/observations.ndjson" || fail "--start not applied"
expect 0 "$T" simulate --agreement $AG --seed 42 --days 4 --events-per-day 30 --out "$D/z" --noise-scale 0
has "(0 spurious)"; grep -q '"patrol_bearing_sd_deg":0.0' "$D/z/truth.json" || fail "noise levels not recorded"

# every record is valid for ingest
expect 0 "$T" init "$D/data" --agreement $AG
expect 0 "$T" --data "$D/data" ingest --quiet "$D/a/observations.ndjson"
has "$n records: $n accepted, 0 duplicates, 0 rejected"

# no fusion: every observation its own incident
grep -o '"client_id":"[^"]*"' "$D/a/observations.ndjson" | cut -d'"' -f4 |
  awk '{printf "{\"id\":%d,\"location\":null,\"origin\":null,\"party\":\"undetermined\",\"grade\":\"undetermined\",\"evidence\":[\"%s\"]}\n", NR, $1}' \
  > "$D/naive.ndjson"
expect 1 "$T" evaluate --truth "$D/a/truth.json" --incidents "$D/naive.ndjson"
has "incidents: $n:"; has "recall (all)                           1.0000"
has "MISSED"; has "a target was missed"
expect 0 "$T" evaluate --truth "$D/a/truth.json" --incidents - --no-targets --out "$D/score.json" < "$D/naive.ndjson"
grep -q '"targets":{"precision_multi":false' "$D/score.json" || fail "score.json: $(cat "$D/score.json")"
expect 0 "$T" evaluate --truth "$D/a/truth.json" --incidents "$D/naive.ndjson" --json --no-targets
has '"events":{"total":120,'

# bad inputs
printf '{"id":1,"party":"ua","grade":"sure","evidence":[]}\n' > "$D/bad.ndjson"
expect 1 "$T" evaluate --truth "$D/a/truth.json" --incidents "$D/bad.ndjson" --no-targets
has "bad.ndjson: line 1: grade: must be confirmed, probable, possible or undetermined"
has "1 malformed incident line not scored"
expect 3 "$T" evaluate --truth "$D/a/observations.ndjson" --incidents "$D/naive.ndjson"
has "truth file: line"
expect 3 "$T" evaluate --truth "$D/none.json" --incidents "$D/naive.ndjson"
expect 2 "$T" evaluate --truth "$D/a/truth.json"; has "needs --truth FILE and --incidents"

# the whole pipeline, once fusion is in the binary
if "$T" incidents --help >/dev/null 2>&1; then
  expect 0 "$T" --data "$D/data" incidents --format ndjson
  printf '%s\n' "$out" > "$D/incidents.ndjson"
  expect 0 "$T" evaluate --truth "$D/a/truth.json" --incidents "$D/incidents.ndjson" --no-targets
  has "precision (two or more observers)"
  echo "pipeline scores:"; printf '%s\n' "$out"
else
  echo "skipped: this truce has no 'incidents' command (the fusion branch adds it); pipeline not scored"
fi
echo "simulate: ok"
