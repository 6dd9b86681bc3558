/* api.c: the routes of truce's HTTP API as a table, their handlers (health, Prometheus metrics,
 * paged observation and finding listings and single records, the daily report, agreements,
 * observation intake through ingest_stream with the transparency log, the newest checkpoint;
 * the OGC API - Features routes are in api_ogc.c) and the per-route counters. */
#include "api/api.h"
#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "escalation/escalation.h"
#include "ingest/ingest.h"
#include "api/api_intake_int.h"
#include "report/report.h"

#define API_CHECKPOINT_MAX_NOTE (64u << 10)

struct api_route {
    const char *method, *pattern;
    api_handler handler;
    size_t body_limit;
    unsigned roles; /* enum api_role bits: who may use the route (docs/api.md) */
};

static void h_healthz(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
static void h_metrics(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
static void h_observations(struct api *, const struct http_request *, const struct api_params *,
                           struct http_response *);
static void h_findings(struct api *, const struct http_request *, const struct api_params *,
                       struct http_response *);
static void h_observation(struct api *, const struct http_request *, const struct api_params *,
                          struct http_response *);
static void h_finding(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
static void h_report(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);
static void h_agreements(struct api *, const struct http_request *, const struct api_params *,
                         struct http_response *);
static void h_ingest(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);

/* Role sets. ALL: everyone, with or without a token. READERS: the mission's own staff and the
 * guarantors (not parties). */
#define ALL API_ROLE_PUBLIC
#define ADMIN API_ROLE_ADMIN
#define READERS (API_ROLE_MONITOR | API_ROLE_ANALYST | API_ROLE_PUBLISHER | API_ROLE_GUARANTOR | ADMIN)
/* ALERT_READERS: who may read escalation alerts (the parties see alerts about them too). */
#define ALERT_READERS (API_ROLE_ANALYST | API_ROLE_PUBLISHER | API_ROLE_GUARANTOR | API_ROLE_PARTY | ADMIN)
static const struct api_route ROUTES[] = {
    {"GET", "/healthz", h_healthz, 0, ALL},
    {"GET", "/metrics", h_metrics, 0, ADMIN},
    {"GET", "/api/v1/observations", h_observations, 0, READERS},
    {"POST", "/api/v1/observations", h_ingest, API_INGEST_BODY_BYTES, API_ROLE_MONITOR | ADMIN},
    {"GET", "/api/v1/findings", h_findings, 0, READERS | API_ROLE_PARTY},
    {"GET", "/api/v1/reports/daily/{date}", h_report, 0, ALL},
    {"GET", "/api/v1/agreements", h_agreements, 0, ALL},
    {"GET", "/api/v1/log/checkpoint", api_h_log_checkpoint, 0, ALL},
    {"GET", "/api/v1/audit", api_h_audit, 0, API_ROLE_ANALYST | ADMIN},
    {"GET", "/api/v1/me", api_h_me, 0, READERS | API_ROLE_PARTY}, /* any signed-in user */
    {"GET", "/api/v1/log/proof/inclusion", api_h_proof_inclusion, 0, ALL},
    {"GET", "/api/v1/log/proof/consistency", api_h_proof_consistency, 0, ALL},
    {"GET", "/log/checkpoint", api_h_log_checkpoint, 0, ALL},
    {"GET", "/log/tile/{path*}", api_h_log_tile, 0, ALL},
    {"GET", "/log/truce/entries/{path*}", api_h_log_tile, 0, ALL},
    {"POST", "/api/v1/log/cosignatures", api_h_log_cosignatures, WITNESS_MAX_REQUEST_BYTES, ADMIN},
    {"POST", "/add-checkpoint", api_h_add_checkpoint, WITNESS_MAX_REQUEST_BYTES, ALL},
    /* escalation (docs/escalation.md) */
    {"GET", "/api/v1/alerts", api_h_alerts, 0, ALERT_READERS},
    {"GET", "/api/v1/alerts/{id}", api_h_alert, 0, ALERT_READERS},
    {"POST", "/api/v1/alerts/{id}/ack", api_h_alert_ack, 0,
     API_ROLE_GUARANTOR | API_ROLE_PARTY | ADMIN},
    {"GET", "/api/v1/subscribers", api_h_subscribers, 0, ADMIN},
    {"POST", "/api/v1/subscribers", api_h_subscriber_add, API_SUBSCRIBER_BODY_BYTES, ADMIN},
    {"DELETE", "/api/v1/subscribers/{name}", api_h_subscriber_remove, 0, ADMIN},
    {"GET", "/api/v1/observations/{id}", h_observation, 0, READERS},
    {"GET", "/api/v1/findings/{id}", h_finding, 0, READERS}, /* parties: their own, listed */
    /* OGC API - Features (api_ogc.c): the description is public, the items (raw observations
     * among them) are for the mission's readers as in /api/v1 */
    {"GET", "/ogc", api_ogc_landing_, 0, ALL},
    {"GET", "/ogc/", api_ogc_landing_, 0, ALL},
    {"GET", "/ogc/api", api_ogc_api_, 0, ALL},
    {"GET", "/ogc/conformance", api_ogc_conformance_, 0, ALL},
    {"GET", "/ogc/collections", api_ogc_collections_, 0, ALL},
    {"GET", "/ogc/collections/{collection}", api_ogc_collection_, 0, ALL},
    {"GET", "/ogc/collections/{collection}/items", api_ogc_items_, 0, READERS},
    {"GET", "/ogc/collections/{collection}/items/{fid}", api_ogc_item_, 0, READERS},
    /* incidents (api_incidents.c, docs/fusion.md) */
    {"GET", "/api/v1/incidents", api_h_incidents, 0, READERS | API_ROLE_PARTY},
    {"GET", "/api/v1/incidents/{id}", api_h_incident, 0, READERS | API_ROLE_PARTY},
    /* the dashboard and the public view (api_web.c, docs/dashboard.md) */
    {"GET", "/api/v1/geography", api_h_geography, 0, ALL},
    {"GET", "/api/v1/map/observations", api_h_map_observations, 0, READERS},
    {"GET", "/api/v1/map/incidents", api_h_map_incidents, 0, READERS | API_ROLE_PARTY},
    {"GET", "/api/v1/findings/{id}/reviews", api_h_finding_reviews, 0, READERS | API_ROLE_PARTY},
    /* the review module decides which step each role may take (docs/dashboard.md) */
    {"POST", "/api/v1/findings/{id}/review", api_h_finding_review, API_REVIEW_BODY_BYTES,
     API_ROLE_ANALYST | API_ROLE_PUBLISHER | API_ROLE_PARTY},
    {"GET", "/api/v1/log/proof/observation/{id}", api_h_proof_observation, 0, READERS},
    {"GET", "/api/v1/public/reports", api_h_public_reports, 0, ALL},
    {"GET", "/api/v1/public/reports/{date}", api_h_public_report, 0, ALL},
    {"GET", "/api/v1/public/findings", api_h_public_findings, 0, ALL},
};
#undef ALL
#undef ADMIN
#undef READERS
#undef ALERT_READERS
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

/* ---- routing ---- */

/* Matches path against pattern segment by segment; {name} captures one non-empty segment. */
static bool match(const char *pattern, const char *path, struct api_params *p)
{
    p->n = 0;
    const char *a = pattern, *b = path;
    while (*a && *b) {
        if (*a == '{') {
            const char *close = strchr(a, '}');
            /* {name*} (last in a pattern) takes the rest of the path, slashes included */
            bool rest = close && close > a + 1 && close[-1] == '*';
            size_t n = rest ? strlen(b) : strcspn(b, "/");
            if (!close || n == 0 || n >= API_MAX_SEGMENT || p->n >= API_MAX_PARAMS)
                return false;
            memcpy(p->v[p->n], b, n);
            p->v[p->n][n] = 0;
            p->n++;
            a = close + 1;
            b += n;
        } else if (*a == *b) {
            a++;
            b++;
        } else {
            return false;
        }
    }
    return !*a && !*b;
}

/* The route for method and path: its index, or -1. *path_known says whether some route has
 * that path (for 405), and allow collects the methods it has. */
static int find_route(const char *method, const char *path, struct api_params *p,
                      bool *path_known, char *allow, size_t allow_n)
{
    *path_known = false;
    if (allow_n)
        allow[0] = 0;
    int found = -1;
    for (size_t i = 0; i < N_ROUTES; i++) {
        struct api_params tmp;
        if (!match(ROUTES[i].pattern, path, &tmp))
            continue;
        *path_known = true;
        if (allow_n) {
            size_t l = strlen(allow);
            snprintf(allow + l, allow_n - l, "%s%s", l ? ", " : "", ROUTES[i].method);
        }
        if (found < 0 && !strcmp(ROUTES[i].method, method)) {
            found = (int)i;
            *p = tmp;
            if (!allow_n)
                break; /* the Allow list is not wanted: the first match is the route */
        }
    }
    return found;
}

static size_t on_body_limit(void *ctx, const char *method, const char *path)
{
    (void)ctx;
    struct api_params p;
    bool known;
    int r = find_route(method, path, &p, &known, NULL, 0);
    /* Unrouted requests may carry a body up to the daemon's cap so they get their 404/405. */
    return r >= 0 ? ROUTES[r].body_limit : HTTP_BODY_BYTES;
}

#define oom api_oom
#define problem api_problem

static void count(struct api *a, int route, int status)
{
    for (size_t i = 0; i < a->n_metrics; i++)
        if (a->metrics[i].route == route && a->metrics[i].status == status) {
            a->metrics[i].n++;
            return;
        }
    if (a->n_metrics == API_METRICS_MAX) {
        a->metrics_dropped++;
        return;
    }
    a->metrics[a->n_metrics++] = (struct metric){route, status, 1};
}

static void on_completed(void *ctx, const char *method, const char *path, int status)
{
    struct api_params p;
    bool known;
    count(ctx, find_route(method, path, &p, &known, NULL, 0), status);
}

void api_oom(struct http_response *resp)
{
    /* The problem body is small; if even that fails the status still goes out. */
    if (http_problem(resp, 500, NULL, "out of memory"))
        resp->status = 500;
}

void api_problem(struct http_response *resp, int status, const char *detail)
{
    if (http_problem(resp, status, NULL, detail))
        api_oom(resp);
}

bool api_route_allows(unsigned roles, enum auth_role r)
{
    return (roles & API_ROLE_PUBLIC) || (roles & AUTH_BIT(r));
}

size_t api_route_count(void)
{
    return N_ROUTES;
}

void api_route_get(size_t i, const char **method, const char **pattern, unsigned *roles)
{
    *method = ROUTES[i].method;
    *pattern = ROUTES[i].pattern;
    *roles = ROUTES[i].roles;
}

/* The slot of the request on connection conn (NULL: none), or with take a free one. */
/* Authenticates and authorizes a request before its body is read, so that a refused upload is
 * never received. */
static bool on_admit(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    struct api_params p;
    bool known;
    int r = find_route(req->method, req->path, &p, &known, NULL, 0);
    if (r < 0)
        return true; /* 404 or 405 once the request is in */
    if (!api_authorize(a, req, ROUTES[r].roles, resp))
        return false;
    struct api_admitted *adm = req->app_data;
    adm->set = true;
    adm->route = r;
    adm->who = a->who;
    return true;
}

/* The route of an admitted request whose pattern has no parameters (found at admission), else
 * -1: it is looked up. */
static int admitted_route(const struct http_request *req, struct api_params *p)
{
    const struct api_admitted *adm = req->app_data;
    if (!adm || !adm->set || strchr(ROUTES[adm->route].pattern, '{'))
        return -1;
    p->n = 0;
    return adm->route;
}

static void on_request(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    struct api_params p;
    bool known;
    int r = admitted_route(req, &p);
    if (r < 0)
        r = find_route(req->method, req->path, &p, &known, NULL, 0);
    if (r < 0) {
        r = find_route(req->method, req->path, &p, &known, resp->allow, sizeof resp->allow);
        if (known) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s is not allowed on %.64s (allowed: %s)", req->method,
                     req->path, resp->allow);
            problem(resp, 405, msg);
        } else {
            resp->allow[0] = 0;
            if (!api_static_serve(a, req, resp)) /* the dashboard's files (api_web.c) */
                problem(resp, 404, "no such resource; the routes are listed in docs/api.md");
        }
        return;
    }
    resp->allow[0] = 0;
    const struct api_admitted *adm = req->app_data;
    if (adm && adm->set) { /* authenticated when its headers came in */
        a->who = adm->who;
        if (!api_route_allows(ROUTES[r].roles, a->who.role)) {
            problem(resp, 403, "role not allowed");
            return;
        }
    } else if (!api_authorize(a, req, ROUTES[r].roles, resp)) {
        return;
    }
    a->audit_result[0] = 0;
    if (a->who.authenticated) /* for the access log */
        str_copy(resp->user, sizeof resp->user, a->who.name);
    /* Other requests see only committed records: what intake staged is committed first. */
    if (ROUTES[r].handler != h_ingest)
        intake_group_commit(a->group);
    ROUTES[r].handler(a, req, &p, resp);
    api_audit_request(a, req, ROUTES[r].pattern, resp->status);
}

/* ---- handlers ---- */

static void h_healthz(struct api *a, const struct http_request *req, const struct api_params *p,
                      struct http_response *resp)
{
    (void)req;
    (void)p;
    if (buf_printf(&resp->body, "{\"status\":\"ok\",\"log_size\":%lld}\n",
                   (long long)store_log_committed(a->s)))
        oom(resp);
}

static void h_metrics(struct api *a, const struct http_request *req, const struct api_params *p,
                      struct http_response *resp)
{
    (void)req;
    (void)p;
    struct buf *b = &resp->body;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    int rc = buf_printf(b, "# HELP truce_http_requests_total HTTP requests by route and status.\n"
                           "# TYPE truce_http_requests_total counter\n");
    for (size_t i = 0; !rc && i < a->n_metrics; i++) {
        const struct metric *m = &a->metrics[i];
        rc = buf_printf(b,
                        "truce_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"}"
                        " %llu\n",
                        m->route >= 0 ? ROUTES[m->route].method : "other",
                        m->route >= 0 ? ROUTES[m->route].pattern : "unmatched", m->status, m->n);
    }
    long long n_obs = -1;
    struct errbuf e;
    if (!rc && store_obs_count(a->s, &n_obs, &e))
        n_obs = -1;
    if (!rc)
        rc = buf_printf(
            b,
            "# HELP truce_observations_ingested_total Observation records taken in over HTTP.\n"
            "# TYPE truce_observations_ingested_total counter\n"
            "truce_observations_ingested_total{result=\"accepted\"} %llu\n"
            "truce_observations_ingested_total{result=\"duplicate\"} %llu\n"
            "truce_observations_ingested_total{result=\"rejected\"} %llu\n"
            "# HELP truce_findings_made_total Findings made by observations taken in over HTTP.\n"
            "# TYPE truce_findings_made_total counter\n"
            "truce_findings_made_total %llu\n"
            "# HELP truce_observations_stored Observations in the store.\n"
            "# TYPE truce_observations_stored gauge\n"
            "truce_observations_stored %lld\n"
            "# HELP truce_log_size Leaves in the transparency log (committed).\n"
            "# TYPE truce_log_size gauge\n"
            "truce_log_size %lld\n"
            "# HELP truce_alerts_raised_total Escalation alerts raised by observations taken in "
            "over HTTP.\n"
            "# TYPE truce_alerts_raised_total counter\n"
            "truce_alerts_raised_total %llu\n"
            "# HELP truce_metrics_dropped_total Requests not counted (too many label sets).\n"
            "# TYPE truce_metrics_dropped_total counter\n"
            "truce_metrics_dropped_total %llu\n",
            a->obs_accepted, a->obs_duplicates, a->obs_rejected, a->findings_made, n_obs,
            (long long)store_log_committed(a->s), intake_group_alerts(a->group), a->metrics_dropped);
    if (!rc)
        rc = buf_printf(b,
                        "# HELP truce_auth_refused_total Requests refused with 401 or 403.\n"
                        "# TYPE truce_auth_refused_total counter\n"
                        "truce_auth_refused_total %llu\n"
                        "# HELP truce_audit_failures_total Writes whose audit entry failed.\n"
                        "# TYPE truce_audit_failures_total counter\n"
                        "truce_audit_failures_total %llu\n",
                        a->auth_refused, a->audit_failures);
    struct store_esc_counts ec;
    if (!rc && !store_esc_counts(a->s, &ec, &e))
        rc = buf_printf(b,
                        "# HELP truce_alerts Escalation alerts stored, by state.\n"
                        "# TYPE truce_alerts gauge\n"
                        "truce_alerts{state=\"open\"} %lld\n"
                        "truce_alerts{state=\"acknowledged\"} %lld\n"
                        "# HELP truce_webhook_deliveries Webhook deliveries, by state.\n"
                        "# TYPE truce_webhook_deliveries gauge\n"
                        "truce_webhook_deliveries{state=\"pending\"} %lld\n"
                        "truce_webhook_deliveries{state=\"delivered\"} %lld\n"
                        "truce_webhook_deliveries{state=\"failed\"} %lld\n",
                        ec.alerts_open, ec.alerts_acknowledged, ec.deliveries_pending,
                        ec.deliveries_delivered, ec.deliveries_failed);
    unsigned long long commits, grouped;
    intake_group_counters(a->group, &commits, &grouped);
    if (!rc)
        rc = buf_printf(b,
                        "# HELP truce_group_commits_total Group commits of POSTed observations.\n"
                        "# TYPE truce_group_commits_total counter\n"
                        "truce_group_commits_total %llu\n"
                        "# HELP truce_group_records_total Records those commits stored.\n"
                        "# TYPE truce_group_records_total counter\n"
                        "truce_group_records_total %llu\n",
                        commits, grouped);
    if (rc)
        oom(resp);
}

/* A page of a JSON listing: the records as a JSON array, one more asked of the store than
 * the limit so that a next link is given only when there is a next page. */
struct list_ctx {
    struct buf *b;
    long long n, limit;
    int64_t last_t, last_id;
    bool more;
};

#define API_LIST_STOP 1 /* a callback's "enough": the page is full */

static int list_item(void *ctx, const struct store_item *it)
{
    struct list_ctx *c = ctx;
    if (c->n == c->limit) {
        c->more = true;
        return API_LIST_STOP;
    }
    int rc = c->n ? buf_append(c->b, ",\n", 2) : 0;
    if (!rc)
        rc = buf_append(c->b, it->json, strlen(it->json));
    c->n++;
    c->last_t = it->t_ms;
    c->last_id = it->id;
    return rc;
}

/* Sets the Link header of a listing's next page (RFC 8288). Returns 0, ERR_NOMEM, or ERR_TOOBIG
 * when the filters are too long to repeat in the header. */
static int next_link(const struct http_request *req, const struct list_ctx *c,
                     struct http_response *resp)
{
    char base[300], cursor[API_CURSOR_BYTES];
    api_base_url_(req, base, sizeof base);
    api_format_cursor(c->last_t, c->last_id, cursor, sizeof cursor);
    struct buf q;
    buf_init(&q);
    int rc = api_page_query_(req, cursor, c->limit, &q);
    if (!rc) {
        int n = snprintf(resp->link, sizeof resp->link, "<%s%s?%s>; rel=\"next\"", base,
                         req->path, q.p);
        if (n < 0 || (size_t)n >= sizeof resp->link) {
            resp->link[0] = 0;
            rc = ERR_TOOBIG;
        }
    }
    buf_reset(&q);
    return rc;
}

void api_list_page(struct api *a, const struct http_request *req, struct http_response *resp,
                   enum api_list_kind kind)
{
    struct store_page p;
    if (api_page_from_query_(req, a->ag->v[a->ag->n - 1]->time_zone, API_LIST_DEFAULT_LIMIT,
                             API_LIST_MAX_LIMIT, &p, resp) ||
        api_scope_party(a, &p.f.party, resp))
        return;
    if (kind == API_LIST_INCIDENTS && (p.f.kind || p.f.clause)) {
        problem(resp, 400, "incidents are filtered by bbox, datetime (or from, to), party, region, "
                           "cursor and limit; not by kind or clause");
        return;
    }
    struct list_ctx c = {.b = &resp->body, .limit = p.f.limit};
    p.f.limit++;
    struct errbuf e;
    int rc = buf_append(&resp->body, "[", 1);
    if (rc) {
        oom(resp);
        return;
    }
    rc = kind == API_LIST_FINDINGS    ? store_findings_page(a->s, &p, list_item, &c, &e)
         : kind == API_LIST_INCIDENTS ? store_incidents_page(a->s, &p, list_item, &c, &e)
                                      : store_obs_page(a->s, &p, list_item, &c, &e);
    if (rc && rc != API_LIST_STOP) {
        problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
        return;
    }
    if (buf_append(&resp->body, "]\n", 2))
        oom(resp);
    else if (c.more && (rc = next_link(req, &c, resp)))
        /* without its next link a page would look like the last one */
        rc == ERR_TOOBIG ? problem(resp, 400, "the query parameters are too long to repeat in "
                                              "the next page's Link header; shorten them")
                         : oom(resp);
}

static void h_observations(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp)
{
    (void)p;
    api_list_page(a, req, resp, API_LIST_OBSERVATIONS);
}

static void h_findings(struct api *a, const struct http_request *req, const struct api_params *p,
                       struct http_response *resp)
{
    (void)p;
    api_list_page(a, req, resp, API_LIST_FINDINGS);
}

static int one_item(void *ctx, const struct store_item *it)
{
    return buf_printf(ctx, "%s\n", it->json);
}

/* GET one record by its id (a positive decimal in the path). */
static void get_one(struct api *a, const struct api_params *p, struct http_response *resp,
                    bool findings)
{
    struct store_page pg;
    store_page_init(&pg);
    long long id;
    const char *what = findings ? "finding" : "observation";
    char msg[160];
    if (str_to_ll(p->v[0], &id) || id < 1) {
        snprintf(msg, sizeof msg, "the %s id must be a positive number, not \"%.40s\"", what,
                 p->v[0]);
        problem(resp, 400, msg);
        return;
    }
    pg.id = id;
    pg.f.limit = 1;
    struct errbuf e;
    int rc = findings ? store_findings_page(a->s, &pg, one_item, &resp->body, &e)
                      : store_obs_page(a->s, &pg, one_item, &resp->body, &e);
    if (rc)
        problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
    else if (resp->body.len == 0) {
        snprintf(msg, sizeof msg, "no %s has id %lld", what, id);
        problem(resp, 404, msg);
    }
}

static void h_observation(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)req;
    get_one(a, p, resp, false);
}

static void h_finding(struct api *a, const struct http_request *req, const struct api_params *p,
                      struct http_response *resp)
{
    (void)req;
    get_one(a, p, resp, true);
}

static void h_report(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    const char *date = p->v[0];
    int y, m, d;
    char extra;
    if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
        y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) {
        problem(resp, 400, "the date must be YYYY-MM-DD");
        return;
    }
    const char *format = http_query(req, "format");
    enum report_format fmt = REPORT_JSON;
    if (format && !strcmp(format, "text"))
        fmt = REPORT_TEXT;
    else if (format && !strcmp(format, "html"))
        fmt = REPORT_HTML;
    else if (format && !strcmp(format, "pdf"))
        fmt = REPORT_PDF;
    else if (format && strcmp(format, "json")) {
        problem(resp, 400, "query parameter format: json, text, html or pdf");
        return;
    }
    const struct agreement *ag = a->ag->v[a->ag->n - 1];
    int64_t noon;
    if (time_local_to_utc(y, m, d, 12, 0, ag->time_zone, &noon) == 0)
        ag = store_agreement_at(a->ag, noon);
    struct errbuf e;
    int rc = report_daily(a->s, ag, y, m, d, fmt, &resp->body, &e);
    if (rc) {
        problem(resp, rc == ERR_INVAL ? 400 : 500, e.msg);
        return;
    }
    resp->content_type = fmt == REPORT_TEXT   ? "text/plain; charset=utf-8"
                         : fmt == REPORT_HTML ? "text/html; charset=utf-8"
                         : fmt == REPORT_PDF  ? "application/pdf"
                                              : "application/json";
}

static void h_agreements(struct api *a, const struct http_request *req,
                         const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    struct buf *b = &resp->body;
    int rc = buf_append(b, "[", 1);
    for (size_t i = 0; !rc && i < a->ag->n; i++) {
        const struct agreement *g = a->ag->v[i];
        char eff[40];
        time_format_local(g->effective_ms, g->time_zone, eff, sizeof eff);
        rc = buf_printf(b, "%s{\"id\":", i ? ",\n" : "");
        if (!rc)
            rc = buf_json_str(b, g->id);
        if (!rc)
            rc = buf_printf(b, ",\"version\":%d,\"title\":", g->version);
        if (!rc)
            rc = buf_json_str(b, g->title);
        if (!rc)
            rc = buf_printf(b, ",\"effective\":\"%s\",\"time_zone\":", eff);
        if (!rc)
            rc = buf_json_str(b, g->time_zone);
        if (!rc)
            rc = buf_printf(b,
                            ",\"report_cutoff\":\"%02d:%02d\",\"illustrative\":%s,"
                            "\"parties\":%zu,\"regions\":%zu,\"zones\":%zu,\"rules\":%zu}",
                            g->cutoff_minutes / 60, g->cutoff_minutes % 60,
                            g->illustrative ? "true" : "false", g->n_parties, g->n_regions,
                            g->n_zones, g->n_rules);
    }
    if (!rc)
        rc = buf_append(b, "]\n", 2);
    if (rc)
        oom(resp);
}

/* POST /api/v1/observations: the body was streamed into the request's intake
 * (api_intake.c); this ends it. Without an intake the content type was refused. */
static void h_ingest(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    (void)p;
    if (!req->state || req->state == &a->refused) {
        problem(resp, 415, "the body must be observations: " API_INGEST_TYPES);
        return;
    }
    intake_end(req->state, resp);
    /* The audit entry joins the group transaction of these records: durable with them. */
    struct ingest_stats st;
    intake_taken(req->state, &st);
    snprintf(a->audit_result, sizeof a->audit_result,
             "records %lld, accepted %lld, duplicates %lld, rejected %lld, findings %lld",
             st.records, st.accepted, st.duplicates, st.rejected, st.findings);
}

static const struct http_stream *on_stream(void *ctx, const struct http_request *req);

static void *intake_stream_open(void *ctx, const struct http_request *req)
{
    struct api *a = ctx;
    bool oom;
    struct intake *in =
        intake_open(a->group, http_header(req, "Content-Type"), req->body_max, &oom);
    return in ? (void *)in : oom ? NULL : (void *)&a->refused;
}

static int intake_stream_data(void *ctx, void *state, const char *p, size_t n)
{
    struct api *a = ctx;
    return state == &a->refused ? 0 : intake_data(state, p, n);
}

static void intake_stream_finish(void *ctx, void *state, struct http_response *resp)
{
    (void)ctx;
    intake_answer(state, resp);
}

static void intake_stream_close(void *ctx, void *state)
{
    struct api *a = ctx;
    if (state == &a->refused)
        return;
    struct ingest_stats st; /* what was committed, answered or not */
    intake_stats(state, &st);
    a->obs_accepted += (unsigned long long)st.accepted;
    a->obs_duplicates += (unsigned long long)st.duplicates;
    a->obs_rejected += (unsigned long long)st.rejected;
    a->findings_made += (unsigned long long)st.findings;
    intake_close(state);
}

static const struct http_stream INTAKE_STREAM = {intake_stream_open, intake_stream_data,
                                                 intake_stream_finish, intake_stream_close};

/* The streamed requests: POST /api/v1/observations. */
static const struct http_stream *on_stream(void *ctx, const struct http_request *req)
{
    (void)ctx;
    struct api_params p;
    bool known;
    int r = admitted_route(req, &p);
    if (r < 0)
        r = find_route(req->method, req->path, &p, &known, NULL, 0);
    return r >= 0 && ROUTES[r].handler == h_ingest ? &INTAKE_STREAM : NULL;
}

static bool on_staged(void *ctx) { return intake_group_staged(((struct api *)ctx)->group); }

static void on_commit(void *ctx) { intake_group_commit(((struct api *)ctx)->group); }

void api_tick(struct api *a) { intake_group_tick(a->group); }

static void on_tick(void *ctx) { api_tick(ctx); }

void api_finish(struct api *a) { intake_group_finish(a->group); }

void api_post_observations(struct api *a, const char *content_type, const char *body,
                           size_t len, size_t piece, struct http_response *resp)
{
    bool oom;
    struct intake *in = intake_open(a->group, content_type, 0, &oom);
    if (!in) {
        problem(resp, oom ? 500 : 415,
                oom ? "out of memory" : "the body must be observations: " API_INGEST_TYPES);
        return;
    }
    if (!piece)
        piece = len ? len : 1;
    for (size_t off = 0; off < len; off += piece)
        if (intake_data(in, body + off, len - off < piece ? len - off : piece))
            break;
    intake_end(in, resp);
    if (resp->after_commit) {
        resp->after_commit = false;
        intake_group_commit(a->group);
        intake_answer(in, resp);
    }
    intake_stream_close(a, in);
}

/* ---- for the other files of the module (api_int.h) ---- */

struct store *api_store(struct api *a) { return a->s; }
const struct store_agreements *api_agreements(struct api *a) { return a->ag; }
struct truce_log *api_log(struct api *a) { return a->log; }

/* ---- shared with the module's other files (api_int.h) ---- */


/* ---- life cycle ---- */

struct api *api_new(struct store *s, const struct store_agreements *ag, struct truce_log *log)
{
    struct api *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->s = s;
    a->ag = ag;
    a->log = log;
    struct errbuf e;
    /* Every stored fire report is validated, placed and linked again: on a large store this
     * takes a while (about 45 us a realistic report), so the log says what start-up is doing. */
    http_log(HTTP_LOG_INFO, "fusion", "linking the stored fire reports into incidents");
    int64_t t0 = time_now_ms();
    if (fusion_load(s, ag, &a->fusion, &e)) {
        /* the API still serves; incidents catch up with `truce fuse` */
        http_log(HTTP_LOG_ERROR, "fusion", "fusion unavailable (incidents catch up with "
                 "`truce fuse`): %s", e.msg);
        a->fusion = NULL;
    } else {
        http_log(HTTP_LOG_INFO, "fusion", "%zu fire reports linked in %lld ms",
                 fusion_obs_count(a->fusion), (long long)(time_now_ms() - t0));
    }
    if (!(a->group = intake_group_new(s, ag, log, a->fusion))) {
        fusion_free(a->fusion);
        free(a);
        return NULL;
    }
    a->map_cache_log = -1;
    a->map_inc_cache_log = -1;
    a->map_inc_geo_cache_log = -1;
    return a;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    witness_close(a->witness);
    intake_group_free(a->group);
    fusion_free(a->fusion);
    free(a->web_dir);
    buf_reset(&a->map_cache);
    buf_reset(&a->map_inc_cache);
    buf_reset(&a->map_inc_geo_cache);
    api_web_free(a);
    free(a);
}

void api_http_app(struct api *a, struct http_app *app)
{
    app->body_limit = on_body_limit;
    app->admit = on_admit;
    app->handle = on_request;
    app->completed = on_completed;
    app->ctx = a;
    app->stream = on_stream;
    app->staged = on_staged;
    app->commit = on_commit;
    app->tick = on_tick;
}

