#!/usr/bin/env bash
# A checkpoint signed by truce verifies with Go's sumdb/note, and an inclusion proof of a stored
# observation verifies against it with sumdb/tlog; an altered checkpoint is rejected. Skipped
# (exit 0) only when `go` is not installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=${TRUCE:-$ROOT/build/truce}
case $T in /*) ;; *) T=$PWD/$T ;; esac
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v go >/dev/null 2>&1; then
  echo "interop_checkpoint: skipped: go is not installed"; exit 0
fi
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
export HOME=${HOME:-$D} GOCACHE=$D/gocache GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local
(cd "$D" && go build -o "$D/check" "$ROOT/tests/interop/check_checkpoint.go") || fail "cannot build the checker"
cd "$ROOT"
"$T" init "$D/data" --agreement examples/minsk-2015/agreement.json >/dev/null
"$T" --data "$D/data" ingest --quiet examples/minsk-2015/observations.ndjson >/dev/null
key=$("$T" --data "$D/data" log key)
"$T" --data "$D/data" log checkpoint > "$D/checkpoint"
"$T" --data "$D/data" log proof inclusion --observation 7 > "$D/proof"
out=$("$D/check" "$key" "$D/checkpoint" "$D/proof") || fail "Go rejects truce's checkpoint or proof: $out"
echo "$out"
sed 's/^47$/48/' "$D/checkpoint" > "$D/altered"
if "$D/check" "$key" "$D/altered" "$D/proof" >/dev/null 2>&1; then fail "an altered checkpoint verified"; fi
echo ok
