#!/usr/bin/env bash
# A checkpoint signed by truce verifies with Go's sumdb/note, and an inclusion proof of a stored
# observation verifies against it with sumdb/tlog; an altered checkpoint is rejected. Skipped
# (exit 0) only when `go` is not installed.
set -euo pipefail
NAME=interop_checkpoint
. "$(dirname "$0")/../interop/common.sh"
(cd "$D" && go build -o "$D/check" "$ROOT/tests/interop/check_checkpoint.go") || fail "cannot build the checker"
cd "$ROOT"
"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$D/data" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
key=$("$T" --data "$D/data" log key)
"$T" --data "$D/data" log checkpoint > "$D/checkpoint"
"$T" --data "$D/data" log proof inclusion --observation 7 > "$D/proof"
out=$("$D/check" "$key" "$D/checkpoint" "$D/proof") || fail "Go rejects truce's checkpoint or proof: $out"
echo "$out"
sed 's/^64$/65/' "$D/checkpoint" > "$D/altered"
if "$D/check" "$key" "$D/altered" "$D/proof" >/dev/null 2>&1; then fail "an altered checkpoint verified"; fi
echo ok
