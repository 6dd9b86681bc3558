/* ledger.h: the core of truce's transparency log: RFC 6962 Merkle tree hashing (SHA-256 from
 * OpenSSL's libcrypto), an append-only tree persisted in two files (the leaf hashes, and a cache of the
 * interior nodes of its perfect subtrees), inclusion and consistency proofs generated from the
 * persisted tree (RFC 6962 sections 2.1.1 and 2.1.2) and their verifiers (the iterative
 * algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2).
 *
 * Hashes: leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right), the
 * tree hash of n leaves splits at the largest power of two below n, the empty tree hashes to
 * SHA-256(""). Storage layout, crash recovery and costs: docs/internals/ledger.md.
 *
 * This module knows nothing of the store, agreements or observations; libcrypto is used here
 * and nowhere else. A struct ledger_tree belongs to one thread at a time; the pure functions
 * (hashing, verifiers) may be called from any thread. */
#ifndef TRUCE_LEDGER_H
#define TRUCE_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define LEDGER_HASH_BYTES 32
/* Hashes in one proof, at most: ceil(log2(size)) for an inclusion proof, one more for a
 * consistency proof; 64 covers every size below 2^63. */
#define LEDGER_MAX_PROOF 64
/* Leaves in one persisted tree, at most (its two files stay below 2^63 bytes). */
#define LEDGER_MAX_LEAVES (1ULL << 56)
/* Characters of a hash in lower-case hex, with the NUL. */
#define LEDGER_HEX_SIZE (2 * LEDGER_HASH_BYTES + 1)

struct ledger_hash {
    unsigned char b[LEDGER_HASH_BYTES];
};

/* ---- hashing (no state; any thread) ---- */

/* Fetches libcrypto's SHA-256 once per process (the other functions do it themselves). Returns
 * 0, or ERR_IO when libcrypto has no SHA-256. */
int ledger_init(void) WUR;
/* Plain SHA-256 of data (the baseline of bench_ledger; not a tree hash). */
void ledger_sha256(const void *data, size_t len, struct ledger_hash *out);
/* RFC 6962 leaf hash: SHA-256(0x00 || data). */
void ledger_leaf_hash(const void *data, size_t len, struct ledger_hash *out);
/* RFC 6962 interior node hash: SHA-256(0x01 || left || right). out may alias left or right. */
void ledger_node_hash(const struct ledger_hash *left, const struct ledger_hash *right,
                      struct ledger_hash *out);
/* Root of the empty tree: SHA-256 of the empty string. */
void ledger_empty_root(struct ledger_hash *out);
/* Merkle Tree Hash of n leaf hashes held in memory (RFC 6962 section 2.1), without
 * allocation: n - 1 node hashes. n == 0 gives the empty root. */
void ledger_mth(const struct ledger_hash *leaves, uint64_t n, struct ledger_hash *out);
/* True when a and b are the same hash. */
bool ledger_hash_eq(const struct ledger_hash *a, const struct ledger_hash *b);
/* Writes h as 64 lower-case hex digits and a NUL into out. */
void ledger_hash_hex(const struct ledger_hash *h, char out[LEDGER_HEX_SIZE]);
/* Parses exactly 64 hex digits (either case) into *out. Returns 0 or ERR_PARSE. */
int ledger_hash_from_hex(const char *hex, struct ledger_hash *out) WUR;
/* Characters of a hash in padded standard base64, with the NUL. */
#define LEDGER_B64_SIZE 45
/* Writes h as padded standard base64 (44 characters, as C2SP proofs carry hashes) into out. */
void ledger_hash_b64(const struct ledger_hash *h, char out[LEDGER_B64_SIZE]);

/* ---- proof shapes and verifiers (no state; any thread) ---- */

/* Number of hashes in the inclusion proof of leaf index in a tree of size leaves; 0 when
 * index >= size (no proof exists). */
size_t ledger_inclusion_len(uint64_t index, uint64_t size);
/* Number of hashes in the consistency proof from size m to size n (0 when m == 0, m == n, or
 * m > n). */
size_t ledger_consistency_len(uint64_t m, uint64_t n);

/* Verifies that leaf (a leaf hash) is leaf number index of the tree of size leaves whose root
 * is root, given the inclusion proof (n_proof hashes, leaf side first), with RFC 9162
 * section 2.1.3.2. Returns 0 when it holds; ERR_INVAL when the arguments cannot describe a
 * proof (index >= size, n_proof > LEDGER_MAX_PROOF, or n_proof not the length this index and
 * size need); ERR_CONFLICT when the hashes do not lead to root. e says which. */
int ledger_verify_inclusion(const struct ledger_hash *leaf, uint64_t index, uint64_t size,
                            const struct ledger_hash *proof, size_t n_proof,
                            const struct ledger_hash *root, struct errbuf *e) WUR;
/* Verifies that the tree of size n with root root_n extends the tree of size m with root
 * root_m, given the consistency proof, with RFC 9162 section 2.1.4.2. m == n needs an empty
 * proof and equal roots; m == 0 needs an empty proof and root_m the empty root. Returns 0 when
 * it holds; ERR_INVAL for m > n, n_proof > LEDGER_MAX_PROOF or a proof of the wrong length;
 * ERR_CONFLICT when the hashes do not lead to both roots. */
int ledger_verify_consistency(uint64_t m, uint64_t n, const struct ledger_hash *root_m,
                              const struct ledger_hash *root_n, const struct ledger_hash *proof,
                              size_t n_proof, struct errbuf *e) WUR;

/* ---- the persisted tree ---- */

/* An append-only tree in the file at path (leaf hashes, 32 bytes each, in order) and
 * "<path>.nodes" (interior nodes of the perfect subtrees, a cache rebuilt from the leaves when
 * missing or short). Appended leaves are buffered and become durable at ledger_sync. */
struct ledger_tree;

/* What ledger_open repaired (all zero after a clean close). */
struct ledger_recovery {
    uint64_t leaf_bytes_cut; /* torn partial hash at the end of the leaf file */
    uint64_t node_bytes_cut; /* torn or surplus bytes at the end of the nodes file */
    uint64_t nodes_rebuilt;  /* interior nodes recomputed from the leaves */
};

/* Opens the tree at path (create false: the leaf file must exist, else ERR_NOTFOUND) or creates
 * an empty one (create true: the leaf file must not exist, else ERR_CONFLICT). Takes an
 * exclusive lock on the leaf file for the life of the tree (ERR_CONFLICT when another open tree
 * holds it). On open, a torn partial hash at the end of either file is cut, surplus interior
 * nodes are cut and missing ones recomputed from the leaves (ledger_recovery tells). Cost:
 * O(log n) reads when the files are consistent. Returns 0 with *out set, or ERR_* (ERR_IO,
 * ERR_NOMEM, ERR_TOOBIG beyond LEDGER_MAX_LEAVES) with *out NULL. */
int ledger_open(const char *path, bool create, struct ledger_tree **out,
                struct errbuf *e) WUR;
/* Writes buffered appends to the files (without fsync, ignoring errors: call ledger_sync first
 * for durability), releases the lock and frees t. NULL is ignored. */
void ledger_close(struct ledger_tree *t);
/* Repairs done by ledger_open on this tree. */
const struct ledger_recovery *ledger_recovery(const struct ledger_tree *t);

/* Number of leaves, including those appended but not yet synced. */
uint64_t ledger_size(const struct ledger_tree *t);
/* Appends one leaf whose data is data (its leaf hash is stored); *index (may be NULL) gets its
 * leaf index. Returns 0, ERR_TOOBIG at LEDGER_MAX_LEAVES, or ERR_IO (after which the tree
 * refuses changes until reopened). */
int ledger_append(struct ledger_tree *t, const void *data, size_t len, uint64_t *index,
                  struct errbuf *e) WUR;
/* Appends n leaves given by their leaf hashes. Errors as ledger_append; on ERR_IO some of them
 * may have been appended. */
int ledger_append_hashes(struct ledger_tree *t, const struct ledger_hash *leaves, size_t n,
                         struct errbuf *e) WUR;
/* Appends n leaves whose data are data[i] (len[i] bytes each), in order. Blocks of at least
 * 2048 records are hashed on two threads (the caller's and one it starts and joins within the
 * call), which makes a batch about twice as fast as ledger_append on a multi-core machine.
 * Errors as ledger_append_hashes (and ERR_NOMEM). */
int ledger_append_batch(struct ledger_tree *t, const void *const *data, const size_t *len,
                        size_t n, struct errbuf *e) WUR;
/* Writes buffered appends and fsyncs both files: every leaf appended before the call is
 * durable when it returns 0. ERR_IO otherwise (the tree then refuses changes until reopened). */
int ledger_sync(struct ledger_tree *t, struct errbuf *e) WUR;
/* Cuts the tree to its first n leaves (n <= size; ERR_INVAL otherwise), durably: for crash
 * recovery when the store's committed size is below the leaf file's. */
int ledger_truncate(struct ledger_tree *t, uint64_t n, struct errbuf *e) WUR;

/* Leaf hash number index (index < size, else ERR_INVAL). ERR_IO on a read failure. */
int ledger_leaf(const struct ledger_tree *t, uint64_t index, struct ledger_hash *out,
                struct errbuf *e) WUR;
/* Root of the perfect subtree of 2^level leaves starting at leaf index << level (a leaf hash at
 * level 0), for C2SP tiles: one read. ERR_INVAL unless the subtree lies within the first size
 * leaves (size <= ledger_size). */
int ledger_node(const struct ledger_tree *t, int level, uint64_t index, uint64_t size,
                struct ledger_hash *out, struct errbuf *e) WUR;
/* Root of the tree of the first n leaves (n <= size, else ERR_INVAL): O(log n) node reads and
 * hashes. */
int ledger_root(const struct ledger_tree *t, uint64_t n, struct ledger_hash *out,
                struct errbuf *e) WUR;
/* Inclusion proof (audit path, RFC 6962 section 2.1.1) of leaf index in the tree of the first
 * size leaves, into proof (room for LEDGER_MAX_PROOF) with *n_proof hashes, leaf side first.
 * ERR_INVAL unless index < size <= ledger_size. O(log size) reads and hashes. */
int ledger_inclusion_proof(const struct ledger_tree *t, uint64_t index, uint64_t size,
                           struct ledger_hash *proof, size_t *n_proof, struct errbuf *e) WUR;
/* Consistency proof (RFC 6962 section 2.1.2) from the tree of the first m leaves to that of the
 * first n, into proof (room for LEDGER_MAX_PROOF). Empty when m == 0 or m == n. ERR_INVAL
 * unless m <= n <= ledger_size. O(log n) reads and hashes. */
int ledger_consistency_proof(const struct ledger_tree *t, uint64_t m, uint64_t n,
                             struct ledger_hash *proof, size_t *n_proof, struct errbuf *e) WUR;
/* Recomputes every interior node from the leaves and compares it with the nodes file (O(n)
 * hashes). Returns 0, ERR_CONFLICT naming the first node that differs (remove "<path>.nodes"
 * and reopen to rebuild it), or ERR_IO / ERR_NOMEM. */
int ledger_check(const struct ledger_tree *t, struct errbuf *e) WUR;

#endif
