/* bench_ledger.c: speed of the transparency log core (src/ledger).
 *
 * 1. Append: N records of 200 bytes (default 10,000,000; `bench_ledger N` for a quicker run)
 *    are appended to a new persisted tree in $TMPDIR (ledger_append: leaf hash, interior nodes,
 *    buffered writes) with ledger_sync (write + fdatasync of both files) every 10,000 records,
 *    the batch size of `truce ingest`. The baseline is bare SHA-256 (ledger_sha256) of the same
 *    records. The two are interleaved in blocks of 100,000 records so that both see the same
 *    machine load; each record is made the same way in both loops (a pooled 200-byte random
 *    record stamped with its number).
 * 2. Proofs: the tree is closed and reopened (only the files remain), then 10,000 inclusion
 *    proofs (random size <= N, random leaf) and 10,000 consistency proofs (random m <= n <= N)
 *    are generated and timed one by one; each is then verified (untimed) against ledger_root.
 *    The files are in the page cache (just written); a second, smaller pass first drops their
 *    pages with posix_fadvise(DONTNEED) and times 1,000 of each from the disk.
 * Targets: >= 1,000,000 appended records/s, >= 30 % of the bare SHA-256 rate, median proof
 * time < 100 us (warm). Exits 1 when one is missed. Needs 64 bytes of disk per record. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "splitmix.h"
#include "ledger/ledger.h"

#define REC_BYTES 200
#define POOL 4096
#define SYNC_EVERY 10000
#define BLOCK 100000
#define QUERIES 10000
#define COLD_QUERIES 1000
#define TARGET_RATE 1e6
#define TARGET_RATIO 0.30
#define TARGET_PROOF_US 100.0

static uint64_t rng_state = 0x5EED1ED6E5ULL;
static uint64_t rnd(void) { return splitmix64(&rng_state); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned char pool[POOL][REC_BYTES];

static inline void make_record(uint64_t i, unsigned char *rec)
{
    memcpy(rec, pool[i % POOL], REC_BYTES);
    memcpy(rec, &i, sizeof i);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts t[0..n) and returns the q-quantile. */
static double quantile(double *t, size_t n, double q)
{
    qsort(t, n, sizeof *t, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return t[i];
}

static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) fprintf(stderr, "fadvise failed\n");
    close(fd);
}

/* Times q inclusion and q consistency proofs on random sizes; verifies each afterwards.
 * Returns the number of proofs that failed to generate or verify. */
static long time_proofs(struct ledger_tree *t, uint64_t n_leaves, size_t q, double *incl_us,
                        double *cons_us, size_t *max_len)
{
    struct errbuf e;
    long bad = 0;
    for (size_t k = 0; k < q; k++) {
        uint64_t size = 1 + rnd() % n_leaves, index = rnd() % size;
        struct ledger_hash proof[LEDGER_MAX_PROOF], root, leaf;
        size_t n = 0;
        double t0 = now_s();
        int rc = ledger_inclusion_proof(t, index, size, proof, &n, &e);
        incl_us[k] = (now_s() - t0) * 1e6;
        if (n > *max_len) *max_len = n;
        if (rc || ledger_root(t, size, &root, &e) || ledger_leaf(t, index, &leaf, &e) ||
            ledger_verify_inclusion(&leaf, index, size, proof, n, &root, &e)) {
            fprintf(stderr, "inclusion %llu in %llu: %s\n", (unsigned long long)index,
                    (unsigned long long)size, e.msg);
            bad++;
        }
    }
    for (size_t k = 0; k < q; k++) {
        uint64_t m = 1 + rnd() % n_leaves, n2 = m + rnd() % (n_leaves - m + 1);
        struct ledger_hash proof[LEDGER_MAX_PROOF], r1, r2;
        size_t n = 0;
        double t0 = now_s();
        int rc = ledger_consistency_proof(t, m, n2, proof, &n, &e);
        cons_us[k] = (now_s() - t0) * 1e6;
        if (n > *max_len) *max_len = n;
        if (rc || ledger_root(t, m, &r1, &e) || ledger_root(t, n2, &r2, &e) ||
            ledger_verify_consistency(m, n2, &r1, &r2, proof, n, &e)) {
            fprintf(stderr, "consistency %llu -> %llu: %s\n", (unsigned long long)m,
                    (unsigned long long)n2, e.msg);
            bad++;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t n_leaves = 10000000;
    if (argc > 1) {
        char *end;
        n_leaves = strtoull(argv[1], &end, 10);
        if (*end || n_leaves < 1000) {
            fprintf(stderr, "usage: bench_ledger [N >= 1000 records, default 10000000]\n");
            return 2;
        }
    }
    const char *base = getenv("TMPDIR");
    char dir[512], path[600], nodes[620], path1[600], nodes1[620];
    snprintf(dir, sizeof dir, "%s/truce-bench-ledger-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof path, "%s/ledger", dir);
    snprintf(nodes, sizeof nodes, "%s.nodes", path);
    snprintf(path1, sizeof path1, "%s/ledger1", dir);
    snprintf(nodes1, sizeof nodes1, "%s.nodes", path1);
    for (int i = 0; i < POOL; i++)
        for (int j = 0; j < REC_BYTES; j += 8) {
            uint64_t v = rnd();
            memcpy(&pool[i][j], &v, 8);
        }

    struct errbuf e;
    struct ledger_tree *t, *t1;
    if (ledger_open(path, true, &t, &e) != 0 || ledger_open(path1, true, &t1, &e) != 0) {
        fprintf(stderr, "bench_ledger: %s\n", e.msg);
        return 2;
    }
    static unsigned char batch[SYNC_EVERY][REC_BYTES];
    static const void *ptrs[SYNC_EVERY];
    static size_t lens[SYNC_EVERY];
    for (int i = 0; i < SYNC_EVERY; i++) {
        ptrs[i] = batch[i];
        lens[i] = REC_BYTES;
    }
    double t_bare = 0, t_one = 0, t_batch = 0;
    unsigned char sink = 0, rec[REC_BYTES];
    int rc = 0;
    for (uint64_t lo = 0; lo < n_leaves && rc == 0; lo += BLOCK) {
        uint64_t hi = lo + BLOCK < n_leaves ? lo + BLOCK : n_leaves;
        double t0 = now_s();
        for (uint64_t i = lo; i < hi; i++) {
            struct ledger_hash h;
            make_record(i, rec);
            ledger_sha256(rec, REC_BYTES, &h);
            sink ^= h.b[0];
        }
        double t1_ = now_s();
        for (uint64_t i = lo; i < hi && rc == 0; i++) {
            make_record(i, rec);
            rc = ledger_append(t1, rec, REC_BYTES, NULL, &e);
            if (rc == 0 && ((i + 1) % SYNC_EVERY == 0 || i + 1 == n_leaves))
                rc = ledger_sync(t1, &e);
        }
        double t2 = now_s();
        for (uint64_t b = lo; b < hi && rc == 0; b += SYNC_EVERY) {
            size_t k = hi - b < SYNC_EVERY ? (size_t)(hi - b) : SYNC_EVERY;
            for (size_t i = 0; i < k; i++) make_record(b + i, batch[i]);
            rc = ledger_append_batch(t, ptrs, lens, k, &e);
            if (rc == 0) rc = ledger_sync(t, &e);
        }
        double t3 = now_s();
        t_bare += t1_ - t0;
        t_one += t2 - t1_;
        t_batch += t3 - t2;
    }
    if (rc) {
        fprintf(stderr, "bench_ledger: %s\n", e.msg);
        return 2;
    }
    struct ledger_hash root, root1;
    char hex[LEDGER_HEX_SIZE];
    if (ledger_root(t, n_leaves, &root, &e) != 0 || ledger_root(t1, n_leaves, &root1, &e) != 0) {
        fprintf(stderr, "bench_ledger: %s\n", e.msg);
        return 2;
    }
    ledger_hash_hex(&root, hex);
    ledger_close(t);
    ledger_close(t1);
    unlink(path1);
    unlink(nodes1);
    double r_one = (double)n_leaves / t_one, r_batch = (double)n_leaves / t_batch;
    double r_bare = (double)n_leaves / t_bare;
    double ratio_one = r_one / r_bare, ratio_batch = r_batch / r_bare;
    printf("ledger: %llu records of %d bytes, fdatasync every %d; bare SHA-256 (one thread) "
           "%.0f records/s\n",
           (unsigned long long)n_leaves, REC_BYTES, SYNC_EVERY, r_bare);
    printf("ledger: ledger_append (one thread): %.0f records/s in %.2f s, ratio %.0f%%\n", r_one,
           t_one, ratio_one * 100);
    printf("ledger: ledger_append_batch of %d (two threads): %.0f records/s in %.2f s, ratio "
           "%.0f%% (targets >= %.0f records/s and >= %.0f%%)\n",
           SYNC_EVERY, r_batch, t_batch, ratio_batch * 100, TARGET_RATE, TARGET_RATIO * 100);
    printf("ledger: root %s, both trees %s (sink %u)\n", hex,
           ledger_hash_eq(&root, &root1) ? "equal" : "DIFFER", sink);

    double t0 = now_s();
    if (ledger_open(path, false, &t, &e) != 0) {
        fprintf(stderr, "bench_ledger: %s\n", e.msg);
        return 2;
    }
    double t_open = now_s() - t0;
    static double incl_us[QUERIES], cons_us[QUERIES];
    size_t max_len = 0;
    long bad = time_proofs(t, n_leaves, QUERIES, incl_us, cons_us, &max_len);
    double incl_med = quantile(incl_us, QUERIES, 0.5), incl_p99 = quantile(incl_us, QUERIES, 0.99);
    double cons_med = quantile(cons_us, QUERIES, 0.5), cons_p99 = quantile(cons_us, QUERIES, 0.99);
    printf("ledger: reopened %llu leaves in %.2f ms; %d inclusion proofs: median %.1f us, p99 "
           "%.1f us; %d consistency proofs: median %.1f us, p99 %.1f us; longest %zu hashes; all "
           "verified: %s (target median < %.0f us)\n",
           (unsigned long long)n_leaves, t_open * 1e3, QUERIES, incl_med, incl_p99, QUERIES,
           cons_med, cons_p99, max_len, bad ? "NO" : "yes", TARGET_PROOF_US);
    drop_cache(path);
    drop_cache(nodes);
    bad += time_proofs(t, n_leaves, COLD_QUERIES, incl_us, cons_us, &max_len);
    printf("ledger: after dropping the files from the page cache: %d inclusion proofs median "
           "%.1f us, %d consistency proofs median %.1f us\n",
           COLD_QUERIES, quantile(incl_us, COLD_QUERIES, 0.5), COLD_QUERIES,
           quantile(cons_us, COLD_QUERIES, 0.5));
    ledger_close(t);
    unlink(path);
    unlink(nodes);
    rmdir(dir);

    int fail = 0;
    if (r_batch < TARGET_RATE) {
        printf("ledger: FAIL: %.0f records/s is below %.0f\n", r_batch, TARGET_RATE);
        fail = 1;
    }
    if (ratio_one < TARGET_RATIO || ratio_batch < TARGET_RATIO) {
        printf("ledger: FAIL: a ratio is below %.0f%%\n", TARGET_RATIO * 100);
        fail = 1;
    }
    if (!ledger_hash_eq(&root, &root1)) {
        printf("ledger: FAIL: the two trees differ\n");
        fail = 1;
    }
    if (incl_med >= TARGET_PROOF_US || cons_med >= TARGET_PROOF_US) {
        printf("ledger: FAIL: median proof time above %.0f us\n", TARGET_PROOF_US);
        fail = 1;
    }
    if (bad) {
        printf("ledger: FAIL: %ld proofs did not verify\n", bad);
        fail = 1;
    }
    return fail;
}
