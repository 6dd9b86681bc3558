/* api_int.h: what the files of the api module share and nothing outside it may include: the
 * captured path parameters and handler type of the route table, the api's store and agreements,
 * problem answers, the paged-listing glue (query parameters -> store_page, next links) and the
 * OGC API - Features handlers of api_ogc.c. */
#ifndef TRUCE_API_INT_H
#define TRUCE_API_INT_H
#include "api/api.h"

struct api_params {
    char v[API_MAX_PARAMS][API_MAX_SEGMENT];
    int n;
};

typedef void (*api_handler)(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp);

/* The store and agreement versions the api serves (owned by the caller of api_new). */
struct store *api_store_(struct api *a);
const struct store_agreements *api_agreements_(struct api *a);

/* Answers with a problem+json of status and detail (500 "out of memory" when even that fails). */
void api_problem_(struct http_response *resp, int status, const char *detail);

/* "http://HOST" from the request's Host header (https with X-Forwarded-Proto: https) into out,
 * or "" when the header is missing or holds anything but a host name and port. */
void api_base_url_(const struct http_request *req, char *out, size_t n);
/* Appends s percent-encoded for a query value. */
int api_url_encode_(struct buf *b, const char *s) WUR;

/* Reads the listing query parameters (bbox, datetime, from, to, kind, party, clause, region,
 * cursor, limit with the given default and maximum) into p; on a bad value answers 400 naming
 * the parameter and returns -1. tz: the zone of dates without an offset. */
int api_page_from_query_(const struct http_request *req, const char *tz, long long def_limit,
                         long long max_limit, struct store_page *p, struct http_response *resp);
/* Appends the query string (no "?") that repeats the filters of req with cursor (may be NULL)
 * and limit, for self and next links. */
int api_page_query_(const struct http_request *req, const char *cursor, long long limit,
                    struct buf *b) WUR;

/* OGC API - Features Part 1 (api_ogc.c, docs/api.md). */
void api_ogc_landing_(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
void api_ogc_api_(struct api *, const struct http_request *, const struct api_params *,
                  struct http_response *);
void api_ogc_conformance_(struct api *, const struct http_request *, const struct api_params *,
                          struct http_response *);
void api_ogc_collections_(struct api *, const struct http_request *, const struct api_params *,
                          struct http_response *);
void api_ogc_collection_(struct api *, const struct http_request *, const struct api_params *,
                         struct http_response *);
void api_ogc_items_(struct api *, const struct http_request *, const struct api_params *,
                    struct http_response *);
void api_ogc_item_(struct api *, const struct http_request *, const struct api_params *,
                   struct http_response *);

#endif
