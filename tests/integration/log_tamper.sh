#!/usr/bin/env bash
# The transparency log catches what a party with write access to the store might try: one byte
# of a stored record changed, a record deleted, two records swapped, the log truncated; each is
# detected by `truce log verify` and named by its leaf. A log that merely lost its uncommitted
# tail is repaired on open.
set -euo pipefail
T=${TRUCE:-./truce}
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v sqlite3 >/dev/null || { echo "skipped: no sqlite3 command"; exit 0; }
fresh() {
  rm -rf "$D/data"
  "$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
  "$T" --data "$D/data" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
}
expect_fail() { # expect_fail WORDS...: verify must fail and its message contain WORDS
  set +e; out=$("$T" --data "$D/data" log verify 2>&1); rc=$?; set -e
  [ "$rc" != 0 ] || fail "verify passed after: $1"
  grep -qF -- "$2" <<<"$out" || fail "after $1, expected \"$2\" in: $out"
}
fresh
out=$("$T" --data "$D/data" log verify) || fail "a fresh store does not verify: $out"
# 47 leaves of the agreement, observations and findings, then the 17 incident versions fusion
# logged once per incident at the commit (docs/log-format.md), then 4 escalation alerts
grep -q "68 leaves recomputed" <<<"$out" || fail "unexpected: $out"
# one byte of a stored observation's raw record
sqlite3 "$D/data/truce.db" "UPDATE observations SET raw = replace(raw, '\"count\": 48', '\"count\": 47') WHERE client_id = 'smm-2016-10-10-B2'"
expect_fail "changing one byte" "leaf 3: observation 2 does not match its logged leaf"
# a finding deleted
fresh
sqlite3 "$D/data/truce.db" "DELETE FROM findings WHERE id = 5"
expect_fail "deleting a finding" "no stored record has this index"
# two observations swapped (their contents exchanged)
fresh
sqlite3 "$D/data/truce.db" "UPDATE observations SET raw = CASE id WHEN 3 THEN (SELECT raw FROM observations WHERE id = 4) ELSE (SELECT raw FROM observations WHERE id = 3) END WHERE id IN (3, 4)"
expect_fail "swapping two records" "does not match its logged leaf"
# an alert's level lowered after it was logged
fresh
sqlite3 "$D/data/truce.db" "UPDATE alerts SET level = 'notice' WHERE id = 2"
expect_fail "changing an alert" "leaf 65: alert 2 does not match its logged leaf"
# the log truncated by 5 leaves (whole hashes): refused on open
fresh
truncate -s $((63 * 32)) "$D/data/log/leaves"
expect_fail "truncating the log" "the log holds 63 leaves but the store recorded 68"
# a leaf hash rewritten in the log file: verify names the leaf, and no checkpoint that would
# contradict the one signed after ingest is ever signed
fresh
printf '\x00\x01\x02\x03' | dd of="$D/data/log/leaves" bs=1 seek=$((10 * 32)) conv=notrunc status=none
rm -f "$D/data/log/leaves.nodes"
expect_fail "rewriting a leaf hash in the log" "leaf 10: finding 5 does not match its logged leaf"
set +e; out=$("$T" --data "$D/data" log checkpoint 2>&1); rc=$?; set -e
[ "$rc" != 0 ] || fail "a checkpoint was signed over a rewritten log"
grep -qF "no longer hash to the root signed in the newest checkpoint" <<<"$out" || fail "unexpected: $out"
# an uncommitted tail (a crash after the log sync, before the store commit) is cut on open
fresh
head -c 64 /dev/urandom >> "$D/data/log/leaves"
out=$("$T" --data "$D/data" log verify) || fail "a surplus tail was not repaired: $out"
grep -q "tree size 68" <<<"$out" || fail "unexpected after repair: $out"
echo ok
