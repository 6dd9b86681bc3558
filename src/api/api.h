/* api.h: truce's HTTP API (/api/v1) over the store, the agreements and the transparency log:
 * the route table as data (method, path pattern, handler, body limit, allowed roles), the
 * handlers, and the counters behind GET /metrics. docs/api.md describes every route.
 *
 * An api is used from one thread at a time (the http layer's one thread while serving). */
#ifndef TRUCE_API_H
#define TRUCE_API_H
#include "http/http.h"
#include "log/log.h"
#include "store/store.h"

#define API_LIST_DEFAULT_LIMIT 1000  /* records in a listing when ?limit= is not given */
#define API_LIST_MAX_LIMIT 100000    /* the largest ?limit= accepted */
#define API_INGEST_BODY_BYTES (16u << 20) /* body of POST /api/v1/observations */
#define API_MAX_PARAMS 2             /* {name} segments in one route pattern */
#define API_MAX_SEGMENT 256          /* bytes of one captured path segment */

/* Roles allowed on a route: a placeholder for authentication (not enforced yet). */
enum api_role { API_ROLE_PUBLIC = 1, API_ROLE_MONITOR = 2, API_ROLE_ADMIN = 4 };

struct api;

/* Makes an api serving store s, the loaded agreement versions ag (at least one) and log (may
 * be NULL: no log leaves, no checkpoints). The three stay owned by the caller and must outlive
 * the api. Returns NULL when out of memory. */
struct api *api_new(struct store *s, const struct store_agreements *ag, struct truce_log *log);
void api_free(struct api *a);

/* Serves the dashboard's static files from directory dir (the web build, web/dist) for paths
 * no API route has: "/" is index.html, "/public" is public.html. NULL: no files. Returns 0, or
 * ERR_NOTFOUND when dir is not a directory holding index.html. */
#define API_STATIC_MAX_BYTES (32u << 20) /* the largest static file served */
int api_set_web_dir(struct api *a, const char *dir, struct errbuf *e) WUR;

/* The log's verifier key (note/note.h format), given out with inclusion proofs. */
void api_set_verifier_key(struct api *a, const char *vkey);

/* Fills app with the api's callbacks for http_start. */
void api_http_app(struct api *a, struct http_app *app);

#endif
