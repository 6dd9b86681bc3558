/* tiles.h: export of truce's transparency log as a tiled log (C2SP tlog-tiles, height 8) and
 * offline verification of such an export with nothing but its checkpoint and the log's verifier
 * key.
 *
 * Layout of an export directory DIR (c2sp.org/tlog-tiles; paths and decisions in
 * docs/internals/tiles.md):
 *
 *   DIR/checkpoint                     the signed checkpoint (C2SP tlog-checkpoint), written last
 *   DIR/tile/<L>/<N>[.p/<W>]           hash tiles: 256 (or W < 256) hashes of 32 bytes
 *   DIR/tile/entries/<N>[.p/<W>]       entry bundles: each entry a 2-byte big-endian length and
 *                                      that many bytes
 *   DIR/truce/entries/<N>[.p/<W>]      truce's extension, only for a bundle holding an entry of
 *                                      more than 65535 bytes (which the 2-byte length of the
 *                                      spec cannot carry): each entry a 4-byte big-endian length
 *                                      and its bytes; the tile/entries bundle is then absent
 *
 * <N> is written in 3-digit path elements, all but the last with an x prefix (1234067 is
 * x001/x234/067). An entry is a leaf's bytes (docs/log-format.md), so the RFC 6962 leaf hash of
 * entry i is hash i of the level-0 tiles.
 *
 * Depends on ledger (hashes, the persisted tree) and note (checkpoints); knows nothing of the
 * store: the caller hands the entries in through a callback. */
#ifndef TRUCE_TILES_H
#define TRUCE_TILES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"
#include "util/util.h"

#define TILES_HEIGHT 8                    /* tree levels spanned by one tile */
#define TILES_WIDTH 256                   /* hashes in a full tile, entries in a full bundle */
#define TILES_MAX_LEVEL 63                /* highest tile level the spec allows */
#define TILES_MAX_SPEC_ENTRY 65535u       /* the largest entry a tile/entries bundle can hold */
#define TILES_MAX_ENTRY_BYTES (256u << 20) /* the largest entry in any bundle (named limit) */
#define TILES_PATH_MAX 96                 /* bytes of the longest relative path, with the NUL */

/* Levels of tiles_path that are not hash levels. */
#define TILES_LEVEL_ENTRIES (-1)       /* tile/entries/<N>: the spec's entry bundles */
#define TILES_LEVEL_LARGE_ENTRIES (-2) /* truce/entries/<N>: bundles with an entry > 65535 bytes */

#define TILES_CHECKPOINT_NAME "checkpoint"

/* Writes into out (size n, at least TILES_PATH_MAX) the path, relative to the export directory,
 * of the tile at level (0..TILES_MAX_LEVEL, or TILES_LEVEL_ENTRIES / TILES_LEVEL_LARGE_ENTRIES)
 * with index index and width width (1..TILES_WIDTH; TILES_WIDTH is a full tile, anything less a
 * partial one with the .p/<W> suffix). Example: level 0, index 1234067, width 5 gives
 * "tile/0/x001/x234/067.p/5". Returns 0, or ERR_INVAL for an argument out of range. */
int tiles_path(char *out, size_t n, int level, uint64_t index, unsigned width) WUR;

/* Parses a path relative to the log's root, as tiles_path writes it, back into level, index and
 * width (TILES_WIDTH for a full tile). Only the canonical spelling is accepted (c2sp.org/
 * tlog-tiles: no leading zeros, x-prefixed groups of three digits, ".p/W" with 1 <= W <= 255).
 * Returns 0 or ERR_PARSE; the out-parameters are written only on success. */
int tiles_path_parse(const char *rel, int *level, uint64_t *index, unsigned *width) WUR;

/* Hands the leaf bytes of leaf index into out (which arrives with len 0). Returns 0 or an ERR_*
 * code with e set; tiles_export then stops with that code. tiles_export calls it only for the
 * bundles it writes, with strictly increasing indices, all w entries of a bundle in a row from
 * its first index (a multiple of TILES_WIDTH): a caller reading from a cursor can fetch one
 * bundle's records at a time. */
typedef int (*tiles_entry_fn)(void *ctx, uint64_t index, struct buf *out, struct errbuf *e);

/* What tiles_export did. */
struct tiles_stats {
    uint64_t tiles_written;   /* hash tiles written (full and partial) */
    uint64_t tiles_kept;      /* hash tiles already present with the same bytes */
    uint64_t bundles_written; /* entry bundles written (of which large_bundles in truce/) */
    uint64_t bundles_kept;    /* entry bundles already present, not rewritten */
    uint64_t large_bundles;   /* bundles written in truce/entries (an entry > 65535 bytes) */
    uint64_t entries_read;    /* calls of the entry callback */
    uint64_t bytes_written;   /* bytes of tiles, bundles and checkpoint written */
};

/* Flags of tiles_export. */
#define TILES_EXPORT_CHECK 1u /* re-read each bundle already present and compare the leaf hash
                                 of each of its entries with the ledger (no callback calls) */

/* Exports the first size leaves of the tree t (size <= ledger_size(t), else ERR_INVAL) into the
 * directory outdir (created when missing), with the signed checkpoint signed_checkpoint
 * (cp_len bytes; a signed note whose checkpoint body must have this size and t's root at this
 * size, else ERR_CONFLICT before anything is written).
 *
 * Incremental: a hash tile already present at its path must hold exactly the bytes computed from
 * t (it is then kept; any difference is ERR_CONFLICT naming the file, which must be removed by
 * hand); an entry bundle already present (in tile/entries or truce/entries) is kept without
 * calling entry (and, with TILES_EXPORT_CHECK, re-read and checked against t's leaf hashes). Other
 * tiles and bundles are written, each atomically (temporary file, fsync, rename); superseded
 * partial tiles are left in place, as the spec allows. Each entry read through the callback must
 * have t's leaf hash (else ERR_CONFLICT naming its index: the records do not match the log). The
 * checkpoint is written last, after every tile and its directory is durable; a checkpoint already
 * in outdir with a larger size is never replaced by a smaller one (ERR_CONFLICT).
 *
 * Costs: size leaf-hash reads from t and about size node hashes; callback calls and bundle
 * writes only for the bundles not yet present. Errors: ERR_INVAL, ERR_CONFLICT, ERR_PARSE (the
 * checkpoint), ERR_TOOBIG (an entry above TILES_MAX_ENTRY_BYTES), ERR_IO, ERR_NOMEM, and
 * those of the callback; e names the file or entry. stats (may be NULL) is filled in either
 * case. */
int tiles_export(struct ledger_tree *t, uint64_t size, tiles_entry_fn entry, void *ctx,
                 const char *signed_checkpoint, size_t cp_len, const char *outdir, unsigned flags,
                 struct tiles_stats *stats, struct errbuf *e) WUR;

/* For serving the log live (api): the bytes of hash tile (level, index) of width hashes for the
 * tree of the first size leaves of t, into out (replaced): the same bytes tiles_export writes
 * at tiles_path(level, index, width). ERR_NOTFOUND when the tree of that size does not have the
 * tile (a partial tile's width must not exceed the hashes there are), ERR_INVAL, ERR_IO,
 * ERR_NOMEM. Cost: width node reads. */
int tiles_tile(const struct ledger_tree *t, uint64_t size, int level, uint64_t index,
               unsigned width, struct buf *out, struct errbuf *e) WUR;
/* The entry bundle index of width entries (read through entry, each checked against t's leaf
 * hash) into out (replaced). *large says it needed 4-byte lengths (an entry above
 * TILES_MAX_SPEC_ENTRY): it then belongs at TILES_LEVEL_LARGE_ENTRIES, not tile/entries.
 * Errors as tiles_tile, ERR_CONFLICT (an entry without its leaf hash), ERR_TOOBIG, and those of
 * entry. */
int tiles_bundle(const struct ledger_tree *t, uint64_t size, uint64_t index, unsigned width,
                 tiles_entry_fn entry, void *ctx, struct buf *out, bool *large,
                 struct errbuf *e) WUR;

/* Verifies the export in dir offline with the verifier key string vkey: the checkpoint's
 * signature by that key (note_open), then every entry bundle and hash tile needed for its size
 * (a partial tile or bundle that is missing may be replaced by the full one, whose first W items
 * are used, as the spec lets clients do): the leaf hash of each entry equals its level-0 hash,
 * each hash of level l >= 1 equals the Merkle tree hash of the full tile below it, and the root
 * computed from the entries equals the checkpoint's.
 *
 * On success returns 0 with *size and *root (both may be NULL) the checkpoint's. On failure e
 * names the first problem, its file and, after the whole export was read, which side agrees with
 * the checkpoint's root (so a changed hash tile and a changed entry are told apart); *first_bad
 * (may be NULL) is the first entry index concerned (for a tile above level 0, the first index of
 * the entries under the wrong hash), or -1 when the problem is not an entry's (checkpoint,
 * signature, root). Scanning stops at the first missing file. Errors: ERR_NOTFOUND (a missing
 * file, or no signature by vkey), ERR_INVAL (a bad signature, a bad key), ERR_PARSE (a malformed
 * checkpoint, tile or bundle), ERR_TOOBIG (size above LEDGER_MAX_LEAVES, an entry above the
 * limit), ERR_CONFLICT (a hash that does not match), ERR_IO, ERR_NOMEM. *size and *root are set as
 * soon as the checkpoint verified. */
int tiles_verify(const char *dir, const char *vkey, uint64_t *size, struct ledger_hash *root,
                 int64_t *first_bad, struct errbuf *e) WUR;

#endif
