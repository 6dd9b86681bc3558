/* store_int.h: what the store module's files share and no other module may include: the SQLite
 * handle of a store, its error helper and cached statements, and the column lists and row
 * formatters that turn one observation or finding row into the JSON object the listings print. */
#ifndef TRUCE_STORE_INT_H
#define TRUCE_STORE_INT_H
#include <sqlite3.h>

#include "store/store.h"

/* Slots of store_cached, one per statement a hot path keeps prepared (one enum for the module's
 * files, so that slots never collide). */
enum store_cached_slot {
    STORE_CACHED_USER_BY_TOKEN,
    STORE_CACHED_AUDIT_ADD,
    STORE_CACHED_DATA_VERSION,
    /* six slots each, one per enum store_log_kind: reading a leaf range, bisecting a table's
     * keys, a table's key bounds, a record's leaf index */
    STORE_CACHED_LOG_READ,
    STORE_CACHED_LOG_PROBE = STORE_CACHED_LOG_READ + 6,
    STORE_CACHED_LOG_BOUNDS = STORE_CACHED_LOG_PROBE + 6,
    STORE_CACHED_LOG_INDEX_OF = STORE_CACHED_LOG_BOUNDS + 6,
    STORE_CACHED_PAGE_OBS_ROW = STORE_CACHED_LOG_INDEX_OF + 6, /* store_page.c: a record */
    STORE_CACHED_PAGE_FINDING_ROW,
    STORE_CACHED_STMTS
};
/* The statement of slot, prepared from sql on first use (the same sql on every call) and kept
 * until store_close; it comes reset with its bindings cleared. NULL when it cannot be prepared
 * (store_dberr then says why). Reset it after use so it holds no read lock. */
sqlite3_stmt *store_cached(struct store *s, int slot, const char *sql);
/* The store's connection (owned by the store). */
sqlite3 *store_db(struct store *s);
/* Sets e to "PATH: what: SQLite's message" and returns ERR_DB. */
int store_dberr(struct store *s, struct errbuf *e, const char *what);
/* The store's database path (owned by the store). */
const char *store_path_(const struct store *s);

/* "SELECT " + STORE_OBS_COLUMNS + "FROM observations o ..." gives rows that
 * store_obs_row_json writes into b as one JSON object (b is cleared first). */
extern const char STORE_OBS_COLUMNS[];
int store_obs_row_json(sqlite3_stmt *st, struct buf *b) WUR;
/* The same for findings: "FROM findings f JOIN observations o ON o.id = f.obs_id"; columns 14
 * and 15 are the observation's placed lon and lat. */
extern const char STORE_FINDING_COLUMNS[];
int store_finding_row_json(sqlite3_stmt *st, struct buf *b) WUR;

#endif
