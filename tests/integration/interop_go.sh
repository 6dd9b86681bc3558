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
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=${TRUCE:-$ROOT/build/truce}
case $T in /*) ;; *) T=$PWD/$T ;; esac
LIBDIR=$(cd "$(dirname "$T")" && pwd)
LIB=$LIBDIR/libtruce.a
fail() { echo "FAIL: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1; then
  echo "interop_go: skipped: go is not installed (apt-get install golang-go golang-golang-x-mod-dev)"
  exit 0
fi
[ -f "$LIB" ] || fail "no library at $LIB (build first)"
GOPATH_DEB=/usr/share/gocode
[ -d "$GOPATH_DEB/src/golang.org/x/mod/sumdb/tlog" ] ||
  fail "golang.org/x/mod/sumdb/tlog not in $GOPATH_DEB (apt-get install golang-golang-x-mod-dev)"

D=$(mktemp -d); trap 'rm -rf "$D"' EXIT

# The compiler and flags of the Makefile (SAN=1 when the library is the sanitizer build, so
# emit_proofs is instrumented the same way); a fallback from the PKGS line if make cannot say.
san=""
if [ "$(basename "$LIBDIR")" = build-san ] || nm -A "$LIB" 2>/dev/null | grep -c ' U __asan_init' >/dev/null; then
  san="SAN=1"
fi
if flags=$(make -s --no-print-directory -C "$ROOT" $san \
      --eval='interop-flags: ; @printf "%s\n" "$(CC)" "$(CFLAGS)" "$(LDFLAGS)" "$(LDLIBS)"' \
      interop-flags 2>/dev/null) && [ "$(wc -l <<<"$flags")" = 4 ]; then
  { read -r cc; read -r cflags; read -r ldflags; read -r ldlibs; } <<<"$flags"
else
  pkgs=$(sed -n 's/^PKGS *:= *//p' "$ROOT/Makefile")
  cc=${CC:-cc}
  cflags="-pthread -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Isrc $(pkg-config --cflags $pkgs)"
  ldflags=""
  [ -n "$san" ] && { cflags="$cflags -fsanitize=address,undefined -fno-sanitize-recover=all"; ldflags="-fsanitize=address,undefined"; }
  ldlibs="$(pkg-config --libs $pkgs) -lm -pthread"
fi
# shellcheck disable=SC2086 # the flags are word lists
(cd "$ROOT" && $cc $cflags $ldflags -o "$D/emit_proofs" tests/interop/emit_proofs.c "$LIB" $ldlibs) ||
  fail "cannot build emit_proofs against $LIB"

# The checker, in GOPATH mode against Debian's packaged source (no module proxy).
export HOME=${HOME:-$D} GOCACHE=$D/gocache GOPATH=$GOPATH_DEB GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local
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
