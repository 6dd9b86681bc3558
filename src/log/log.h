/* log.h: truce's transparency log over the store (capability M8): the bytes of the leaf of each
 * logged record (agreement versions, observations, findings; docs/log-format.md), the ledger
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

uint64_t log_size(const struct truce_log *l);
struct ledger_tree *log_tree(struct truce_log *l);

/* Recomputes the leaf of every stored record and compares it with the log. Returns 0 when all
 * match and the sizes agree; otherwise ERR_VERIFY-like ERR_CONFLICT with e naming the first leaf
 * index that differs and why, and *first_bad set (-1 when the difference is a size). *checked
 * counts the records compared. */
int log_verify(struct truce_log *l, struct store *s, uint64_t *checked, int64_t *first_bad,
               struct errbuf *e) WUR;

#endif
