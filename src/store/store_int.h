/* store_int.h: what the store module's files share and no other module may include: the SQLite
 * handle of a store and its error helper. */
#ifndef TRUCE_STORE_INT_H
#define TRUCE_STORE_INT_H
#include <sqlite3.h>

#include "store/store.h"

/* The store's connection (owned by the store). */
sqlite3 *store_db(struct store *s);
/* Sets e to "PATH: what: SQLite's message" and returns ERR_DB. */
int store_dberr(struct store *s, struct errbuf *e, const char *what);

#endif
