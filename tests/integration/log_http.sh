#!/usr/bin/env bash
# The transparency log over HTTP: mirrors the log of a running server with curl from its C2SP
# tlog-tiles paths (/log/checkpoint, /log/tile/...), checks the mirror with the offline verifier
# (`truce log verify --export DIR --key VKEY`) and byte for byte against `truce log export`,
# compares the JSON proofs with `truce log proof`, and uses a second truce instance as a C2SP
# tlog-witness over HTTP (POST /add-checkpoint): first checkpoint, stale old size (409), a
# forged proof (422), a consistency proof fetched from the log (200); the cosignature is then
# handed to the running log (POST /api/v1/log/cosignatures) and served with its checkpoint.
set -euo pipefail
T=${TRUCE:-./truce}
T=$(cd "$(dirname "$T")" && pwd)/$(basename "$T")
if ! command -v curl >/dev/null 2>&1; then echo "skipped: curl is not installed"; exit 0; fi
. "$(dirname "$0")/../helpers/serve.sh"   # $D, the EXIT trap, serve_*, fail, req
# two servers at times: every server's log on failure
fail() { echo "FAIL: $*"; for f in "$D"/*.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done; exit 1; }

# start DATA_DIR NAME: serves DATA_DIR on a free loopback port, its log in $D/NAME.log; sets U, SP
start() { SERVE_LOG=$D/$2.log serve_start "$1"; }
stop() { SP=$1; serve_stop; } # stop PID: SIGTERM, exit status 0
b64hex() { base64 -d <<<"$1" | od -An -tx1 | tr -d ' \n'; }

# the log A: the sample, plus 300 more observations so that the tree has a full tile, a
# partial one, and a tile of level 1
A=$D/a
"$T" init "$A" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$A" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
good='{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"CID","time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},"event_type":"shot","count":1}}'
for i in $(seq 1 300); do echo "${good/CID/bulk-$i}"; done > "$D/bulk.ndjson"
"$T" --data "$A" ingest --quiet "$D/bulk.ndjson" >/dev/null
VKEY=$("$T" --data "$A" log key)
ORIGIN=${VKEY%%+*}
MON=$("$T" --data "$A" user add m1 --role monitor 2>/dev/null)
ADM=$("$T" --data "$A" user add ops --role admin 2>/dev/null)

# the witness W: another truce instance with a witness for A's log
W=$D/w
"$T" init "$W" --agreement examples/minsk-2015/agreement.json >/dev/null
WVKEY=$("$T" witness init "$W/witness" --name witness.test.example | sed 's/.*verifier key //')
echo "$ORIGIN=$VKEY" > "$W/witness/logs"

start "$A" a; UA=$U; PA=$SP
start "$W" w; UW=$U; PW=$SP

# ---- mirror the tiles over HTTP ----
M=$D/mirror
mkdir -p "$M"
curl -sSf -o "$M/checkpoint" "$UA/log/checkpoint" || fail "GET /log/checkpoint"
N=$(sed -n 2p "$M/checkpoint")
[ "$N" -gt 512 ] || fail "tree size $N (wanted above 512)"
cmp -s "$M/checkpoint" <(curl -s "$UA/api/v1/log/checkpoint") || fail "the two checkpoint routes differ"
# tpath LEVEL INDEX WIDTH: the tlog-tiles path (LEVEL "entries" for bundles)
tpath() {
  local n=$2 s="" g
  s=$(printf '%03d' $((n % 1000))); n=$((n / 1000))
  while [ "$n" -gt 0 ]; do g=$(printf 'x%03d' $((n % 1000))); s="$g/$s"; n=$((n / 1000)); done
  local p="tile/$1/$s"
  [ "$3" -lt 256 ] && p="$p.p/$3"
  echo "$p"
}
get() { # get REL: fetches $UA/log/REL into the mirror; status in $code
  mkdir -p "$(dirname "$M/$1")"
  code=$(curl -sS -o "$M/$1" -w '%{http_code}' "$UA/log/$1")
  [ "$code" = 200 ] || rm -f "$M/$1"
}
fetched=0
count=$N; level=0
while [ "$count" -gt 0 ]; do
  for ((n = 0; n * 256 < count; n++)); do
    w=$((count - n * 256)); [ "$w" -gt 256 ] && w=256
    get "$(tpath "$level" "$n" "$w")"; [ "$code" = 200 ] || fail "tile $level/$n width $w: $code"
    fetched=$((fetched + 1))
    if [ "$level" = 0 ]; then
      rel=$(tpath entries "$n" "$w")
      get "$rel"
      if [ "$code" = 404 ]; then get "truce/${rel#tile/}"; fi   # a bundle with a large entry
      [ "$code" = 200 ] || fail "bundle $n width $w: $code"
      fetched=$((fetched + 1))
    fi
  done
  count=$((count / 256)); level=$((level + 1))
done
[ "$level" -ge 2 ] || fail "no tile above level 0 was fetched"
"$T" log verify --export "$M" --key "$VKEY" >/dev/null || fail "the mirror does not verify"
# and with an independent reader: Go's golang.org/x/mod/sumdb/tlog (tests/interop/check_tiles.go)
# reads the mirror made over HTTP, when Go and Debian's golang-golang-x-mod-dev are installed
if command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ]; then
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  (cd "$D" && HOME=${HOME:-$D} GOCACHE=$D/gocache GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
     GOTOOLCHAIN=local go build -o "$D/check_tiles" "$ROOT/tests/interop/check_tiles.go") \
    || fail "cannot build check_tiles"
  out=$("$D/check_tiles" "$VKEY" "$M" 2>&1) || fail "Go rejects the mirror made over HTTP: $out"
  grep -q "^tiles interop: $N entries" <<<"$out" || fail "check_tiles: $out"
  gocheck="; Go's tlog reader agrees"
else
  gocheck="; Go not installed, independent reader skipped"
fi
# a tile that is not there yet, a non-canonical path, a partial tile wider than the tree
curl -s -o /dev/null -w '%{http_code}' "$UA/log/$(tpath 0 99 256)" | grep -q 404 || fail "tile beyond the tree"
curl -s -o /dev/null -w '%{http_code}' "$UA/log/tile/0/0" | grep -q 404 || fail "non-canonical path"
curl -s -o /dev/null -w '%{http_code}' "$UA/log/tile/00/000" | grep -q 404 || fail "leading zero level"
# a tampered mirror fails the verifier
cp -r "$M" "$D/bad"; printf 'X' | dd of="$D/bad/$(tpath 0 0 256)" bs=1 seek=100 conv=notrunc 2>/dev/null
! "$T" log verify --export "$D/bad" --key "$VKEY" >/dev/null 2>&1 || fail "a changed tile verified"

# ---- proofs ----
curl -sSf -o "$D/incl.json" "$UA/api/v1/log/proof/inclusion?leaf=3&size=$N" || fail "inclusion proof"
curl -sSf -o "$D/incl-obs.json" "$UA/api/v1/log/proof/inclusion?observation=5" || fail "inclusion by observation"
curl -sSf -o "$D/cons.json" "$UA/api/v1/log/proof/consistency?old=10&size=$N" || fail "consistency proof"
code=$(curl -s -o /dev/null -w '%{http_code}' "$UA/api/v1/log/proof/inclusion?leaf=$N")
[ "$code" = 400 ] || fail "leaf beyond the tree: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$UA/api/v1/log/proof/consistency?old=x")
[ "$code" = 400 ] || fail "bad old: $code"

# ---- the witness over HTTP ----
printf 'old 0\n\n' > "$D/req1"; cat "$M/checkpoint" >> "$D/req1"
code=$(curl -sS -o "$D/cosig1" -w '%{http_code}' --data-binary @"$D/req1" "$UW/add-checkpoint")
[ "$code" = 200 ] || fail "add-checkpoint: $code $(cat "$D/cosig1")"
grep -q '^— witness.test.example ' "$D/cosig1" || fail "no cosignature line: $(cat "$D/cosig1")"
code=$(curl -sS -o "$D/out" -D "$D/hdr" -w '%{http_code}' --data-binary @"$D/req1" "$UW/add-checkpoint")
[ "$code" = 409 ] || fail "stale old size: $code"
[ "$(cat "$D/out")" = "$N" ] || fail "409 body: $(cat "$D/out")"
grep -qi '^Content-Type: text/x.tlog.size' "$D/hdr" || fail "409 content type"
# the log grows through its API; the witness follows with a consistency proof from the log
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MON" \
  --data-binary "${good/CID/after-witness}" "$UA/api/v1/observations")
[ "$code" = 200 ] || fail "post: $code"
curl -sSf -o "$D/cp2" "$UA/log/checkpoint"
N2=$(sed -n 2p "$D/cp2"); [ "$N2" -gt "$N" ] || fail "the log did not grow"
curl -sSf -o "$D/c2.json" "$UA/api/v1/log/proof/consistency?old=$N&size=$N2"
{ echo "old $N"; grep -o '"proof":\[[^]]*\]' "$D/c2.json" | sed 's/"proof":\[//; s/\]//' | tr ',' '\n' | tr -d '"'
  echo; cat "$D/cp2"; } > "$D/req2"
# a forged proof (one hash changed) is refused
sed '2s/^./A/' "$D/req2" > "$D/req3"; cmp -s "$D/req2" "$D/req3" && sed -i '2s/^./B/' "$D/req3"
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$D/req3" "$UW/add-checkpoint")
[ "$code" = 422 ] || fail "forged proof: $code"
code=$(curl -sS -o "$D/cosig2" -w '%{http_code}' --data-binary @"$D/req2" "$UW/add-checkpoint")
[ "$code" = 200 ] || fail "add-checkpoint with proof: $code $(cat "$D/cosig2") -- $(cat "$D/req2")"
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary 'old 0' "$UW/add-checkpoint")
[ "$code" = 400 ] || fail "malformed request: $code"
# A is no witness
code=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$D/req1" "$UA/add-checkpoint")
[ "$code" = 404 ] || fail "add-checkpoint on a non-witness: $code"
stop "$PW"
# the log's operator hands the cosignature to the running log, which serves it with the checkpoint
{ echo "$WVKEY"; cat "$D/cosig1"; } > "$D/stale"
code=$(curl -sS -o "$D/out" -w '%{http_code}' -H "Authorization: Bearer $ADM" --data-binary @"$D/stale" \
  "$UA/api/v1/log/cosignatures")
[ "$code" = 422 ] || fail "a cosignature of an older checkpoint: $code $(cat "$D/out")"
{ echo "$WVKEY"; cat "$D/cosig2"; } > "$D/fresh"
code=$(curl -sS -o "$D/out" -w '%{http_code}' -H "Authorization: Bearer $MON" --data-binary @"$D/fresh" \
  "$UA/api/v1/log/cosignatures")
[ "$code" = 403 ] || fail "a monitor adds cosignatures: $code"
code=$(curl -sS -o "$D/out" -w '%{http_code}' -H "Authorization: Bearer $ADM" --data-binary @"$D/fresh" \
  "$UA/api/v1/log/cosignatures")
[ "$code" = 200 ] || fail "add the cosignature: $code $(cat "$D/out")"
grep -qF "{\"added\":1,\"size\":$N2}" "$D/out" || fail "cosignatures: $(cat "$D/out")"
curl -sSf "$UA/api/v1/log/checkpoint" | grep -q '^— witness.test.example ' || fail "checkpoint without the cosignature"
curl -sSf "$UA/log/checkpoint" | grep -q '^— witness.test.example ' || fail "/log/checkpoint without the cosignature"

# ---- compare with the offline tools (the server must be stopped: it holds the log) ----
stop "$PA"
"$T" --data "$A" log export "$D/export" >/dev/null
# the export is of the grown log (N2 entries): a tile of the mirror (size N) is either the same
# file there or the prefix of the wider tile at the same index (tiles only ever grow at the end)
compared=0
for f in $(cd "$M" && find tile truce -type f 2>/dev/null); do
  base=${f%.p/*}
  e=""
  for cand in "$D/export/$base" "$D/export/$base".p/*; do [ -f "$cand" ] && { e=$cand; break; }; done
  [ -n "$e" ] || fail "$f: no tile at its index in the export"
  cmp -s -n "$(stat -c %s "$M/$f")" "$M/$f" "$e" || fail "$f differs from the export's $e"
  compared=$((compared + 1))
done
[ "$compared" = "$fetched" ] || fail "compared $compared of $fetched files"
"$T" --data "$A" log proof inclusion --index 3 --size "$N" > "$D/incl.txt"
want=$(tail -n +2 "$D/incl.txt" | tr -d '\n')
got=""; for h in $(grep -o '"proof":\[[^]]*\]' "$D/incl.json" | sed 's/"proof":\[//; s/\]//' | tr ',' ' ' | tr -d '"'); do got="$got$(b64hex "$h")"; done
[ "$got" = "$want" ] || fail "inclusion proof differs from truce log proof: $got vs $want"
root=$(b64hex "$(grep -o '"root":"[^"]*"' "$D/incl.json" | cut -d'"' -f4)")
head -1 "$D/incl.txt" | grep -q " root $root\$" || fail "root differs: $root vs $(head -1 "$D/incl.txt")"
li=$(grep -o '"leaf_index":[0-9]*' "$D/incl-obs.json" | cut -d: -f2)
"$T" --data "$A" log proof inclusion --observation 5 --size "$N" | head -1 | grep -q "^inclusion index $li " \
  || fail "observation 5 is not leaf $li"
"$T" --data "$A" log proof consistency --old 10 --new "$N" > "$D/cons.txt"
want=$(tail -n +2 "$D/cons.txt" | tr -d '\n')
got=""; for h in $(grep -o '"proof":\[[^]]*\]' "$D/cons.json" | sed 's/"proof":\[//; s/\]//' | tr ',' ' ' | tr -d '"'); do got="$got$(b64hex "$h")"; done
[ "$got" = "$want" ] || fail "consistency proof differs from truce log proof"

# ---- the cosignature is in the log's stored checkpoint: verify, and served after a restart ----
"$T" --data "$A" log verify >/dev/null || fail "log verify after the cosignature"
grep -q '^— witness.test.example ' "$A/log/checkpoint" || fail "DIR/log/checkpoint lacks the cosignature"
start "$A" a2; UA=$U; PA=$SP
curl -sSf "$UA/log/checkpoint" | grep -q '^— witness.test.example ' || fail "cosignature lost on restart"
stop "$PA"
echo "ok: mirrored $fetched tiles and bundles of $N entries over HTTP, verified$gocheck; proofs match; witness cosigned $N and $N2"
