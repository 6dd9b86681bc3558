#!/usr/bin/env bash
# Bad input against `truce serve`: oversized headers, URIs and bodies, malformed JSON and HTTP,
# wrong content types, garbage Authorization headers, truncated and malformed chunked bodies, a
# slow client (slowloris) and a client that goes away mid-upload. Each gets a clean 4xx (the slow
# client: its connection closed after the timeout) and the server answers /healthz after each;
# nothing half-applied is acknowledged and the log verifies at the end.
set -euo pipefail
# The server may close a connection while a raw request is still being written to it: that must
# be a failed write (EPIPE), not a signal that ends this script.
trap '' PIPE
T=${TRUCE:-./truce}
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
SERVE_LOG=$D/server.out SERVE_ERR=$D/server.err SERVE_HIDE_REQUESTS=1
TIMEOUT_S=2

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# requests carry a monitor's token (routes name their roles: docs/api.md), unless AS is set
TOKEN=$("$T" --data "$D/data" user add ops --role monitor 2>/dev/null)
AUTHH="Authorization: Bearer $TOKEN"
serve_start "$D/data" --timeout-s $TIMEOUT_S
O="$U/api/v1/observations"

alive() { # after each case: the server still runs and answers
  kill -0 "$SP" 2>/dev/null || fail "the server died after: $1"
  [ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$U/healthz")" = 200 ] || fail "no health after: $1"
}
code() { # code WANT WHAT CURL_ARGS...: the status of a curl request
  local want=$1 what=$2; shift 2
  local got
  got=$(curl -s --max-time 20 -o "$D/body" -w '%{http_code}' -H "${AS:-$AUTHH}" "$@") || true
  [ "$got" = "$want" ] || fail "$what: status $got, wanted $want: $(head -c 300 "$D/body")"
  alive "$what"
}
raw() { # raw WANT WHAT BYTES: sends BYTES on a fresh connection and closes its sending side;
        # the status line must be HTTP/1.1 WANT (or, with WANT=closed, the connection just closes)
  local want=$1 what=$2 bytes=$3
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%b' "$bytes" >&3 2>/dev/null || true
  local first
  first=$(timeout 10 head -c 200 <&3 | head -n 1 | tr -d '\r') || true
  exec 3>&-
  if [ "$want" = closed ]; then
    [ -z "$first" ] || fail "$what: answered \"$first\", wanted the connection closed"
  else
    [[ "$first" == "HTTP/1.1 $want"* ]] || fail "$what: got \"$first\", wanted $want"
  fi
  alive "$what"
}

# oversized request headers and URI
big=$(head -c 40000 /dev/zero | tr '\0' a)
code 431 "a 40 KB header" -H "X-Big: $big" "$U/healthz"
code 414 "a 40 KB URI" "$U/healthz?q=$big"
many=(); for i in $(seq 1 2000); do many+=(-H "X-H$i: v"); done
code 431 "2000 headers" "${many[@]}" "$U/healthz"

# oversized bodies: a JSON document over 16 MiB; a body on a route that takes none
{ printf '['; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' '; } > "$D/big"
code 413 "a 17 MiB JSON document" -H 'Content-Type: application/json' --data-binary @"$D/big" "$O"
grep -qF '"status":413' "$D/body" || fail "413 is not a problem: $(cat "$D/body")"
code 413 "a declared 17 MiB body" -H 'Content-Type: text/csv' --data-binary @"$D/big" "$O"
code 413 "a body on GET /healthz" -X GET --data-binary 'x' "$U/healthz"
# one NDJSON record over 1 MiB is rejected as a record; the stream goes on
{ head -c $((1100 * 1024)) /dev/zero | tr '\0' 'x'; echo; } > "$D/longline"
code 422 "a 1.1 MiB NDJSON line" -H 'Content-Type: application/x-ndjson' --data-binary @"$D/longline" "$O"
grep -qF '"error":"record: line longer than 1048576 bytes"' "$D/body" || fail "long line: $(head -c 300 "$D/body")"

# malformed JSON
code 400 "a broken object" --data-binary '{oops' "$O"
grep -qF '"detail":"record 1: record: malformed JSON' "$D/body" || fail "broken object: $(cat "$D/body")"
code 400 "a broken array" -H 'Content-Type: application/json' --data-binary '[{"type":"Feature"},' "$O"
code 400 "binary garbage" --data-binary @<(head -c 5000 /dev/urandom | tr '\n[{' 'xxx') "$O"
code 400 "an empty body" --data-binary '' "$O"
code 422 "JSON that is not an observation" -H 'Content-Type: application/x-ndjson' --data-binary '[1,2,3]
{"type":"Point","coordinates":[37.7,48.1]}' "$O"
grep -qF '"index":1,"status":"rejected","error":"record: must be a GeoJSON Feature object"' "$D/body" \
  || fail "not an observation: $(cat "$D/body")"
code 400 "a JSON string per line" -H 'Content-Type: application/x-ndjson' --data-binary '"text"
null' "$O"
code 400 "nested 100000 deep" --data-binary @<(head -c 100000 /dev/zero | tr '\0' '[') "$O"
code 400 "a bad CSV header" -H 'Content-Type: text/csv' --data-binary 'kind,nonsense
fire,1' "$O"

# wrong content types
code 415 "image/png" -H 'Content-Type: image/png' --data-binary 'x' "$O"
grep -qF 'application/x-ndjson' "$D/body" || fail "415 does not name the types: $(cat "$D/body")"
code 415 "multipart/form-data" -F 'f=@examples/minsk-2015/observations.ndjson' "$O"
code 415 "an empty media type with parameters" -H 'Content-Type: ;charset=utf-8' --data-binary 'x' "$O"

# invalid tokens: garbage, huge and binary Authorization headers must not crash anything
# (an invalid token is refused with 401 even on a public route: RFC 6750 invalid_token)
AS="Authorization: Bearer $(head -c 300 /dev/urandom | base64 -w0)" code 401 "a garbage bearer token" "$U/healthz"
AS='Authorization: ;;;;' code 401 "a scheme-less token" "$U/healthz"
raw 401 "a token with control bytes" 'GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\x7f\xff\r\nConnection: close\r\n\r\n'
AS="Authorization: Bearer $big" code 431 "a 40 KB token" "$U/healthz"
good='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"auth-1","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
AS="Authorization: Basic %%%" code 401 "a POST with a garbage token" --data-binary "$good" "$O"
code 200 "a POST with the monitor's token" --data-binary "$good" "$O"

# malformed HTTP
# (bytes that are not an HTTP request line at all: libmicrohttpd closes the connection)
raw closed "a garbage request line" 'GARBAGE\r\n\r\n'
raw 400 "an unknown protocol" 'GET /healthz FOO/1.1\r\nHost: x\r\n\r\n'
raw 400 "a request line without a version" 'GET /healthz\r\n\r\n'
raw 400 "a bad chunk size" 'POST /api/v1/observations HTTP/1.1\r\nHost: x\r\n'"$AUTHH"'\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-ndjson\r\n\r\nzz\r\nabc\r\n'
raw 400 "a bad Content-Length" 'POST /api/v1/observations HTTP/1.1\r\nHost: x\r\n'"$AUTHH"'\r\nContent-Length: abc\r\n\r\n'
raw 400 "a header line without a colon" 'GET /healthz HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n'

# truncated chunked bodies: the chunk promises more than comes, then the client goes away; the
# request is never answered, nothing of it is acknowledged, and the server goes on
trunc="${good/auth-1/trunc-1}"
raw closed "a truncated chunked body" "POST /api/v1/observations HTTP/1.1\r\nHost: x\r\n$AUTHH\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-ndjson\r\n\r\n1000\r\n${trunc}\n{\"type\":\"Fea"
raw closed "a truncated Content-Length body" "POST /api/v1/observations HTTP/1.1\r\nHost: x\r\n$AUTHH\r\nContent-Length: 5000\r\nContent-Type: application/x-ndjson\r\n\r\n${good/auth-1/trunc-2}\n"
# the same records sent whole afterwards: stored once (duplicates if the cut ones were kept)
code 200 "the cut records sent again" -H 'Content-Type: application/x-ndjson' --data-binary "${good/auth-1/trunc-1}
${good/auth-1/trunc-2}" "$O"

# a slow client (slowloris): headers trickled a byte every 0.3 s are cut after the timeout,
# while others are served meanwhile
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&4
( for i in $(seq 1 40); do printf 'X' >&4 2>/dev/null || exit 0; sleep 0.3; done ) &
TP=$!
t0=$(date +%s%N)
alive "a slow client, while it trickles"
timeout 15 cat <&4 > "$D/slow.out" || true
t1=$(date +%s%N)
exec 4>&-
kill "$TP" 2>/dev/null || true; wait "$TP" 2>/dev/null || true
el=$(( (t1 - t0) / 1000000 ))
[ ! -s "$D/slow.out" ] || fail "the slow client got an answer: $(head -c 200 "$D/slow.out")"
[ "$el" -ge $((TIMEOUT_S * 1000 - 500)) ] && [ "$el" -le $((TIMEOUT_S * 1000 + 3000)) ] \
  || fail "the slow client was cut after $el ms (timeout $TIMEOUT_S s)"
alive "a slow client"
# an idle connection is closed after the timeout too
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
timeout 10 cat <&4 >/dev/null || fail "an idle connection was not closed within 10 s"
exec 4>&-
alive "an idle connection"

serve_stop
"$T" --data "$D/data" log verify >/dev/null || fail "log verify"
[ "$("$T" --data "$D/data" observations | grep -c '"client_id":"trunc-')" = 2 ] || fail "trunc records not stored once each"
echo ok
