/* api.h: truce's HTTP API (/api/v1) over the store, the agreements and the transparency log:
 * the route table as data (method, path pattern, handler, body limit, allowed roles), the
 * handlers, and the counters behind GET /metrics. docs/api.md describes every route.
 *
 * An api is used from one thread at a time (the http layer's one thread while serving).
 * POST /api/v1/observations streams its body into the store as it arrives and is answered after
 * a group commit shared by all requests of a polling round (api_intake.c). */
#ifndef TRUCE_API_H
#define TRUCE_API_H
#include "http/http.h"
#include "log/log.h"
#include "store/store.h"

#define API_LIST_DEFAULT_LIMIT 1000  /* records in a listing when ?limit= is not given */
#define API_LIST_MAX_LIMIT 100000    /* the largest ?limit= accepted */
#define API_INGEST_BODY_BYTES (16u << 20) /* a JSON document or CSV body on POST
                                            * /api/v1/observations (NDJSON: no total limit) */
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

/* Fills app with the api's callbacks for http_start. */
void api_http_app(struct api *a, struct http_app *app);

/* Housekeeping between http_run calls: signs a checkpoint for committed leaves no checkpoint
 * covers yet, at most once per API_CHECKPOINT_INTERVAL_MS. */
void api_tick(struct api *a);

/* The request-to-observation path of POST /api/v1/observations without sockets (tests, fuzzing):
 * the body is fed in pieces of piece bytes (0: at once) through the same intake the server uses,
 * committed, and the answer the server would send is filled in resp (status, body). */
void api_post_observations(struct api *a, const char *content_type, const char *body,
                           size_t len, size_t piece, struct http_response *resp);

#endif
