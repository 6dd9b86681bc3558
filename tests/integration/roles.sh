#!/usr/bin/env bash
# Roles on the real server: one user per role (and a revoked one), then EVERY route of the route
# table (`truce serve --print-routes`, read at run time, so routes added later are walked too)
# with EVERY role and without a token: each request must be let through exactly when the table
# says so (401 with WWW-Authenticate without a token, 403 "Role not allowed" for a wrong role).
# Then bad tokens, the party scope of findings, and the audit trail of the writes.
set -euo pipefail
T=${TRUCE:-./truce}
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req

"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$D/data" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
ROLES="public monitor analyst publisher party guarantor admin"
declare -A TOKEN
for r in $ROLES; do
  extra=(); [ "$r" = party ] && extra=(--party af)
  TOKEN[$r]=$("$T" --data "$D/data" user add "u-$r" --role "$r" "${extra[@]}" 2>/dev/null)
  [[ "${TOKEN[$r]}" =~ ^truce_[A-Za-z0-9_-]{43}$ ]] || fail "token of u-$r: ${TOKEN[$r]}"
done
# the token is not stored anywhere in the data directory, only its hash
! grep -rqF "${TOKEN[admin]}" "$D/data" || fail "a token is stored in clear"
REVOKED=$("$T" --data "$D/data" user add gone --role admin 2>/dev/null)
"$T" --data "$D/data" user revoke gone >/dev/null
# refused user commands
"$T" --data "$D/data" user add x --role party 2>/dev/null && fail "party without --party accepted"
"$T" --data "$D/data" user add x --role party --party ru 2>/dev/null && fail "unknown party accepted"
"$T" --data "$D/data" user add x --role king 2>/dev/null && fail "unknown role accepted"
"$T" --data "$D/data" user add u-admin --role admin 2>/dev/null && fail "name reused"
"$T" --data "$D/data" user list | grep -q '^gone .*revoked' || fail "user list lacks the revocation"

serve_start "$D/data"

# call METHOD PATH [TOKEN]: status in $code, body in $out, headers in $D/headers
call() {
  local m=$1 path=$2 tok=${3:-} args=()
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  [ "$m" != GET ] && args+=(--data-binary '')
  code=$(curl -sS --max-time 20 -X "$m" -D "$D/headers" -o "$D/body" -w '%{http_code}' \
    "${args[@]}" "$U$path") || fail "curl failed: $m $path"
  out=$(cat "$D/body")
}

"$T" serve --print-routes > "$D/routes"
n_routes=$(wc -l < "$D/routes")
[ "$n_routes" -ge 9 ] || fail "only $n_routes routes in the table"
grep -q '^POST /api/v1/observations monitor,admin$' "$D/routes" || fail "route table: $(cat "$D/routes")"
checked=0; denied=0
while read -r method pattern allowed; do
  # a concrete path: {name} -> one segment, {name*} -> a two-segment rest
  path=$(sed -e 's/{[^}]*\*}/0\/000/g' -e 's/{[^}]*}/x/g' <<<"$pattern")
  for who in anonymous $ROLES; do
    role=$who; tok=""
    if [ "$who" = anonymous ]; then role=public; else tok=${TOKEN[$who]}; fi
    call "$method" "$path" "$tok"
    if [[ ",$allowed," == *",$role,"* ]]; then
      [ "$code" != 401 ] || fail "$who: $method $path gave 401 but the table allows $allowed: $out"
      ! grep -qF '"title":"Role not allowed"' <<<"$out" || fail "$who: $method $path refused: $out"
    else
      denied=$((denied + 1))
      if [ "$who" = anonymous ]; then
        [ "$code" = 401 ] || fail "anonymous: $method $path gave $code, wanted 401: $out"
        grep -qi '^WWW-Authenticate: Bearer realm="truce"' "$D/headers" || fail "401 without WWW-Authenticate"
      else
        [ "$code" = 403 ] || fail "$who: $method $path gave $code, wanted 403 (allowed: $allowed): $out"
        grep -qF '"title":"Role not allowed"' <<<"$out" || fail "$who: $method $path: $out"
      fi
      grep -qi '^Content-Type: application/problem+json' "$D/headers" || fail "$code is not problem+json"
    fi
    checked=$((checked + 1))
  done
done < "$D/routes"
[ "$denied" -gt 0 ] || fail "no request was denied"

# bad tokens: refused with 401 on public and private routes alike, and the server keeps serving
for tok in "$REVOKED" "truce_not-a-real-token" "${TOKEN[admin]}x"; do
  call GET /api/v1/agreements "$tok"; [ "$code" = 401 ] || fail "token $tok: $code"
  grep -qi '^WWW-Authenticate: Bearer realm="truce", error="invalid_token"' "$D/headers" || fail "no invalid_token"
  call GET /api/v1/findings "$tok"; [ "$code" = 401 ] || fail "token $tok on findings: $code"
done
for hdr in "Basic dXNlcjpwYXNz" "Bearer" "Bearer a b" "Bearer $(head -c 5000 /dev/zero | tr '\0' a)" \
           "Bearer tok%en"; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: $hdr" "$U/api/v1/findings")
  [ "$code" = 401 ] || fail "Authorization: ${hdr:0:40}: $code"
done
# an upload without a token is refused when its headers are in: the 8 MB body is not taken in
# (curl asks with "Expect: 100-continue" and gets the 401 instead of the go-ahead)
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$D/big"
read -r code sent < <(curl -sS -o /dev/null -w '%{http_code} %{size_upload}\n' \
  --data-binary @"$D/big" "$U/api/v1/observations" 2>/dev/null || true)
[ "$code" = 401 ] || fail "anonymous upload: $code"
[ "${sent%.*}" -lt $((8 * 1024 * 1024)) ] || fail "the server took in all $sent bytes before its 401"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOKEN[party]}" \
  --data-binary @"$D/big" "$U/api/v1/observations" 2>/dev/null || true)
[ "$code" = 403 ] || fail "party upload: $code"
# case-insensitive scheme, extra spaces
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: bearer   ${TOKEN[analyst]}" "$U/api/v1/findings")
[ "$code" = 200 ] || fail "lower-case scheme: $code"

# users added and revoked while the server runs take effect at once
LATE=$("$T" --data "$D/data" user add late --role analyst 2>/dev/null) || fail "user add beside the server"
call GET /api/v1/findings "$LATE"; [ "$code" = 200 ] || fail "a user added while serving: $code"
"$T" --data "$D/data" user revoke late >/dev/null || fail "user revoke beside the server"
call GET /api/v1/findings "$LATE"; [ "$code" = 401 ] || fail "a token revoked while serving: $code"

# a party user sees only its party's findings
call GET /api/v1/findings "${TOKEN[party]}"; [ "$code" = 200 ] || fail "party findings: $code"
[ "$(grep -o '"party":"af"' <<<"$out" | wc -l)" = 2 ] || fail "party af sees: $out"
! grep -q '"party":"ua"' <<<"$out" || fail "party af sees ua findings"
call GET "/api/v1/findings?party=ua" "${TOKEN[party]}"; [ "$code" = 403 ] || fail "party asks for ua: $code"
call GET /api/v1/findings "${TOKEN[analyst]}"
grep -q '"party":"ua"' <<<"$out" || fail "the analyst sees no ua finding: $out"

# ... and only the incidents attributed to its party, in the listing and one by one (the
# dashboard's incident panel): another party's incident is not found
ua_inc=$("$T" --data "$D/data" incidents --format ndjson | jq -r 'select(.party == "ua") | .id' | head -1)
[ -n "$ua_inc" ] || fail "the sample has no incident attributed to ua"
UA=$("$T" --data "$D/data" user add u-party-ua --role party --party ua 2>/dev/null)
call GET "/api/v1/incidents/$ua_inc" "$UA"
[ "$code" = 200 ] && jq -e '.party == "ua"' <<<"$out" >/dev/null || fail "party ua opens its incident $ua_inc: $code $out"
call GET "/api/v1/incidents/$ua_inc" "${TOKEN[party]}"; [ "$code" = 404 ] || fail "party af opens ua incident $ua_inc: $code"
call GET "/api/v1/incidents/$ua_inc" "${TOKEN[analyst]}"; [ "$code" = 200 ] || fail "analyst opens ua incident: $code"
call GET /api/v1/incidents "${TOKEN[party]}"; [ "$code" = 200 ] || fail "party incidents: $code"
! grep -qF '"party":"ua"' <<<"$out" || fail "party af lists ua incidents"
call GET /api/v1/incidents "$UA"; grep -qF '"party":"ua"' <<<"$out" || fail "party ua lists no ua incident: $out"

# writes are audited with who and the result; readable by analysts and admins only
good='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"roles-1","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
code=$(curl -sS -o "$D/body" -w '%{http_code}' -H "Authorization: Bearer ${TOKEN[monitor]}" \
  --data-binary "$good" "$U/api/v1/observations")
[ "$code" = 200 ] || fail "monitor post: $code $(cat "$D/body")"
call GET /api/v1/audit "${TOKEN[analyst]}"; [ "$code" = 200 ] || fail "audit: $code"
grep -qF '"actor":"u-monitor","role":"monitor","action":"POST /api/v1/observations","target":"/api/v1/observations","status":200,"result":"records 1, accepted 1, duplicates 0' <<<"$out" \
  || fail "audit lacks the monitor's post: $out"
grep -qF '"actor":"u-party","role":"party","action":"POST (refused)","target":"/api/v1/observations","status":403' <<<"$out" \
  || fail "audit lacks the party's refused post: $out"
grep -qF '"action":"user revoke","target":"gone"' <<<"$out" || fail "audit lacks the revocation: $out"
grep -qF '"action":"ingest","target":"examples/minsk-2015/observations.ndjson","status":0' <<<"$out" \
  || fail "audit lacks the CLI ingest: $out"
"$T" --data "$D/data" audit | grep -q 'u-monitor monitor "POST /api/v1/observations" /api/v1/observations 200' \
  || fail "truce audit: $("$T" --data "$D/data" audit)"
call GET "/api/v1/audit?limit=0" "${TOKEN[admin]}"; [ "$code" = 400 ] || fail "audit limit=0: $code"

serve_stop
echo "ok: $n_routes routes x 8 principals = $checked requests, $denied denied as the table says"
