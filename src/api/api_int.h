/* api_int.h: what the api module's files share and no other module may include: the api's
 * state, the handler signature, the problem helpers, the paged-listing glue (query
 * parameters -> store_page, next links) and the OGC API - Features handlers of api_ogc.c.
 * api_web.c: the dashboard's static files, geography, proofs, public views and reviews.
 * Handlers run one at a time in the http layer's thread; a->who is the principal of the request
 * being handled. */
#ifndef TRUCE_API_INT_H
#define TRUCE_API_INT_H
#include "api/api.h"
#include "escalation/escalation.h"
#include "fusion/fusion.h"
#include "note/note.h"
#include "witness/witness.h"

#define API_METRICS_MAX 256   /* distinct (route, method, status) counters kept */
#define API_AUDIT_RESULT_MAX 512 /* bytes of the result text a handler leaves for the audit */
#define API_REVIEW_BODY_BYTES 16384 /* body of POST /api/v1/findings/{id}/review */

struct intake_group;

struct api_params {
    char v[API_MAX_PARAMS][API_MAX_SEGMENT];
    int n;
};

struct metric {
    int route; /* index in ROUTES, -1 for requests no route matched */
    int status;
    unsigned long long n;
};

/* Who a request was authenticated as when its headers came in (http_app.admit), kept in the
 * request's http_request.app_data until its handler runs, so the token is looked up once. */
struct api_admitted {
    bool set;
    int route; /* the request's route in ROUTES, found at admission */
    struct auth_principal who;
};
_Static_assert(sizeof(struct api_admitted) <= HTTP_APP_DATA_BYTES, "fits a request's app data");

struct api {
    struct store *s;
    const struct store_agreements *ag;
    struct truce_log *log;
    struct witness *witness; /* NULL: this instance is no witness */
    struct auth_principal who; /* of the request being handled */
    struct auth_cache auth_cache; /* principals of the tokens seen lately */
    char audit_result[API_AUDIT_RESULT_MAX]; /* a handler's summary of a write, for the audit */
    struct fusion *fusion; /* incidents kept up to date by intake (NULL: fusion unavailable) */
    char *web_dir; /* the dashboard's files (api_set_web_dir), NULL: none */
    char vkey[NOTE_VKEY_SIZE]; /* the log's verifier key (api_set_verifier_key), "": unknown */
    struct buf map_cache;      /* the last answer of GET /api/v1/map/observations ... */
    int64_t map_cache_log;     /* ... made at this committed log size (-1: none) */
    struct buf map_inc_cache;  /* the last answer of GET /api/v1/map/incidents for all parties */
    int64_t map_inc_cache_log; /* ... made at this committed log size (-1: none) */
    struct buf map_inc_geo_cache;  /* ... and its ?format=geojson answer */
    int64_t map_inc_geo_cache_log; /* ... made at this committed log size (-1: none) */
    struct map_table *map_inc_table; /* the read the columns answer was made of, until the
                                      * GeoJSON is made of it too (api_web.c); or NULL */
    int64_t map_inc_table_log;
    struct metric metrics[API_METRICS_MAX];
    size_t n_metrics;
    unsigned long long metrics_dropped;
    unsigned long long obs_accepted, obs_duplicates, obs_rejected, findings_made;
    unsigned long long auth_refused, audit_failures;
    struct intake_group *group; /* POST /api/v1/observations: the group commit (api_intake.c) */
    char refused;               /* the state of an intake whose content type was refused */
};

typedef void (*api_handler)(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp);

/* Replaces resp with a problem of status and detail (500 when out of memory). */
void api_problem(struct http_response *resp, int status, const char *detail);
void api_oom(struct http_response *resp);

/* api_auth.c */
void api_h_audit(struct api *a, const struct http_request *req, const struct api_params *p,
                 struct http_response *resp);
void api_h_me(struct api *a, const struct http_request *req, const struct api_params *p,
              struct http_response *resp);
/* Checks the request's token against the route's role set: returns true when the handler may
 * run, else fills resp with 401 (with WWW-Authenticate) or 403 and returns false. Sets a->who. */
bool api_authorize(struct api *a, const struct http_request *req, unsigned roles,
                   struct http_response *resp);
/* Records a write request (any method but GET and HEAD) that passed authentication in the audit
 * trail: who, when, the route and path, the status and a->audit_result. */
void api_audit_request(struct api *a, const struct http_request *req, const char *pattern,
                       int status);
/* For party users, confines a listing to the party's own findings: *party becomes the user's
 * party; asking for another party gives 403 (returns -1 with resp filled). Others: no change. */
int api_scope_party(struct api *a, const char **party, struct http_response *resp);

/* api_log.c */
void api_h_log_tile(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp);
void api_h_log_checkpoint(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp);
void api_h_proof_inclusion(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp);
void api_h_proof_consistency(struct api *a, const struct http_request *req,
                             const struct api_params *p, struct http_response *resp);
void api_h_log_cosignatures(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp);
void api_h_add_checkpoint(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp);

struct store *api_store(struct api *a);
const struct store_agreements *api_agreements(struct api *a);
struct truce_log *api_log(struct api *a);


/* api_escalation.c: alerts, acknowledgements and webhook subscribers (docs/api.md). */
#define API_SUBSCRIBER_BODY_BYTES ESC_SUBSCRIBER_JSON_MAX
void api_h_alerts(struct api *, const struct http_request *, const struct api_params *,
                  struct http_response *);
void api_h_alert(struct api *, const struct http_request *, const struct api_params *,
                 struct http_response *);
void api_h_alert_ack(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);
void api_h_subscribers(struct api *, const struct http_request *, const struct api_params *,
                       struct http_response *);
void api_h_subscriber_add(struct api *, const struct http_request *, const struct api_params *,
                          struct http_response *);
void api_h_subscriber_remove(struct api *, const struct http_request *,
                             const struct api_params *, struct http_response *);


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

/* A paged JSON listing (GET /api/v1/observations, findings, incidents): the filters and cursor
 * of the query, the records as a JSON array, a Link header to the next page when there is one. */
enum api_list_kind { API_LIST_OBSERVATIONS, API_LIST_FINDINGS, API_LIST_INCIDENTS };
void api_list_page(struct api *a, const struct http_request *req, struct http_response *resp,
                   enum api_list_kind kind);

/* api_incidents.c: GET /api/v1/incidents and /api/v1/incidents/{id} */
void api_h_incidents(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp);
void api_h_incident(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp);


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
/* GET /api/v1/map/incidents: the located incidents as compact columns (party users: their own) */
/* Frees what api_web.c keeps in a (api_free). */
void api_web_free(struct api *a);
void api_h_map_incidents(struct api *a, const struct http_request *req,
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
