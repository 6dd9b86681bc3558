/* ledger_tree.c: the persisted append-only Merkle tree and the proofs generated from it.
 *
 * Two files of 32-byte hashes (docs/internals/ledger.md):
 *   <path>        leaf hash i at offset 32 i;
 *   <path>.nodes  the interior node of every perfect subtree, in the order they complete
 *                 (post-order): appending leaf i completes one node per trailing one bit of i,
 *                 lowest level first. Node (level k >= 1, index j) completes when leaf
 *                 (j + 1) 2^k - 1 is appended and lies at entry I((j + 1) 2^k - 1) + k - 1,
 *                 where I(n) = n - popcount(n) is the number of interior nodes of n leaves.
 * Both files only grow at their ends, so a crash can only leave them short or torn; the nodes
 * file is a cache derived from the leaves and is repaired from them on open. The roots of the
 * perfect subtrees of the whole tree ("peaks", at most 64) are kept in memory so an append
 * computes its node hashes without reading. Appends are buffered (PEND_CAP entries per file);
 * reads look in the buffer for entries past the end of a file. */
#include "ledger/ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HB LEDGER_HASH_BYTES
#define PEND_CAP 8192 /* entries buffered per file before one write (256 KiB) */
#define PAR_MIN 2048  /* ledger_append_batch hashes blocks of this many leaves on two threads */

struct tfile {
    const char *name;         /* path, for messages */
    int fd;
    uint64_t flushed;         /* entries in the file */
    struct ledger_hash *pend; /* entries after them, not yet written */
    size_t n_pend;
};

struct ledger_tree {
    char *path, *nodes_path;
    struct tfile leaves, nodes;
    uint64_t size;
    struct ledger_hash peaks[64]; /* roots of the perfect subtrees of the tree, largest first */
    int n_peaks;
    bool broken; /* a write failed: the files and the buffers may disagree until reopened */
    struct ledger_recovery rec;
    struct ledger_hash *scratch; /* PEND_CAP leaf hashes for ledger_append_batch, lazily */
};

/* Interior nodes of the perfect subtrees of n leaves: each set bit 2^k of n is a perfect subtree
 * of 2^k - 1 interior nodes. */
static uint64_t interior_count(uint64_t n)
{
    return n - (uint64_t)__builtin_popcountll(n);
}

/* Entry of node (level >= 1, index) in the nodes file. */
static uint64_t node_pos(int level, uint64_t index)
{
    uint64_t m = (index + 1) << level; /* the leaf count at which the node completes */
    return interior_count(m - 1) + (uint64_t)(level - 1);
}

/* Largest power of two strictly below s (s >= 2): where RFC 6962 splits a tree of s leaves. */
static uint64_t split_point(uint64_t s)
{
    return 1ULL << (63 - __builtin_clzll(s - 1));
}

/* ---- file I/O ---- */

/* Reads n bytes at off; -1 with errno set (0 for a file shorter than expected). */
static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    unsigned char *q = p;
    while (n > 0) {
        ssize_t r = pread(fd, q, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = 0;
            return -1;
        }
        q += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *q = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, q, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        q += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int io_error(struct errbuf *e, const char *name, const char *what)
{
    return errf(e, ERR_IO, "%s: %s: %s", name, what,
                errno ? strerror(errno) : "the file is shorter than expected");
}

/* Marks the tree unusable after a failed change and returns the error. */
static int broken(struct ledger_tree *t, struct errbuf *e, const char *name, const char *what)
{
    t->broken = true;
    return io_error(e, name, what);
}

static int check_usable(const struct ledger_tree *t, struct errbuf *e)
{
    if (t->broken)
        return errf(e, ERR_IO, "%s: an earlier write failed; reopen the ledger", t->path);
    return 0;
}

/* Reads count entries from idx on (all below flushed + n_pend) into out. */
static int WUR tf_read(const struct tfile *f, uint64_t idx, size_t count, struct ledger_hash *out,
                       struct errbuf *e)
{
    if (count > 0 && idx < f->flushed) {
        size_t k = f->flushed - idx < count ? (size_t)(f->flushed - idx) : count;
        if (pread_all(f->fd, out, k * HB, idx * HB) != 0) return io_error(e, f->name, "read");
        idx += k;
        out += k;
        count -= k;
    }
    if (count > 0) memcpy(out, f->pend + (idx - f->flushed), count * HB);
    return 0;
}

static int WUR tf_flush(struct ledger_tree *t, struct tfile *f, struct errbuf *e)
{
    if (f->n_pend == 0) return 0;
    if (pwrite_all(f->fd, f->pend, f->n_pend * HB, f->flushed * HB) != 0)
        return broken(t, e, f->name, "write");
    f->flushed += f->n_pend;
    f->n_pend = 0;
    return 0;
}

static inline int WUR tf_push(struct ledger_tree *t, struct tfile *f, const struct ledger_hash *h,
                              struct errbuf *e)
{
    if (f->n_pend == PEND_CAP) {
        int rc = tf_flush(t, f, e);
        if (rc) return rc;
    }
    f->pend[f->n_pend++] = *h;
    return 0;
}

/* Keeps the first keep entries of f (keep <= its entries), durably. */
static int WUR tf_cut(struct ledger_tree *t, struct tfile *f, uint64_t keep, struct errbuf *e)
{
    if (keep >= f->flushed) {
        f->n_pend = (size_t)(keep - f->flushed);
        return 0;
    }
    f->n_pend = 0;
    if (ftruncate(f->fd, (off_t)(keep * HB)) != 0) return broken(t, e, f->name, "truncate");
    if (fsync(f->fd) != 0) return broken(t, e, f->name, "fsync");
    f->flushed = keep;
    return 0;
}

/* ---- nodes ---- */

/* Root of the perfect subtree (level, index): a leaf hash at level 0. */
static int WUR get_node(const struct ledger_tree *t, int level, uint64_t index,
                        struct ledger_hash *out, struct errbuf *e)
{
    if (level == 0) return tf_read(&t->leaves, index, 1, out, e);
    return tf_read(&t->nodes, node_pos(level, index), 1, out, e);
}

int ledger_node(const struct ledger_tree *t, int level, uint64_t index, uint64_t size,
                struct ledger_hash *out, struct errbuf *e)
{
    if (level < 0 || level > 62 || size > ledger_size(t) || index >= (size >> level))
        return errf(e, ERR_INVAL, "ledger: no complete subtree of level %d at index %llu in %llu "
                                  "leaves", level, (unsigned long long)index,
                    (unsigned long long)size);
    return get_node(t, level, index, out, e);
}

/* Roots of the perfect subtrees that make up the leaves [lo, lo + count), largest first, when lo
 * is a multiple of a power of two >= count (true of every subtree of RFC 6962's recursion). */
static int WUR get_parts(const struct ledger_tree *t, uint64_t lo, uint64_t count,
                         struct ledger_hash *parts, int *n_parts, struct errbuf *e)
{
    int n = 0;
    for (int k = 63; k >= 0; k--) {
        if (!(count >> k & 1)) continue;
        int rc = get_node(t, k, lo >> k, &parts[n++], e);
        if (rc) return rc;
        lo += 1ULL << k;
    }
    *n_parts = n;
    return 0;
}

/* Merkle Tree Hash of peaks of consecutive perfect subtrees, largest first. */
static void fold_parts(const struct ledger_hash *parts, int n, struct ledger_hash *out)
{
    struct ledger_hash acc = parts[n - 1];
    for (int k = n - 2; k >= 0; k--) ledger_node_hash(&parts[k], &acc, &acc);
    *out = acc;
}

/* Merkle Tree Hash of the leaves [lo, hi), hi > lo, lo aligned as for get_parts. */
static int WUR range_hash(const struct ledger_tree *t, uint64_t lo, uint64_t hi,
                          struct ledger_hash *out, struct errbuf *e)
{
    struct ledger_hash parts[64];
    int n;
    int rc = get_parts(t, lo, hi - lo, parts, &n, e);
    if (rc) return rc;
    fold_parts(parts, n, out);
    return 0;
}

/* Adds leaf hash h: stores it (unless it is already in the leaf file, on repair) and the
 * interior nodes it completes. */
static inline int WUR add_leaf(struct ledger_tree *t, const struct ledger_hash *h, bool store_leaf,
                               struct errbuf *e)
{
    int rc;
    if (store_leaf && (rc = tf_push(t, &t->leaves, h, e)) != 0) return rc;
    struct ledger_hash acc = *h;
    for (uint64_t i = t->size; i & 1; i >>= 1) {
        ledger_node_hash(&t->peaks[--t->n_peaks], &acc, &acc);
        if ((rc = tf_push(t, &t->nodes, &acc, e)) != 0) return rc;
    }
    t->peaks[t->n_peaks++] = acc;
    t->size++;
    return 0;
}

/* ---- open and recovery ---- */

static int WUR sync_dir_of(const char *path, struct errbuf *e)
{
    char dir[PATH_MAX];
    path_dirname(dir, sizeof dir, path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error(e, dir, "open directory");
    int rc = fsync(fd) != 0 ? io_error(e, dir, "fsync directory") : 0;
    close(fd);
    return rc;
}

/* Cuts a torn partial entry (or, for the nodes file, entries past max_entries) off f's file;
 * returns the bytes cut in *cut. Sets f->flushed to the entries kept. */
static int WUR cut_file(struct tfile *f, uint64_t max_entries, uint64_t *cut, struct errbuf *e)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0) return io_error(e, f->name, "stat");
    if (!S_ISREG(st.st_mode)) return errf(e, ERR_IO, "%s: not a regular file", f->name);
    uint64_t bytes = (uint64_t)st.st_size, entries = bytes / HB;
    if (entries > max_entries) entries = max_entries;
    *cut = bytes - entries * HB;
    if (*cut) {
        if (ftruncate(f->fd, (off_t)(entries * HB)) != 0) return io_error(e, f->name, "truncate");
        if (fsync(f->fd) != 0) return io_error(e, f->name, "fsync");
    }
    f->flushed = entries;
    return 0;
}

/* Brings the nodes file in line with the leaf file and loads the peaks. */
static int WUR recover(struct ledger_tree *t, struct errbuf *e)
{
    int rc = cut_file(&t->leaves, UINT64_MAX, &t->rec.leaf_bytes_cut, e);
    if (rc) return rc;
    uint64_t n_leaves = t->leaves.flushed;
    if (n_leaves > LEDGER_MAX_LEAVES)
        return errf(e, ERR_TOOBIG, "%s: %llu leaves, more than %llu", t->path,
                    (unsigned long long)n_leaves, (unsigned long long)LEDGER_MAX_LEAVES);
    uint64_t want = interior_count(n_leaves);
    if ((rc = cut_file(&t->nodes, want, &t->rec.node_bytes_cut, e)) != 0) return rc;
    uint64_t have = t->nodes.flushed;
    /* The nodes are complete for the longest prefix of m leaves with I(m) <= have (I grows with
     * m); nodes of a partly written step after it are dropped and recomputed. */
    uint64_t m = n_leaves;
    if (have < want) {
        uint64_t lo = 0, hi = n_leaves; /* I(lo) <= have < I(hi) */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (interior_count(mid) <= have)
                lo = mid;
            else
                hi = mid;
        }
        m = lo;
        uint64_t keep = interior_count(m);
        if (keep < have) {
            if (ftruncate(t->nodes.fd, (off_t)(keep * HB)) != 0)
                return io_error(e, t->nodes.name, "truncate");
            t->nodes.flushed = keep;
        }
    }
    struct ledger_hash parts[64];
    if ((rc = get_parts(t, 0, m, parts, &t->n_peaks, e)) != 0) return rc;
    memcpy(t->peaks, parts, (size_t)t->n_peaks * sizeof parts[0]);
    t->size = m;
    if (m == n_leaves) return 0;

    /* Recompute the missing nodes from the stored leaves. */
    struct ledger_hash *chunk = malloc(PEND_CAP * sizeof *chunk);
    if (!chunk) return errf(e, ERR_NOMEM, "out of memory");
    t->rec.nodes_rebuilt = want - interior_count(m);
    while (rc == 0 && t->size < n_leaves) {
        size_t k = n_leaves - t->size < PEND_CAP ? (size_t)(n_leaves - t->size) : PEND_CAP;
        rc = tf_read(&t->leaves, t->size, k, chunk, e);
        for (size_t i = 0; rc == 0 && i < k; i++) rc = add_leaf(t, &chunk[i], false, e);
    }
    free(chunk);
    if (rc == 0) rc = tf_flush(t, &t->nodes, e);
    if (rc == 0 && fdatasync(t->nodes.fd) != 0) rc = io_error(e, t->nodes.name, "fsync");
    return rc;
}

static void free_tree(struct ledger_tree *t)
{
    if (t->leaves.fd >= 0) close(t->leaves.fd); /* releases the lock */
    if (t->nodes.fd >= 0) close(t->nodes.fd);
    free(t->leaves.pend);
    free(t->nodes.pend);
    free(t->scratch);
    free(t->path);
    free(t->nodes_path);
    free(t);
}

int ledger_open(const char *path, bool create, struct ledger_tree **out, struct errbuf *e)
{
    *out = NULL;
    if (ledger_init() != 0) return errf(e, ERR_IO, "libcrypto has no SHA-256");
    struct ledger_tree *t = calloc(1, sizeof *t);
    if (!t) return errf(e, ERR_NOMEM, "out of memory");
    t->leaves.fd = t->nodes.fd = -1;
    size_t plen = strlen(path);
    t->path = malloc(plen + 1);
    t->nodes_path = malloc(plen + sizeof ".nodes");
    t->leaves.pend = malloc(PEND_CAP * sizeof(struct ledger_hash));
    t->nodes.pend = malloc(PEND_CAP * sizeof(struct ledger_hash));
    if (!t->path || !t->nodes_path || !t->leaves.pend || !t->nodes.pend) {
        free_tree(t);
        return errf(e, ERR_NOMEM, "out of memory");
    }
    memcpy(t->path, path, plen + 1);
    memcpy(t->nodes_path, path, plen);
    memcpy(t->nodes_path + plen, ".nodes", sizeof ".nodes");
    t->leaves.name = t->path;
    t->nodes.name = t->nodes_path;

    int rc = 0;
    bool created = false;
    t->leaves.fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
    if (t->leaves.fd < 0) {
        if (errno == EEXIST)
            rc = errf(e, ERR_CONFLICT, "%s: a ledger already exists here", path);
        else if (errno == ENOENT && !create)
            rc = errf(e, ERR_NOTFOUND, "%s: no ledger here", path);
        else
            rc = io_error(e, path, "open");
        goto fail;
    }
    created = create;
    if (flock(t->leaves.fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = errf(e, ERR_CONFLICT, "%s: the ledger is open elsewhere", path);
        else
            rc = io_error(e, path, "lock");
        goto fail;
    }
    t->nodes.fd = open(t->nodes_path, O_RDWR | O_CLOEXEC | O_CREAT | (create ? O_TRUNC : 0), 0644);
    if (t->nodes.fd < 0) {
        rc = io_error(e, t->nodes_path, "open");
        goto fail;
    }
    if (create && (rc = sync_dir_of(path, e)) != 0) goto fail;
    if ((rc = recover(t, e)) != 0) goto fail;
    *out = t;
    return 0;
fail:
    if (created) {
        unlink(t->path);
        unlink(t->nodes_path);
    }
    free_tree(t);
    return rc;
}

void ledger_close(struct ledger_tree *t)
{
    if (!t) return;
    if (!t->broken) {
        if (tf_flush(t, &t->leaves, NULL) == 0 && tf_flush(t, &t->nodes, NULL) == 0) {
            /* written, not synced: ledger_sync makes appends durable */
        }
    }
    free_tree(t);
}

const struct ledger_recovery *ledger_recovery(const struct ledger_tree *t)
{
    return &t->rec;
}

/* ---- changes ---- */

uint64_t ledger_size(const struct ledger_tree *t)
{
    return t->size;
}

int ledger_append(struct ledger_tree *t, const void *data, size_t len, uint64_t *index,
                  struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (t->size >= LEDGER_MAX_LEAVES)
        return errf(e, ERR_TOOBIG, "%s: the ledger is full", t->path);
    struct ledger_hash h;
    ledger_leaf_hash(data, len, &h);
    if (index) *index = t->size;
    return add_leaf(t, &h, true, e);
}

int ledger_append_hashes(struct ledger_tree *t, const struct ledger_hash *leaves, size_t n,
                         struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (n > LEDGER_MAX_LEAVES - t->size)
        return errf(e, ERR_TOOBIG, "%s: the ledger is full", t->path);
    for (size_t i = 0; i < n; i++)
        if ((rc = add_leaf(t, &leaves[i], true, e)) != 0) return rc;
    return 0;
}

/* Leaf hashes of n records, computed in order by the helper thread of ledger_append_batch,
 * which publishes how many are ready in done. */
struct hash_job {
    const void *const *data;
    const size_t *len;
    struct ledger_hash *out;
    size_t n;
    atomic_size_t done;
};

static void *hash_job_run(void *arg)
{
    struct hash_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        ledger_leaf_hash(j->data[i], j->len[i], &j->out[i]);
        if ((i & 15) == 15 || i + 1 == j->n)
            atomic_store_explicit(&j->done, i + 1, memory_order_release);
    }
    return NULL;
}

int ledger_append_batch(struct ledger_tree *t, const void *const *data, const size_t *len,
                        size_t n, struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (n > LEDGER_MAX_LEAVES - t->size)
        return errf(e, ERR_TOOBIG, "%s: the ledger is full", t->path);
    if (!t->scratch && !(t->scratch = malloc(PEND_CAP * sizeof *t->scratch)))
        return errf(e, ERR_NOMEM, "out of memory");
    size_t blocks = (n + PEND_CAP - 1) / PEND_CAP, per = blocks ? (n + blocks - 1) / blocks : 0;
    for (size_t at = 0; at < n;) {
        size_t k = n - at < per ? n - at : per; /* even blocks: no short one left over */
        /* The helper hashes the last three quarters of the block in order while this thread
         * hashes the first quarter and adds it (leaf and node hashes), then adds the helper's
         * leaves as they become ready. A node hash costs about half a 200-byte leaf hash, so
         * the two threads finish at about the same time. */
        size_t own = k;
        struct hash_job job;
        pthread_t helper;
        bool helped = false;
        if (k >= PAR_MIN) {
            own = k / 4;
            job.data = data + at + own;
            job.len = len + at + own;
            job.out = t->scratch + own;
            job.n = k - own;
            atomic_init(&job.done, 0);
            helped = pthread_create(&helper, NULL, hash_job_run, &job) == 0;
            if (!helped) own = k;
        }
        for (size_t i = 0; i < own && rc == 0; i++) {
            ledger_leaf_hash(data[at + i], len[at + i], &t->scratch[i]);
            rc = add_leaf(t, &t->scratch[i], true, e);
        }
        if (helped) {
            for (size_t i = 0; i < k - own && rc == 0;) {
                size_t ready = atomic_load_explicit(&job.done, memory_order_acquire);
                if (ready == i) {
                    sched_yield();
                    continue;
                }
                for (; i < ready && rc == 0; i++) rc = add_leaf(t, &t->scratch[own + i], true, e);
            }
            pthread_join(helper, NULL);
        }
        if (rc) return rc;
        at += k;
    }
    return 0;
}

int ledger_sync(struct ledger_tree *t, struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if ((rc = tf_flush(t, &t->leaves, e)) != 0) return rc;
    if ((rc = tf_flush(t, &t->nodes, e)) != 0) return rc;
    if (fdatasync(t->leaves.fd) != 0) return broken(t, e, t->leaves.name, "fsync");
    if (fdatasync(t->nodes.fd) != 0) return broken(t, e, t->nodes.name, "fsync");
    return 0;
}

int ledger_truncate(struct ledger_tree *t, uint64_t n, struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (n > t->size)
        return errf(e, ERR_INVAL, "%s: cannot truncate %llu leaves to %llu", t->path,
                    (unsigned long long)t->size, (unsigned long long)n);
    if (n == t->size) return 0;
    /* Leaves first: a crash in between leaves surplus nodes, which open cuts. */
    if ((rc = tf_cut(t, &t->leaves, n, e)) != 0) return rc;
    if ((rc = tf_cut(t, &t->nodes, interior_count(n), e)) != 0) return rc;
    struct ledger_hash parts[64];
    int n_parts;
    if ((rc = get_parts(t, 0, n, parts, &n_parts, e)) != 0) {
        t->broken = true;
        return rc;
    }
    memcpy(t->peaks, parts, (size_t)n_parts * sizeof parts[0]);
    t->n_peaks = n_parts;
    t->size = n;
    return 0;
}

/* ---- reads and proofs ---- */

static int WUR beyond(const struct ledger_tree *t, struct errbuf *e, uint64_t n)
{
    return errf(e, ERR_INVAL, "%s: tree size %llu is beyond the ledger's %llu leaves", t->path,
                (unsigned long long)n, (unsigned long long)t->size);
}

int ledger_leaf(const struct ledger_tree *t, uint64_t index, struct ledger_hash *out,
                struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (index >= t->size)
        return errf(e, ERR_INVAL, "%s: leaf %llu is beyond the ledger's %llu leaves", t->path,
                    (unsigned long long)index, (unsigned long long)t->size);
    return tf_read(&t->leaves, index, 1, out, e);
}

int ledger_root(const struct ledger_tree *t, uint64_t n, struct ledger_hash *out,
                struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (n > t->size) return beyond(t, e, n);
    if (n == 0) {
        ledger_empty_root(out);
        return 0;
    }
    if (n == t->size) {
        fold_parts(t->peaks, t->n_peaks, out);
        return 0;
    }
    return range_hash(t, 0, n, out, e);
}

/* Hashes of the subtrees [lo[i], hi[i]) in reverse order (the walks below go from the root down,
 * proofs list the leaf side first). */
static int WUR emit_reversed(const struct ledger_tree *t, const uint64_t *lo, const uint64_t *hi,
                             size_t n, struct ledger_hash *proof, struct errbuf *e)
{
    for (size_t i = 0; i < n; i++) {
        int rc = range_hash(t, lo[n - 1 - i], hi[n - 1 - i], &proof[i], e);
        if (rc) return rc;
    }
    return 0;
}

int ledger_inclusion_proof(const struct ledger_tree *t, uint64_t index, uint64_t size,
                           struct ledger_hash *proof, size_t *n_proof, struct errbuf *e)
{
    *n_proof = 0;
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (size > t->size) return beyond(t, e, size);
    if (index >= size)
        return errf(e, ERR_INVAL, "leaf index %llu is not below the tree size %llu",
                    (unsigned long long)index, (unsigned long long)size);
    /* RFC 6962 PATH(m, D[lo:hi]): the sibling of the half holding the leaf, at every level. */
    uint64_t sib_lo[LEDGER_MAX_PROOF], sib_hi[LEDGER_MAX_PROOF];
    uint64_t lo = 0, hi = size;
    size_t n = 0;
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if (index < lo + k) {
            sib_lo[n] = lo + k;
            sib_hi[n] = hi;
            hi = lo + k;
        } else {
            sib_lo[n] = lo;
            sib_hi[n] = lo + k;
            lo += k;
        }
        n++;
    }
    if ((rc = emit_reversed(t, sib_lo, sib_hi, n, proof, e)) != 0) return rc;
    *n_proof = n;
    return 0;
}

int ledger_consistency_proof(const struct ledger_tree *t, uint64_t m, uint64_t n,
                             struct ledger_hash *proof, size_t *n_proof, struct errbuf *e)
{
    *n_proof = 0;
    int rc = check_usable(t, e);
    if (rc) return rc;
    if (n > t->size) return beyond(t, e, n);
    if (m > n)
        return errf(e, ERR_INVAL, "old tree size %llu is above the new size %llu",
                    (unsigned long long)m, (unsigned long long)n);
    if (m == 0 || m == n) return 0;
    /* RFC 6962 SUBPROOF(m, D[lo:hi], whole): n <= 2^56 keeps it within LEDGER_MAX_PROOF. */
    uint64_t r_lo[LEDGER_MAX_PROOF], r_hi[LEDGER_MAX_PROOF];
    uint64_t lo = 0, hi = n;
    bool whole = true;
    size_t cnt = 0;
    for (;;) {
        if (m == hi) {
            if (!whole) {
                r_lo[cnt] = lo;
                r_hi[cnt++] = hi;
            }
            break;
        }
        uint64_t k = split_point(hi - lo);
        if (m - lo <= k) {
            r_lo[cnt] = lo + k;
            r_hi[cnt] = hi;
            hi = lo + k;
        } else {
            r_lo[cnt] = lo;
            r_hi[cnt] = lo + k;
            lo += k;
            whole = false;
        }
        cnt++;
    }
    if ((rc = emit_reversed(t, r_lo, r_hi, cnt, proof, e)) != 0) return rc;
    *n_proof = cnt;
    return 0;
}

int ledger_check(const struct ledger_tree *t, struct errbuf *e)
{
    int rc = check_usable(t, e);
    if (rc) return rc;
    struct ledger_hash *leaves = malloc(PEND_CAP * sizeof *leaves);
    struct ledger_hash *nodes = malloc(PEND_CAP * sizeof *nodes);
    if (!leaves || !nodes) {
        free(leaves);
        free(nodes);
        return errf(e, ERR_NOMEM, "out of memory");
    }
    struct ledger_hash peaks[64];
    int top = 0;
    uint64_t n_nodes = interior_count(t->size), pos = 0, win_lo = 0, win_n = 0;
    for (uint64_t base = 0; rc == 0 && base < t->size; base += PEND_CAP) {
        size_t k = t->size - base < PEND_CAP ? (size_t)(t->size - base) : PEND_CAP;
        if ((rc = tf_read(&t->leaves, base, k, leaves, e)) != 0) break;
        for (size_t i = 0; rc == 0 && i < k; i++) {
            struct ledger_hash acc = leaves[i];
            int level = 0;
            for (uint64_t j = base + i; j & 1; j >>= 1) {
                ledger_node_hash(&peaks[--top], &acc, &acc);
                level++;
                if (pos >= win_lo + win_n) {
                    win_lo = pos;
                    win_n = n_nodes - pos < PEND_CAP ? n_nodes - pos : PEND_CAP;
                    if ((rc = tf_read(&t->nodes, win_lo, (size_t)win_n, nodes, e)) != 0) break;
                }
                if (!ledger_hash_eq(&acc, &nodes[pos - win_lo])) {
                    rc = errf(e, ERR_CONFLICT,
                              "%s: interior node %llu (level %d, index %llu) differs from the "
                              "hash of its leaves",
                              t->nodes_path, (unsigned long long)pos, level,
                              (unsigned long long)(((base + i + 1) >> level) - 1));
                    break;
                }
                pos++;
            }
            peaks[top++] = acc;
        }
    }
    free(leaves);
    free(nodes);
    return rc;
}
