#!/usr/bin/env bash
# Interoperability of the ledger's RFC 6962 tree with an independent implementation, Go's
# golang.org/x/mod/sumdb/tlog (Debian: golang-go golang-golang-x-mod-dev, built in GOPATH mode
# from /usr/share/gocode, no network). tests/interop/emit_proofs.c, linked against the library
# of the build under test ($(dirname $TRUCE)/libtruce.a), prints leaf hashes, stored subtree
# nodes, roots and proofs of trees of 300 and 1030 leaves; tests/interop/check_tlog.go checks
# every one with tlog (RecordHash, StoredHashes, TreeHash, CheckRecord, CheckTree, and proofs
# byte-identical to ProveRecord/ProveTree). Then one proof hash is corrupted in the output and
# the checker must fail. Skipped (exit 0) only when `go` is not installed.
set -euo pipefail
NAME=interop_go
. "$(dirname "$0")/../interop/common.sh"
[ -f "$LIB" ] || fail "no library at $LIB (build first)"
# shellcheck disable=SC2086 # the flags are word lists
(cd "$ROOT" && $cc $cflags $ldflags -o "$D/emit_proofs" tests/interop/emit_proofs.c "$LIB" $ldlibs) ||
  fail "cannot build emit_proofs against $LIB"

# The checker, in GOPATH mode against Debian's packaged source (common.sh).
(cd "$D" && go build -o "$D/check_tlog" "$ROOT/tests/interop/check_tlog.go") || fail "cannot build check_tlog"

for n in 300 1030; do
  TMPDIR=$D "$D/emit_proofs" "$n" >"$D/proofs-$n.txt" || fail "emit_proofs $n failed"
  out=$("$D/check_tlog" "$D/proofs-$n.txt" 2>&1) || { printf '%s\n' "$out"; fail "tlog rejects truce's tree of $n leaves"; }
  grep -q '^tlog interop: [0-9]* inclusion, [0-9]* consistency proofs verified' <<<"$out" ||
    fail "no summary from check_tlog: $out"
  echo "$n leaves: $out"
done

# Negative checks: one hex digit changed in one proof hash must make tlog's verifier refuse it.
corrupt() { # corrupt KIND: copies proofs-300.txt with the first hash of the 40th KIND proof
            # (that has hashes) changed
  awk -v kind="$1" '
    !done && $1 == kind && $4 > 0 && ++seen == 40 {
      c = substr($5, 1, 1); $5 = (c == "0" ? "1" : "0") substr($5, 2); done = 1 }
    { print } END { exit !done }' "$D/proofs-300.txt" >"$D/bad-$1.txt" || fail "no $1 proof to corrupt"
  cmp -s "$D/proofs-300.txt" "$D/bad-$1.txt" && fail "corrupting a $1 proof changed nothing"
  if out=$("$D/check_tlog" "$D/bad-$1.txt" 2>&1); then fail "check_tlog accepted a corrupted $1 proof: $out"; fi
  grep -q "$2" <<<"$out" || fail "check_tlog failed without naming $2: $out"
  echo "corrupted $1 proof rejected: $(grep -m1 "$2" <<<"$out")"
}
corrupt incl 'tlog.CheckRecord: invalid transparency proof'
corrupt cons 'tlog.CheckTree: invalid transparency proof'
echo "interop_go: ok"
