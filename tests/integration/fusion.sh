#!/usr/bin/env bash
# Fusion end to end on examples/minsk-2015/fusion.ndjson: two patrols hear the same outgoing
# fire from Donetsk (one launch point triangulated), a patrol and a camera hear the same 40
# explosions near Krasnohorivka at the same time across the line (reconciled to 40, not 75): one
# incident located at the impact, its origin the triangulated launch, attributed "confirmed";
# small-arms fire later stays its own incident.
# Checks the NDJSON contract, that ingest order does not change the incidents, that `truce fuse`
# on an up-to-date store changes nothing, the report's de-duplicated counts, the log, and the
# API routes.
set -euo pipefail
T=${TRUCE:-./truce}
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
has() { grep -qF -- "$1" <<<"$out" || fail "lacks: $1 -- got: $(head -c 3000 <<<"$out")"; }
lacks() { ! grep -qF -- "$1" <<<"$out" || fail "has: $1 -- got: $(head -c 3000 <<<"$out")"; }
F=examples/minsk-2015/fusion.ndjson

"$T" init "$D/a" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$D/a" ingest --quiet "$F" >/dev/null
out=$("$T" --data "$D/a" incidents --format ndjson)
[ "$(wc -l <<<"$out")" = 2 ] || fail "2 incidents expected: $out"
line1=$(sed -n 1p <<<"$out"); line2=$(sed -n 2p <<<"$out")
out=$line1
has '"id":1,'; has '"events":{"undetermined_explosion":40,"outgoing":12},"uncountable":[],"count":52'
has '"method":"triangulated"'; has '"method":"launch_triangulated"}'
has '"party":"af","grade":"confirmed"'
has '"evidence":["fusion-demo-imp-1","fusion-demo-imp-2","fusion-demo-out-1","fusion-demo-out-2"]'
has '"findings":[{"clause":"minsk2-1","result":"violation","party":"af"'
has 'began with the explosions'
out=$line2
has '"events":{"burst":5}'; has '"origin":null'; has '"evidence":["fusion-demo-alone"]'

# the text form says the same
out=$("$T" --data "$D/a" incidents --date 2016-10-12)
has "40 undetermined explosions, 12 outgoing rounds (reconciled from 4 reports)"
has "fired by: af (confirmed)"; has "2 incidents"
out=$("$T" --data "$D/a" incidents --date 2016-10-11); has "0 incidents"
out=$("$T" --data "$D/a" incidents --format ndjson --party af); [ "$(wc -l <<<"$out")" = 1 ] || fail "--party af: $out"

# the same reports in the opposite order make the same incidents (ids follow arrival)
"$T" init "$D/b" --agreement examples/minsk-2015/agreement.json >/dev/null
tac "$F" > "$D/reversed.ndjson"
"$T" --data "$D/b" ingest --quiet "$D/reversed.ndjson" >/dev/null
strip() { sed 's/^{"id":[0-9]*,//' | sort; }
diff <("$T" --data "$D/a" incidents --format ndjson | strip) \
     <("$T" --data "$D/b" incidents --format ndjson | strip) >/dev/null || fail "order changed the incidents"

# resubmission and a re-run change nothing; the log holds every incident version and verifies
"$T" --data "$D/a" ingest --quiet "$F" >/dev/null
out=$("$T" --data "$D/a" fuse); has "fused 5 fire observations into 2 incidents (0 stored or removed)"
out=$("$T" --data "$D/a" log verify); has "log verified"
# a store whose incidents were lost is rebuilt by fuse, and logged again
if command -v sqlite3 >/dev/null; then
  sqlite3 "$D/a/truce.db" "DELETE FROM incidents; DELETE FROM incident_evidence;"
  out=$("$T" --data "$D/a" fuse); has "into 2 incidents (2 stored or removed)"
  out=$("$T" --data "$D/a" log verify); has "log verified"
fi

# the daily report: as recorded 12+10+40+35+5 = 102, de-duplicated 12+40+5 = 57
out=$("$T" --data "$D/a" report --date 2016-10-12)
has "the mission recorded 102 ceasefire violations"
has "de-duplicated: 2 incidents fused from the reports"
grep -E '^  Donetsk region +2 +57 ' <<<"$out" >/dev/null || fail "de-duplicated row: $out"
has "Armed formations of certain areas of Donetsk and Luhansk oblasts: 1 confirmed, 0 probable, 0 possible"
has "Fire findings by incident: 2 (ua 0, af 1, undetermined 1)"

# the API
if ! command -v curl >/dev/null 2>&1; then echo "ok (API skipped: no curl)"; exit 0; fi
# an analyst reads incidents and may not post; a monitor posts (docs/api.md)
AUTHH="Authorization: Bearer $("$T" --data "$D/a" user add ops --role admin 2>/dev/null)"
serve_start "$D/a"
code() { curl -sS --max-time 20 -o "$D/body" -w '%{http_code}' -H "$AUTHH" "$@"; }
[ "$(code "$U/api/v1/incidents")" = 200 ] || fail "GET incidents"; out=$(cat "$D/body")
has '"party":"af","grade":"confirmed"'; has '"id":5,'
[ "$(code "$U/api/v1/incidents?party=af&limit=5")" = 200 ] || fail "GET incidents?party"; out=$(cat "$D/body")
lacks '"id":5,'
# pages of one: the Link header leads to the next page, and the pages hold every incident once
url="$U/api/v1/incidents?limit=1"; ids=""
for _ in 1 2 3 4 5; do
  got=$(curl -sS --max-time 20 -D "$D/h" -o "$D/body" -w '%{http_code}' -H "$AUTHH" "$url")
  [ "$got" = 200 ] || fail "page $url: $got"
  ids="$ids $(grep -o '"id":[0-9]*' "$D/body" | head -1)"
  url=$(tr -d '\r' < "$D/h" | sed -n 's/^Link: <\(.*\)>; rel="next"$/\1/ip')
  [ -n "$url" ] || break
done
[ "$(echo $ids)" = "$(curl -sS -H "$AUTHH" "$U/api/v1/incidents" | grep -o '"id":[0-9]*,"start"' | sed 's/,"start"//' | tr '\n' ' ' | sed 's/ $//')" ] \
  || fail "paged incidents: $ids"
[ "$(wc -w <<<"$ids")" -ge 2 ] || fail "paging saw fewer than 2 incidents: $ids"
[ "$(code "$U/api/v1/incidents?kind=fire")" = 400 ] || fail "kind on incidents must be 400"
[ "$(code "$U/api/v1/incidents/1")" = 200 ] || fail "GET incidents/1"; out=$(cat "$D/body")
has '"count":52'
[ "$(code "$U/api/v1/incidents/3")" = 404 ] || fail "an id that is no incident must be 404"
[ "$(code "$U/api/v1/incidents/x")" = 400 ] || fail "a bad id must be 400"
[ "$(code "$U/api/v1/incidents?clause=minsk2-1")" = 400 ] || fail "clause is no incident filter"
# a report posted to the server joins its incident at once
body=$(sed -n 3p "$F" | sed 's/fusion-demo-imp-1/fusion-demo-imp-3/; s/"count": 40/"count": 44/')
curl -sS --max-time 20 -o "$D/body" -H "$AUTHH" -H 'Content-Type: application/x-ndjson' --data-binary "$body" "$U/api/v1/observations" >/dev/null
[ "$(code "$U/api/v1/incidents/1")" = 200 ] || fail "GET incidents/1 after POST"; out=$(cat "$D/body")
has '"count":56'; has '"fusion-demo-imp-3"'
kill -TERM "$SP"; wait "$SP" || true; SP=""
out=$("$T" --data "$D/a" log verify); has "log verified"
echo ok
