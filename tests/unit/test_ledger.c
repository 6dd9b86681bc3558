/* test_ledger.c: the transparency log core: RFC 6962 hashes and roots against the Certificate
 * Transparency reference vectors (the 8-leaf tree used by CT, Trillian and
 * transparency-dev/merkle), reference inclusion and consistency proofs and their corruptions,
 * property tests against a naive recursive Merkle Tree Hash and naive RFC 6962 proof recursions,
 * persistence, crash recovery (torn files, lost nodes), truncation and bad inputs.
 * Ledgers are created in a fresh directory under $TMPDIR (default /tmp), removed at the end. */
#include "t.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger.h"

static char tmpdir[512];

/* ---- helpers ---- */

static void tpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void rm_ledger(const char *path)
{
    char nodes[600];
    snprintf(nodes, sizeof nodes, "%s.nodes", path);
    unlink(path);
    unlink(nodes);
}

static struct ledger_hash hx(const char *hex)
{
    struct ledger_hash h;
    memset(&h, 0, sizeof h);
    if (ledger_hash_from_hex(hex, &h) != 0) T_FAIL_("bad hex in the test: %s", hex);
    return h;
}

static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

#define CHECK_HASH(a, b)                                                                   \
    do {                                                                                   \
        char ha_[LEDGER_HEX_SIZE], hb_[LEDGER_HEX_SIZE];                                   \
        ledger_hash_hex(a, ha_);                                                           \
        ledger_hash_hex(b, hb_);                                                           \
        CHECK_STR(ha_, hb_);                                                               \
    } while (0)

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

/* RFC 6962 section 2.1, literally. */
static void naive_mth(const struct ledger_hash *l, uint64_t n, struct ledger_hash *out)
{
    if (n == 0) {
        ledger_sha256("", 0, out);
        return;
    }
    if (n == 1) {
        *out = l[0];
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    struct ledger_hash a, b;
    naive_mth(l, k, &a);
    naive_mth(l + k, n - k, &b);
    ledger_node_hash(&a, &b, out);
}

/* RFC 6962 section 2.1.1 PATH(m, D[n]), literally; appends to out. */
static void naive_path(uint64_t m, const struct ledger_hash *l, uint64_t n, struct ledger_hash *out,
                       size_t *len)
{
    if (n <= 1) return;
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    if (m < k) {
        naive_path(m, l, k, out, len);
        naive_mth(l + k, n - k, &out[(*len)++]);
    } else {
        naive_path(m - k, l + k, n - k, out, len);
        naive_mth(l, k, &out[(*len)++]);
    }
}

/* RFC 6962 section 2.1.2 SUBPROOF(m, D[n], b), literally. */
static void naive_subproof(uint64_t m, const struct ledger_hash *l, uint64_t n, int b,
                           struct ledger_hash *out, size_t *len)
{
    if (m == n) {
        if (!b) naive_mth(l, m, &out[(*len)++]);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) {
        naive_subproof(m, l, k, b, out, len);
        naive_mth(l + k, n - k, &out[(*len)++]);
    } else {
        naive_subproof(m - k, l + k, n - k, 0, out, len);
        naive_mth(l, k, &out[(*len)++]);
    }
}

static struct ledger_tree *create_tree(const char *name, char *path, size_t n)
{
    tpath(path, n, name);
    rm_ledger(path);
    struct ledger_tree *t = NULL;
    struct errbuf e;
    int rc = ledger_open(path, true, &t, &e);
    if (rc) T_FAIL_("ledger_open(%s, create): %s", path, e.msg);
    return t;
}

static struct ledger_tree *reopen(const char *path)
{
    struct ledger_tree *t = NULL;
    struct errbuf e;
    if (ledger_open(path, false, &t, &e) != 0) T_FAIL_("ledger_open(%s): %s", path, e.msg);
    return t;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK_INT(write(fd, p, n), (long long)n);
    close(fd);
}

static void cut_to(const char *path, long long bytes)
{
    CHECK_INT(truncate(path, bytes), 0);
}

static uint64_t popcount_interior(uint64_t n)
{
    return n - (uint64_t)__builtin_popcountll(n);
}

static void random_leaves(struct ledger_hash *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v[3] = {rnd(), rnd(), i};
        ledger_leaf_hash(v, sizeof v, &l[i]);
    }
}

/* ---- the CT reference tree ---- */

static const char *const REF_LEAVES[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const REF_ROOTS[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ref_leaf_hashes(struct ledger_hash *l)
{
    for (int i = 0; i < 8; i++) {
        unsigned char d[16];
        size_t n = unhex(REF_LEAVES[i], d);
        ledger_leaf_hash(d, n, &l[i]);
    }
}

static struct ledger_tree *ref_tree(char *path, size_t n)
{
    struct ledger_tree *t = create_tree("ref", path, n);
    if (!t) return NULL;
    struct errbuf e;
    for (int i = 0; i < 8; i++) {
        unsigned char d[16];
        size_t len = unhex(REF_LEAVES[i], d);
        uint64_t idx = 99;
        CHECK_INT(ledger_append(t, d, len, &idx, &e), 0);
        CHECK_INT(idx, i);
    }
    return t;
}

struct ref_proof {
    uint64_t a, b; /* leaf index and size, or old and new size */
    int n;
    const char *hashes[3];
};

/* From the reference data of transparency-dev/merkle (proof/verify_test.go): inclusion of leaf
 * indices 0, 5, 2, 1 (its table counts leaves from 1). */
static const struct ref_proof REF_INCLUSION[] = {
    {0, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, 0, {NULL}},
};

static const struct ref_proof REF_CONSISTENCY[] = {
    {1, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {1, 1, 0, {NULL}},
};

/* Each corruption of a valid inclusion proof must be refused. */
static void check_inclusion_corruptions(const struct ledger_hash *leaf, uint64_t index,
                                        uint64_t size, const struct ledger_hash *proof, size_t n,
                                        const struct ledger_hash *root)
{
    struct errbuf e;
    struct ledger_hash bad[LEDGER_MAX_PROOF + 2], other;
    ledger_sha256("some other hash", 15, &other);
    if (index > 0) CHECK(ledger_verify_inclusion(leaf, index - 1, size, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(leaf, index + 1, size, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(leaf, index ^ 2, size, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(leaf, index, size * 2, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(leaf, index, size / 2, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(&other, index, size, proof, n, root, &e) != 0);
    CHECK(ledger_verify_inclusion(leaf, index, size, proof, n, &other, &e) != 0);
    struct ledger_hash empty;
    ledger_empty_root(&empty);
    CHECK(ledger_verify_inclusion(leaf, index, size, proof, n, &empty, &e) != 0);
    /* trailing and preceding extra hashes */
    memcpy(bad, proof, n * sizeof *proof);
    bad[n] = *root;
    CHECK_INT(ledger_verify_inclusion(leaf, index, size, bad, n + 1, root, &e), ERR_INVAL);
    bad[0] = *root;
    memcpy(bad + 1, proof, n * sizeof *proof);
    CHECK_INT(ledger_verify_inclusion(leaf, index, size, bad, n + 1, root, &e), ERR_INVAL);
    /* one bit flipped in each element */
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, proof, n * sizeof *proof);
        bad[i].b[0] ^= 8;
        CHECK_INT(ledger_verify_inclusion(leaf, index, size, bad, n, root, &e), ERR_CONFLICT);
    }
    if (n > 0) CHECK(ledger_verify_inclusion(leaf, index, size, proof, n - 1, root, &e) != 0);
    if (n > 1) {
        bad[0] = proof[0];
        bad[1] = other;
        memcpy(bad + 2, proof + 1, (n - 1) * sizeof *proof);
        CHECK(ledger_verify_inclusion(leaf, index, size, bad, n + 1, root, &e) != 0);
    }
}

static void check_consistency_corruptions(uint64_t m, uint64_t n, const struct ledger_hash *rm,
                                          const struct ledger_hash *rn,
                                          const struct ledger_hash *proof, size_t len)
{
    struct errbuf e;
    struct ledger_hash bad[LEDGER_MAX_PROOF + 2], other;
    ledger_sha256("WrongRoot", 9, &other);
    CHECK(ledger_verify_consistency(m - 1, n, rm, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m + 1, n, rm, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m ^ 2, n, rm, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n * 2, rm, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n / 2, rm, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n, &other, rn, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n, rm, &other, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n, rn, rm, proof, len, &e) != 0);
    CHECK(ledger_verify_consistency(m, n, rm, rn, proof, 0, &e) != 0);
    const struct ledger_hash *extra[4] = {rm, rn, &proof[0], &other};
    for (int x = 0; x < 4; x++) {
        memcpy(bad, proof, len * sizeof *proof);
        bad[len] = *extra[x];
        CHECK(ledger_verify_consistency(m, n, rm, rn, bad, len + 1, &e) != 0);
        bad[0] = *extra[x];
        memcpy(bad + 1, proof, len * sizeof *proof);
        CHECK(ledger_verify_consistency(m, n, rm, rn, bad, len + 1, &e) != 0);
    }
    CHECK(ledger_verify_consistency(m, n, rm, rn, proof, len - 1, &e) != 0);
    for (size_t i = 0; i < len; i++) {
        memcpy(bad, proof, len * sizeof *proof);
        bad[i].b[0] ^= 16;
        CHECK_INT(ledger_verify_consistency(m, n, rm, rn, bad, len, &e), ERR_CONFLICT);
    }
}

/* ---- tests ---- */

static void test_hash_primitives(void)
{
    struct ledger_hash h, w;
    ledger_sha256("abc", 3, &h);
    w = hx("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_HASH(&h, &w);
    ledger_empty_root(&h);
    w = hx(REF_ROOTS[0]);
    CHECK_HASH(&h, &w);
    ledger_leaf_hash("", 0, &h);
    w = hx("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    CHECK_HASH(&h, &w);
    ledger_leaf_hash("L123456", 7, &h);
    w = hx("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
    CHECK_HASH(&h, &w);
    /* the streaming path for long records and the node hash, against plain SHA-256 */
    static unsigned char big[2001];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (unsigned char)(i * 7);
    for (size_t len = 500; len <= 2000; len += 250) {
        big[0] = 0x00;
        unsigned char *copy = malloc(len + 1);
        copy[0] = 0x00;
        memcpy(copy + 1, big + 1, len);
        ledger_sha256(copy, len + 1, &w);
        ledger_leaf_hash(big + 1, len, &h);
        CHECK_HASH(&h, &w);
        free(copy);
    }
    struct ledger_hash l, r;
    ledger_sha256("left", 4, &l);
    ledger_sha256("right", 5, &r);
    unsigned char buf[65];
    buf[0] = 0x01;
    memcpy(buf + 1, l.b, 32);
    memcpy(buf + 33, r.b, 32);
    ledger_sha256(buf, sizeof buf, &w);
    ledger_node_hash(&l, &r, &h);
    CHECK_HASH(&h, &w);
    ledger_node_hash(&l, &r, &l); /* aliasing the output */
    CHECK_HASH(&l, &w);
    CHECK_INT(ledger_init(), 0);
}

static void test_hex(void)
{
    struct ledger_hash h;
    char s[LEDGER_HEX_SIZE];
    CHECK_INT(ledger_hash_from_hex(REF_ROOTS[8], &h), 0);
    ledger_hash_hex(&h, s);
    CHECK_STR(s, REF_ROOTS[8]);
    const char *upper = "5DC9DA79A70659A9AD559CB701DED9A2AB9D823AAD2F4960CFE370EFF4604328";
    CHECK_INT(ledger_hash_from_hex(upper, &h), 0);
    ledger_hash_hex(&h, s);
    CHECK_STR(s, REF_ROOTS[8]);
    char bad[80];
    CHECK_INT(ledger_hash_from_hex("", &h), ERR_PARSE);
    CHECK_INT(ledger_hash_from_hex("5dc9", &h), ERR_PARSE);
    snprintf(bad, sizeof bad, "%s0", REF_ROOTS[8]); /* one digit too many */
    CHECK_INT(ledger_hash_from_hex(bad, &h), ERR_PARSE);
    snprintf(bad, sizeof bad, "x%s", REF_ROOTS[8] + 1); /* not a digit */
    CHECK_INT(ledger_hash_from_hex(bad, &h), ERR_PARSE);
    snprintf(bad, sizeof bad, "%.63s", REF_ROOTS[8]); /* an odd number */
    CHECK_INT(ledger_hash_from_hex(bad, &h), ERR_PARSE);
}

static void test_reference_roots(void)
{
    struct ledger_hash leaves[8], h, w;
    ref_leaf_hashes(leaves);
    for (int n = 0; n <= 8; n++) {
        w = hx(REF_ROOTS[n]);
        ledger_mth(leaves, (uint64_t)n, &h);
        CHECK_HASH(&h, &w);
        naive_mth(leaves, (uint64_t)n, &h);
        CHECK_HASH(&h, &w);
    }
    /* the persisted tree: after every append, at every size, and after reopening */
    char path[600];
    struct ledger_tree *t = create_tree("roots", path, sizeof path);
    if (!t) return;
    struct errbuf e;
    CHECK_INT(ledger_root(t, 0, &h, &e), 0);
    w = hx(REF_ROOTS[0]);
    CHECK_HASH(&h, &w);
    for (int i = 0; i < 8; i++) {
        unsigned char d[16];
        size_t len = unhex(REF_LEAVES[i], d);
        CHECK_INT(ledger_append(t, d, len, NULL, &e), 0);
        CHECK_INT(ledger_size(t), i + 1);
        CHECK_INT(ledger_root(t, (uint64_t)i + 1, &h, &e), 0);
        w = hx(REF_ROOTS[i + 1]);
        CHECK_HASH(&h, &w);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int n = 0; n <= 8; n++) {
            CHECK_INT(ledger_root(t, (uint64_t)n, &h, &e), 0);
            w = hx(REF_ROOTS[n]);
            CHECK_HASH(&h, &w);
        }
        for (int i = 0; i < 8; i++) {
            CHECK_INT(ledger_leaf(t, (uint64_t)i, &h, &e), 0);
            CHECK_HASH(&h, &leaves[i]);
        }
        CHECK_INT(ledger_sync(t, &e), 0);
        ledger_close(t);
        t = reopen(path);
        if (!t) return;
        CHECK_INT(ledger_size(t), 8);
    }
    CHECK_INT(ledger_check(t, &e), 0);
    ledger_close(t);
    rm_ledger(path);
}

static void test_reference_inclusion_proofs(void)
{
    char path[600];
    struct ledger_tree *t = ref_tree(path, sizeof path);
    if (!t) return;
    struct ledger_hash leaves[8];
    ref_leaf_hashes(leaves);
    struct errbuf e;
    for (size_t v = 0; v < sizeof REF_INCLUSION / sizeof REF_INCLUSION[0]; v++) {
        const struct ref_proof *r = &REF_INCLUSION[v];
        struct ledger_hash proof[LEDGER_MAX_PROOF], want[3], root = hx(REF_ROOTS[r->b]);
        size_t n = 99;
        CHECK_INT(ledger_inclusion_proof(t, r->a, r->b, proof, &n, &e), 0);
        CHECK_INT(n, r->n);
        CHECK_INT(ledger_inclusion_len(r->a, r->b), r->n);
        for (int i = 0; i < r->n && i < (int)n; i++) {
            want[i] = hx(r->hashes[i]);
            CHECK_HASH(&proof[i], &want[i]);
        }
        CHECK_INT(ledger_verify_inclusion(&leaves[r->a], r->a, r->b, want, (size_t)r->n, &root,
                                          &e),
                  0);
        check_inclusion_corruptions(&leaves[r->a], r->a, r->b, want, (size_t)r->n, &root);
    }
    /* every leaf of every reference size, against the naive recursion */
    for (uint64_t size = 1; size <= 8; size++) {
        struct ledger_hash root = hx(REF_ROOTS[size]);
        for (uint64_t i = 0; i < size; i++) {
            struct ledger_hash proof[LEDGER_MAX_PROOF], naive[LEDGER_MAX_PROOF];
            size_t n, nn = 0;
            CHECK_INT(ledger_inclusion_proof(t, i, size, proof, &n, &e), 0);
            naive_path(i, leaves, size, naive, &nn);
            CHECK_INT(n, nn);
            CHECK(memcmp(proof, naive, n * sizeof *proof) == 0);
            CHECK_INT(ledger_verify_inclusion(&leaves[i], i, size, proof, n, &root, &e), 0);
        }
    }
    ledger_close(t);
    rm_ledger(path);
}

static void test_reference_consistency_proofs(void)
{
    char path[600];
    struct ledger_tree *t = ref_tree(path, sizeof path);
    if (!t) return;
    struct ledger_hash leaves[8];
    ref_leaf_hashes(leaves);
    struct errbuf e;
    for (size_t v = 0; v < sizeof REF_CONSISTENCY / sizeof REF_CONSISTENCY[0]; v++) {
        const struct ref_proof *r = &REF_CONSISTENCY[v];
        struct ledger_hash proof[LEDGER_MAX_PROOF], want[3];
        struct ledger_hash rm = hx(REF_ROOTS[r->a]), rn = hx(REF_ROOTS[r->b]);
        size_t n = 99;
        CHECK_INT(ledger_consistency_proof(t, r->a, r->b, proof, &n, &e), 0);
        CHECK_INT(n, r->n);
        CHECK_INT(ledger_consistency_len(r->a, r->b), r->n);
        for (int i = 0; i < r->n && i < (int)n; i++) {
            want[i] = hx(r->hashes[i]);
            CHECK_HASH(&proof[i], &want[i]);
        }
        CHECK_INT(ledger_verify_consistency(r->a, r->b, &rm, &rn, want, (size_t)r->n, &e), 0);
        if (r->n > 0) check_consistency_corruptions(r->a, r->b, &rm, &rn, want, (size_t)r->n);
    }
    for (uint64_t m = 1; m <= 8; m++) {
        for (uint64_t n = m; n <= 8; n++) {
            struct ledger_hash proof[LEDGER_MAX_PROOF], naive[LEDGER_MAX_PROOF];
            struct ledger_hash rm = hx(REF_ROOTS[m]), rn = hx(REF_ROOTS[n]);
            size_t len, nn = 0;
            CHECK_INT(ledger_consistency_proof(t, m, n, proof, &len, &e), 0);
            naive_subproof(m, leaves, n, 1, naive, &nn);
            CHECK_INT(len, nn);
            CHECK(memcmp(proof, naive, len * sizeof *proof) == 0);
            CHECK_INT(ledger_verify_consistency(m, n, &rm, &rn, proof, len, &e), 0);
        }
    }
    ledger_close(t);
    rm_ledger(path);
}

static void test_consistency_trivial_sizes(void)
{
    struct errbuf e;
    struct ledger_hash empty = hx(REF_ROOTS[0]), r5 = hx(REF_ROOTS[5]), r4 = hx(REF_ROOTS[4]);
    struct ledger_hash one[1] = {empty};
    CHECK_INT(ledger_verify_consistency(0, 0, &empty, &empty, NULL, 0, &e), 0);
    CHECK_INT(ledger_verify_consistency(0, 5, &empty, &r5, NULL, 0, &e), 0);
    CHECK_INT(ledger_verify_consistency(0, 5, &r5, &r5, NULL, 0, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "empty tree");
    CHECK_INT(ledger_verify_consistency(5, 5, &r5, &r5, NULL, 0, &e), 0);
    CHECK_INT(ledger_verify_consistency(5, 5, &r5, &r4, NULL, 0, &e), ERR_CONFLICT);
    CHECK_INT(ledger_verify_consistency(5, 5, &r5, &r5, one, 1, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_consistency(0, 5, &empty, &r5, one, 1, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_consistency(0, 0, &empty, &empty, one, 1, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_consistency(6, 5, &r5, &r5, NULL, 0, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "above the new size");
    CHECK_INT(ledger_verify_consistency(4, 5, &r4, &r5, NULL, 0, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "has 0 hashes, not 1");
    /* the inclusion side: no leaf is in an empty tree */
    CHECK_INT(ledger_verify_inclusion(&empty, 0, 0, NULL, 0, &empty, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_inclusion(&r5, 0, 1, NULL, 0, &r5, &e), 0);
    CHECK_INT(ledger_verify_inclusion(&r5, 0, 1, NULL, 0, &r4, &e), ERR_CONFLICT);
    CHECK_INT(ledger_verify_inclusion(&r5, 1, 1, NULL, 0, &r5, &e), ERR_INVAL);
}

/* Proof lengths of the node lists in transparency-dev/merkle's proof_test.go (a "rehash" run of
 * r nodes there is one hash here), and the closed forms at large sizes. */
static void test_proof_shapes(void)
{
    static const uint64_t incl[][3] = {
        {0, 1, 0},  {0, 2, 1},  {1, 2, 1},  {1, 3, 2},   {0, 7, 3},   {3, 7, 3},  {4, 7, 3},
        {6, 7, 2},  {2, 4, 2},  {3, 5, 3},  {3, 6, 3},   {4, 6, 2},   {10, 15, 4}, {24, 31, 5},
        {81, 95, 6}, {7, 7, 0}, {8, 7, 0},
    };
    for (size_t i = 0; i < sizeof incl / sizeof incl[0]; i++)
        CHECK_INT(ledger_inclusion_len(incl[i][0], incl[i][1]), incl[i][2]);
    static const uint64_t cons[][3] = {
        {1, 2, 1},  {1, 4, 2},  {1, 6, 3},  {2, 3, 1},  {2, 8, 2},  {3, 7, 4},
        {4, 7, 1},  {5, 7, 4},  {6, 7, 3},  {7, 8, 4},  {2, 4, 1},  {3, 5, 4},
        {3, 6, 4},  {4, 6, 1},  {1, 7, 3},  {10, 15, 4}, {24, 31, 3}, {81, 95, 7},
        {1, 1, 0},  {0, 5, 0},  {5, 4, 0},
    };
    for (size_t i = 0; i < sizeof cons / sizeof cons[0]; i++)
        CHECK_INT(ledger_consistency_len(cons[i][0], cons[i][1]), cons[i][2]);
    CHECK_INT(ledger_inclusion_len(0, 1ULL << 56), 56);
    CHECK_INT(ledger_inclusion_len((1ULL << 56) - 1, (1ULL << 56) + 1), 57);
    CHECK_INT(ledger_inclusion_len(0, UINT64_MAX), 64);
    CHECK_INT(ledger_consistency_len(1, 1ULL << 56), 56);
    CHECK(ledger_consistency_len(3, UINT64_MAX) <= LEDGER_MAX_PROOF + 1);
    /* an inclusion proof has bitlen(index ^ (size - 1)) inner hashes plus one per set bit of
     * index above them (the right border) */
    for (int i = 0; i < 2000; i++) {
        uint64_t size = 1 + (rnd() >> (rnd() % 64)), index = rnd_below(size);
        uint64_t x = index ^ (size - 1);
        int inner = x ? 64 - __builtin_clzll(x) : 0;
        int border = inner < 64 ? __builtin_popcountll(index >> inner) : 0;
        CHECK_INT(ledger_inclusion_len(index, size), inner + border);
    }
}

/* Random tree sizes: every proof verifies against naive roots; corrupted ones do not. */
static void test_property_random_sizes(void)
{
    enum { N = 2600 };
    struct ledger_hash *leaves = malloc(N * sizeof *leaves);
    random_leaves(leaves, N);
    char path[600];
    struct ledger_tree *t = create_tree("prop", path, sizeof path);
    if (!t || !leaves) {
        free(leaves);
        return;
    }
    struct errbuf e;
    /* appended in uneven batches, then read back from the files after a reopen */
    for (size_t at = 0; at < N;) {
        size_t k = 1 + rnd_below(300);
        if (k > N - at) k = N - at;
        CHECK_INT(ledger_append_hashes(t, leaves + at, k, &e), 0);
        at += k;
    }
    CHECK_INT(ledger_sync(t, &e), 0);
    ledger_close(t);
    t = reopen(path);
    if (!t) {
        free(leaves);
        return;
    }
    uint64_t sizes[64];
    int ns = 0;
    static const uint64_t fixed[] = {1,   2,   3,   4,   5,    7,    8,    9,    15,   16,  17,
                                     31,  32,  33,  63,  64,   65,   100,  127,  128,  129, 255,
                                     256, 257, 1000, 1023, 1024, 1025, 2047, 2048, 2049, N};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) sizes[ns++] = fixed[i];
    while (ns < 44) sizes[ns++] = 1 + rnd_below(N);
    struct ledger_hash roots[64];
    for (int s = 0; s < ns; s++) {
        naive_mth(leaves, sizes[s], &roots[s]);
        struct ledger_hash h;
        CHECK_INT(ledger_root(t, sizes[s], &h, &e), 0);
        CHECK_HASH(&h, &roots[s]);
    }
    long proofs = 0;
    for (int s = 0; s < ns; s++) {
        uint64_t size = sizes[s];
        uint64_t count = size <= 260 ? size : 120;
        for (uint64_t c = 0; c < count; c++) {
            uint64_t i = size <= 260 ? c : c == 0 ? 0 : c == 1 ? size - 1 : rnd_below(size);
            struct ledger_hash proof[LEDGER_MAX_PROOF];
            size_t n = 0;
            CHECK_INT(ledger_inclusion_proof(t, i, size, proof, &n, &e), 0);
            CHECK_INT(n, ledger_inclusion_len(i, size));
            int rc = ledger_verify_inclusion(&leaves[i], i, size, proof, n, &roots[s], &e);
            if (rc) T_FAIL_("inclusion %llu in %llu: %s", (unsigned long long)i,
                            (unsigned long long)size, e.msg);
            proofs++;
            if (size <= 70 && c < 8) {
                struct ledger_hash naive[LEDGER_MAX_PROOF];
                size_t nn = 0;
                naive_path(i, leaves, size, naive, &nn);
                CHECK(nn == n && memcmp(naive, proof, n * sizeof *proof) == 0);
            }
            if (c % 7 == 0 && n > 0) {
                proof[rnd_below(n)].b[rnd_below(32)] ^= (unsigned char)(1u << rnd_below(8));
                CHECK_INT(ledger_verify_inclusion(&leaves[i], i, size, proof, n, &roots[s], &e),
                          ERR_CONFLICT);
            } else if (c % 7 == 1 && size > 1) {
                uint64_t j = (i + 1 + rnd_below(size - 1)) % size;
                CHECK(ledger_verify_inclusion(&leaves[i], j, size, proof, n, &roots[s], &e) != 0);
            } else if (c % 7 == 2 && s > 0 && sizes[s - 1] != size) {
                CHECK(ledger_verify_inclusion(&leaves[i], i, size, proof, n, &roots[s - 1], &e) !=
                      0);
            }
        }
    }
    for (int a = 0; a < ns; a++) {
        for (int b = 0; b < ns; b++) {
            uint64_t m = sizes[a], n = sizes[b];
            if (m > n) continue;
            struct ledger_hash proof[LEDGER_MAX_PROOF];
            size_t len = 0;
            CHECK_INT(ledger_consistency_proof(t, m, n, proof, &len, &e), 0);
            CHECK_INT(len, ledger_consistency_len(m, n));
            int rc = ledger_verify_consistency(m, n, &roots[a], &roots[b], proof, len, &e);
            if (rc) T_FAIL_("consistency %llu -> %llu: %s", (unsigned long long)m,
                            (unsigned long long)n, e.msg);
            proofs++;
            if (n <= 70) {
                struct ledger_hash naive[LEDGER_MAX_PROOF];
                size_t nn = 0;
                if (m < n) naive_subproof(m, leaves, n, 1, naive, &nn);
                CHECK(nn == len && memcmp(naive, proof, len * sizeof *proof) == 0);
            }
            if (len == 0) continue;
            int k = (a + b) % 3;
            if (k == 0) {
                proof[rnd_below(len)].b[rnd_below(32)] ^= (unsigned char)(1u << rnd_below(8));
                CHECK_INT(ledger_verify_consistency(m, n, &roots[a], &roots[b], proof, len, &e),
                          ERR_CONFLICT);
            } else if (k == 1) {
                CHECK(ledger_verify_consistency(m, n, &roots[b], &roots[a], proof, len, &e) != 0);
            } else if (m + 1 < n) {
                struct ledger_hash r1;
                naive_mth(leaves, m + 1, &r1);
                CHECK(ledger_verify_consistency(m + 1, n, &r1, &roots[b], proof, len, &e) != 0);
            }
        }
    }
    CHECK(proofs > 4000);
    /* every pair of small sizes, against the naive recursion */
    for (uint64_t n = 1; n <= 40; n++) {
        for (uint64_t m = 1; m <= n; m++) {
            struct ledger_hash proof[LEDGER_MAX_PROOF], naive[LEDGER_MAX_PROOF];
            size_t len = 0, nn = 0;
            CHECK_INT(ledger_consistency_proof(t, m, n, proof, &len, &e), 0);
            naive_subproof(m, leaves, n, 1, naive, &nn);
            CHECK(nn == len && memcmp(naive, proof, len * sizeof *proof) == 0);
        }
    }
    ledger_close(t);
    rm_ledger(path);
    free(leaves);
}

static void test_persistence_across_reopen(void)
{
    enum { N1 = 3000, N2 = 23000 };
    struct ledger_hash *leaves = malloc(N2 * sizeof *leaves);
    char path[600];
    struct ledger_tree *t = create_tree("persist", path, sizeof path);
    if (!t || !leaves) {
        free(leaves);
        ledger_close(t);
        return;
    }
    struct errbuf e;
    /* data leaves and hash leaves mixed */
    for (uint64_t i = 0; i < N1; i++) {
        char rec[64];
        int len = snprintf(rec, sizeof rec, "record %llu", (unsigned long long)i);
        if (i % 3 == 0) {
            uint64_t idx;
            CHECK_INT(ledger_append(t, rec, (size_t)len, &idx, &e), 0);
            CHECK_INT(idx, i);
            ledger_leaf_hash(rec, (size_t)len, &leaves[i]);
        } else {
            ledger_leaf_hash(rec, (size_t)len, &leaves[i]);
            CHECK_INT(ledger_append_hashes(t, &leaves[i], 1, &e), 0);
        }
    }
    struct ledger_hash before[40], h, w;
    for (int k = 0; k < 40; k++) CHECK_INT(ledger_root(t, (uint64_t)k * 75, &before[k], &e), 0);
    CHECK_INT(ledger_sync(t, &e), 0);
    ledger_close(t);
    CHECK_INT(file_size(path), N1 * 32);
    char nodes[620];
    snprintf(nodes, sizeof nodes, "%s.nodes", path);
    CHECK_INT(file_size(nodes), (long long)popcount_interior(N1) * 32);
    t = reopen(path);
    if (!t) goto out;
    CHECK_INT(ledger_size(t), N1);
    const struct ledger_recovery *r = ledger_recovery(t);
    CHECK_INT(r->leaf_bytes_cut + r->node_bytes_cut + r->nodes_rebuilt, 0);
    for (int k = 0; k < 40; k++) {
        CHECK_INT(ledger_root(t, (uint64_t)k * 75, &h, &e), 0);
        CHECK_HASH(&h, &before[k]);
    }
    /* more, across several write buffers, then close without sync: close writes them */
    random_leaves(leaves + N1, N2 - N1);
    CHECK_INT(ledger_append_hashes(t, leaves + N1, N2 - N1, &e), 0);
    ledger_close(t);
    t = reopen(path);
    if (!t) goto out;
    CHECK_INT(ledger_size(t), N2);
    for (uint64_t n = 1; n <= N2; n += 1 + n / 3) {
        ledger_mth(leaves, n, &w);
        CHECK_INT(ledger_root(t, n, &h, &e), 0);
        CHECK_HASH(&h, &w);
    }
    ledger_mth(leaves, N2, &w);
    CHECK_INT(ledger_root(t, N2, &h, &e), 0);
    CHECK_HASH(&h, &w);
    CHECK_INT(ledger_check(t, &e), 0);
    ledger_close(t);
out:
    rm_ledger(path);
    free(leaves);
}

/* ledger_append_batch (two threads from 2048 records on) stores what ledger_append would. */
static void test_append_batch_matches_single_appends(void)
{
    enum { N = 21000 };
    unsigned char *recs = malloc((size_t)N * 40);
    const void **ptrs = malloc(N * sizeof *ptrs);
    size_t *lens = malloc(N * sizeof *lens);
    struct ledger_hash *leaves = malloc(N * sizeof *leaves);
    static unsigned char big[3][900];
    char path[600], path1[600];
    struct ledger_tree *t = create_tree("batch", path, sizeof path);
    struct ledger_tree *t1 = create_tree("batch1", path1, sizeof path1);
    if (!recs || !ptrs || !lens || !leaves || !t || !t1) goto out;
    for (size_t i = 0; i < N; i++) {
        lens[i] = 1 + i % 40;
        for (size_t j = 0; j < lens[i]; j++) recs[i * 40 + j] = (unsigned char)(i * 31 + j);
        ptrs[i] = recs + i * 40;
    }
    for (int b = 0; b < 3; b++) { /* long records take the streaming path */
        memset(big[b], 'a' + b, sizeof big[b]);
        ptrs[100 + b * 5000] = big[b];
        lens[100 + b * 5000] = sizeof big[b] - (size_t)b;
    }
    ptrs[7] = NULL; /* an empty record */
    lens[7] = 0;
    for (size_t i = 0; i < N; i++) ledger_leaf_hash(ptrs[i], lens[i], &leaves[i]);
    struct errbuf e;
    static const size_t cuts[] = {0, 1, 2047, 2048, 2049, 8192, 8193, 16384, 21000};
    for (size_t c = 1; c < sizeof cuts / sizeof cuts[0]; c++) {
        size_t a = cuts[c - 1], b = cuts[c];
        CHECK_INT(ledger_append_batch(t, ptrs + a, lens + a, b - a, &e), 0);
        CHECK_INT(ledger_append_batch(t, ptrs, lens, 0, &e), 0);
        for (size_t i = a; i < b; i++) CHECK_INT(ledger_append(t1, ptrs[i], lens[i], NULL, &e), 0);
        CHECK_INT(ledger_size(t), b);
        struct ledger_hash h, h1, w;
        ledger_mth(leaves, b, &w);
        CHECK_INT(ledger_root(t, b, &h, &e), 0);
        CHECK_INT(ledger_root(t1, b, &h1, &e), 0);
        CHECK_HASH(&h, &w);
        CHECK_HASH(&h1, &w);
    }
    for (size_t i = 0; i < N; i += 97) {
        struct ledger_hash h;
        CHECK_INT(ledger_leaf(t, i, &h, &e), 0);
        CHECK_HASH(&h, &leaves[i]);
    }
    CHECK_INT(ledger_check(t, &e), 0);
out:
    ledger_close(t);
    ledger_close(t1);
    rm_ledger(path);
    rm_ledger(path1);
    free(recs);
    free(ptrs);
    free(lens);
    free(leaves);
}

static void test_torn_and_lost_files_recover(void)
{
    enum { N = 100 };
    struct ledger_hash leaves[N], roots[N + 1], h;
    random_leaves(leaves, N);
    for (uint64_t n = 0; n <= N; n++) ledger_mth(leaves, n, &roots[n]);
    char path[600], nodes[620];
    struct ledger_tree *t = create_tree("torn", path, sizeof path);
    if (!t) return;
    snprintf(nodes, sizeof nodes, "%s.nodes", path);
    struct errbuf e;
    CHECK_INT(ledger_append_hashes(t, leaves, N, &e), 0);
    CHECK_INT(ledger_sync(t, &e), 0);
    ledger_close(t);
    const long long full_nodes = (long long)popcount_interior(N) * 32;

    /* a torn partial hash at the end of the leaf file is cut */
    append_bytes(path, "seventeen bytes..", 17);
    CHECK_INT(file_size(path), N * 32 + 17);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_size(t), N);
    CHECK_INT(ledger_recovery(t)->leaf_bytes_cut, 17);
    CHECK_INT(file_size(path), N * 32);
    CHECK_INT(ledger_root(t, N, &h, &e), 0);
    CHECK_HASH(&h, &roots[N]);
    ledger_close(t);

    /* and at the end of the nodes file */
    append_bytes(nodes, "abcde", 5);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_recovery(t)->node_bytes_cut, 5);
    CHECK_INT(ledger_recovery(t)->nodes_rebuilt, 0);
    CHECK_INT(file_size(nodes), full_nodes);
    ledger_close(t);

    /* the nodes file lost or cut anywhere (a crash between the leaf and node writes) */
    unlink(nodes);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_recovery(t)->nodes_rebuilt, popcount_interior(N));
    CHECK_INT(ledger_root(t, N, &h, &e), 0);
    CHECK_HASH(&h, &roots[N]);
    CHECK_INT(ledger_check(t, &e), 0);
    ledger_close(t);
    CHECK_INT(file_size(nodes), full_nodes);
    for (long long cut = 0; cut <= full_nodes; cut += 32 + (cut % 3 ? 0 : 13)) {
        cut_to(nodes, cut);
        t = reopen(path);
        if (!t) return;
        CHECK_INT(ledger_size(t), N);
        for (uint64_t n = 0; n <= N; n += 7) {
            CHECK_INT(ledger_root(t, n, &h, &e), 0);
            CHECK_HASH(&h, &roots[n]);
        }
        CHECK_INT(ledger_check(t, &e), 0);
        ledger_close(t);
        CHECK_INT(file_size(nodes), full_nodes);
    }

    /* the leaf file shorter than the nodes file: surplus nodes are cut */
    cut_to(path, 60 * 32 + 9);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_size(t), 60);
    CHECK_INT(ledger_recovery(t)->leaf_bytes_cut, 9);
    CHECK_INT(ledger_recovery(t)->node_bytes_cut,
              full_nodes - (long long)popcount_interior(60) * 32);
    CHECK_INT(ledger_root(t, 60, &h, &e), 0);
    CHECK_HASH(&h, &roots[60]);
    CHECK_INT(ledger_check(t, &e), 0);
    /* and the tree grows again from there */
    CHECK_INT(ledger_append_hashes(t, leaves + 60, N - 60, &e), 0);
    CHECK_INT(ledger_root(t, N, &h, &e), 0);
    CHECK_HASH(&h, &roots[N]);
    ledger_close(t);
    rm_ledger(path);
}

static void test_truncate(void)
{
    enum { N = 20000 };
    struct ledger_hash *leaves = malloc(N * sizeof *leaves), h, w;
    char path[600];
    struct ledger_tree *t = create_tree("trunc", path, sizeof path);
    if (!t || !leaves) {
        free(leaves);
        ledger_close(t);
        return;
    }
    random_leaves(leaves, N);
    struct errbuf e;
    CHECK_INT(ledger_append_hashes(t, leaves, N, &e), 0);
    /* within the write buffer, within the files, to nothing, and refusals */
    static const uint64_t cuts[] = {19999, 19000, 16385, 16384, 16383, 5000, 4097, 1, 0};
    uint64_t have = N;
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        CHECK_INT(ledger_truncate(t, have + 1, &e), ERR_INVAL);
        CHECK_CONTAINS(e.msg, "cannot truncate");
        CHECK_INT(ledger_truncate(t, cuts[c], &e), 0);
        have = cuts[c];
        CHECK_INT(ledger_size(t), have);
        ledger_mth(leaves, have, &w);
        CHECK_INT(ledger_root(t, have, &h, &e), 0);
        CHECK_HASH(&h, &w);
        if (have > 2) {
            ledger_mth(leaves, have / 2, &w);
            CHECK_INT(ledger_root(t, have / 2, &h, &e), 0);
            CHECK_HASH(&h, &w);
        }
        if (c == 4) { /* grow back a little and cut again */
            CHECK_INT(ledger_append_hashes(t, leaves + have, 100, &e), 0);
            CHECK_INT(ledger_truncate(t, have, &e), 0);
        }
    }
    /* replaced with different leaves: persisted as the new content */
    random_leaves(leaves, 1000);
    CHECK_INT(ledger_append_hashes(t, leaves, 1000, &e), 0);
    CHECK_INT(ledger_sync(t, &e), 0);
    CHECK_INT(ledger_truncate(t, 600, &e), 0);
    ledger_close(t);
    t = reopen(path);
    if (!t) goto out;
    CHECK_INT(ledger_size(t), 600);
    ledger_mth(leaves, 600, &w);
    CHECK_INT(ledger_root(t, 600, &h, &e), 0);
    CHECK_HASH(&h, &w);
    CHECK_INT(ledger_check(t, &e), 0);
    CHECK_INT(ledger_truncate(t, 600, &e), 0);
    ledger_close(t);
out:
    rm_ledger(path);
    free(leaves);
}

static void test_check_finds_a_corrupt_node(void)
{
    enum { N = 100 };
    struct ledger_hash leaves[N], h, w;
    random_leaves(leaves, N);
    char path[600], nodes[620];
    struct ledger_tree *t = create_tree("corrupt", path, sizeof path);
    if (!t) return;
    snprintf(nodes, sizeof nodes, "%s.nodes", path);
    struct errbuf e;
    CHECK_INT(ledger_append_hashes(t, leaves, N, &e), 0);
    CHECK_INT(ledger_sync(t, &e), 0);
    ledger_close(t);
    int fd = open(nodes, O_WRONLY);
    CHECK(fd >= 0);
    CHECK_INT(pwrite(fd, "X", 1, 50 * 32 + 3), 1);
    close(fd);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_check(t, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "interior node 50 (level");
    ledger_close(t);
    unlink(nodes);
    t = reopen(path);
    if (!t) return;
    CHECK_INT(ledger_check(t, &e), 0);
    ledger_mth(leaves, N, &w);
    CHECK_INT(ledger_root(t, 77, &h, &e), 0);
    ledger_mth(leaves, 77, &w);
    CHECK_HASH(&h, &w);
    ledger_close(t);
    rm_ledger(path);
}

static void test_bad_inputs(void)
{
    char path[600];
    struct errbuf e;
    struct ledger_tree *t = NULL, *t2 = NULL;
    tpath(path, sizeof path, "missing");
    rm_ledger(path);
    CHECK_INT(ledger_open(path, false, &t, &e), ERR_NOTFOUND);
    CHECK(t == NULL);
    CHECK_CONTAINS(e.msg, "no ledger here");
    t = ref_tree(path, sizeof path);
    if (!t) return;
    CHECK_INT(ledger_open(path, true, &t2, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "already exists");
    CHECK_INT(ledger_open(path, false, &t2, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "open elsewhere");
    CHECK(t2 == NULL);
    CHECK_INT(ledger_open(tmpdir, false, &t2, &e), ERR_IO);
    char nodir[700];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir", tmpdir);
    CHECK_INT(ledger_open(nodir, true, &t2, &e), ERR_IO);

    struct ledger_hash h, proof[LEDGER_MAX_PROOF + 1];
    memset(proof, 0x5a, sizeof proof);
    size_t n = 7;
    CHECK_INT(ledger_root(t, 9, &h, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "beyond");
    CHECK_INT(ledger_leaf(t, 8, &h, &e), ERR_INVAL);
    CHECK_INT(ledger_inclusion_proof(t, 8, 8, proof, &n, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "not below the tree size");
    CHECK_INT(n, 0);
    CHECK_INT(ledger_inclusion_proof(t, 0, 9, proof, &n, &e), ERR_INVAL);
    CHECK_INT(ledger_inclusion_proof(t, 0, 0, proof, &n, &e), ERR_INVAL);
    CHECK_INT(ledger_consistency_proof(t, 5, 4, proof, &n, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "above the new size");
    CHECK_INT(ledger_consistency_proof(t, 5, 9, proof, &n, &e), ERR_INVAL);
    CHECK_INT(ledger_consistency_proof(t, 0, 8, proof, &n, &e), 0);
    CHECK_INT(n, 0);
    CHECK_INT(ledger_consistency_proof(t, 8, 8, proof, &n, &e), 0);
    CHECK_INT(n, 0);

    struct ledger_hash root = hx(REF_ROOTS[8]), leaf;
    CHECK_INT(ledger_leaf(t, 0, &leaf, &e), 0);
    CHECK_INT(ledger_verify_inclusion(&leaf, 8, 8, proof, 3, &root, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_inclusion(&leaf, 0, 8, proof, LEDGER_MAX_PROOF + 1, &root, &e),
              ERR_INVAL);
    CHECK_CONTAINS(e.msg, "longer than 64");
    CHECK_INT(ledger_verify_inclusion(&leaf, 0, 8, proof, 2, &root, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "has 2 hashes, not 3");
    CHECK_INT(ledger_verify_consistency(9, 8, &root, &root, proof, 3, &e), ERR_INVAL);
    CHECK_INT(ledger_verify_consistency(1, 8, &root, &root, proof, LEDGER_MAX_PROOF + 1, &e),
              ERR_INVAL);
    CHECK_CONTAINS(e.msg, "longer than 64");
    /* sizes whose proofs would not fit are refused by length, not overrun */
    CHECK_INT(ledger_verify_inclusion(&leaf, 0, UINT64_MAX, proof, LEDGER_MAX_PROOF, &root, &e),
              ERR_CONFLICT);
    ledger_close(t);
    rm_ledger(path);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/truce-test-ledger-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    static const struct t_case cases[] = {
        T(test_hash_primitives),
        T(test_hex),
        T(test_reference_roots),
        T(test_reference_inclusion_proofs),
        T(test_reference_consistency_proofs),
        T(test_consistency_trivial_sizes),
        T(test_proof_shapes),
        T(test_property_random_sizes),
        T(test_persistence_across_reopen),
        T(test_append_batch_matches_single_appends),
        T(test_torn_and_lost_files_recover),
        T(test_truncate),
        T(test_check_finds_a_corrupt_node),
        T(test_bad_inputs),
    };
    int rc = T_RUN(cases);
    rmdir(tmpdir);
    return rc;
}
