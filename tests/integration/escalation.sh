#!/usr/bin/env bash
# Escalation end to end (M7): the demo's thresholds raise their alerts once; `truce serve`
# delivers signed webhooks to a receiver that is down at first (retried with backoff), survives
# a kill -9 with deliveries pending (delivered after the restart), and each delivery is
# verified with `truce webhook verify` and with openssl; alerts are acknowledged over the API;
# `truce deliver` sends them without a server; the log still verifies.
set -euo pipefail
T=${TRUCE:-./truce}
for c in curl python3; do
  command -v $c >/dev/null 2>&1 || { echo "skipped: $c is not installed"; exit 0; }
done
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
RP=""
cleanup() {
  if [ -n "$RP" ]; then kill -KILL "$RP" 2>/dev/null || true; wait "$RP" 2>/dev/null || true; fi
  serve_cleanup
}
trap cleanup EXIT
has() { grep -qF -- "$1" <<<"$out" || fail "lacks: $1 -- got: $(head -c 1500 <<<"$out")"; }
start_receiver() { # start_receiver DIR
  mkdir -p "$1"
  python3 tests/helpers/webhook_receiver.py "$RPORT" "$1" >"$1/out" 2>&1 &
  RP=$!
  for _ in $(seq 1 100); do grep -q listening "$1/out" 2>/dev/null && return 0; sleep 0.1; done
  fail "the receiver did not come up: $(cat "$1/out")"
}
wait_received() { # wait_received DIR N
  for _ in $(seq 1 200); do
    [ "$(cat "$1/received" 2>/dev/null | wc -l)" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "only $(cat "$1/received" 2>/dev/null | wc -l) of $2 webhooks arrived"
}
verify_all() { # verify_all DIR: every received body verifies, a changed byte does not
  local key n
  key=$(cat "$1/log/verifier.key")
  for b in "$2"/*.body; do
    n=${b%.body}
    "$T" webhook verify --key "$key" --sig "$(cat "$n.sig")" < "$b" | grep -qx valid \
      || fail "signature of $b does not verify"
  done
  b=$(ls "$2"/*.body | head -1); n=${b%.body}
  sed 's/"findings_counted":/"findings_counted":1/' "$b" > "$D/tampered"
  if "$T" webhook verify --key "$key" --sig "$(cat "$n.sig")" < "$D/tampered" >/dev/null; then
    fail "a tampered body verified"
  fi
}

"$T" agreement check examples/minsk-2015/agreement.json | grep -qF "5 escalation thresholds" \
  || fail "agreement check does not count the thresholds"
"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# users: routes name who may use them (docs/api.md); an acknowledgement is recorded under the
# name of the token's user
AUTH="Authorization: Bearer $("$T" --data "$D/data" user add ops --role admin 2>/dev/null)"
GUAR="Authorization: Bearer $("$T" --data "$D/data" user add guarantor --role guarantor 2>/dev/null)"
OTHER="Authorization: Bearer $("$T" --data "$D/data" user add someone-else --role guarantor 2>/dev/null)"
RPORT=$(serve_free_port)
"$T" --data "$D/data" subscriber add guarantor --url "http://127.0.0.1:$RPORT/guarantor" >/dev/null
"$T" --data "$D/data" subscriber add ua-liaison --url "http://127.0.0.1:$RPORT/ua" \
  --min-level warning --party ua >/dev/null
"$T" --data "$D/data" subscriber list | grep -q "^ua-liaison	http://127.0.0.1:$RPORT/ua	min-level warning	party ua" \
  || fail "subscriber list: $("$T" --data "$D/data" subscriber list)"
set +e; out=$("$T" --data "$D/data" subscriber add bad --url ftp://x 2>&1); rc=$?; set -e
[ "$rc" = 3 ] && grep -qF "url: must start with http:// or https://" <<<"$out" || fail "bad url: $out"
# the first webhook retry after 300 ms (TRUCE_WEBHOOK_RETRY_BASE_MS), not 5 s, so that the test is quick
TRUCE_WEBHOOK_RETRY_BASE_MS=300 serve_start "$D/data"

# ingest over HTTP with the receiver down: 4 alerts, 6 deliveries pending (the guarantor gets
# all 4; the ua liaison only warning and above about ua or no party: 2)
req 200 -H 'Content-Type: application/x-ndjson' \
  --data-binary @examples/minsk-2015/observations.ndjson "$U/api/v1/observations"
has '"accepted":25'
req 200 "$U/api/v1/alerts"
[ "$(grep -o '"threshold":' <<<"$out" | wc -l)" = 4 ] || fail "4 alerts expected: $out"
has '"id":1,"threshold":"fire-per-region-day","level":"notice"'
has '"region":"donetsk","party":null,"window":{"start":"2016-10-09T16:30:00Z","end":"2016-10-10T16:30:00Z"},"findings_counted":8'
has '"threshold":"withdrawal-same-party","level":"warning"'
has '"party":"af"'
[ "$(grep -o '"subscriber":' <<<"$out" | wc -l)" = 6 ] || fail "6 deliveries expected: $out"
# the same observations again: duplicates, no new alert
req 200 -H 'Content-Type: application/x-ndjson' \
  --data-binary @examples/minsk-2015/observations.ndjson "$U/api/v1/observations"
req 200 "$U/api/v1/alerts"; [ "$(grep -o '"threshold":' <<<"$out" | wc -l)" = 4 ] || fail "re-ingest raised alerts"
# the receiver is down: attempts fail and are rescheduled
for _ in $(seq 1 100); do
  req 200 "$U/api/v1/alerts/2"
  grep -q '"attempts":[1-9]' <<<"$out" && break
  sleep 0.1
done
has '"state":"pending","attempts":'; has '"last_error":"'
# kill -9 with deliveries pending; the receiver comes up; the restarted server delivers
serve_kill
start_receiver "$D/r1"
TRUCE_WEBHOOK_RETRY_BASE_MS=300 serve_restart "$D/data"
wait_received "$D/r1" 6
sleep 1.5   # nothing more may arrive
[ "$(wc -l < "$D/r1/received")" = 6 ] || fail "duplicates: $(cat "$D/r1/received")"
[ "$(grep -c ' /guarantor$' "$D/r1/received")" = 4 ] || fail "guarantor: $(cat "$D/r1/received")"
[ "$(awk '$4 == "/ua" {print $2}' "$D/r1/received" | sort | tr '\n' ' ')" = "2 4 " ] \
  || fail "ua liaison got: $(cat "$D/r1/received")"
verify_all "$D/data" "$D/r1"
b=$(grep ' 3 [0-9]* /guarantor$' "$D/r1/received" | cut -d' ' -f1)
grep -qF '"type":"truce.alert/1","instance":"truce.example/minsk-2015","alert":{"id":3,' "$D/r1/$b.body" \
  || fail "body: $(head -c 400 "$D/r1/$b.body")"
grep -qF '"findings":[{"id":12,' "$D/r1/$b.body" || fail "findings summary: $(head -c 800 "$D/r1/$b.body")"
grep -qF '"checkpoint":{"size":68,' "$D/r1/$b.body" || fail "checkpoint reference: $(head -c 2000 "$D/r1/$b.body")"
# the same check with openssl alone: the verifier key's last field is base64(0x01 || public key)
if command -v openssl >/dev/null 2>&1; then
  key=$(cat "$D/data/log/verifier.key")
  { printf '302a300506032b6570032100'; cut -d+ -f3- <<<"$key" | base64 -d | tail -c 32 | od -An -tx1 | tr -d ' \n'; } \
    | xxd -r -p > "$D/pub.der" 2>/dev/null || true
  if [ -s "$D/pub.der" ]; then
    openssl pkey -pubin -inform DER -in "$D/pub.der" -out "$D/pub.pem"
    sed 's/.*sig=//' "$D/r1/$b.sig" | base64 -d > "$D/sig.bin"
    openssl pkeyutl -verify -pubin -inkey "$D/pub.pem" -rawin -in "$D/r1/$b.body" \
      -sigfile "$D/sig.bin" | grep -q "Signature Verified Successfully" || fail "openssl does not verify"
  fi
fi
req 200 "$U/api/v1/alerts/1"; has '"state":"delivered","attempts":'; has '"delivered_at":"20'
req 200 "$U/metrics"
has 'truce_alerts{state="open"} 4'; has 'truce_webhook_deliveries{state="delivered"} 6'
has 'truce_webhook_deliveries{state="pending"} 0'

# a party user sees the alerts about its party or about no one party, never the other side's
req 200 "$U/api/v1/alerts"; all=$out
PARTY_UA="Authorization: Bearer $("$T" --data "$D/data" user add ua-officer --role party --party ua 2>/dev/null)"
want=$(jq '[.[] | select(.party == null or .party == "ua")] | length' <<<"$all")
af_alert=$(jq -r '[.[] | select(.party == "af")][0].id' <<<"$all")
[ "$af_alert" != null ] || fail "the demo raises no alert about af: $all"
AS=$PARTY_UA req 200 "$U/api/v1/alerts"
[ "$(jq length <<<"$out")" = "$want" ] || fail "party ua sees $(jq length <<<"$out") alerts, wanted $want: $out"
! grep -qF '"party":"af"' <<<"$out" || fail "party ua sees an alert about af: $out"
AS=$PARTY_UA req 404 "$U/api/v1/alerts/$af_alert"
AS=$PARTY_UA req 404 -X POST "$U/api/v1/alerts/$af_alert/ack"
AS=$PARTY_UA req 200 "$U/api/v1/alerts/1"; has '"party":null'
req 200 "$U/api/v1/alerts/$af_alert"; has '"acknowledged_by":null'

# acknowledgement
AS=$GUAR req 200 -X POST "$U/api/v1/alerts/3/ack"; has '"already":false'
has '"state":"acknowledged","acknowledged_by":"guarantor"'
AS=$OTHER req 200 -X POST "$U/api/v1/alerts/3/ack"; has '"already":true'; has '"acknowledged_by":"guarantor"'
req 200 "$U/api/v1/alerts?state=acknowledged"; [ "$(grep -o '"threshold":' <<<"$out" | wc -l)" = 1 ] || fail "state filter: $out"
req 200 "$U/api/v1/alerts?level=serious&state=open"; [ "$(grep -o '"level":"serious"' <<<"$out" | wc -l)" = 2 ] \
  && ! grep -q '"level":"notice"' <<<"$out" || fail "level filter: $out"
req 400 "$U/api/v1/alerts?level=loud"
req 404 -X POST "$U/api/v1/alerts/99/ack"
AS="X-None: 1" req 401 -X POST "$U/api/v1/alerts/3/ack"
AS="X-None: 1" req 401 "$U/api/v1/alerts"
req 400 "$U/api/v1/alerts/abc"

# subscribers over the API
req 201 -H 'Content-Type: application/json' --data '{"name":"eu","url":"https://eu.example/hook","min_level":"serious"}' "$U/api/v1/subscribers"
has '"name":"eu","url":"https://eu.example/hook","min_level":"serious","party":null'
req 409 --data '{"name":"eu","url":"https://eu.example/hook"}' "$U/api/v1/subscribers"
req 400 --data '{"name":"x","url":"https://x.example","level":"serious"}' "$U/api/v1/subscribers"
has 'unknown field \"level\"'
req 400 --data '{"name":"x","url":"https://x.example","party":"zz"}' "$U/api/v1/subscribers"
req 400 --data '{oops' "$U/api/v1/subscribers"
req 200 "$U/api/v1/subscribers"; has '"name":"guarantor"'
req 204 -X DELETE "$U/api/v1/subscribers/eu"
req 404 -X DELETE "$U/api/v1/subscribers/eu"

serve_stop
"$T" --data "$D/data" log verify >/dev/null || fail "log verify after escalation"
out=$("$T" --data "$D/data" alerts evaluate --all)
grep -qF "0 alerts raised" <<<"$out" || fail "re-evaluation raised alerts: $out"
out=$("$T" --data "$D/data" alerts ack 1 --by cli-user); grep -qx "alert 1 acknowledged" <<<"$out" || fail "ack: $out"
out=$("$T" --data "$D/data" alerts ack 1 --by other); grep -qx "alert 1 was already acknowledged" <<<"$out" || fail "ack: $out"
# the published daily report lists the alerts of its period (escalations section)
out=$("$T" --data "$D/data" report --date 2016-10-10 --format html)
grep -qF '<tr class="alert level-notice"><td class="n">1</td><td>notice</td><td>fire-per-region-day</td><td>donetsk</td>' <<<"$out" \
  || fail "html report escalations: $(grep -A4 escalations <<<"$out" | head -c 600)"
set +e; out=$("$T" --data "$D/data" alerts ack 99 --by x 2>&1); rc=$?; set -e
[ "$rc" = 3 ] && grep -qF "no alert 99" <<<"$out" || fail "ack of a missing alert: $rc $out"
[ "$("$T" --data "$D/data" alerts --level warning --state open | wc -l)" = 2 ] || fail "alerts --level warning --state open"
out=$("$T" --data "$D/data" alerts --format text)
grep -qF "#3  warning            withdrawal-same-party  party af  2016-10-08T16:30:00Z to 2016-10-11T16:30:00Z  2 findings  acknowledged" <<<"$out" \
  || fail "alerts as text: $out"

# without a server: truce deliver, on the illustrative DMZ (its guarantee trigger fires)
"$T" init "$D/dmz" --agreement examples/donetsk-dmz/agreement.json >/dev/null
"$T" --data "$D/dmz" subscriber add g --url "http://127.0.0.1:$RPORT/dmz" --min-level serious >/dev/null
out=$("$T" --data "$D/dmz" ingest --quiet examples/donetsk-dmz/observations.ndjson)
grep -qF "escalation: 5 alerts raised" <<<"$out" || fail "dmz ingest: $out"
"$T" --data "$D/dmz" alerts | grep -qF '"threshold":"mlrs-fire-trigger","level":"guarantee_trigger"' \
  || fail "no guarantee trigger: $("$T" --data "$D/dmz" alerts)"
out=$(TRUCE_WEBHOOK_RETRY_BASE_MS=300 "$T" --data "$D/dmz" deliver) || fail "deliver: $out"
grep -qF "webhooks: 2 attempted, 2 delivered" <<<"$out" || fail "deliver: $out"
out=$("$T" --data "$D/dmz" deliver); grep -qF "0 attempted" <<<"$out" || fail "delivered twice: $out"
[ "$(grep -c ' /dmz$' "$D/r1/received")" = 2 ] || fail "dmz webhooks: $(cat "$D/r1/received")"
rm -f "$D"/r1/[1-6].body
verify_all "$D/dmz" "$D/r1"
echo ok
