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

/* Fills app with the api's callbacks for http_start. */
void api_http_app(struct api *a, struct http_app *app);

#endif
