#!/usr/bin/env bash
# The truce command line end to end on the shipped scenario: init, agreement check and add,
# ingest from files and stdin in every format, listings, the report, place, help and errors.
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

expect 0 "$T" init "$D/data" --agreement examples/minsk-2015/agreement.json
has "initialised $D/data with agreement minsk-2015 version 1"
expect 3 "$T" init "$D/data" --agreement examples/minsk-2015/agreement.json
has "a truce store already exists here"
expect 3 "$T" --data "$D/none" report --date 2016-10-10
has "no truce store here"

# help for every command
for c in init agreement ingest observations findings report place; do
  expect 0 "$T" $c --help; has "usage: truce"
done
expect 2 "$T" frobnicate; has 'unknown command "frobnicate"'
expect 2 "$T"

# agreement check: a valid and a broken file
expect 0 "$T" agreement check examples/donetsk-dmz/agreement.json; has "valid"; has "ILLUSTRATIVE"
sed 's/"distance_km": 25/"distance_km": -25/' examples/minsk-2015/agreement.json > examples/minsk-2015/.bad.json
expect 1 "$T" agreement check examples/minsk-2015/.bad.json
rm -f examples/minsk-2015/.bad.json
has '/rules/1: "distance_km" must be a number from 0.001 to 1000'

export TRUCE_DATA="$D/data"
# ingest: the sample, then again (duplicates), then from stdin as CSV with one bad row
expect 0 "$T" ingest examples/minsk-2015/observations.ndjson
has "25 records: 25 accepted, 0 duplicates, 0 rejected; 21 findings"
expect 0 "$T" ingest --quiet examples/minsk-2015/observations.ndjson
has "25 records: 0 accepted, 25 duplicates, 0 rejected"
csv='client_id,kind,time_start,means,observer_place,bearings,distance_min_km,distance_max_km,event_type,count
csv-1,fire,2016-10-11T10:00:00+03:00,patrol,Popasna,E;ESE,4,6,undetermined_explosion,about 12
csv-2,fire,2016-10-11T10:00:00+03:00,patrol,Popasna,E,4,60000,undetermined_explosion,3'
expect 1 "$T" ingest --format csv - <<<"$csv"
has "stdin: record 1: accepted as observation 26 (client id csv-1), 1 finding"
has "stdin: record 2: rejected: distance_km: [4, 60000] is not a range from 0 to 100 km with min <= max"
has "stdin: 2 records: 1 accepted, 0 duplicates, 1 rejected; 1 finding"
expect 1 "$T" ingest --atomic - <<<'{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"at-1","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}
{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"at-2","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":-1}}'
has "record 1: not stored: --atomic refuses the whole input when any record is rejected"
has "(file refused: --atomic)"
expect 2 "$T" ingest --format yaml x; has "unknown format yaml"
expect 3 "$T" ingest /no/such/file; has "/no/such/file: cannot open"

# listings
expect 0 "$T" observations --kind sighting
[ "$(wc -l <<<"$out")" = 5 ] || fail "5 sightings expected, got: $out"
has '"weapon_model":"2S1 Gvozdika"'
expect 0 "$T" findings --party af --format text
[ "$(grep -c '^#' <<<"$out")" = 2 ] || fail "2 findings against af expected, got: $out"
has '3 weapons of the class "tanks" (T-72) seen 5 km S of Horlivka'
has "addendum-2015-mortars  violation  af"
expect 0 "$T" findings --clause tcg-2016-disengagement
has '"result":"violation"'; has "inside the Petrivske disengagement area"
expect 0 "$T" observations --from 2016-10-11 --to 2016-10-12 --region luhansk
[ "$(wc -l <<<"$out")" = 3 ] || fail "3 Luhansk observations on the 11th expected (2 sample, csv-1), got: $out"
expect 3 "$T" observations --from yesterday; has "--from:"

# the report, text and JSON
expect 0 "$T" report --date 2016-10-10
has "In Donetsk region, the mission recorded 115 ceasefire violations, including 101 explosions."
has "it recorded 30 ceasefire violations in the region."
expect 0 "$T" report --date 2016-10-11 --format json
has '"date":"2016-10-11"'; has '"period":{"from":"2016-10-10T19:30:00+03:00","to":"2016-10-11T19:30:00+03:00"}'
expect 2 "$T" report --date 10/10/2016; has "needs --date YYYY-MM-DD"

# place
expect 0 "$T" place 48.016 37.803; has "in Donetsk"; has "Armed formations of certain areas"
expect 0 "$T" place 47.655 37.745 --json; has '"zone":"petrivske","relation":"in"'
expect 2 "$T" place 95 37; has "latitude must be -90..90"

# an amendment
sed 's/"version": 1,/"version": 2,/; s/"effective": "2015-02-15T00:00:00"/"effective": "2016-10-11T00:00:00"/' \
  examples/minsk-2015/agreement.json > examples/minsk-2015/.v2.json
expect 0 "$T" agreement add examples/minsk-2015/.v2.json; has "stored minsk-2015 version 2"
expect 3 "$T" agreement add examples/minsk-2015/.v2.json; has "version 2 is not above the stored version 2"
rm -f examples/minsk-2015/.v2.json
expect 0 "$T" agreement show; has "minsk-2015 version 2"
echo ok
