/* log.h: truce's transparency log over the store (capability M8): the bytes of the leaf of each
 * logged record (agreement versions, observations, findings, incident versions, alerts;
 * docs/log-format.md), the ledger
 * files kept in step with the store, and the check that every stored record is in the log
 * unchanged.
 *
 * Crash safety: leaves are appended and fsynced before the store's COMMIT that records them,
 * and the store records the log's size in that same transaction. On open, leaves beyond the
 * committed size (a crash between the two) are cut; a log shorter than the store is rebuilt
 * from the records only when it is empty (a store from before the log), else refused. */
#ifndef TRUCE_LOG_H
#define TRUCE_LOG_H
#include "ledger/ledger.h"
#include "store/store.h"
#include "util/util.h"

#define LOG_DIR_NAME "log"
#define LOG_LEAVES_NAME "leaves"

struct truce_log;

/* Opens (creating when missing) the log of the store in data directory dir and brings it in
 * step with the store as described above. */
int log_open(const char *dir, struct store *s, struct truce_log **out, struct errbuf *e) WUR;
void log_close(struct truce_log *l);

/* Writes the leaf bytes of record r into out (replacing its contents). */
int log_leaf_bytes(const struct store_log_record *r, struct buf *out) WUR;

/* Appends the leaf of r, which must carry the next leaf index. Buffered until log_sync. */
int log_add(struct truce_log *l, const struct store_log_record *r, struct errbuf *e) WUR;
/* Writes and fsyncs the appended leaves: call before the store's COMMIT. */
int log_sync(struct truce_log *l, struct errbuf *e) WUR;
/* Drops leaves beyond the store's committed size (after a failed or rolled-back batch). */
int log_rewind(struct truce_log *l, struct store *s, struct errbuf *e) WUR;

/* Stores agreement a as the store's next version together with its leaf, in one transaction
 * (the leaf is durable before the store commits). */
int log_add_agreement(struct truce_log *l, struct store *s, const struct agreement *a,
                      struct errbuf *e) WUR;

#define LOG_SIGNING_KEY_NAME "signing.key"   /* the log's Ed25519 signer key, mode 0600 */
#define LOG_VERIFIER_KEY_NAME "verifier.key" /* its verifier key, for parties and witnesses */
#define LOG_CHECKPOINT_NAME "checkpoint"     /* the newest signed checkpoint */

/* Creates the log's signing key for origin (the checkpoint's first line and the key name) in
 * the log folder, refusing to replace an existing one; writes the verifier key beside it. */
int log_key_create(const char *dir, const char *origin, struct errbuf *e) WUR;
/* Reads the verifier key string into out (size NOTE_VKEY_SIZE). */
int log_verifier_key(const char *dir, char *out, size_t n, struct errbuf *e) WUR;

/* Signs a checkpoint (C2SP tlog-checkpoint, signed note) for the log's current size, unless the
 * newest stored checkpoint already has that size. Before signing it proves the new tree extends
 * the newest signed one (same root at the old size): a log that would need two inconsistent
 * checkpoints is refused (ERR_CONFLICT). The checkpoint is stored, then written to
 * DIR/log/checkpoint. *signed_new says whether a new one was made; the newest note goes in out. */
int log_checkpoint(struct truce_log *l, struct store *s, struct buf *out, bool *signed_new,
                   struct errbuf *e) WUR;

/* Checks every stored checkpoint, oldest first: its signature with the log's verifier key, its
 * root against the tree's root at its size, sizes never going down. *size gets the newest's.
 * ERR_NOTFOUND when none was signed. */
int log_checkpoint_verify(struct truce_log *l, struct store *s, int64_t *size,
                          struct errbuf *e) WUR;

/* Adds to the newest signed checkpoint the cosignature lines (lines_len bytes: a witness's
 * add-checkpoint 200 answer, "— name base64" lines) that verify with the witness's verifier key
 * vkey (witness_note_add_cosignatures), stores the note and rewrites DIR/log/checkpoint.
 * *added counts the lines added, *size is the checkpoint's size. A cosignature for another
 * checkpoint than the newest does not verify (ERR_INVAL); ERR_NOTFOUND when no line is from
 * vkey's witness or no checkpoint was signed. */
int log_add_cosignatures(struct truce_log *l, struct store *s, const char *vkey,
                         const char *lines, size_t lines_len, size_t *added, int64_t *size,
                         struct errbuf *e) WUR;

uint64_t log_size(const struct truce_log *l);
struct ledger_tree *log_tree(struct truce_log *l);

/* Recomputes the leaf of every stored record and compares it with the log. Returns 0 when all
 * match and the sizes agree; otherwise ERR_VERIFY-like ERR_CONFLICT with e naming the first leaf
 * index that differs and why, and *first_bad set (-1 when the difference is a size). *checked
 * counts the records compared. */
int log_verify(struct truce_log *l, struct store *s, uint64_t *checked, int64_t *first_bad,
               struct errbuf *e) WUR;

#endif
