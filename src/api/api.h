/* api.h: truce's HTTP API (/api/v1) over the store, the agreements and the transparency log:
 * the route table as data (method, path pattern, handler, body limit, allowed roles), the
 * handlers, and the counters behind GET /metrics. docs/api.md describes every route.
 *
 * An api is used from one thread at a time (while serving: under the http layer's one lock).
 * POST /api/v1/observations streams its body into the store as it arrives and is answered after
 * a group commit shared by all requests that came in meanwhile (api_intake.c). */
#ifndef TRUCE_API_H
#define TRUCE_API_H
#include "auth/auth.h"
#include "http/http.h"
#include "log/log.h"
#include "store/store.h"

#define API_LIST_DEFAULT_LIMIT 1000  /* records in a listing when ?limit= is not given */
#define API_LIST_MAX_LIMIT 100000    /* the largest ?limit= accepted */
#define API_INGEST_BODY_BYTES (16u << 20) /* a JSON document or CSV body on POST
                                            * /api/v1/observations (NDJSON: no total limit) */
#define API_MAX_PARAMS 2             /* {name} segments in one route pattern */
#define API_MAX_SEGMENT 256          /* bytes of one captured path segment */

/* Roles allowed on a route: bits of enum auth_role (auth/auth.h). A route whose set holds
 * API_ROLE_PUBLIC is open to everyone, with or without a token; any other route needs a valid
 * bearer token (401 otherwise) of a user whose role is in the set (403 otherwise). */
enum api_role {
    API_ROLE_PUBLIC = AUTH_BIT(AUTH_PUBLIC),
    API_ROLE_MONITOR = AUTH_BIT(AUTH_MONITOR),
    API_ROLE_ANALYST = AUTH_BIT(AUTH_ANALYST),
    API_ROLE_PUBLISHER = AUTH_BIT(AUTH_PUBLISHER),
    API_ROLE_PARTY = AUTH_BIT(AUTH_PARTY),
    API_ROLE_GUARANTOR = AUTH_BIT(AUTH_GUARANTOR),
    API_ROLE_ADMIN = AUTH_BIT(AUTH_ADMIN),
};
/* Whether a route with role set roles admits a request acting as role r (authenticated as a
 * user of that role, or AUTH_PUBLIC without a token). */
bool api_route_allows(unsigned roles, enum auth_role r);

/* The route table, for tests and `truce serve --print-routes`: the number of routes, and route
 * i's method, path pattern ("{name}" matches one path segment, "{name*}" the rest of the path)
 * and role set. */
size_t api_route_count(void);
void api_route_get(size_t i, const char **method, const char **pattern, unsigned *roles);

/* Paged listings (the JSON listings and OGC items): the query parameters' limits. */
#define API_QUERY_VALUE_BYTES 512    /* bytes of one bbox, datetime or cursor value */
#define API_CURSOR_BYTES 48          /* a formatted cursor with its NUL */
#define API_OGC_DEFAULT_LIMIT 100    /* OGC items in a page when ?limit= is not given */
#define API_OGC_MAX_LIMIT 10000      /* the largest OGC ?limit= accepted */

/* Parses an OGC/API bbox "minlon,minlat,maxlon,maxlat" (or the 6-number form with heights,
 * which are ignored), WGS84 degrees, min <= max (a box across the antimeridian is refused).
 * Errors: ERR_PARSE or ERR_INVAL with e naming the reason. */
int api_parse_bbox(const char *s, struct geo_bbox *out, struct errbuf *e) WUR;
/* Parses an RFC 3339 instant or interval "A/B" (either end may be ".." or empty: open) into
 * the half-open window [*from_ms, *to_ms) on millisecond times (TIME_NONE: open). Closed ends
 * include B. A time without an offset (or a date) is in zone tz. */
int api_parse_datetime(const char *s, const char *tz, int64_t *from_ms, int64_t *to_ms,
                       struct errbuf *e) WUR;
/* Parses a cursor made by api_format_cursor: the keyset position (end time, id) after which
 * the next page starts. */
int api_parse_cursor(const char *s, int64_t *t_ms, int64_t *id, struct errbuf *e) WUR;
/* Writes the cursor of keyset position (t_ms, id) into out (API_CURSOR_BYTES). */
void api_format_cursor(int64_t t_ms, int64_t id, char *out, size_t n);

struct api;

/* Makes an api serving store s, the loaded agreement versions ag (at least one) and log (may
 * be NULL: no log leaves, no checkpoints). The three stay owned by the caller and must outlive
 * the api. Returns NULL when out of memory. */
struct api *api_new(struct store *s, const struct store_agreements *ag, struct truce_log *log);
void api_free(struct api *a);

/* Serves the C2SP tlog-witness add-checkpoint endpoint with the witness whose state is in
 * DIR/witness (made by `truce witness init DIR/witness --name NAME`), for the logs listed in
 * DIR/witness/logs (one ORIGIN=VKEY per line). Without DIR/witness nothing happens and the
 * endpoint answers 404. Errors: those of witness_open, ERR_PARSE for a bad logs line. */
int api_open_witness(struct api *a, const char *dir, struct errbuf *e) WUR;

/* Serves the dashboard's static files from directory dir (the web build, web/dist) for paths
 * no API route has: "/" is index.html, "/public" is public.html. NULL: no files. Returns 0, or
 * ERR_NOTFOUND when dir is not a directory holding index.html. */
#define API_STATIC_MAX_BYTES (32u << 20) /* the largest static file served */
int api_set_web_dir(struct api *a, const char *dir, struct errbuf *e) WUR;

/* The log's verifier key (note/note.h format), given out with inclusion proofs. */
void api_set_verifier_key(struct api *a, const char *vkey);

/* Fills app with the api's callbacks for http_start. */
void api_http_app(struct api *a, struct http_app *app);

/* Housekeeping between http_run calls: signs a checkpoint for committed leaves no checkpoint
 * covers yet, at most once per API_CHECKPOINT_INTERVAL_MS. */
void api_tick(struct api *a);
/* When the server stops, after the last request: commits what is staged and signs a checkpoint
 * over every committed leaf (api_tick signs at most once a second). */
void api_finish(struct api *a);

/* The request-to-observation path of POST /api/v1/observations without sockets (tests, fuzzing):
 * the body is fed in pieces of piece bytes (0: at once) through the same intake the server uses,
 * committed, and the answer the server would send is filled in resp (status, body). */
void api_post_observations(struct api *a, const char *content_type, const char *body,
                           size_t len, size_t piece, struct http_response *resp);

#endif
