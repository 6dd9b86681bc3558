# common.sh: what the Go interoperability tests share, sourced by tests/integration/interop_*.sh
# with NAME set to the test's name. Sets ROOT, T (the truce under test), LIBDIR and LIB (its
# library), D (a temporary directory removed on exit), fail(); exits 0 with "skipped" when Go
# is not installed; sets cc, cflags, ldflags, ldlibs from the Makefile (with SAN=1 for the
# sanitizer build) for C programs linked against LIB; exports the environment that builds Go
# programs in GOPATH mode against Debian's packaged golang.org/x/mod (no module proxy).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=${TRUCE:-$ROOT/build/truce}
case $T in /*) ;; *) T=$PWD/$T ;; esac
LIBDIR=$(cd "$(dirname "$T")" && pwd)
LIB=$LIBDIR/libtruce.a
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v go >/dev/null 2>&1; then
  echo "$NAME: skipped: go is not installed (apt-get install golang-go golang-golang-x-mod-dev)"
  exit 0
fi
GOPATH_DEB=/usr/share/gocode
[ -d "$GOPATH_DEB/src/golang.org/x/mod/sumdb/tlog" ] ||
  fail "golang.org/x/mod/sumdb/tlog not in $GOPATH_DEB (apt-get install golang-golang-x-mod-dev)"
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
san=""
if [ "$(basename "$LIBDIR")" = build-san ]; then san="SAN=1"; fi
flags=$(make -s --no-print-directory -C "$ROOT" $san \
      --eval='interop-flags: ; @printf "%s\n" "$(CC)" "$(CFLAGS)" "$(LDFLAGS)" "$(LDLIBS)"' \
      interop-flags 2>/dev/null) && [ "$(wc -l <<<"$flags")" = 4 ] || fail "cannot read the Makefile's flags"
{ read -r cc; read -r cflags; read -r ldflags; read -r ldlibs; } <<<"$flags"
export HOME=${HOME:-$D} GOCACHE=$D/gocache GOPATH=$GOPATH_DEB GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local
