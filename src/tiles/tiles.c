/* tiles.c: C2SP tlog-tiles export of the ledger and offline verification of an export (see
 * tiles.h for the contract, docs/internals/tiles.md for the layout and decisions).
 *
 * Both directions walk the tree level by level. Level 0 goes tile by tile over the leaves (the
 * ledger's leaf hashes when exporting, the entry bundles and level-0 tiles when verifying); the
 * Merkle tree hash of each full tile is kept in one array, which is the content of the level
 * above, and is folded in place for each higher level (the hash of full tile n of a level is
 * written at position n, which the walk has already read). */
#include "tiles/tiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "note/note.h"

#define HB LEDGER_HASH_BYTES
#define TILE_BYTES (TILES_WIDTH * HB)
#define FULL_PATH_MAX 4096
#define PENDING_DIRS 32 /* directories awaiting fsync before the checkpoint */

/* ---- paths ---- */

int tiles_path(char *out, size_t n, int level, uint64_t index, unsigned width)
{
    if (width < 1 || width > TILES_WIDTH || level > TILES_MAX_LEVEL ||
        level < TILES_LEVEL_LARGE_ENTRIES || n < 8)
        return ERR_INVAL;
    char idx[40]; /* "x018/x446/x744/x073/x709/x551/615" at most: 7 elements of 4 or 3 */
    char groups[7][4];
    int ng = 0;
    uint64_t v = index;
    do {
        snprintf(groups[ng++], sizeof groups[0], "%03u", (unsigned)(v % 1000));
        v /= 1000;
    } while (v);
    size_t k = 0;
    for (int g = ng - 1; g >= 0; g--)
        k += (size_t)snprintf(idx + k, sizeof idx - k, g ? "x%s/" : "%s", groups[g]);
    const char *pre = level == TILES_LEVEL_ENTRIES         ? "tile/entries/"
                      : level == TILES_LEVEL_LARGE_ENTRIES ? "truce/entries/"
                                                           : NULL;
    int w;
    if (pre)
        w = snprintf(out, n, "%s%s", pre, idx);
    else
        w = snprintf(out, n, "tile/%d/%s", level, idx);
    if (w >= 0 && (size_t)w < n && width < TILES_WIDTH)
        w += snprintf(out + w, n - (size_t)w, ".p/%u", width);
    return (w < 0 || (size_t)w >= n) ? ERR_INVAL : 0;
}

/* Reads up to 3 decimal digits at *p into *v: exactly `exact` of them, or at least one when
 * exact is 0. */
static bool digits(const char **p, unsigned exact, uint64_t *v)
{
    unsigned n = 0;
    uint64_t x = 0;
    while (n < 3 && **p >= '0' && **p <= '9') {
        x = x * 10 + (uint64_t)(**p - '0');
        (*p)++;
        n++;
    }
    *v = x;
    return exact ? n == exact : n > 0;
}

int tiles_path_parse(const char *rel, int *level, uint64_t *index, unsigned *width)
{
    size_t len = strnlen(rel, TILES_PATH_MAX);
    if (len >= TILES_PATH_MAX)
        return ERR_PARSE;
    const char *p = rel;
    int lv;
    if (!strncmp(p, "tile/entries/", 13)) {
        lv = TILES_LEVEL_ENTRIES;
        p += 13;
    } else if (!strncmp(p, "truce/entries/", 14)) {
        lv = TILES_LEVEL_LARGE_ENTRIES;
        p += 14;
    } else if (!strncmp(p, "tile/", 5)) {
        p += 5;
        uint64_t l;
        if (!digits(&p, 0, &l) || *p != '/' || l > TILES_MAX_LEVEL)
            return ERR_PARSE;
        lv = (int)l;
        p++;
    } else {
        return ERR_PARSE;
    }
    uint64_t idx = 0, g;
    for (int groups = 0;; groups++) {
        bool x = *p == 'x';
        p += x;
        if (groups >= 7 || !digits(&p, 3, &g))
            return ERR_PARSE;
        if (idx > (UINT64_MAX - g) / 1000)
            return ERR_PARSE;
        idx = idx * 1000 + g;
        if (!x)
            break;
        if (*p++ != '/')
            return ERR_PARSE;
    }
    uint64_t w = TILES_WIDTH;
    if (*p == '.') {
        if (strncmp(p, ".p/", 3))
            return ERR_PARSE;
        p += 3;
        if (!digits(&p, 0, &w) || w < 1 || w >= TILES_WIDTH)
            return ERR_PARSE;
    }
    if (*p)
        return ERR_PARSE;
    /* only the canonical spelling (no leading zeros in the level or width, no surplus x group) */
    char again[TILES_PATH_MAX];
    if (tiles_path(again, sizeof again, lv, idx, (unsigned)w) || strcmp(again, rel))
        return ERR_PARSE;
    *level = lv;
    *index = idx;
    *width = (unsigned)w;
    return 0;
}

static int WUR join(char *out, const char *dir, const char *rel, struct errbuf *e)
{
    if (path_join(out, FULL_PATH_MAX, dir, rel))
        return errf(e, ERR_INVAL, "%s/%s: path too long", dir, rel);
    return 0;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* ---- the Merkle tree hash of a stream of leaf hashes (O(log n) memory) ---- */

struct mth_acc {
    struct ledger_hash peak[64]; /* roots of the perfect subtrees so far, largest first */
    int npeak;
    uint64_t n;
};

static void acc_push(struct mth_acc *a, const struct ledger_hash *leaf)
{
    struct ledger_hash h = *leaf;
    for (uint64_t i = a->n; i & 1; i >>= 1)
        ledger_node_hash(&a->peak[--a->npeak], &h, &h);
    a->peak[a->npeak++] = h;
    a->n++;
}

static void acc_root(const struct mth_acc *a, struct ledger_hash *out)
{
    if (a->n == 0) {
        ledger_empty_root(out);
        return;
    }
    *out = a->peak[a->npeak - 1];
    for (int j = a->npeak - 2; j >= 0; j--)
        ledger_node_hash(&a->peak[j], out, out);
}

/* Leaf hash of b's bytes (an empty buffer may have no memory). */
static void leaf_of(const struct buf *b, struct ledger_hash *out)
{
    ledger_leaf_hash(b->p ? b->p : "", b->len, out);
}

/* ---- reading files of an export ---- */

/* Reads the hash tile file path into h (w hashes). exact: the file must hold exactly w hashes;
 * otherwise it is a full tile whose first w hashes are taken. Returns 0, ERR_NOTFOUND (no file),
 * ERR_PARSE (wrong length), ERR_IO. */
static int WUR read_tile_file(const char *path, unsigned w, bool exact, struct ledger_hash *h,
                              struct errbuf *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return errf(e, ERR_NOTFOUND, "%s: missing", path);
        return errf(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    unsigned char data[TILE_BYTES];
    size_t want = exact ? (size_t)w * HB : TILE_BYTES, got = 0;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = errf(e, ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != want) {
        rc = errf(e, ERR_PARSE, "%s: holds %lld bytes, a tile of %u hashes has %zu", path,
                  (long long)st.st_size, exact ? w : TILES_WIDTH, want);
    } else {
        while (got < want) {
            ssize_t r = read(fd, data + got, want - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                rc = errf(e, ERR_IO, "%s: read failed: %s", path,
                          r < 0 ? strerror(errno) : "file shrank");
                break;
            }
            got += (size_t)r;
        }
    }
    close(fd);
    if (!rc) memcpy(h, data, (size_t)w * HB);
    return rc;
}

/* Reads the next entry of a bundle (lenbytes 2 or 4) into b. Returns 1 with an entry, 0 at the
 * end of the file, or ERR_PARSE (a truncated entry), ERR_TOOBIG, ERR_IO, ERR_NOMEM. */
static int WUR bundle_next(FILE *f, int lenbytes, const char *path, uint64_t index, struct buf *b,
                           struct errbuf *e)
{
    unsigned char hdr[4];
    size_t r = fread(hdr, 1, (size_t)lenbytes, f);
    if (r == 0 && !ferror(f)) return 0;
    if (r != (size_t)lenbytes)
        return ferror(f) ? errf(e, ERR_IO, "%s: read failed", path)
                         : errf(e, ERR_PARSE, "%s: entry %llu: truncated length", path,
                                (unsigned long long)index);
    uint64_t len = 0;
    for (int i = 0; i < lenbytes; i++)
        len = len << 8 | hdr[i];
    if (len > TILES_MAX_ENTRY_BYTES)
        return errf(e, ERR_TOOBIG, "%s: entry %llu: %llu bytes, above the limit of %u", path,
                    (unsigned long long)index, (unsigned long long)len, TILES_MAX_ENTRY_BYTES);
    b->len = 0;
    char chunk[65536];
    while (len) {
        size_t want = len < sizeof chunk ? (size_t)len : sizeof chunk;
        size_t got = fread(chunk, 1, want, f);
        if (got && buf_append(b, chunk, got))
            return errf(e, ERR_NOMEM, "%s: entry %llu: out of memory", path,
                        (unsigned long long)index);
        if (got < want)
            return ferror(f) ? errf(e, ERR_IO, "%s: read failed", path)
                             : errf(e, ERR_PARSE, "%s: entry %llu: truncated (%zu bytes short)",
                                    path, (unsigned long long)index, (size_t)(len - got));
        len -= got;
    }
    return 1;
}

/* Reads w entries of the bundle file path (lenbytes 2 or 4) whose first entry is leaf first,
 * into their leaf hashes h. exact: the file must end after them (a partial bundle of width w, or
 * a full one when w == 256); otherwise it is a full bundle of which the first w are taken.
 * *large (may be NULL) tells whether an entry above TILES_MAX_SPEC_ENTRY was seen. Returns 0,
 * ERR_NOTFOUND (no file), ERR_PARSE, ERR_TOOBIG, ERR_IO, ERR_NOMEM. */
static int WUR read_bundle_file(const char *path, int lenbytes, uint64_t first, unsigned w,
                                bool exact, struct ledger_hash *h, bool *large, struct buf *b,
                                struct errbuf *e)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return errf(e, ERR_NOTFOUND, "%s: missing", path);
        return errf(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    int rc = 0;
    bool big = false;
    for (unsigned i = 0; i < w && !rc; i++) {
        rc = bundle_next(f, lenbytes, path, first + i, b, e);
        if (rc == 0)
            rc = errf(e, ERR_PARSE, "%s: holds %u entries, %u expected", path, i,
                      exact ? w : TILES_WIDTH);
        else if (rc == 1) {
            rc = 0;
            leaf_of(b, &h[i]);
            big |= b->len > TILES_MAX_SPEC_ENTRY;
        }
    }
    if (!rc && exact && fgetc(f) != EOF)
        rc = errf(e, ERR_PARSE, "%s: bytes after its %u entries", path, w);
    fclose(f);
    if (large) *large = big;
    return rc;
}

/* ---- export ---- */

struct exporter {
    struct ledger_tree *t;
    tiles_entry_fn entry;
    void *ctx;
    const char *dir;
    unsigned flags;
    struct tiles_stats *st;
    struct errbuf *e;
    struct buf ent, bundle;
    char pending[PENDING_DIRS][TILES_PATH_MAX]; /* relative directories to fsync ("" = dir) */
    int npending;
};

static int WUR fsync_dir(const char *path, struct errbuf *e)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errf(e, ERR_IO, "%s: cannot open directory: %s", path, strerror(errno));
    int rc = fsync(fd) ? errf(e, ERR_IO, "%s: fsync failed: %s", path, strerror(errno)) : 0;
    close(fd);
    return rc;
}

static int WUR flush_dirs(struct exporter *x)
{
    char full[FULL_PATH_MAX];
    for (int i = 0; i < x->npending; i++) {
        int rc = join(full, x->dir, x->pending[i][0] ? x->pending[i] : ".", x->e);
        if (!rc) rc = fsync_dir(full, x->e);
        if (rc) return rc;
    }
    x->npending = 0;
    return 0;
}

/* Notes that the directory holding rel (relative to the export) changed. */
static int WUR dir_changed(struct exporter *x, const char *rel)
{
    char d[TILES_PATH_MAX];
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    memcpy(d, rel, n);
    d[n] = 0;
    for (int i = 0; i < x->npending; i++)
        if (strcmp(x->pending[i], d) == 0) return 0;
    if (x->npending == PENDING_DIRS) {
        int rc = flush_dirs(x);
        if (rc) return rc;
    }
    memcpy(x->pending[x->npending++], d, n + 1);
    return 0;
}

/* Creates the directories leading to rel. */
static int WUR make_parents(struct exporter *x, const char *rel)
{
    char full[FULL_PATH_MAX];
    int rc = join(full, x->dir, rel, x->e);
    if (rc) return rc;
    size_t skip = strlen(full) - strlen(rel);
    for (char *p = full + skip; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        if (mkdir(full, 0755) == 0) {
            rc = dir_changed(x, full + skip);
        } else if (errno != EEXIST) {
            rc = errf(x->e, ERR_IO, "%s: cannot create directory: %s", full, strerror(errno));
        }
        *p = '/';
        if (rc) return rc;
    }
    return 0;
}

/* Writes data to rel atomically: temporary file, fsync, rename; the directory is fsynced before
 * the checkpoint is written. */
static int WUR write_file(struct exporter *x, const char *rel, const void *data, size_t n)
{
    char full[FULL_PATH_MAX], tmp[FULL_PATH_MAX + 32];
    int rc = join(full, x->dir, rel, x->e);
    if (rc) return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", full, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        rc = make_parents(x, rel);
        if (rc) return rc;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd < 0) return errf(x->e, ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    for (size_t left = n; left && !rc;) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            rc = errf(x->e, ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        } else {
            p += w;
            left -= (size_t)w;
        }
    }
    if (!rc && fsync(fd) != 0)
        rc = errf(x->e, ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = errf(x->e, ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, full) != 0)
        rc = errf(x->e, ERR_IO, "%s: rename failed: %s", full, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (x->st) x->st->bytes_written += n;
    return dir_changed(x, rel);
}

/* Writes the hash tile (level, index) of w hashes h, unless a file with the same bytes is
 * already there; another file there is ERR_CONFLICT. */
static int WUR put_tile(struct exporter *x, int level, uint64_t index,
                        const struct ledger_hash *h, unsigned w)
{
    char rel[TILES_PATH_MAX], full[FULL_PATH_MAX];
    if (tiles_path(rel, sizeof rel, level, index, w))
        return errf(x->e, ERR_INVAL, "tile %d/%llu: no path", level, (unsigned long long)index);
    int rc = join(full, x->dir, rel, x->e);
    if (rc) return rc;
    struct ledger_hash old[TILES_WIDTH];
    struct errbuf e2;
    rc = read_tile_file(full, w, true, old, &e2);
    if (rc == ERR_NOTFOUND) {
        rc = write_file(x, rel, h, (size_t)w * HB);
        if (!rc && x->st) x->st->tiles_written++;
        return rc;
    }
    if (rc) return errf(x->e, rc == ERR_PARSE ? ERR_CONFLICT : rc, "%s", e2.msg);
    if (memcmp(old, h, (size_t)w * HB) != 0)
        return errf(x->e, ERR_CONFLICT,
                    "%s: differs from the tile computed from the log (remove the export, or "
                    "this file, and export again)",
                    full);
    if (x->st) x->st->tiles_kept++;
    return 0;
}

/* Encodes the bundle of the w entries from leaf first, whose leaf hashes must be h, fetched
 * through entry (ent is scratch) into bundle: 2-byte lengths, or 4-byte ones (*large) when some
 * entry is above TILES_MAX_SPEC_ENTRY. */
static int WUR encode_bundle(tiles_entry_fn entry, void *ctx, uint64_t first,
                             const struct ledger_hash *h, unsigned w, struct buf *ent,
                             struct buf *bundle, bool *large_out, uint64_t *entries_read,
                             struct errbuf *e)
{
    /* Built with 4-byte lengths, rewritten with 2-byte ones when every entry fits. */
    bundle->len = 0;
    bool large = false;
    for (unsigned i = 0; i < w; i++) {
        ent->len = 0;
        int rc = entry(ctx, first + i, ent, e);
        if (entries_read) (*entries_read)++;
        if (rc) return rc;
        if (ent->len > TILES_MAX_ENTRY_BYTES)
            return errf(e, ERR_TOOBIG, "entry %llu: %zu bytes, above the limit of %u",
                        (unsigned long long)(first + i), ent->len, TILES_MAX_ENTRY_BYTES);
        struct ledger_hash lh;
        leaf_of(ent, &lh);
        if (!ledger_hash_eq(&lh, &h[i]))
            return errf(e, ERR_CONFLICT,
                        "entry %llu: its bytes do not have the log's leaf hash (the records "
                        "and the log differ: run truce log verify)",
                        (unsigned long long)(first + i));
        large |= ent->len > TILES_MAX_SPEC_ENTRY;
        unsigned char hdr[4];
        put_be(hdr, ent->len, 4);
        if (buf_append(bundle, hdr, 4) || buf_append(bundle, ent->p ? ent->p : "", ent->len))
            return errf(e, ERR_NOMEM, "bundle of entry %llu: out of memory",
                        (unsigned long long)first);
    }
    if (!large) { /* in place: each 2-byte entry lands before its 4-byte source */
        unsigned char *p = (unsigned char *)bundle->p;
        size_t in = 0, out = 0;
        while (in < bundle->len) {
            size_t len = (size_t)p[in] << 24 | (size_t)p[in + 1] << 16 |
                         (size_t)p[in + 2] << 8 | p[in + 3];
            put_be(p + out, len, 2);
            memmove(p + out + 2, p + in + 4, len);
            in += 4 + len;
            out += 2 + len;
        }
        bundle->len = out;
    }
    if (large_out) *large_out = large;
    return 0;
}

/* Writes the entry bundle of tile index (w entries with leaf hashes h) unless one is there. */
static int WUR put_bundle(struct exporter *x, uint64_t index, const struct ledger_hash *h,
                          unsigned w)
{
    char rel[TILES_PATH_MAX], big_rel[TILES_PATH_MAX], full[FULL_PATH_MAX];
    uint64_t first = index * TILES_WIDTH;
    if (tiles_path(rel, sizeof rel, TILES_LEVEL_ENTRIES, index, w) ||
        tiles_path(big_rel, sizeof big_rel, TILES_LEVEL_LARGE_ENTRIES, index, w))
        return errf(x->e, ERR_INVAL, "bundle %llu: no path", (unsigned long long)index);
    for (int k = 0; k < 2; k++) {
        int rc = join(full, x->dir, k ? big_rel : rel, x->e);
        if (rc) return rc;
        struct stat st;
        if (lstat(full, &st) != 0) continue;
        if (x->flags & TILES_EXPORT_CHECK) {
            struct ledger_hash got[TILES_WIDTH];
            rc = read_bundle_file(full, k ? 4 : 2, first, w, true, got, NULL, &x->ent, x->e);
            if (rc) return rc;
            for (unsigned i = 0; i < w; i++)
                if (!ledger_hash_eq(&got[i], &h[i]))
                    return errf(x->e, ERR_CONFLICT,
                                "%s: entry %llu does not have the log's leaf hash (remove the "
                                "file and export again)",
                                full, (unsigned long long)(first + i));
        }
        if (x->st) x->st->bundles_kept++;
        return 0;
    }
    bool large = false;
    int rc = encode_bundle(x->entry, x->ctx, first, h, w, &x->ent, &x->bundle, &large,
                           x->st ? &x->st->entries_read : NULL, x->e);
    if (rc) return rc;
    rc = write_file(x, large ? big_rel : rel, x->bundle.p ? x->bundle.p : "", x->bundle.len);
    if (!rc && x->st) {
        x->st->bundles_written++;
        x->st->large_bundles += large;
    }
    return rc;
}

/* The checkpoint body of a signed note: the text up to the blank line. */
static int WUR checkpoint_of_note(const char *note, size_t len, const char *what,
                                  struct note_checkpoint *cp, struct errbuf *e)
{
    if (len > NOTE_MAX_BYTES) return errf(e, ERR_TOOBIG, "%s: larger than a note may be", what);
    size_t text = 0;
    for (size_t i = 0; i + 1 < len && !text; i++)
        if (note[i] == '\n' && note[i + 1] == '\n') text = i + 1;
    if (!text) return errf(e, ERR_PARSE, "%s: not a signed note (no blank line)", what);
    int rc = note_checkpoint_parse(note, text, cp, e);
    if (rc) errprefix(e, "%s", what);
    return rc;
}

/* Refuses to replace a checkpoint in the export for a larger tree. */
static int WUR check_old_checkpoint(const char *dir, uint64_t size, struct errbuf *e)
{
    char path[FULL_PATH_MAX];
    int rc = join(path, dir, TILES_CHECKPOINT_NAME, e);
    if (rc) return rc;
    if (access(path, F_OK) != 0) return 0;
    char *old = NULL;
    size_t len = 0;
    struct errbuf e2;
    struct note_checkpoint cp;
    if (file_read(path, NOTE_MAX_BYTES, &old, &len, &e2) == 0 &&
        checkpoint_of_note(old, len, path, &cp, &e2) == 0 && cp.size > size)
        rc = errf(e, ERR_CONFLICT,
                  "%s: the export already holds a checkpoint of %llu entries; refusing to "
                  "replace it with one of %llu",
                  path, (unsigned long long)cp.size, (unsigned long long)size);
    free(old);
    return rc;
}

static int WUR export_levels(struct exporter *x, uint64_t size)
{
    struct errbuf *e = x->e;
    uint64_t nfull = size / TILES_WIDTH;
    struct ledger_hash *up = NULL; /* hashes of the full tiles of the level below */
    if (nfull && !(up = malloc(nfull * sizeof *up)))
        return errf(e, ERR_NOMEM, "tiles: out of memory for %llu tile hashes",
                    (unsigned long long)nfull);
    int rc = 0;
    struct ledger_hash h[TILES_WIDTH];
    for (uint64_t n = 0; n * TILES_WIDTH < size && !rc; n++) {
        uint64_t left = size - n * TILES_WIDTH;
        unsigned w = left < TILES_WIDTH ? (unsigned)left : TILES_WIDTH;
        for (unsigned i = 0; i < w && !rc; i++)
            rc = ledger_leaf(x->t, n * TILES_WIDTH + i, &h[i], e);
        if (!rc) rc = put_tile(x, 0, n, h, w);
        if (!rc) rc = put_bundle(x, n, h, w);
        if (!rc && w == TILES_WIDTH) ledger_mth(h, TILES_WIDTH, &up[n]);
    }
    uint64_t count = nfull;
    for (int level = 1; count && !rc; level++) {
        for (uint64_t n = 0; n * TILES_WIDTH < count && !rc; n++) {
            uint64_t left = count - n * TILES_WIDTH;
            unsigned w = left < TILES_WIDTH ? (unsigned)left : TILES_WIDTH;
            rc = put_tile(x, level, n, &up[n * TILES_WIDTH], w);
            if (!rc && w == TILES_WIDTH) ledger_mth(&up[n * TILES_WIDTH], TILES_WIDTH, &up[n]);
        }
        count /= TILES_WIDTH;
    }
    free(up);
    return rc;
}

int tiles_export(struct ledger_tree *t, uint64_t size, tiles_entry_fn entry, void *ctx,
                 const char *signed_checkpoint, size_t cp_len, const char *outdir, unsigned flags,
                 struct tiles_stats *stats, struct errbuf *e)
{
    if (stats) memset(stats, 0, sizeof *stats);
    int rc = ledger_init();
    if (rc) return errf(e, rc, "tiles: no SHA-256");
    if (!t || !entry || !signed_checkpoint || !outdir)
        return errf(e, ERR_INVAL, "tiles_export: missing argument");
    if (size > ledger_size(t))
        return errf(e, ERR_INVAL, "tiles_export: size %llu is beyond the log's %llu entries",
                    (unsigned long long)size, (unsigned long long)ledger_size(t));
    struct note_checkpoint cp;
    rc = checkpoint_of_note(signed_checkpoint, cp_len, "checkpoint to export", &cp, e);
    if (rc) return rc;
    struct ledger_hash root;
    rc = ledger_root(t, size, &root, e);
    if (rc) return rc;
    if (cp.size != size || memcmp(cp.hash, root.b, HB) != 0)
        return errf(e, ERR_CONFLICT,
                    "checkpoint to export: it is for %llu entries with another root than the "
                    "log's tree of %llu entries",
                    (unsigned long long)cp.size, (unsigned long long)size);
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST)
        return errf(e, ERR_IO, "%s: cannot create directory: %s", outdir, strerror(errno));
    rc = check_old_checkpoint(outdir, size, e);
    if (rc) return rc;

    struct exporter *x = calloc(1, sizeof *x);
    if (!x) return errf(e, ERR_NOMEM, "tiles: out of memory");
    *x = (struct exporter){.t = t, .entry = entry, .ctx = ctx, .dir = outdir, .flags = flags,
                           .st = stats, .e = e};
    buf_init(&x->ent);
    buf_init(&x->bundle);
    rc = export_levels(x, size);
    if (!rc) rc = flush_dirs(x); /* every tile durable before the checkpoint names them */
    if (!rc) rc = write_file(x, TILES_CHECKPOINT_NAME, signed_checkpoint, cp_len);
    if (!rc) rc = flush_dirs(x);
    buf_reset(&x->ent);
    buf_reset(&x->bundle);
    free(x);
    return rc;
}

/* ---- verification ---- */

struct checker {
    const char *dir;
    int rc;                 /* code of the recorded problem, 0 when none */
    int64_t bad;            /* its first entry index, -1 when not an entry's */
    struct errbuf msg;      /* its message */
    bool stopped;           /* a missing hash tile ended the scan */
    bool entries_all;       /* every entry was read */
    bool tiles_all;         /* every level-0 tile was read */
    struct mth_acc by_entries, by_tiles;
    struct buf ent;
    struct ledger_hash *up; /* hashes of the full tiles of the level below, grown with level 0 */
    bool *sound;            /* [i]: up[i] comes from files without a problem (else not compared,
                               the problem being reported below) */
    uint64_t up_cap;
};

/* Records a problem when it concerns an earlier entry than the one recorded (first found wins a
 * tie). */
static void problem(struct checker *c, int rc, int64_t bad, const struct errbuf *msg)
{
    if (c->rc && !(bad >= 0 && (c->bad < 0 || bad < c->bad))) return;
    c->rc = rc;
    c->bad = bad;
    c->msg = *msg;
}

/* Reads the hash tile (level, index) of width w: its exact file, or for a partial tile the first
 * w hashes of the full one. *which gets the path read (or tried). */
static int WUR load_tile(struct checker *c, int level, uint64_t index, unsigned w,
                         struct ledger_hash *h, char *which, struct errbuf *e)
{
    char rel[TILES_PATH_MAX], full_rel[TILES_PATH_MAX];
    if (tiles_path(rel, sizeof rel, level, index, w) ||
        tiles_path(full_rel, sizeof full_rel, level, index, TILES_WIDTH))
        return errf(e, ERR_INVAL, "tile %d/%llu: no path", level, (unsigned long long)index);
    int rc = join(which, c->dir, rel, e);
    if (!rc) rc = read_tile_file(which, w, true, h, e);
    if (rc != ERR_NOTFOUND || w == TILES_WIDTH) return rc;
    char full[FULL_PATH_MAX];
    rc = join(full, c->dir, full_rel, e);
    if (!rc) rc = read_tile_file(full, w, false, h, e);
    if (rc == ERR_NOTFOUND)
        return errf(e, rc, "%s: missing (and no full tile %s)", which, full_rel);
    if (!rc) strcpy(which, full);
    return rc;
}

/* Reads the entry bundle of tile index (w entries) into their leaf hashes: tile/entries, else
 * truce/entries (which must then hold an entry the spec's 2-byte length cannot), each exact
 * or, for a partial bundle, the full one. */
static int WUR load_bundle(struct checker *c, uint64_t index, unsigned w, struct ledger_hash *h,
                           char *which, struct errbuf *e)
{
    static const int levels[2] = {TILES_LEVEL_ENTRIES, TILES_LEVEL_LARGE_ENTRIES};
    char first_rel[TILES_PATH_MAX] = "";
    for (int k = 0; k < 2; k++) {
        for (int full = 0; full < 2; full++) {
            unsigned width = full ? TILES_WIDTH : w;
            if (full && w == TILES_WIDTH) break;
            char rel[TILES_PATH_MAX];
            if (tiles_path(rel, sizeof rel, levels[k], index, width))
                return errf(e, ERR_INVAL, "bundle %llu: no path", (unsigned long long)index);
            if (!first_rel[0]) memcpy(first_rel, rel, sizeof rel);
            int rc = join(which, c->dir, rel, e);
            if (rc) return rc;
            bool large = false;
            rc = read_bundle_file(which, k ? 4 : 2, index * TILES_WIDTH, w, !full, h, &large,
                                  &c->ent, e);
            if (rc == ERR_NOTFOUND) continue;
            if (!rc && k == 1 && !full && !large)
                rc = errf(e, ERR_PARSE,
                          "%s: no entry above %u bytes, so it belongs in %s (the spec's "
                          "encoding)",
                          which, TILES_MAX_SPEC_ENTRY, first_rel);
            return rc;
        }
    }
    return errf(e, ERR_NOTFOUND, "%s/%s: missing (and not in truce/entries either)", c->dir,
                first_rel);
}

/* Codes that end verification as an error of the verifier, not a finding about the export. */
static bool fatal(int rc)
{
    return rc == ERR_IO || rc == ERR_NOMEM || rc == ERR_INVAL;
}

static void describe_range(char *out, size_t n, uint64_t first, uint64_t count)
{
    if (count == 1)
        snprintf(out, n, "entry %llu", (unsigned long long)first);
    else
        snprintf(out, n, "entries %llu..%llu", (unsigned long long)first,
                 (unsigned long long)(first + count - 1));
}

/* Level 0: entries against level-0 tiles; fills c->up with the hash of each full tile (grown
 * as tiles are found, so a checkpoint claiming a huge size costs nothing until files match). */
static int WUR check_level0(struct checker *c, uint64_t size)
{
    struct ledger_hash th[TILES_WIDTH], eh[TILES_WIDTH];
    char tile_path[FULL_PATH_MAX], bundle_path[FULL_PATH_MAX];
    struct errbuf e2;
    for (uint64_t n = 0; n * TILES_WIDTH < size; n++) {
        uint64_t first = n * TILES_WIDTH, left = size - first;
        unsigned w = left < TILES_WIDTH ? (unsigned)left : TILES_WIDTH;
        int trc = load_tile(c, 0, n, w, th, tile_path, &e2);
        if (trc) {
            if (fatal(trc)) return errf(&c->msg, trc, "%s", e2.msg);
            problem(c, trc, (int64_t)first, &e2);
            c->tiles_all = false;
            if (trc == ERR_NOTFOUND) {
                c->stopped = true;
                c->entries_all = false;
                return 0;
            }
        }
        int brc = load_bundle(c, n, w, eh, bundle_path, &e2);
        if (brc) {
            if (fatal(brc)) return errf(&c->msg, brc, "%s", e2.msg);
            char range[64];
            describe_range(range, sizeof range, first, w);
            errprefix(&e2, "%s", range);
            problem(c, brc, (int64_t)first, &e2);
            c->entries_all = false;
        }
        bool sound = !trc && !brc;
        for (unsigned i = 0; i < w && sound; i++) {
            if (ledger_hash_eq(&th[i], &eh[i])) continue;
            sound = false;
            errf(&e2, ERR_CONFLICT, "entry %llu: its leaf hash (%s) differs from hash %u of %s",
                 (unsigned long long)(first + i), bundle_path, i, tile_path);
            problem(c, ERR_CONFLICT, (int64_t)(first + i), &e2);
            break;
        }
        for (unsigned i = 0; i < w; i++) {
            if (!brc) acc_push(&c->by_entries, &eh[i]);
            if (!trc) acc_push(&c->by_tiles, &th[i]);
        }
        if (w == TILES_WIDTH && n >= c->up_cap) {
            uint64_t cap = c->up_cap ? c->up_cap * 2 : 64;
            struct ledger_hash *p = cap < SIZE_MAX / HB ? realloc(c->up, cap * HB) : NULL;
            if (p) c->up = p;
            bool *q = p ? realloc(c->sound, cap) : NULL;
            if (!q) return errf(&c->msg, ERR_NOMEM, "%s: out of memory", c->dir);
            c->sound = q;
            c->up_cap = cap;
        }
        struct ledger_hash *up = c->up;
        if (w == TILES_WIDTH) {
            c->sound[n] = sound;
            if (!brc)
                ledger_mth(eh, TILES_WIDTH, &up[n]);
            else if (!trc)
                ledger_mth(th, TILES_WIDTH, &up[n]);
            else
                memset(&up[n], 0, sizeof up[n]); /* not sound: never compared */
        }
    }
    return 0;
}

/* Levels >= 1: each tile against the hashes of the full tiles below (up, folded in place). */
static int WUR check_upper(struct checker *c, uint64_t size)
{
    struct ledger_hash *up = c->up;
    struct ledger_hash th[TILES_WIDTH];
    char tile_path[FULL_PATH_MAX], below[TILES_PATH_MAX];
    struct errbuf e2;
    uint64_t count = size / TILES_WIDTH;
    for (int level = 1; count; level++) {
        for (uint64_t n = 0; n * TILES_WIDTH < count; n++) {
            uint64_t left = count - n * TILES_WIDTH;
            unsigned w = left < TILES_WIDTH ? (unsigned)left : TILES_WIDTH;
            int span_shift = TILES_HEIGHT * level;
            int trc = load_tile(c, level, n, w, th, tile_path, &e2);
            if (trc) {
                if (fatal(trc)) return errf(&c->msg, trc, "%s", e2.msg);
                problem(c, trc, (int64_t)((n * TILES_WIDTH) << span_shift), &e2);
                if (trc == ERR_NOTFOUND) return 0;
            }
            bool sound = !trc;
            for (unsigned i = 0; i < w && !trc; i++) {
                uint64_t j = n * TILES_WIDTH + i;
                sound &= c->sound[j];
                if (!c->sound[j] || ledger_hash_eq(&th[i], &up[j])) continue;
                sound = false;
                char range[64];
                describe_range(range, sizeof range, j << span_shift, 1ULL << span_shift);
                if (tiles_path(below, sizeof below, level - 1, j, TILES_WIDTH)) below[0] = 0;
                errf(&e2, ERR_CONFLICT,
                     "%s: hash %u (%s) differs from the Merkle tree hash of the full tile %s "
                     "below it",
                     tile_path, i, range, below);
                problem(c, ERR_CONFLICT, (int64_t)(j << span_shift), &e2);
                break;
            }
            if (w == TILES_WIDTH) {
                ledger_mth(&up[n * TILES_WIDTH], TILES_WIDTH, &up[n]);
                c->sound[n] = sound;
            }
        }
        count /= TILES_WIDTH;
    }
    return 0;
}

/* Reads and opens the checkpoint with the verifier key. */
static int WUR open_checkpoint(const char *dir, const char *vkey, struct note_checkpoint *cp,
                               struct note_opened *op, struct errbuf *e)
{
    char path[FULL_PATH_MAX];
    int rc = join(path, dir, TILES_CHECKPOINT_NAME, e);
    if (rc) return rc;
    struct stat st;
    if (stat(path, &st) != 0)
        return errf(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path,
                    errno == ENOENT ? "missing" : strerror(errno));
    char *msg = NULL;
    size_t len = 0;
    rc = file_read(path, NOTE_MAX_BYTES, &msg, &len, e);
    if (rc) return rc;
    struct note_verifier *v = NULL;
    rc = note_verifier_parse(vkey, &v, e);
    if (rc) {
        errprefix(e, "verifier key");
    } else {
        rc = note_open(msg, len, &v, 1, op, e);
        if (rc == ERR_NOTFOUND || rc == ERR_INVAL)
            errprefix(e, "%s: not signed by %s", path, note_verifier_name(v));
        else if (rc)
            errprefix(e, "%s", path);
    }
    if (!rc) {
        rc = note_checkpoint_parse(op->text, op->text_len, cp, e);
        if (rc) errprefix(e, "%s", path);
    }
    if (!rc && cp->size > LEDGER_MAX_LEAVES)
        rc = errf(e, ERR_TOOBIG, "%s: %llu entries, above the limit of %llu", path,
                  (unsigned long long)cp->size, (unsigned long long)LEDGER_MAX_LEAVES);
    note_verifier_free(v);
    free(msg);
    return rc;
}

int tiles_verify(const char *dir, const char *vkey, uint64_t *size, struct ledger_hash *root,
                 int64_t *first_bad, struct errbuf *e)
{
    if (first_bad) *first_bad = -1;
    int rc = ledger_init();
    if (rc) return errf(e, rc, "tiles: no SHA-256");
    struct note_checkpoint cp;
    struct note_opened op = {0};
    rc = open_checkpoint(dir, vkey, &cp, &op, e);
    if (rc) {
        note_opened_free(&op);
        return rc;
    }
    struct ledger_hash want;
    memcpy(want.b, cp.hash, HB);
    uint64_t n = cp.size;
    note_opened_free(&op); /* cp.ext pointed into it; not used below */
    if (size) *size = n;
    if (root) *root = want;

    struct checker *c = calloc(1, sizeof *c);
    if (!c) return errf(e, ERR_NOMEM, "%s: out of memory", dir);
    c->dir = dir;
    c->bad = -1;
    c->entries_all = c->tiles_all = true;
    buf_init(&c->ent);
    rc = check_level0(c, n);
    if (!rc && !c->stopped) rc = check_upper(c, n);
    if (rc) { /* an I/O error: reported as such, not as a finding */
        *e = c->msg;
    } else {
        struct ledger_hash r_entries, r_tiles;
        acc_root(&c->by_entries, &r_entries);
        acc_root(&c->by_tiles, &r_tiles);
        bool entries_agree = c->entries_all && ledger_hash_eq(&r_entries, &want);
        bool tiles_agree = c->tiles_all && ledger_hash_eq(&r_tiles, &want);
        if (!c->rc && !entries_agree) {
            char hx[LEDGER_HEX_SIZE];
            ledger_hash_hex(&r_entries, hx);
            struct errbuf e2;
            errf(&e2, ERR_CONFLICT,
                 "%s/checkpoint: its root differs from the root %s of the %llu exported entries",
                 dir, hx, (unsigned long long)n);
            problem(c, ERR_CONFLICT, -1, &e2);
        }
        if (c->rc) {
            const char *why = "";
            if (c->stopped)
                why = " (scan stopped at this missing tile)";
            else if (c->rc != ERR_CONFLICT)
                why = "";
            else if (entries_agree)
                why = " (the entries give the checkpoint's root: the hash tiles are wrong)";
            else if (tiles_agree)
                why = " (the level-0 hash tiles give the checkpoint's root: the entries are "
                      "wrong)";
            rc = errf(e, c->rc, "%s%s", c->msg.msg, why);
            if (first_bad) *first_bad = c->bad;
        }
    }
    buf_reset(&c->ent);
    free(c->up);
    free(c->sound);
    free(c);
    return rc;
}

/* ---- tiles for a live server ---- */

int tiles_tile(const struct ledger_tree *t, uint64_t size, int level, uint64_t index,
               unsigned width, struct buf *out, struct errbuf *e)
{
    if (level < 0 || level > TILES_MAX_LEVEL || width < 1 || width > TILES_WIDTH)
        return errf(e, ERR_INVAL, "tile level %d width %u: out of range", level, width);
    /* hashes of this level: roots of the complete subtrees of 2^(8 level) leaves */
    int shift = TILES_HEIGHT * level;
    uint64_t have = shift >= 64 ? 0 : size >> shift;
    if (index > (UINT64_MAX - width) / TILES_WIDTH || index * TILES_WIDTH + width > have)
        return errf(e, ERR_NOTFOUND, "tile %d/%llu of width %u: beyond the tree of %llu entries",
                    level, (unsigned long long)index, width, (unsigned long long)size);
    out->len = 0;
    for (unsigned i = 0; i < width; i++) {
        struct ledger_hash h;
        int rc = ledger_node(t, shift, index * TILES_WIDTH + i, size, &h, e);
        if (rc) return rc;
        if (buf_append(out, h.b, HB)) return errf(e, ERR_NOMEM, "tile: out of memory");
    }
    return 0;
}

int tiles_bundle(const struct ledger_tree *t, uint64_t size, uint64_t index, unsigned width,
                 tiles_entry_fn entry, void *ctx, struct buf *out, bool *large,
                 struct errbuf *e)
{
    if (width < 1 || width > TILES_WIDTH)
        return errf(e, ERR_INVAL, "bundle width %u: out of range", width);
    if (index > (UINT64_MAX - width) / TILES_WIDTH || index * TILES_WIDTH + width > size)
        return errf(e, ERR_NOTFOUND, "bundle %llu of width %u: beyond the tree of %llu entries",
                    (unsigned long long)index, width, (unsigned long long)size);
    struct ledger_hash h[TILES_WIDTH];
    uint64_t first = index * TILES_WIDTH;
    for (unsigned i = 0; i < width; i++) {
        int rc = ledger_leaf(t, first + i, &h[i], e);
        if (rc) return rc;
    }
    struct buf ent;
    buf_init(&ent);
    int rc = encode_bundle(entry, ctx, first, h, width, &ent, out, large, NULL, e);
    buf_reset(&ent);
    return rc;
}
