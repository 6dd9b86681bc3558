/* emit_proofs.c: builds a truce ledger of N deterministic leaves (data "leaf 0", "leaf 1", ...)
 * in a temporary directory and prints its hashes and proofs for an independent verifier
 * (tests/interop/check_tlog.go checks them with Go's golang.org/x/mod/sumdb/tlog; run by
 * tests/integration/interop_go.sh).
 *
 *   emit_proofs [N]        N leaves, 1..100000 (default 300); output on stdout
 *
 * The tree is built with ledger_append (first half) and ledger_append_batch (second half),
 * synced, closed and reopened, so every hash below is read back from the persisted files.
 * Output, one item per line, fields separated by one space, hashes in lower-case hex:
 *
 *   truce-ledger-interop 1
 *   size N
 *   leaf I DATA_HEX LEAF_HASH               I = 0..N-1 in order; DATA_HEX is the leaf's data
 *   node LEVEL J HASH                       root of the perfect subtree of leaves
 *                                           [J 2^LEVEL, (J+1) 2^LEVEL), LEVEL >= 1, read from
 *                                           "<path>.nodes" at the entry docs/internals/ledger.md
 *                                           gives; every perfect subtree of the N leaves
 *   root S HASH                             ledger_root(S) for S = 0..N (S = 0: SHA-256(""))
 *   incl INDEX SIZE K H1 .. HK              ledger_inclusion_proof, leaf side first
 *   cons M N K H1 .. HK                     ledger_consistency_proof(M, N), 1 <= M <= N
 *   end LEAVES NODES ROOTS INCL CONS        counts of the lines above (detects truncation)
 *
 * Every proof is also checked with truce's own verifiers before it is printed. Exits 0, or 1
 * with a message on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"

#define MAX_LEAVES 100000
/* Sizes up to EXHAUSTIVE get every inclusion index and every consistency m. */
#define EXHAUSTIVE 33

static struct errbuf E;
static unsigned long n_leaf, n_node, n_root, n_incl, n_cons;

static void die(const char *what, int rc) {
    fprintf(stderr, "emit_proofs: %s: %s (%s)\n", what, E.msg, err_str(rc));
    exit(1);
}

static void put_hash(const struct ledger_hash *h) {
    char hex[LEDGER_HEX_SIZE];
    ledger_hash_hex(h, hex);
    putchar(' ');
    fputs(hex, stdout);
}

static int leaf_data(uint64_t i, char *buf, size_t n) {
    return snprintf(buf, n, "leaf %" PRIu64, i);
}

static void emit_inclusion(const struct ledger_tree *t, uint64_t index, uint64_t size) {
    struct ledger_hash proof[LEDGER_MAX_PROOF], leaf, root;
    size_t np = 0;
    int rc;
    if ((rc = ledger_inclusion_proof(t, index, size, proof, &np, &E))) die("inclusion proof", rc);
    if ((rc = ledger_leaf(t, index, &leaf, &E))) die("leaf", rc);
    if ((rc = ledger_root(t, size, &root, &E))) die("root", rc);
    if ((rc = ledger_verify_inclusion(&leaf, index, size, proof, np, &root, &E)))
        die("ledger_verify_inclusion", rc);
    printf("incl %" PRIu64 " %" PRIu64 " %zu", index, size, np);
    for (size_t i = 0; i < np; i++) put_hash(&proof[i]);
    putchar('\n');
    n_incl++;
}

static void emit_consistency(const struct ledger_tree *t, uint64_t m, uint64_t n) {
    struct ledger_hash proof[LEDGER_MAX_PROOF], root_m, root_n;
    size_t np = 0;
    int rc;
    if ((rc = ledger_consistency_proof(t, m, n, proof, &np, &E))) die("consistency proof", rc);
    if ((rc = ledger_root(t, m, &root_m, &E))) die("root", rc);
    if ((rc = ledger_root(t, n, &root_n, &E))) die("root", rc);
    if ((rc = ledger_verify_consistency(m, n, &root_m, &root_n, proof, np, &E)))
        die("ledger_verify_consistency", rc);
    printf("cons %" PRIu64 " %" PRIu64 " %zu", m, n, np);
    for (size_t i = 0; i < np; i++) put_hash(&proof[i]);
    putchar('\n');
    n_cons++;
}

/* Interior node (level k >= 1, index j) from the nodes file: entry I(m - 1) + k - 1 with
 * m = (j + 1) 2^k and I(x) = x - popcount(x) (docs/internals/ledger.md, "Storage layout"). */
static void emit_node(FILE *nodes, unsigned k, uint64_t j) {
    uint64_t m = (j + 1) << k;
    uint64_t entry = (m - 1) - (uint64_t)__builtin_popcountll(m - 1) + k - 1;
    struct ledger_hash h;
    if (fseeko(nodes, (off_t)(entry * LEDGER_HASH_BYTES), SEEK_SET) != 0 ||
        fread(h.b, 1, sizeof h.b, nodes) != sizeof h.b) {
        fprintf(stderr, "emit_proofs: cannot read node (%u, %" PRIu64 ") at entry %" PRIu64
                        " of the nodes file\n", k, j, entry);
        exit(1);
    }
    printf("node %u %" PRIu64, k, j);
    put_hash(&h);
    putchar('\n');
    n_node++;
}

/* A few pseudo-random values below n (a fixed LCG: the output is the same on every run). */
static uint64_t lcg_state = 0x2545F4914F6CDD1DULL;
static uint64_t rnd_below(uint64_t n) {
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (lcg_state >> 33) % n;
}

/* Adds v to the list a (n entries, room for cap) unless present or outside [lo, hi]. */
static void add_unique(uint64_t *a, size_t *n, size_t cap, uint64_t v, uint64_t lo, uint64_t hi) {
    if (v < lo || v > hi) return;
    for (size_t i = 0; i < *n; i++)
        if (a[i] == v) return;
    if (*n < cap) a[(*n)++] = v;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    uint64_t n = 300;
    if (argc > 2) {
        fprintf(stderr, "usage: emit_proofs [N]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(argv[1], &end, 10);
        if (errno || *end || end == argv[1] || v < 1 || v > MAX_LEAVES) {
            fprintf(stderr, "emit_proofs: N must be 1..%d\n", MAX_LEAVES);
            return 2;
        }
        n = v;
    }
    int rc;
    if ((rc = ledger_init())) die("ledger_init", rc);

    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200], nodes_path[4300];
    snprintf(dir, sizeof dir, "%s/truce-interop-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("emit_proofs: mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/ledger", dir);
    snprintf(nodes_path, sizeof nodes_path, "%s.nodes", path);

    /* Build: the first half one leaf at a time, the rest in one batch. */
    struct ledger_tree *t = NULL;
    if ((rc = ledger_open(path, true, &t, &E))) die("ledger_open (create)", rc);
    char (*data)[32] = calloc(n, sizeof *data);
    const void **ptrs = calloc(n, sizeof *ptrs);
    size_t *lens = calloc(n, sizeof *lens);
    if (!data || !ptrs || !lens) {
        fprintf(stderr, "emit_proofs: out of memory\n");
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        lens[i] = (size_t)leaf_data(i, data[i], sizeof data[i]);
        ptrs[i] = data[i];
    }
    uint64_t half = n / 2;
    for (uint64_t i = 0; i < half; i++) {
        uint64_t idx;
        if ((rc = ledger_append(t, data[i], lens[i], &idx, &E))) die("ledger_append", rc);
        if (idx != i) {
            fprintf(stderr, "emit_proofs: leaf %" PRIu64 " got index %" PRIu64 "\n", i, idx);
            return 1;
        }
    }
    if ((rc = ledger_append_batch(t, ptrs + half, lens + half, (size_t)(n - half), &E)))
        die("ledger_append_batch", rc);
    if ((rc = ledger_sync(t, &E))) die("ledger_sync", rc);
    ledger_close(t);

    /* Reopen: everything below comes from the files. */
    if ((rc = ledger_open(path, false, &t, &E))) die("ledger_open", rc);
    if (ledger_size(t) != n) {
        fprintf(stderr, "emit_proofs: reopened tree has %" PRIu64 " leaves, not %" PRIu64 "\n",
                ledger_size(t), n);
        return 1;
    }
    if ((rc = ledger_check(t, &E))) die("ledger_check", rc);

    printf("truce-ledger-interop 1\nsize %" PRIu64 "\n", n);
    for (uint64_t i = 0; i < n; i++) {
        struct ledger_hash h;
        if ((rc = ledger_leaf(t, i, &h, &E))) die("ledger_leaf", rc);
        printf("leaf %" PRIu64 " ", i);
        for (size_t k = 0; k < lens[i]; k++) printf("%02x", (unsigned char)data[i][k]);
        put_hash(&h);
        putchar('\n');
        n_leaf++;
    }

    FILE *nodes = fopen(nodes_path, "rb");
    if (!nodes) {
        perror("emit_proofs: open nodes file");
        return 1;
    }
    for (unsigned k = 1; k < 63 && (1ULL << k) <= n; k++)
        for (uint64_t j = 0; ((j + 1) << k) <= n; j++) emit_node(nodes, k, j);
    fclose(nodes);

    for (uint64_t s = 0; s <= n; s++) {
        struct ledger_hash h;
        if ((rc = ledger_root(t, s, &h, &E))) die("ledger_root", rc);
        printf("root %" PRIu64, s);
        put_hash(&h);
        putchar('\n');
        n_root++;
    }

    /* The sizes: every one up to EXHAUSTIVE, then those around powers of two, and a few more. */
    static const uint64_t sizes_big[] = {63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, 299,
                                         300, 511, 512, 513, 1000, 1023, 1024, 1025};
    uint64_t sizes[EXHAUSTIVE + sizeof sizes_big / sizeof sizes_big[0] + 1];
    size_t n_sizes = 0, cap = sizeof sizes / sizeof sizes[0];
    for (uint64_t s = 1; s <= EXHAUSTIVE; s++) add_unique(sizes, &n_sizes, cap, s, 1, n);
    for (size_t i = 0; i < sizeof sizes_big / sizeof sizes_big[0]; i++)
        add_unique(sizes, &n_sizes, cap, sizes_big[i], 1, n);
    add_unique(sizes, &n_sizes, cap, n, 1, n);

    for (size_t si = 0; si < n_sizes; si++) {
        uint64_t s = sizes[si], pick[32];
        size_t np = 0;
        if (s <= EXHAUSTIVE) {
            for (uint64_t i = 0; i < s; i++) emit_inclusion(t, i, s);
        } else {
            const uint64_t fixed[] = {0, 1, 2, s / 3, s / 2, s - 2, s - 1};
            for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
                add_unique(pick, &np, 32, fixed[i], 0, s - 1);
            for (int i = 0; i < 5; i++) add_unique(pick, &np, 32, rnd_below(s), 0, s - 1);
            qsort(pick, np, sizeof pick[0], cmp_u64);
            for (size_t i = 0; i < np; i++) emit_inclusion(t, pick[i], s);
        }
    }
    for (size_t si = 0; si < n_sizes; si++) {
        uint64_t s = sizes[si], pick[48];
        size_t np = 0;
        if (s <= EXHAUSTIVE) {
            for (uint64_t m = 1; m <= s; m++) emit_consistency(t, m, s);
        } else {
            const uint64_t fixed[] = {1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129,
                                      255, 256, 257, s / 2, s - 2, s - 1, s};
            for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
                add_unique(pick, &np, 48, fixed[i], 1, s);
            for (int i = 0; i < 5; i++) add_unique(pick, &np, 48, 1 + rnd_below(s), 1, s);
            qsort(pick, np, sizeof pick[0], cmp_u64);
            for (size_t i = 0; i < np; i++) emit_consistency(t, pick[i], s);
        }
    }
    printf("end %lu %lu %lu %lu %lu\n", n_leaf, n_node, n_root, n_incl, n_cons);

    ledger_close(t);
    free(data);
    free(ptrs);
    free(lens);
    if (unlink(nodes_path) != 0 || unlink(path) != 0 || rmdir(dir) != 0) {
        perror("emit_proofs: removing the temporary tree");
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("emit_proofs: stdout");
        return 1;
    }
    return 0;
}
