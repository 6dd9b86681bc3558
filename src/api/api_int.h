/* api_int.h: internals shared by the api module's files (api.c: the route table and the core
 * handlers; api_web.c: the dashboard's static files, geography, proofs and public views). */
#ifndef TRUCE_API_INT_H
#define TRUCE_API_INT_H
#include "api/api.h"
#include "note/note.h"

#define API_METRICS_MAX 256 /* distinct (route, method, status) counters kept */
#define API_REVIEW_BODY_BYTES 16384 /* body of POST /api/v1/findings/{id}/review */

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
    char *web_dir; /* the dashboard's files (api_set_web_dir), NULL: none */
    char vkey[NOTE_VKEY_SIZE]; /* the log's verifier key (api_set_verifier_key), "": unknown */
    struct buf map_cache;      /* the last answer of GET /api/v1/map/observations ... */
    int64_t map_cache_log;     /* ... made at this committed log size (-1: none) */
    struct metric metrics[API_METRICS_MAX];
    size_t n_metrics;
    unsigned long long metrics_dropped;
    unsigned long long obs_accepted, obs_duplicates, obs_rejected, findings_made;
};

typedef void (*api_handler)(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp);

/* Replace the response with a problem of status (detail may be NULL), or a bare 500. */
void api_problem(struct http_response *resp, int status, const char *detail);
void api_oom(struct http_response *resp);

/* api_web.c */
/* Whether a request path may name a file of the web directory: "/" then segments made of
 * [A-Za-z0-9_.-], none empty or starting with a dot, shorter than API_STATIC_PATH_MAX. */
#define API_STATIC_PATH_MAX 256 /* bytes of a static file's request path */
bool api_web_path_safe(const char *path);
/* Answers a GET or HEAD for a file of the dashboard (web_dir): returns false when req is not
 * one (not GET/HEAD, under /api/, no web_dir, no such file) so the caller answers 404. */
bool api_static_serve(struct api *a, const struct http_request *req, struct http_response *resp);
void api_h_geography(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp);
void api_h_proof_observation(struct api *a, const struct http_request *req,
                             const struct api_params *p, struct http_response *resp);
void api_h_public_reports(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp);
void api_h_map_observations(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp);
void api_h_finding_review(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp);
void api_h_finding_reviews(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp);
void api_h_public_report(struct api *a, const struct http_request *req, const struct api_params *p,
                         struct http_response *resp);
void api_h_public_findings(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp);

#endif
