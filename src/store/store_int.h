/* store_int.h: what the files of the store module share and nothing outside it may include:
 * the SQLite handle of a store, and the column lists and row formatters that turn one
 * observation or finding row into the JSON object the listings print. */
#ifndef TRUCE_STORE_INT_H
#define TRUCE_STORE_INT_H
#include <sqlite3.h>

#include "store/store.h"

/* The store's connection and database path (owned by the store). */
sqlite3 *store_db_(struct store *s);
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
