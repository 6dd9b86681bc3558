/* test_tiles.c: the C2SP tlog-tiles export (src/tiles): tile paths, an export of a ledger of
 * 1,000 then 1,300 leaves (incremental: which tiles are kept and which written), offline
 * verification with the checkpoint and verifier key only, the tree shapes of 0, 1, 256 and
 * 65,540 leaves (a level-2 tile) checked against the ledger's roots, entries longer than the
 * spec's 2-byte length (truce/entries bundles), and tampering: a changed entry byte, a changed
 * level-0 and level-1 hash, a deleted bundle, a truncated checkpoint, a checkpoint signed by
 * another key, each detected and named. Files go to a fresh directory under $TMPDIR (default
 * /tmp), removed at the end. */
#define _XOPEN_SOURCE 700
#include "t.h"
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "note/note.h"
#include "tiles/tiles.h"

static char tmpdir[512];
static char skey[NOTE_SKEY_SIZE], vkey[NOTE_VKEY_SIZE];
static char other_skey[NOTE_SKEY_SIZE], other_vkey[NOTE_VKEY_SIZE];
static struct note_signer *signer, *other;
#define ORIGIN "truce.example/ceasefire"

/* Length of entry i: most are "entry %d"; a few are long (two above the spec's 65535 bytes, one
 * of exactly 65535 and one of 65536). */
static size_t long_len(uint64_t i)
{
    switch (i) {
    case 5: return 70000;
    case 700: return 200000;
    case 1290: return 65535;
    case 1291: return 65536;
    default: return 0;
    }
}

static int make_entry(uint64_t i, struct buf *b)
{
    b->len = 0;
    size_t n = long_len(i);
    if (!n) return buf_printf(b, "entry %llu", (unsigned long long)i);
    if (buf_printf(b, "long entry %llu:", (unsigned long long)i)) return ERR_NOMEM;
    while (b->len < n) {
        char c = (char)('a' + (b->len * 7 + i) % 26);
        if (buf_append(b, &c, 1)) return ERR_NOMEM;
    }
    return 0;
}

struct source {
    int64_t wrong; /* index whose bytes are changed, or -1 */
    int64_t fail;  /* index whose callback fails, or -1 */
    uint64_t calls;
};

static int entry_cb(void *ctx, uint64_t index, struct buf *out, struct errbuf *e)
{
    struct source *s = ctx;
    s->calls++;
    if ((int64_t)index == s->fail) return errf(e, ERR_DB, "store: record %llu unreadable",
                                               (unsigned long long)index);
    if (make_entry(index, out)) return errf(e, ERR_NOMEM, "out of memory");
    if ((int64_t)index == s->wrong) out->p[0] ^= 1;
    return 0;
}

static void path_in(char *out, size_t n, const char *sub, const char *rel)
{
    snprintf(out, n, "%s/%s%s%s", tmpdir, sub, rel ? "/" : "", rel ? rel : "");
}

/* Appends leaves until the tree has n. */
static void grow(struct ledger_tree *t, uint64_t n)
{
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    for (uint64_t i = ledger_size(t); i < n; i++) {
        CHECK_INT(make_entry(i, &b), 0);
        int rc = ledger_append(t, b.p, b.len, NULL, &e);
        if (rc) {
            CHECK_STR(e.msg, "");
            break;
        }
    }
    buf_reset(&b);
}

/* A checkpoint of t at size n signed by s. */
static void sign_cp(struct ledger_tree *t, uint64_t n, struct note_signer *s, struct buf *out)
{
    struct errbuf e;
    struct ledger_hash root;
    CHECK_INT(ledger_root(t, n, &root, &e), 0);
    struct note_checkpoint cp = {.origin = ORIGIN, .size = n};
    memcpy(cp.hash, root.b, sizeof cp.hash);
    struct buf text;
    buf_init(&text);
    CHECK_INT(note_checkpoint_format(&cp, &text, &e), 0);
    out->len = 0;
    CHECK_INT(note_sign(text.p, text.len, &s, 1, out, &e), 0);
    buf_reset(&text);
}

static int do_export(struct ledger_tree *t, uint64_t n, const char *sub, unsigned flags,
                     struct source *src, struct tiles_stats *st, struct errbuf *e)
{
    char dir[1024];
    path_in(dir, sizeof dir, sub, NULL);
    struct buf cp;
    buf_init(&cp);
    sign_cp(t, n, signer, &cp);
    int rc = tiles_export(t, n, entry_cb, src, cp.p, cp.len, dir, flags, st, e);
    buf_reset(&cp);
    return rc;
}

static int do_verify(const char *sub, const char *key, uint64_t *size, struct ledger_hash *root,
                     int64_t *bad, struct errbuf *e)
{
    char dir[1024];
    path_in(dir, sizeof dir, sub, NULL);
    return tiles_verify(dir, key, size, root, bad, e);
}

static bool exists(const char *sub, const char *rel)
{
    char p[1024];
    path_in(p, sizeof p, sub, rel);
    struct stat st;
    return stat(p, &st) == 0;
}

static size_t slurp(const char *sub, const char *rel, char **data)
{
    char p[1024];
    path_in(p, sizeof p, sub, rel);
    size_t len = 0;
    struct errbuf e;
    *data = NULL;
    if (file_read(p, 64u << 20, data, &len, &e)) CHECK_STR(e.msg, "");
    return len;
}

static void spill(const char *sub, const char *rel, const char *data, size_t len)
{
    char p[1024];
    path_in(p, sizeof p, sub, rel);
    struct errbuf e;
    if (file_write_atomic(p, data, len, &e)) CHECK_STR(e.msg, "");
}

/* ---- tests ---- */

static void test_paths(void)
{
    char p[TILES_PATH_MAX];
    CHECK_INT(tiles_path(p, sizeof p, 0, 1234067, 256), 0);
    CHECK_STR(p, "tile/0/x001/x234/067");
    CHECK_INT(tiles_path(p, sizeof p, 0, 1234067, 8), 0);
    CHECK_STR(p, "tile/0/x001/x234/067.p/8");
    CHECK_INT(tiles_path(p, sizeof p, 1, 0, 17), 0);
    CHECK_STR(p, "tile/1/000.p/17");
    CHECK_INT(tiles_path(p, sizeof p, 2, 1000, 256), 0);
    CHECK_STR(p, "tile/2/x001/000");
    CHECK_INT(tiles_path(p, sizeof p, 63, 999, 255), 0);
    CHECK_STR(p, "tile/63/999.p/255");
    CHECK_INT(tiles_path(p, sizeof p, TILES_LEVEL_ENTRIES, 3, 256), 0);
    CHECK_STR(p, "tile/entries/003");
    CHECK_INT(tiles_path(p, sizeof p, TILES_LEVEL_ENTRIES, 1000000, 1), 0);
    CHECK_STR(p, "tile/entries/x001/x000/000.p/1");
    CHECK_INT(tiles_path(p, sizeof p, TILES_LEVEL_LARGE_ENTRIES, 12, 40), 0);
    CHECK_STR(p, "truce/entries/012.p/40");
    CHECK_INT(tiles_path(p, sizeof p, TILES_LEVEL_ENTRIES, UINT64_MAX, 255), 0);
    CHECK_STR(p, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
    CHECK_INT(tiles_path(p, sizeof p, 0, 0, 0), ERR_INVAL);
    CHECK_INT(tiles_path(p, sizeof p, 0, 0, 257), ERR_INVAL);
    CHECK_INT(tiles_path(p, sizeof p, 64, 0, 1), ERR_INVAL);
    CHECK_INT(tiles_path(p, sizeof p, -3, 0, 1), ERR_INVAL);
    CHECK_INT(tiles_path(p, 10, 0, 1234067, 8), ERR_INVAL);
}

static struct ledger_tree *open_tree(const char *name, uint64_t n)
{
    char p[1024];
    path_in(p, sizeof p, name, NULL);
    struct ledger_tree *t = NULL;
    struct errbuf e;
    if (ledger_open(p, true, &t, &e)) {
        CHECK_STR(e.msg, "");
        return NULL;
    }
    grow(t, n);
    return t;
}

/* tiles_path_parse is the inverse of tiles_path and takes only canonical spellings. */
static void test_path_parse(void)
{
    static const struct {
        const char *path;
        int level;
        uint64_t index;
        unsigned width;
    } OK[] = {
        {"tile/0/x001/x234/067", 0, 1234067, 256},
        {"tile/0/x001/x234/067.p/8", 0, 1234067, 8},
        {"tile/63/999.p/255", 63, 999, 255},
        {"tile/entries/003", TILES_LEVEL_ENTRIES, 3, 256},
        {"truce/entries/012.p/40", TILES_LEVEL_LARGE_ENTRIES, 12, 40},
        {"tile/entries/x018/x446/x744/x073/x709/x551/615.p/255", TILES_LEVEL_ENTRIES, UINT64_MAX,
         255},
    };
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        int level = 99;
        uint64_t index = 0;
        unsigned width = 0;
        CHECK_INT(tiles_path_parse(OK[i].path, &level, &index, &width), 0);
        CHECK_INT(level, OK[i].level);
        CHECK(index == OK[i].index);
        CHECK_INT(width, OK[i].width);
    }
    static const char *const BAD[] = {
        "", "tile/", "tile/0/0", "tile/0/00", "tile/0/0000", "tile/00/000", "tile/64/000",
        "tile/0/x000/001", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/08",
        "tile/0/000.p/", "tile/0/000/", "tile/0/x001", "tile/-1/000", "tile/entries/000.p/1x",
        "truce/tile/0/000", "tile/entries/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x001/x002/x003/x004/x005/x006/x007/000", "tile/0/001\n", "/tile/0/000",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        int level = 99;
        uint64_t index = 7;
        unsigned width = 7;
        if (tiles_path_parse(BAD[i], &level, &index, &width) != ERR_PARSE)
            T_FAIL_("\"%s\" parsed", BAD[i]);
        CHECK(level == 99 && index == 7 && width == 7);
    }
}

/* What a server computes with tiles_tile and tiles_bundle is byte for byte what tiles_export
 * wrote, for every tile and bundle of an export of 1,000 leaves (full, partial, level 1, large
 * bundles); tiles beyond the tree are ERR_NOTFOUND. */
static void test_served_tiles_match_export(void)
{
    struct ledger_tree *t = open_tree("served.leaves", 1000);
    if (!t) return;
    struct errbuf e = {{0}};
    struct tiles_stats st;
    struct source src = {-1, -1, 0};
    CHECK_INT(do_export(t, 1000, "served", 0, &src, &st, &e), 0);
    struct buf b;
    buf_init(&b);
    static const struct {
        int level;
        uint64_t index;
        unsigned width;
    } TILES[] = {{0, 0, 256}, {0, 2, 256}, {0, 3, 232}, {1, 0, 3},
                 {TILES_LEVEL_ENTRIES, 1, 256}, {TILES_LEVEL_ENTRIES, 3, 232},
                 {TILES_LEVEL_LARGE_ENTRIES, 0, 256}, {TILES_LEVEL_LARGE_ENTRIES, 2, 256}};
    for (size_t i = 0; i < sizeof TILES / sizeof TILES[0]; i++) {
        char rel[TILES_PATH_MAX], *data;
        CHECK_INT(tiles_path(rel, sizeof rel, TILES[i].level, TILES[i].index, TILES[i].width), 0);
        size_t len = slurp("served", rel, &data);
        bool large = false;
        int rc = TILES[i].level >= 0
                     ? tiles_tile(t, 1000, TILES[i].level, TILES[i].index, TILES[i].width, &b, &e)
                     : tiles_bundle(t, 1000, TILES[i].index, TILES[i].width, entry_cb, &src, &b,
                                    &large, &e);
        CHECK_INT(rc, 0);
        if (b.len != len || memcmp(b.p, data, len))
            T_FAIL_("%s: served %zu bytes, exported %zu (or other bytes)", rel, b.len, len);
        if (TILES[i].level < 0)
            CHECK_INT(large, TILES[i].level == TILES_LEVEL_LARGE_ENTRIES);
        free(data);
    }
    /* a narrower partial tile is a prefix of the wider one */
    CHECK_INT(tiles_tile(t, 1000, 0, 3, 10, &b, &e), 0);
    CHECK_INT(b.len, 320);
    CHECK_INT(tiles_tile(t, 1000, 0, 3, 233, &b, &e), ERR_NOTFOUND);
    CHECK_INT(tiles_tile(t, 1000, 0, 4, 1, &b, &e), ERR_NOTFOUND);
    CHECK_INT(tiles_tile(t, 1000, 1, 0, 4, &b, &e), ERR_NOTFOUND);
    CHECK_INT(tiles_tile(t, 1000, 2, 0, 1, &b, &e), ERR_NOTFOUND);
    CHECK_INT(tiles_tile(t, 1000, 0, UINT64_MAX, 256, &b, &e), ERR_NOTFOUND);
    CHECK_INT(tiles_bundle(t, 1000, 3, 233, entry_cb, &src, &b, NULL, &e), ERR_NOTFOUND);
    /* a record that does not match the log is not served */
    src.wrong = 300;
    bool large;
    CHECK_INT(tiles_bundle(t, 1000, 1, 256, entry_cb, &src, &b, &large, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "entry 300");
    buf_reset(&b);
    ledger_close(t);
}

/* Export of 1,000 then 1,300 leaves; verification; the incremental counts. */
static void test_export_incremental(void)
{
    struct ledger_tree *t = open_tree("main.leaves", 1000);
    if (!t) return;
    struct errbuf e = {{0}};
    struct tiles_stats st;
    struct source src = {-1, -1, 0};

    /* 1000 = 3 * 256 + 232: level 0 has 3 full tiles and one of 232; level 1 one of 3. Bundles
     * 0 (entry 5) and 2 (entry 700) hold entries above 65535 bytes. */
    CHECK_INT(do_export(t, 1000, "exp", 0, &src, &st, &e), 0);
    CHECK_STR(e.msg, "");
    CHECK_INT(st.tiles_written, 5);
    CHECK_INT(st.tiles_kept, 0);
    CHECK_INT(st.bundles_written, 4);
    CHECK_INT(st.large_bundles, 2);
    CHECK_INT(st.entries_read, 1000);
    CHECK(exists("exp", "tile/0/000") && exists("exp", "tile/0/002"));
    CHECK(exists("exp", "tile/0/003.p/232") && exists("exp", "tile/1/000.p/3"));
    CHECK(exists("exp", "truce/entries/000") && !exists("exp", "tile/entries/000"));
    CHECK(exists("exp", "tile/entries/001") && exists("exp", "truce/entries/002"));
    CHECK(exists("exp", "tile/entries/003.p/232") && exists("exp", "checkpoint"));

    uint64_t size = 0;
    struct ledger_hash root, want;
    int64_t bad = 7;
    CHECK_INT(do_verify("exp", vkey, &size, &root, &bad, &e), 0);
    CHECK_STR(e.msg, "");
    CHECK_INT(size, 1000);
    CHECK_INT(bad, -1);
    CHECK_INT(ledger_root(t, 1000, &want, &e), 0);
    CHECK(ledger_hash_eq(&root, &want));

    /* The spec's bundle encoding, byte for byte: entry 256 is "entry 256" after 00 09. */
    char *data;
    size_t len = slurp("exp", "tile/entries/001", &data);
    CHECK(len > 11 && memcmp(data, "\x00\x09" "entry 256\x00\x09" "entry 257", 22) == 0);
    free(data);
    /* The level-0 tile holds the leaf hashes. */
    len = slurp("exp", "tile/0/001", &data);
    CHECK_INT(len, 8192);
    struct ledger_hash h;
    CHECK_INT(ledger_leaf(t, 256 + 9, &h, &e), 0);
    CHECK(len == 8192 && memcmp(data + 9 * 32, h.b, 32) == 0);
    free(data);

    /* 1300 = 5 * 256 + 20: tiles 0-2 kept, 3 and 4 full now, 5 partial, level 1 of 5; bundles
     * 0-2 kept without reading the store; bundle 5 has entry 1291 (65536 bytes). */
    grow(t, 1300);
    src.calls = 0;
    CHECK_INT(do_export(t, 1300, "exp", 0, &src, &st, &e), 0);
    CHECK_STR(e.msg, "");
    CHECK_INT(st.tiles_written, 4);
    CHECK_INT(st.tiles_kept, 3);
    CHECK_INT(st.bundles_written, 3);
    CHECK_INT(st.bundles_kept, 3);
    CHECK_INT(st.large_bundles, 1);
    CHECK_INT(st.entries_read, 1300 - 768);
    CHECK_INT(src.calls, 1300 - 768);
    CHECK(exists("exp", "tile/0/003.p/232")); /* superseded partial tiles stay */
    CHECK(exists("exp", "tile/0/005.p/20") && exists("exp", "truce/entries/005.p/20"));
    CHECK(exists("exp", "tile/1/000.p/5"));
    CHECK_INT(do_verify("exp", vkey, &size, &root, &bad, &e), 0);
    CHECK_STR(e.msg, "");
    CHECK_INT(size, 1300);
    CHECK_INT(ledger_root(t, 1300, &want, &e), 0);
    CHECK(ledger_hash_eq(&root, &want));

    /* Again at the same size: nothing but the checkpoint is written; with the check flag the
     * bundles are re-read and compared, still without the store. */
    src.calls = 0;
    CHECK_INT(do_export(t, 1300, "exp", TILES_EXPORT_CHECK, &src, &st, &e), 0);
    CHECK_INT(st.tiles_written, 0);
    CHECK_INT(st.tiles_kept, 7);
    CHECK_INT(st.bundles_written, 0);
    CHECK_INT(st.bundles_kept, 6);
    CHECK_INT(src.calls, 0);

    /* A checkpoint that is not for this tree, a smaller export over a larger one, a size beyond
     * the log: refused before anything is written. */
    struct buf cp;
    buf_init(&cp);
    sign_cp(t, 1299, signer, &cp);
    char dir[1024];
    path_in(dir, sizeof dir, "exp", NULL);
    CHECK_INT(tiles_export(t, 1300, entry_cb, &src, cp.p, cp.len, dir, 0, &st, &e),
              ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "checkpoint to export");
    CHECK_INT(do_export(t, 1000, "exp", 0, &src, &st, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "already holds a checkpoint of 1300 entries");
    CHECK_INT(tiles_export(t, 1301, entry_cb, &src, cp.p, cp.len, dir, 0, &st, &e), ERR_INVAL);
    CHECK_INT(tiles_export(t, 1300, entry_cb, &src, "no note", 7, dir, 0, &st, &e), ERR_PARSE);
    buf_reset(&cp);

    /* A hash tile in the way with other bytes: named, not overwritten. */
    len = slurp("exp", "tile/0/001", &data);
    data[100] ^= 1;
    spill("exp", "tile/0/001", data, len);
    CHECK_INT(do_export(t, 1300, "exp", 0, &src, &st, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "tile/0/001: differs from the tile computed from the log");
    data[100] ^= 1;
    spill("exp", "tile/0/001", data, len);
    free(data);
    /* A bundle with a changed entry is found by the check flag. */
    len = slurp("exp", "tile/entries/004", &data);
    data[5] ^= 1;
    spill("exp", "tile/entries/004", data, len);
    CHECK_INT(do_export(t, 1300, "exp", 0, &src, &st, &e), 0);
    CHECK_INT(do_export(t, 1300, "exp", TILES_EXPORT_CHECK, &src, &st, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "tile/entries/004: entry 1024 does not have the log's leaf hash");
    data[5] ^= 1;
    spill("exp", "tile/entries/004", data, len);
    free(data);

    /* Records that do not match the log, a failing store: named by index. */
    struct source wrong = {333, -1, 0}, failing = {-1, 40, 0};
    CHECK_INT(do_export(t, 1300, "exp-wrong", 0, &wrong, &st, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "entry 333: its bytes do not have the log's leaf hash");
    CHECK(!exists("exp-wrong", "checkpoint"));
    CHECK_INT(do_export(t, 1300, "exp-fail", 0, &failing, &st, &e), ERR_DB);
    CHECK_CONTAINS(e.msg, "record 40 unreadable");
    ledger_close(t);
}

/* Each change to the export of test_export_incremental (1,300 leaves) is found and named; the
 * export is restored after each. */
static void expect_bad(int want_rc, int64_t want_bad, const char *want_msg, const char *why)
{
    struct errbuf e = {{0}};
    uint64_t size = 0;
    struct ledger_hash root;
    int64_t bad = 12345;
    int rc = do_verify("exp", vkey, &size, &root, &bad, &e);
    if (rc != want_rc || bad != want_bad || !strstr(e.msg, want_msg))
        T_FAIL_("%s: rc %d bad %lld msg \"%s\"; wanted rc %d bad %lld msg with \"%s\"", why, rc,
                (long long)bad, e.msg, want_rc, (long long)want_bad, want_msg);
}

static void test_tamper(void)
{
    char *data;
    size_t len;
    struct errbuf e;
    int64_t bad;
    uint64_t size;
    struct ledger_hash root;
    CHECK_INT(do_verify("exp", vkey, &size, &root, &bad, &e), 0);

    /* One byte of entry 300 (the 45th of bundle 1: 44 entries "entry 256".."entry 299" of 11
     * bytes with their length before it). */
    len = slurp("exp", "tile/entries/001", &data);
    size_t off = 44 * 11 + 2 + 6;
    CHECK(data[off] == '3');
    data[off] ^= 1;
    spill("exp", "tile/entries/001", data, len);
    expect_bad(ERR_CONFLICT, 300, "entry 300: its leaf hash", "changed entry");
    expect_bad(ERR_CONFLICT, 300, "the entries are wrong", "changed entry, diagnosis");
    data[off] ^= 1;
    spill("exp", "tile/entries/001", data, len);
    free(data);

    /* One byte of the long entry 700 in truce/entries/002. */
    len = slurp("exp", "truce/entries/002", &data);
    data[len - 1000] ^= 0x20;
    spill("exp", "truce/entries/002", data, len);
    expect_bad(ERR_CONFLICT, 700, "entry 700: its leaf hash", "changed long entry");
    data[len - 1000] ^= 0x20;
    spill("exp", "truce/entries/002", data, len);
    free(data);

    /* Hash 10 of level-0 tile 2 (entry 522). */
    len = slurp("exp", "tile/0/002", &data);
    data[10 * 32 + 3] ^= 1;
    spill("exp", "tile/0/002", data, len);
    expect_bad(ERR_CONFLICT, 522, "differs from hash 10 of", "changed level-0 hash");
    expect_bad(ERR_CONFLICT, 522, "the hash tiles are wrong", "changed level-0 hash, diagnosis");
    data[10 * 32 + 3] ^= 1;
    spill("exp", "tile/0/002", data, len);
    free(data);

    /* Hash 2 of the level-1 tile (entries 512..767). */
    len = slurp("exp", "tile/1/000.p/5", &data);
    data[2 * 32] ^= 0x80;
    spill("exp", "tile/1/000.p/5", data, len);
    expect_bad(ERR_CONFLICT, 512, "tile/1/000.p/5: hash 2 (entries 512..767)",
               "changed level-1 hash");
    data[2 * 32] ^= 0x80;
    spill("exp", "tile/1/000.p/5", data, len);
    free(data);

    /* A deleted bundle: its entries are named. */
    len = slurp("exp", "tile/entries/003", &data);
    char p[1024];
    path_in(p, sizeof p, "exp", "tile/entries/003");
    CHECK_INT(unlink(p), 0);
    expect_bad(ERR_NOTFOUND, 768, "entries 768..1023: ", "deleted bundle");
    expect_bad(ERR_NOTFOUND, 768, "tile/entries/003: missing", "deleted bundle, file");
    /* A bundle cut short, or with a byte more. */
    spill("exp", "tile/entries/003", data, len - 1);
    expect_bad(ERR_PARSE, 768, "entry 1023: truncated", "short bundle");
    char *longer = malloc(len + 1);
    memcpy(longer, data, len);
    longer[len] = 0;
    spill("exp", "tile/entries/003", longer, len + 1);
    expect_bad(ERR_PARSE, 768, "bytes after its 256 entries", "long bundle");
    free(longer);
    spill("exp", "tile/entries/003", data, len);
    free(data);

    /* A deleted hash tile stops the scan. */
    len = slurp("exp", "tile/0/004", &data);
    path_in(p, sizeof p, "exp", "tile/0/004");
    CHECK_INT(unlink(p), 0);
    expect_bad(ERR_NOTFOUND, 1024, "tile/0/004: missing", "deleted tile");
    spill("exp", "tile/0/004", data, len);
    free(data);

    /* The checkpoint truncated, signed by another key, or read with another key. */
    len = slurp("exp", "checkpoint", &data);
    spill("exp", "checkpoint", data, len / 2);
    expect_bad(ERR_PARSE, -1, "checkpoint", "truncated checkpoint");
    spill("exp", "checkpoint", data, len - 10);
    {
        struct errbuf e2;
        int rc = do_verify("exp", vkey, &size, &root, &bad, &e2);
        CHECK(rc != 0);
        CHECK_CONTAINS(e2.msg, "checkpoint");
    }
    struct buf note;
    buf_init(&note);
    const char *blank = strstr(data, "\n\n");
    CHECK(blank != NULL);
    if (blank) {
        CHECK_INT(note_sign(data, (size_t)(blank - data) + 1, &other, 1, &note, &e), 0);
        spill("exp", "checkpoint", note.p, note.len);
        expect_bad(ERR_NOTFOUND, -1, "not signed by " ORIGIN, "other signer");
    }
    buf_reset(&note);
    spill("exp", "checkpoint", data, len);
    CHECK_INT(do_verify("exp", other_vkey, &size, &root, &bad, &e), ERR_NOTFOUND);
    CHECK_INT(do_verify("exp", "not a key", &size, &root, &bad, &e), ERR_PARSE);
    CHECK_CONTAINS(e.msg, "verifier key");
    path_in(p, sizeof p, "nothing-here", NULL);
    CHECK_INT(tiles_verify(p, vkey, &size, &root, &bad, &e), ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "checkpoint: missing");
    free(data);

    /* A checkpoint whose root is not the entries' (signed by the right key). */
    {
        struct note_checkpoint cp = {.origin = ORIGIN, .size = 1300};
        memset(cp.hash, 0x42, sizeof cp.hash);
        struct buf text, signed_cp;
        buf_init(&text);
        buf_init(&signed_cp);
        CHECK_INT(note_checkpoint_format(&cp, &text, &e), 0);
        CHECK_INT(note_sign(text.p, text.len, &signer, 1, &signed_cp, &e), 0);
        len = slurp("exp", "checkpoint", &data);
        spill("exp", "checkpoint", signed_cp.p, signed_cp.len);
        expect_bad(ERR_CONFLICT, -1, "its root differs from the root", "wrong root");
        spill("exp", "checkpoint", data, len);
        free(data);
        buf_reset(&text);
        buf_reset(&signed_cp);
    }
    e.msg[0] = 0;
    CHECK_INT(do_verify("exp", vkey, &size, &root, &bad, &e), 0);
    CHECK_STR(e.msg, "");
}

/* Shapes: 0, 1, 256 leaves and 65,540 (three levels; level 2 of width 1), each verified. */
static void test_shapes(void)
{
    struct ledger_tree *t = open_tree("shapes.leaves", 0);
    if (!t) return;
    static const uint64_t sizes[] = {0, 1, 256, 257, 65540};
    struct errbuf e = {{0}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint64_t n = sizes[k];
        grow(t, n);
        char sub[32];
        snprintf(sub, sizeof sub, "shape-%llu", (unsigned long long)n);
        struct source src = {-1, -1, 0};
        struct tiles_stats st;
        CHECK_INT(do_export(t, n, sub, 0, &src, &st, &e), 0);
        CHECK_STR(e.msg, "");
        uint64_t size = 99;
        struct ledger_hash root, want;
        int64_t bad;
        CHECK_INT(do_verify(sub, vkey, &size, &root, &bad, &e), 0);
        CHECK_STR(e.msg, "");
        CHECK_INT(size, n);
        CHECK_INT(ledger_root(t, n, &want, &e), 0);
        CHECK(ledger_hash_eq(&root, &want));
        if (n == 0) CHECK_INT(st.tiles_written + st.bundles_written, 0);
        if (n == 256) {
            CHECK(exists(sub, "tile/0/000") && exists(sub, "tile/1/000.p/1"));
            CHECK_INT(st.tiles_written, 2);
        }
        if (n == 65540) {
            /* 256 full level-0 tiles and one of 4; one full level-1 tile; level 2 of width 1. */
            CHECK(exists(sub, "tile/0/255") && exists(sub, "tile/0/256.p/4"));
            CHECK(exists(sub, "tile/1/000") && exists(sub, "tile/2/000.p/1"));
            CHECK(!exists(sub, "tile/1/001.p/1"));
            CHECK_INT(st.tiles_written, 259);
            /* A missing tile above level 0 is named (its entries: all those under it). */
            char p[1024];
            path_in(p, sizeof p, sub, "tile/2/000.p/1");
            CHECK_INT(unlink(p), 0);
            CHECK_INT(do_verify(sub, vkey, &size, &root, &bad, &e), ERR_NOTFOUND);
            CHECK_CONTAINS(e.msg, "tile/2/000.p/1: missing");
            CHECK_INT(bad, 0);
        }
    }
    ledger_close(t);
}

/* The spec lets a client read a partial tile from the full one when the partial is gone: an
 * export of 1,300 is verified at an older checkpoint of 1,000 whose partial tiles of 232 were
 * deleted. */
static void test_partial_fallback(void)
{
    char from[1024];
    struct ledger_tree *t = open_tree("fb.leaves", 1000);
    if (!t) return;
    struct errbuf e = {{0}};
    struct source src = {-1, -1, 0};
    struct tiles_stats st;
    CHECK_INT(do_export(t, 1000, "fb", 0, &src, &st, &e), 0);
    char *old_cp;
    size_t old_len = slurp("fb", "checkpoint", &old_cp);
    grow(t, 1300);
    CHECK_INT(do_export(t, 1300, "fb", 0, &src, &st, &e), 0);
    spill("fb", "checkpoint", old_cp, old_len);
    free(old_cp);
    path_in(from, sizeof from, "fb", "tile/0/003.p/232");
    CHECK_INT(unlink(from), 0);
    path_in(from, sizeof from, "fb", "tile/entries/003.p/232");
    CHECK_INT(unlink(from), 0);
    uint64_t size;
    struct ledger_hash root, want;
    int64_t bad;
    CHECK_INT(do_verify("fb", vkey, &size, &root, &bad, &e), 0);
    CHECK_STR(e.msg, "");
    CHECK_INT(size, 1000);
    CHECK_INT(ledger_root(t, 1000, &want, &e), 0);
    CHECK(ledger_hash_eq(&root, &want));
    /* A truce/entries bundle that the spec's encoding could hold is refused: bundle 1 written
     * with 4-byte lengths in its place. */
    char *spec;
    size_t spec_len = slurp("fb", "tile/entries/001", &spec);
    struct buf wide;
    buf_init(&wide);
    for (size_t at = 0; at + 2 <= spec_len;) {
        size_t n = (size_t)(unsigned char)spec[at] << 8 | (unsigned char)spec[at + 1];
        unsigned char hdr[4] = {0, 0, (unsigned char)(n >> 8), (unsigned char)n};
        CHECK_INT(buf_append(&wide, hdr, 4), 0);
        CHECK_INT(buf_append(&wide, spec + at + 2, n), 0);
        at += 2 + n;
    }
    free(spec);
    path_in(from, sizeof from, "fb", "tile/entries/001");
    CHECK_INT(unlink(from), 0);
    spill("fb", "truce/entries/001", wide.p, wide.len);
    buf_reset(&wide);
    CHECK_INT(do_verify("fb", vkey, &size, &root, &bad, &e), ERR_PARSE);
    CHECK_CONTAINS(e.msg, "belongs in tile/entries/001");
    CHECK_INT(bad, 256);
    ledger_close(t);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_tiles.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    struct errbuf e;
    if (note_key_generate(ORIGIN, NOTE_KEY_ED25519, skey, vkey, &e) ||
        note_key_generate(ORIGIN, NOTE_KEY_ED25519, other_skey, other_vkey, &e) ||
        note_signer_parse(skey, &signer, &e) || note_signer_parse(other_skey, &other, &e)) {
        fprintf(stderr, "keys: %s\n", e.msg);
        return 1;
    }
    static const struct t_case cases[] = {
        T(test_paths),
        T(test_export_incremental),
        T(test_tamper),
        T(test_shapes),
        T(test_partial_fallback),
        T(test_path_parse),
        T(test_served_tiles_match_export),
    };
    int rc = T_RUN(cases);
    note_signer_free(signer);
    note_signer_free(other);
    note_wipe(skey, sizeof skey);
    note_wipe(other_skey, sizeof other_skey);
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
