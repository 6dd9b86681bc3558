/* ledger.c: the stateless half of the ledger: RFC 6962 hashing with libcrypto's SHA-256, the
 * Merkle Tree Hash of leaf hashes in memory, hex conversion, proof shapes and the proof
 * verifiers of RFC 9162 (sections 2.1.3.2 and 2.1.4.2). The persisted tree and the generation of
 * proofs from it are in ledger_tree.c. */
#include "ledger/ledger.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 comes from OpenSSL's libcrypto, which uses the CPU's SHA extensions where present (about
 * five times libsodium 1.0.18's portable code here): the log hashes every record ingest stores.
 * The algorithm is fetched once; each thread keeps one digest context. */
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static pthread_key_t ctx_key; /* each thread's EVP_MD_CTX, freed when the thread ends */

static void ctx_free(void *ctx) { EVP_MD_CTX_free(ctx); }

static void sha_start(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&ctx_key, ctx_free) != 0) {
        EVP_MD_free(sha256_md);
        sha256_md = NULL;
    }
}

int ledger_init(void)
{
    pthread_once(&sha_once, sha_start);
    return sha256_md ? 0 : ERR_IO;
}

static EVP_MD_CTX *sha_ctx(void)
{
    pthread_once(&sha_once, sha_start);
    EVP_MD_CTX *ctx = sha256_md ? pthread_getspecific(ctx_key) : NULL;
    if (sha256_md && !ctx && (ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx)) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    if (!ctx || !sha256_md) {
        /* libcrypto could not start: nothing can be hashed, and nothing may be logged unhashed */
        abort();
    }
    return ctx;
}

/* SHA-256 over up to three pieces, one after the other. */
static void sha256_parts(const void *a, size_t na, const void *b, size_t nb, const void *c,
                         size_t nc, unsigned char out[LEDGER_HASH_BYTES])
{
    EVP_MD_CTX *ctx = sha_ctx();
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 || (na && EVP_DigestUpdate(ctx, a, na) != 1) ||
        (nb && EVP_DigestUpdate(ctx, b, nb) != 1) || (nc && EVP_DigestUpdate(ctx, c, nc) != 1) ||
        EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != LEDGER_HASH_BYTES)
        abort(); /* cannot fail for SHA-256 with valid arguments */
}

void ledger_sha256(const void *data, size_t len, struct ledger_hash *out)
{
    sha256_parts(data, len, NULL, 0, NULL, 0, out->b);
}

void ledger_leaf_hash(const void *data, size_t len, struct ledger_hash *out)
{
    static const unsigned char prefix = 0x00;
    sha256_parts(&prefix, 1, data, len, NULL, 0, out->b);
}

void ledger_node_hash(const struct ledger_hash *left, const struct ledger_hash *right,
                      struct ledger_hash *out)
{
    static const unsigned char prefix = 0x01;
    sha256_parts(&prefix, 1, left->b, LEDGER_HASH_BYTES, right->b, LEDGER_HASH_BYTES, out->b);
}

void ledger_empty_root(struct ledger_hash *out)
{
    ledger_sha256("", 0, out);
}

void ledger_mth(const struct ledger_hash *leaves, uint64_t n, struct ledger_hash *out)
{
    if (n == 0) {
        ledger_empty_root(out);
        return;
    }
    /* Roots of the perfect subtrees so far, largest first: leaf i closes one subtree per
     * trailing one bit of i. */
    struct ledger_hash peaks[64];
    int top = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct ledger_hash acc = leaves[i];
        for (uint64_t j = i; j & 1; j >>= 1) ledger_node_hash(&peaks[--top], &acc, &acc);
        peaks[top++] = acc;
    }
    struct ledger_hash acc = peaks[top - 1];
    for (int k = top - 2; k >= 0; k--) ledger_node_hash(&peaks[k], &acc, &acc);
    *out = acc;
}

bool ledger_hash_eq(const struct ledger_hash *a, const struct ledger_hash *b)
{
    return memcmp(a->b, b->b, LEDGER_HASH_BYTES) == 0;
}

void ledger_hash_hex(const struct ledger_hash *h, char out[LEDGER_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < LEDGER_HASH_BYTES; i++) {
        out[2 * i] = digits[h->b[i] >> 4];
        out[2 * i + 1] = digits[h->b[i] & 15];
    }
    out[2 * LEDGER_HASH_BYTES] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ledger_hash_from_hex(const char *hex, struct ledger_hash *out)
{
    for (int i = 0; i < LEDGER_HASH_BYTES; i++) {
        if (!hex[2 * i] || !hex[2 * i + 1]) return ERR_PARSE;
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return ERR_PARSE;
        out->b[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * LEDGER_HASH_BYTES] ? ERR_PARSE : 0;
}

/* Largest power of two strictly below s (s >= 2): where RFC 6962 splits a tree of s leaves. */
static uint64_t split_point(uint64_t s)
{
    return 1ULL << (63 - __builtin_clzll(s - 1));
}

size_t ledger_inclusion_len(uint64_t index, uint64_t size)
{
    if (index >= size) return 0;
    /* One hash per level of RFC 6962's PATH recursion. */
    uint64_t lo = 0, hi = size;
    size_t n = 0;
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if (index < lo + k)
            hi = lo + k;
        else
            lo += k;
        n++;
    }
    return n;
}

size_t ledger_consistency_len(uint64_t m, uint64_t n)
{
    if (m == 0 || m >= n) return 0;
    /* RFC 6962's SUBPROOF recursion: one hash per level, plus the old subtree's own root at the
     * bottom unless it is the whole old tree (m a power of two). */
    uint64_t lo = 0, hi = n;
    bool whole = true;
    size_t len = 0;
    for (;;) {
        if (m == hi) {
            if (!whole) len++;
            return len;
        }
        uint64_t k = split_point(hi - lo);
        if (m - lo <= k) {
            hi = lo + k;
        } else {
            lo += k;
            whole = false;
        }
        len++;
    }
}

int ledger_verify_inclusion(const struct ledger_hash *leaf, uint64_t index, uint64_t size,
                            const struct ledger_hash *proof, size_t n_proof,
                            const struct ledger_hash *root, struct errbuf *e)
{
    if (index >= size)
        return errf(e, ERR_INVAL, "leaf index %llu is not below the tree size %llu",
                    (unsigned long long)index, (unsigned long long)size);
    if (n_proof > LEDGER_MAX_PROOF)
        return errf(e, ERR_INVAL, "inclusion proof of %zu hashes is longer than %d", n_proof,
                    LEDGER_MAX_PROOF);
    size_t want = ledger_inclusion_len(index, size);
    if (n_proof != want)
        return errf(e, ERR_INVAL,
                    "inclusion proof of leaf %llu in tree size %llu has %zu hashes, not %zu",
                    (unsigned long long)index, (unsigned long long)size, n_proof, want);
    /* RFC 9162 section 2.1.3.2. */
    uint64_t fn = index, sn = size - 1;
    struct ledger_hash r = *leaf;
    for (size_t i = 0; i < n_proof; i++) {
        if (sn == 0) return errf(e, ERR_CONFLICT, "inclusion proof does not verify");
        if ((fn & 1) || fn == sn) {
            ledger_node_hash(&proof[i], &r, &r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_node_hash(&r, &proof[i], &r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !ledger_hash_eq(&r, root))
        return errf(e, ERR_CONFLICT,
                    "inclusion proof of leaf %llu in tree size %llu does not lead to the root",
                    (unsigned long long)index, (unsigned long long)size);
    return 0;
}

int ledger_verify_consistency(uint64_t m, uint64_t n, const struct ledger_hash *root_m,
                              const struct ledger_hash *root_n, const struct ledger_hash *proof,
                              size_t n_proof, struct errbuf *e)
{
    if (m > n)
        return errf(e, ERR_INVAL, "old tree size %llu is above the new size %llu",
                    (unsigned long long)m, (unsigned long long)n);
    if (n_proof > LEDGER_MAX_PROOF)
        return errf(e, ERR_INVAL, "consistency proof of %zu hashes is longer than %d", n_proof,
                    LEDGER_MAX_PROOF);
    if (m == n || m == 0) {
        if (n_proof)
            return errf(e, ERR_INVAL, "consistency proof from size %llu to %llu must be empty",
                        (unsigned long long)m, (unsigned long long)n);
        struct ledger_hash empty;
        ledger_empty_root(&empty);
        if (m == n && !ledger_hash_eq(root_m, root_n))
            return errf(e, ERR_CONFLICT, "two different roots for tree size %llu",
                        (unsigned long long)m);
        if (m == 0 && !ledger_hash_eq(root_m, &empty))
            return errf(e, ERR_CONFLICT, "the root of the empty tree is not SHA-256(\"\")");
        return 0;
    }
    size_t want = ledger_consistency_len(m, n);
    if (n_proof != want)
        return errf(e, ERR_INVAL,
                    "consistency proof from size %llu to %llu has %zu hashes, not %zu",
                    (unsigned long long)m, (unsigned long long)n, n_proof, want);
    /* RFC 9162 section 2.1.4.2; when m is a power of two, root_m is the implied first element. */
    const struct ledger_hash *seed = (m & (m - 1)) == 0 ? root_m : &proof[0];
    size_t i = seed == root_m ? 0 : 1;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    struct ledger_hash fr = *seed, sr = *seed;
    for (; i < n_proof; i++) {
        if (sn == 0) return errf(e, ERR_CONFLICT, "consistency proof does not verify");
        if ((fn & 1) || fn == sn) {
            ledger_node_hash(&proof[i], &fr, &fr);
            ledger_node_hash(&proof[i], &sr, &sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ledger_node_hash(&sr, &proof[i], &sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !ledger_hash_eq(&fr, root_m))
        return errf(e, ERR_CONFLICT,
                    "consistency proof from size %llu to %llu does not lead to the old root",
                    (unsigned long long)m, (unsigned long long)n);
    if (!ledger_hash_eq(&sr, root_n))
        return errf(e, ERR_CONFLICT,
                    "consistency proof from size %llu to %llu does not lead to the new root",
                    (unsigned long long)m, (unsigned long long)n);
    return 0;
}

void ledger_hash_b64(const struct ledger_hash *h, char out[LEDGER_B64_SIZE])
{
    EVP_EncodeBlock((unsigned char *)out, h->b, LEDGER_HASH_BYTES);
}
