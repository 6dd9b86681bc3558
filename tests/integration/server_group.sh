#!/usr/bin/env bash
# Group commit of `truce serve`: many clients POST one observation each at the same time; every
# request is answered 200 "accepted" with its own id, fewer commits than requests were made (the
# requests shared them), every acknowledged record is listed afterwards, a resubmission is a
# duplicate with the same id, and the transparency log verifies after the server stopped. An
# NDJSON upload streams meanwhile (a large body: its connection's thread feeds it to the
# application while the small requests are queued for the app thread; docs/architecture.md).
set -euo pipefail
T=${TRUCE:-./truce}
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
N=${GROUP_N:-300}   # requests
P=${GROUP_P:-40}    # at once
ND=${GROUP_ND:-3000} # records of the NDJSON upload beside them
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
SERVE_HIDE_REQUESTS=1

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# every curl of this test carries an admin's token (routes name their roles: docs/api.md)
TOKEN=$("$T" --data "$D/data" user add ops --role admin 2>/dev/null)
printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" > "$D/.curlrc"
export CURL_HOME="$D"
serve_start "$D/data"

# one file per request: a real fire report with its own client id
mkdir "$D/req" "$D/out"
tmpl='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"grp-ID","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
for i in $(seq 1 "$N"); do echo "${tmpl/ID/$i}" > "$D/req/$i"; done
# one curl process with P transfers at a time (curl --parallel), so requests really overlap
for i in $(seq 1 "$N"); do
  printf 'header = "%s"\nurl = "%s/api/v1/observations"\ndata-binary = "@%s/req/%s"\noutput = "%s/out/%s"\nwrite-out = "%s %%{http_code}\\n"\nmax-time = 30\nnext\n' \
    "Authorization: Bearer $TOKEN" "$U" "$D" "$i" "$D" "$i" "$i"
done | sed '$d' > "$D/curl.cfg"
for i in $(seq 1 "$ND"); do echo "${tmpl/grp-ID/nd-$i}"; done > "$D/upload.ndjson"
curl -sS -H "Content-Type: application/x-ndjson" --data-binary @"$D/upload.ndjson" \
  "$U/api/v1/observations" > "$D/upload.out" &
upload=$!
curl -sS --no-progress-meter --parallel --parallel-max "$P" --config "$D/curl.cfg" > "$D/codes" || fail "curl failed"
wait "$upload" || fail "the NDJSON upload failed"
grep -qF "\"records\":$ND,\"accepted\":$ND," "$D/upload.out" || fail "NDJSON upload: $(head -c 300 "$D/upload.out")"
bad=$(awk '$2 != 200' "$D/codes" | head -5)
[ -z "$bad" ] || fail "requests not answered 200: $bad"
[ "$(wc -l < "$D/codes")" = "$N" ] || fail "$(wc -l < "$D/codes") answers for $N requests"
ids=""
for i in $(seq 1 "$N"); do
  grep -qF "\"records\":1,\"accepted\":1," "$D/out/$i" || fail "request $i: $(cat "$D/out/$i")"
  grep -qF "\"client_id\":\"grp-$i\"" "$D/out/$i" || fail "request $i answered for another record: $(cat "$D/out/$i")"
done
# every id is distinct
n_ids=$(grep -ho '"id":[0-9]*' "$D"/out/* | sort -u | wc -l)
[ "$n_ids" = "$N" ] || fail "$n_ids distinct ids for $N accepted records"

# the requests shared commits
m=$(curl -sS "$U/metrics")
commits=$(awk '/^truce_group_commits_total/ {print $2}' <<<"$m")
records=$(awk '/^truce_group_records_total/ {print $2}' <<<"$m")
[ "$records" = "$((N + ND))" ] || fail "group commits stored $records records, not $((N + ND))"
[ "$commits" -lt "$N" ] || fail "$commits commits for $N requests: no grouping"
echo "group commit: $N requests, $commits commits"

# all of them are stored and listed; a resubmission is a duplicate with the same id
listed=$(curl -sS "$U/api/v1/observations?limit=100000" | grep -o '"client_id":"grp-[0-9]*"' | sort -u | wc -l)
[ "$listed" = "$N" ] || fail "$listed of $N listed"
id7=$(grep -o '"id":[0-9]*' "$D/out/7")
out=$(curl -sS --data-binary @"$D/req/7" "$U/api/v1/observations")
grep -qF "\"status\":\"duplicate\",\"client_id\":\"grp-7\",$id7" <<<"$out" || fail "resubmission: $out"

serve_stop
"$T" --data "$D/data" log verify >/dev/null || fail "log verify after serving"
n=$("$T" --data "$D/data" observations | grep -c '"client_id":"grp-')
[ "$n" = "$N" ] || fail "$n of $N in the store after the stop"
n=$("$T" --data "$D/data" observations | grep -c '"client_id":"nd-')
[ "$n" = "$ND" ] || fail "$n of $ND uploaded records in the store after the stop"
echo ok
