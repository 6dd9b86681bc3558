#!/usr/bin/env bash
# Operations of `truce serve`: the configuration file (examples/systemd/truce.conf) and flags over
# it, errors naming the file, line and key; the structured logs (a JSON line per request and
# event); SIGTERM while many POSTs are in flight: the server exits 0 and every observation that
# was answered 2xx is in the store afterwards.
set -euo pipefail
T=${TRUCE:-./truce}
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
SERVE_LOG=$D/server.out SERVE_ERR=$D/server.err SERVE_HIDE_REQUESTS=1

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
# every curl of this test carries an admin's token (routes name their roles: docs/api.md)
TOKEN=$("$T" --data "$D/data" user add ops --role admin 2>/dev/null)
printf 'header = "Authorization: Bearer %s"\n' "$TOKEN" > "$D/.curlrc"
export CURL_HOME="$D"

# configuration errors name the file, the line and the key; flags are checked too
printf 'listen = 127.0.0.1:0\nlog_levle = info\n' > "$D/bad.conf"
if "$T" serve --config "$D/bad.conf" 2>"$D/err"; then fail "a bad key was accepted"; fi
grep -qF "bad.conf:2: unknown setting \"log_levle\"" "$D/err" || fail "bad key: $(cat "$D/err")"
printf 'max_connections = lots\n' > "$D/bad2.conf"
if "$T" serve --config "$D/bad2.conf" 2>"$D/err"; then fail "a bad number was accepted"; fi
grep -qF 'bad2.conf:1: max_connections: "lots" is not a whole number from 1 to 65536' "$D/err" \
  || fail "bad number: $(cat "$D/err")"
if "$T" serve --config "$D/nonexistent.conf" 2>"$D/err"; then fail "a missing file was accepted"; fi
grep -qF "nonexistent.conf" "$D/err" || fail "missing file: $(cat "$D/err")"
if "$T" serve --log-level loud 2>"$D/err"; then fail "a bad flag value was accepted"; fi
grep -qF 'log_level: "loud" is not debug, info, warn or error' "$D/err" || fail "bad flag: $(cat "$D/err")"

# the example configuration, with the data directory and the address from flags over it
serve_start "$D/data" --config examples/systemd/truce.conf --max-connections 300 --body-bytes 4096
grep -qF '"event":"listening","detail":"http://127.0.0.1:'"$PORT"' (port '"$PORT"'), data '"$D/data"', at most 300 connections"' \
  "$D/server.err" || fail "the listening event: $(cat "$D/server.err")"

# body_bytes bounds a collected JSON document, not an NDJSON stream
one='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"bb-ID","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
arr="["; nd=""
for i in $(seq 1 30); do arr="$arr${one/ID/$i},"; nd="$nd${one/ID/$i}
"; done
arr="${arr%,}]"
code=$(curl -s -o "$D/body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$arr" "$U/api/v1/observations")
[ "$code" = 413 ] && grep -qF 'at most 4096 bytes' "$D/body" || fail "a 7 KB array with body_bytes 4096: $code $(cat "$D/body")"
code=$(curl -s -o "$D/body" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary "$nd" "$U/api/v1/observations")
[ "$code" = 200 ] && grep -qF '"records":30,"accepted":30' "$D/body" || fail "7 KB of NDJSON with body_bytes 4096: $code $(head -c 300 "$D/body")"

# structured logs: one JSON object per request with time, method, path, status, bytes, duration
curl -s -o /dev/null "$U/api/v1/observations?kind=sighting"
curl -s -o /dev/null "$U/nope"
sleep 0.3
line=$(grep '"path":"/nope"' "$D/server.err" | tail -1)
[[ "$line" =~ ^\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\",\"level\":\"info\",\"event\":\"request\",\"method\":\"GET\",\"path\":\"/nope\",\"status\":404,\"bytes\":[0-9]+,\"duration_ms\":[0-9.]+\}$ ]] \
  || fail "access line: $line"
grep -qF '"path":"/api/v1/observations","status":200' "$D/server.err" || fail "no access line for the listing"
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$D/server.err" \
    || fail "a log line is not JSON"
fi

# SIGTERM with many POSTs in flight: every answered observation is stored, the exit is clean
N=400
mkdir "$D/req" "$D/out"
tmpl='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"term-ID","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
for i in $(seq 1 "$N"); do
  echo "${tmpl/ID/$i}" > "$D/req/$i"
  printf 'header = "%s"\nurl = "%s/api/v1/observations"\ndata-binary = "@%s/req/%s"\noutput = "%s/out/%s"\nwrite-out = "%s %%{http_code}\\n"\nmax-time = 30\nnext\n' \
    "Authorization: Bearer $TOKEN" "$U" "$D" "$i" "$D" "$i" "$i"
done | sed '$d' > "$D/curl.cfg"
curl -s --no-progress-meter --parallel --parallel-max 50 --config "$D/curl.cfg" > "$D/codes" 2>/dev/null &
CP=$!
sleep 0.4
serve_stop
wait "$CP" || true
ok=$(awk '$2 ~ /^2/ {print $1}' "$D/codes" | sort -n)
n_ok=$(grep -c . <<<"$ok" || true)
"$T" --data "$D/data" observations | grep -o '"client_id":"term-[0-9]*"' | sed 's/.*term-//; s/"//' | sort -n > "$D/stored"
missing=$(comm -23 <(sort <<<"$ok") <(sort "$D/stored") | head -5)
[ -z "$missing" ] || fail "answered 2xx but not stored: $missing"
"$T" --data "$D/data" log verify >/dev/null || fail "log verify after SIGTERM under load"
# the server signed a checkpoint over every committed leaf before it exited
if command -v sqlite3 >/dev/null 2>&1; then
  cp=$(sqlite3 "$D/data/truce.db" "SELECT max(size) FROM checkpoints")
  size=$(sqlite3 "$D/data/truce.db" "SELECT size FROM log_state")
  [ -n "$size" ] && [ "$cp" = "$size" ] || fail "newest checkpoint covers $cp of $size leaves after SIGTERM"
fi
grep -qF '"event":"stopped"' "$D/server.err" || fail "no stopped event"
echo "SIGTERM under load: $n_ok of $N answered 2xx, all stored"
echo ok
