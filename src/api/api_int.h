/* api_int.h: what the handler files of the api module share (not a public header): the api's
 * state, captured path parameters, the listing helpers and problem answers of api.c. */
#ifndef TRUCE_API_INT_H
#define TRUCE_API_INT_H
#include "api/api.h"
#include "fusion/fusion.h"

#define API_METRICS_MAX 256 /* distinct (route, method, status) counters kept */

struct api_params {
    char v[API_MAX_PARAMS][API_MAX_SEGMENT];
    int n;
};

struct metric {
    int route; /* index in ROUTES, -1 for requests no route matched */
    int status;
    unsigned long long n;
};

struct api {
    struct store *s;
    const struct store_agreements *ag;
    struct truce_log *log;
    struct fusion *fusion; /* incidents kept up to date by intake (NULL: fusion unavailable) */
    struct metric metrics[API_METRICS_MAX];
    size_t n_metrics;
    unsigned long long metrics_dropped;
    unsigned long long obs_accepted, obs_duplicates, obs_rejected, findings_made;
};

/* A listing being written as a JSON array. */
struct list_ctx {
    struct buf *b;
    size_t n;
};

/* Answers a problem+json with status and detail (500 when even that runs out of memory). */
void api_problem(struct http_response *resp, int status, const char *detail);
void api_oom(struct http_response *resp);
/* Fills f from the query (from, to, party, clause, region, kind, limit); on a bad value answers
 * 400 and returns -1. */
int api_filter_from_query(struct api *a, const struct http_request *req, struct store_filter *f,
                          struct http_response *resp);
/* Appends one JSON object to the listing in ctx (a struct list_ctx). */
int api_list_item(void *ctx, const char *json);

/* api_incidents.c: GET /api/v1/incidents and /api/v1/incidents/{id} */
void api_h_incidents(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp);
void api_h_incident(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp);

#endif
