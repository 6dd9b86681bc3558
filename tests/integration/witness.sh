#!/usr/bin/env bash
# Witnessing end to end: a log's checkpoints are cosigned by a witness (C2SP tlog-witness), the
# cosignature is stored and served with the checkpoint, a stale request gets 409 with the
# witness's size, and a split view (a copy of the log, with the same key, grown differently) is
# refused; the log exports as tlog-tiles that verify offline, and a tampered copy does not.
set -euo pipefail
T=${TRUCE:-./truce}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$T" init "$D/a" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$D/a" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
key=$("$T" --data "$D/a" log key)
origin=$(head -1 "$D/a/log/checkpoint")
"$T" witness init "$D/w" --name witness.example/w >/dev/null
wkey=$(cat "$D/w/witness.vkey")
cp -r "$D/a" "$D/b"   # the same log and key, to grow two ways
# first checkpoint: trust on first use
"$T" --data "$D/a" log witness-request --old 0 > "$D/req"
"$T" witness add-checkpoint "$D/w" --log "$origin=$key" < "$D/req" > "$D/resp" || fail "first checkpoint refused: $(cat "$D/resp")"
[ "$(head -1 "$D/resp")" = 200 ] || fail "status $(head -1 "$D/resp")"
"$T" --data "$D/a" log cosign --witness "$wkey" "$D/resp" | grep -q "added 1 cosignature" || fail "cosignature not added"
grep -q "^— witness.example/w " "$D/a/log/checkpoint" || fail "checkpoint served without the cosignature"
out=$("$T" --data "$D/a" log verify) || fail "verify after cosign: $out"
# the log grows; a stale request gets 409 and the witness's size, the right one is cosigned
printf '%s\n' "$(sed 's/smm-/grow-a-/' examples/minsk-2015/observations.ndjson)" > "$D/grow-a.ndjson"
"$T" --data "$D/a" ingest --quiet "$D/grow-a.ndjson" >/dev/null
"$T" --data "$D/a" log witness-request --old 0 > "$D/req"
set +e; "$T" witness add-checkpoint "$D/w" --log "$origin=$key" < "$D/req" > "$D/resp" 2>/dev/null; set -e
[ "$(head -2 "$D/resp" | tr '\n' ' ')" = "409 68 " ] || fail "stale request: $(cat "$D/resp")"
"$T" --data "$D/a" log witness-request --old 68 > "$D/req"
"$T" witness add-checkpoint "$D/w" --log "$origin=$key" < "$D/req" > "$D/resp" || fail "extension refused: $(cat "$D/resp")"
# split view: the copy grows with other records under the same key
printf '%s\n' "$(sed 's/smm-/grow-b-/; s/"count": 48/"count": 49/' examples/minsk-2015/observations.ndjson)" > "$D/grow-b.ndjson"
"$T" --data "$D/b" ingest --quiet "$D/grow-b.ndjson" >/dev/null
size_a=$("$T" --data "$D/a" log root | cut -d' ' -f1); size_b=$("$T" --data "$D/b" log root | cut -d' ' -f1)
[ "$size_a" = "$size_b" ] || fail "test set-up: sizes $size_a and $size_b differ"
"$T" --data "$D/b" log witness-request --old 68 > "$D/req"
set +e; "$T" witness add-checkpoint "$D/w" --log "$origin=$key" < "$D/req" > "$D/resp" 2>"$D/err"; rc=$?; set -e
[ "$rc" != 0 ] || fail "the witness cosigned a split view"
grep -q "^409" "$D/resp" || fail "split view answered $(head -1 "$D/resp"): $(cat "$D/err")"
# tiles: export, verify offline, tamper
"$T" --data "$D/a" log export "$D/export" | grep -q "exported" || fail "export"
"$T" log verify --export "$D/export" --key "$key" | grep -q "verified offline" || fail "offline verify"
f=$(find "$D/export" -path '*entries*' -type f | head -1)
printf 'X' | dd of="$f" bs=1 seek=40 conv=notrunc status=none
if "$T" log verify --export "$D/export" --key "$key" >/dev/null 2>&1; then fail "a tampered export verified"; fi
echo ok
