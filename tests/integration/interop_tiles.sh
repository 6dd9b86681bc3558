#!/usr/bin/env bash
# Interoperability of truce's tlog-tiles export (src/tiles) with an independent reader, Go's
# golang.org/x/mod/sumdb/note and sumdb/tlog (Debian: golang-go golang-golang-x-mod-dev, built
# in GOPATH mode from /usr/share/gocode, no network). A small C program written below and linked
# against the library of the build under test ($(dirname $TRUCE)/libtruce.a) builds ledgers of
# 0, 1, 256, 1300 (with entries above 65535 bytes) and 65540 leaves, signs checkpoints and exports
# them with tiles_export (1300 incrementally, over an export of 1000);
# tests/interop/check_tiles.go then checks each export with tlog.TileHashReader, tlog.TreeHash,
# tlog.RecordHash and tlog.HashFromTile. Then a changed level-0 hash, level-1 hash and entry
# byte must each make the checker fail. Skipped (exit 0) only when `go` is not installed.
set -euo pipefail
NAME=interop_tiles
. "$(dirname "$0")/../interop/common.sh"
[ -f "$LIB" ] || fail "no library at $LIB (build first)"

cat >"$D/emit_tiles.c" <<'EOF'
/* emit_tiles DIR N [M]: a ledger of N leaves ("entry %d", and entries of 70000 and 65535 bytes
 * at 3 and 400), exported to DIR/export with a signed checkpoint (first at M leaves when M is
 * given: an incremental export); prints the verifier key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "note/note.h"
#include "tiles/tiles.h"

static int entry(void *ctx, uint64_t i, struct buf *b, struct errbuf *e)
{
    (void)ctx;
    b->len = 0;
    size_t n = i == 3 ? 70000 : i == 400 ? 65535 : 0;
    if (buf_printf(b, "entry %llu", (unsigned long long)i)) return errf(e, ERR_NOMEM, "oom");
    while (b->len < n)
        if (buf_append(b, &"abcdefghijklmnopqrstuvwxyz"[(b->len * 7 + i) % 26], 1))
            return errf(e, ERR_NOMEM, "oom");
    return 0;
}

static void die(const struct errbuf *e)
{
    fprintf(stderr, "emit_tiles: %s\n", e->msg);
    exit(1);
}

static void export(struct ledger_tree *t, struct note_signer *s, uint64_t n, const char *out)
{
    struct errbuf e;
    struct ledger_hash root;
    if (ledger_root(t, n, &root, &e)) die(&e);
    struct note_checkpoint cp = {.origin = "interop.example/tiles", .size = n};
    memcpy(cp.hash, root.b, 32);
    struct buf text, note;
    buf_init(&text);
    buf_init(&note);
    if (note_checkpoint_format(&cp, &text, &e) || note_sign(text.p, text.len, &s, 1, &note, &e))
        die(&e);
    struct tiles_stats st;
    if (tiles_export(t, n, entry, NULL, note.p, note.len, out, 0, &st, &e)) die(&e);
    fprintf(stderr, "exported %llu: %llu tiles written, %llu kept, %llu bundles written\n",
            (unsigned long long)n, (unsigned long long)st.tiles_written,
            (unsigned long long)st.tiles_kept, (unsigned long long)st.bundles_written);
    buf_reset(&text);
    buf_reset(&note);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s/leaves", argv[1]);
    snprintf(out, sizeof out, "%s/export", argv[1]);
    uint64_t n = strtoull(argv[2], NULL, 10), m = argc > 3 ? strtoull(argv[3], NULL, 10) : n;
    char skey[NOTE_SKEY_SIZE], vkey[NOTE_VKEY_SIZE];
    struct errbuf e;
    struct note_signer *s;
    struct ledger_tree *t;
    if (note_key_generate("interop.example/tiles", NOTE_KEY_ED25519, skey, vkey, &e) ||
        note_signer_parse(skey, &s, &e) || ledger_open(path, true, &t, &e))
        die(&e);
    struct buf b;
    buf_init(&b);
    for (uint64_t i = 0; i < n; i++)
        if (entry(NULL, i, &b, &e) || ledger_append(t, b.p, b.len, NULL, &e)) die(&e);
    buf_reset(&b);
    if (m < n) export(t, s, m, out);
    export(t, s, n, out);
    printf("%s\n", vkey);
    ledger_close(t);
    note_signer_free(s);
    return 0;
}
EOF
# shellcheck disable=SC2086 # the flags are word lists
(cd "$ROOT" && $cc $cflags $ldflags -o "$D/emit_tiles" "$D/emit_tiles.c" "$LIB" $ldlibs) ||
  fail "cannot build emit_tiles against $LIB"

(cd "$D" && go build -o "$D/check_tiles" "$ROOT/tests/interop/check_tiles.go") || fail "cannot build check_tiles"

for spec in 0 1 256 1000:1300 65540; do
  n=${spec#*:}; m=${spec%%:*}
  mkdir "$D/t$n"
  key=$("$D/emit_tiles" "$D/t$n" "$n" "$m" 2>"$D/emit-$n.log") || { cat "$D/emit-$n.log"; fail "emit_tiles $n failed"; }
  out=$("$D/check_tiles" "$key" "$D/t$n/export" 2>&1) || { printf '%s\n' "$out"; fail "Go rejects truce's export of $n entries"; }
  grep -q "^tiles interop: $n entries" <<<"$out" || fail "no summary from check_tiles: $out"
  echo "$n entries: $out"
done
[ -f "$D/t1300/export/truce/entries/000" ] || fail "no truce/entries bundle for the 70000-byte entry"
[ -f "$D/t1300/export/tile/entries/001" ] || fail "no spec bundle for entries 256..511 (65535 bytes fits)"

# Negative checks on copies of the export of 1300: each change must make the checker fail.
mkdir "$D/neg"
KEY=$("$D/emit_tiles" "$D/neg" 1300 2>"$D/emit-neg.log") || { cat "$D/emit-neg.log"; fail "emit_tiles failed"; }
flip() { # flip FILE OFFSET: one byte changed in a copy of the export
  rm -rf "$D/bad"; cp -r "$D/neg/export" "$D/bad"
  python3 - "$D/bad/$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[off] ^= 1; open(p, 'wb').write(b)
PY
  if out=$("$D/check_tiles" "$KEY" "$D/bad" 2>&1); then fail "check_tiles accepted a changed $1: $out"; fi
  echo "changed $1 rejected: $out"
}
flip tile/0/001 100
flip tile/1/000.p/5 40
flip tile/entries/002 20
echo "interop_tiles: ok"
