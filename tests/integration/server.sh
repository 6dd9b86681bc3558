#!/usr/bin/env bash
# `truce serve` end to end: starts the server on a free loopback port, exercises every route
# with curl (statuses and bodies) as an admin user (tests/integration/roles.sh checks who may do
# what), then stops it with SIGTERM and checks it exits 0 in time.
set -euo pipefail
T=${TRUCE:-./truce}
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
has() { grep -qF -- "$1" <<<"$out" || fail "body lacks: $1 -- got: $(head -c 2000 <<<"$out")"; }
lacks() { ! grep -qF -- "$1" <<<"$out" || fail "body has: $1 -- got: $(head -c 2000 <<<"$out")"; }

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
AUTH="Authorization: Bearer $("$T" --data "$D/data" user add ops --role admin 2>/dev/null)"

serve_start "$D/data"

# health and metrics
req 200 "$U/healthz"; has '"status":"ok"'
req 200 "$U/metrics"; has '# TYPE truce_http_requests_total counter'

# intake: the sample as NDJSON, then again (all duplicates), then a mix, then nothing good
req 200 -H 'Content-Type: application/x-ndjson' --data-binary @examples/minsk-2015/observations.ndjson \
  "$U/api/v1/observations"
has '"records":25,"accepted":25,"duplicates":0,"rejected":0,"findings":21'
has '"index":1,"status":"accepted","client_id":"smm-2016-10-10-B1","id":1'
has '"checkpoint":"truce.example/minsk-2015\n'
req 200 -H 'Content-Type: application/x-ndjson' --data-binary @examples/minsk-2015/observations.ndjson \
  "$U/api/v1/observations"
has '"accepted":0,"duplicates":25'
good='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"http-1","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
bad='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"http-2","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":-1}}'
req 207 --data-binary "$good
$bad" "$U/api/v1/observations"
has '"status":"accepted","client_id":"http-1"'; has '"index":2,"status":"rejected","client_id":"http-2","error":"event_type.count:'
req 422 --data-binary "$bad" "$U/api/v1/observations"; has '"accepted":0'
# a JSON array with one Feature
req 200 -H 'Content-Type: application/geo+json' --data-binary "[${good/http-1/http-3}]" "$U/api/v1/observations"
has '"client_id":"http-3"'
# bad JSON: 400 problem+json naming the record
req 400 --data-binary "$bad
{\"type\": oops" "$U/api/v1/observations"
has '"type":"about:blank","status":400'; has '"detail":"record 2: record: malformed JSON'
curl -s -o /dev/null -w '%{content_type}' -H "$AUTH" --data-binary '{oops' "$U/api/v1/observations" \
  | grep -q '^application/problem+json' || fail "400 is not application/problem+json"
req 400 --data-binary '' "$U/api/v1/observations"; has 'the body is empty'
# oversized JSON document: 413 (NDJSON has no total limit, only one per record: 1 MiB lines)
{ printf '['; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' '; } > "$D/big"
req 413 --data-binary @"$D/big" "$U/api/v1/observations"; has '"status":413'
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > "$D/longline"
{ echo "$good" | sed 's/http-1/long-1/'; cat "$D/longline"; echo; } > "$D/long.ndjson"
req 207 -H 'Content-Type: application/x-ndjson' --data-binary @"$D/long.ndjson" "$U/api/v1/observations"
has '"index":2,"status":"rejected","error":"record: line longer than 1048576 bytes"'
has '"index":1,"status":"accepted","client_id":"long-1"'

# listings with filters
req 200 "$U/api/v1/observations?kind=sighting"
[ "$(grep -o '"kind":"sighting"' <<<"$out" | wc -l)" = 5 ] || fail "5 sightings expected: $out"
has '"weapon_model":"2S1 Gvozdika"'
req 200 "$U/api/v1/observations?from=2016-10-11&to=2016-10-12&region=luhansk"
[ "$(grep -o '"client_id":' <<<"$out" | wc -l)" = 2 ] || fail "2 Luhansk observations on the 11th: $out"
req 200 "$U/api/v1/observations?limit=3"; [ "$(grep -o '"client_id":' <<<"$out" | wc -l)" = 3 ] \
  || fail "limit=3 gave: $out"
req 200 "$U/api/v1/findings?party=af"
[ "$(grep -o '"party":"af"' <<<"$out" | wc -l)" = 2 ] || fail "2 findings against af: $out"
req 200 "$U/api/v1/findings?clause=tcg-2016-disengagement"; has '"result":"violation"'
req 400 "$U/api/v1/observations?from=yesterday"; has 'query parameter from'
req 400 "$U/api/v1/findings?limit=0"; has 'query parameter limit'

# the daily report
req 200 "$U/api/v1/reports/daily/2016-10-10?format=text"
has "In Donetsk region, the mission recorded 115 ceasefire violations, including 101 explosions."
req 200 "$U/api/v1/reports/daily/2016-10-10"; has '"date":"2016-10-10"'; has '115'
req 400 "$U/api/v1/reports/daily/10-10-2016"
req 400 "$U/api/v1/reports/daily/2016-10-10?format=docx"

# agreements and the log
req 200 "$U/api/v1/agreements"; has '"id":"minsk-2015","version":1'
req 200 "$U/api/v1/log/checkpoint"; has 'truce.example/minsk-2015'
size=$(sed -n 2p "$D/body")
[ "$size" -gt 40 ] || fail "checkpoint size $size"

# errors
req 404 "$U/nope"; has '"status":404'
req 404 "$U/api/v1/reports/daily/2016-10-10/extra"
req 405 -X DELETE "$U/api/v1/observations"; has '"status":405'
curl -s -D - -o /dev/null -X PUT "$U/healthz" | grep -qi '^Allow: GET' || fail "405 without Allow"

# metrics count what happened
req 200 "$U/metrics"
has 'truce_http_requests_total{method="POST",route="/api/v1/observations",status="200"} 3'
has 'truce_observations_ingested_total{result="accepted"} 28'
has 'truce_observations_ingested_total{result="rejected"} 6'
lacks 'truce_metrics_dropped_total 1'

# graceful stop: SIGTERM while a slow upload is in flight; the upload is still answered (200),
# then the server exits 0 within 5 s
for i in $(seq 1 2000); do echo "${good/http-1/slow-$i}"; done > "$D/slow.ndjson"
curl -sS --max-time 20 --limit-rate 400K -o "$D/slow.out" -w '%{http_code}' -H "$AUTH" \
  -H 'Content-Type: application/x-ndjson' --data-binary @"$D/slow.ndjson" \
  "$U/api/v1/observations" > "$D/slow.code" 2>&1 &
CP=$!
sleep 0.5
serve_stop 5
wait "$CP" || true
[ "$(cat "$D/slow.code")" = 200 ] || fail "in-flight upload: $(cat "$D/slow.code") $(head -c 300 "$D/slow.out")"
grep -qF '"records":2000,"accepted":2000' "$D/slow.out" || fail "in-flight upload: $(head -c 300 "$D/slow.out")"
"$T" --data "$D/data" log verify >/dev/null || fail "log verify after serving"
echo ok
