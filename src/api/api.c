/* api.c: the routes of truce's HTTP API as a table, their handlers (health, Prometheus metrics,
 * observation and finding listings, the daily report, agreements, observation intake through
 * ingest_stream with the transparency log, the newest checkpoint) and the per-route counters. */
#include "api/api.h"
#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/ingest.h"
#include "report/report.h"

#define API_CHECKPOINT_MAX_NOTE (64u << 10)

struct api_route {
    const char *method, *pattern;
    api_handler handler;
    size_t body_limit;
    unsigned roles; /* enum api_role bits: a placeholder, not enforced yet */
};

static void h_healthz(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
static void h_metrics(struct api *, const struct http_request *, const struct api_params *,
                      struct http_response *);
static void h_observations(struct api *, const struct http_request *, const struct api_params *,
                           struct http_response *);
static void h_findings(struct api *, const struct http_request *, const struct api_params *,
                       struct http_response *);
static void h_report(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);
static void h_agreements(struct api *, const struct http_request *, const struct api_params *,
                         struct http_response *);
static void h_ingest(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);
static void h_checkpoint(struct api *, const struct http_request *, const struct api_params *,
                         struct http_response *);

#define PUB API_ROLE_PUBLIC
static const struct api_route ROUTES[] = {
    {"GET", "/healthz", h_healthz, 0, PUB},
    {"GET", "/metrics", h_metrics, 0, PUB},
    {"GET", "/api/v1/observations", h_observations, 0, PUB},
    {"POST", "/api/v1/observations", h_ingest, API_INGEST_BODY_BYTES, API_ROLE_MONITOR},
    {"GET", "/api/v1/findings", h_findings, 0, PUB},
    {"GET", "/api/v1/reports/daily/{date}", h_report, 0, PUB},
    {"GET", "/api/v1/agreements", h_agreements, 0, PUB},
    {"GET", "/api/v1/log/checkpoint", h_checkpoint, 0, PUB},
    {"GET", "/api/v1/geography", api_h_geography, 0, PUB},
    {"GET", "/api/v1/map/observations", api_h_map_observations, 0, PUB},
    {"GET", "/api/v1/findings/{id}/reviews", api_h_finding_reviews, 0, PUB},
    /* analyst, publisher or party (the handler asks who the caller is: issue 5's users) */
    {"POST", "/api/v1/findings/{id}/review", api_h_finding_review, API_REVIEW_BODY_BYTES,
     API_ROLE_ADMIN},
    {"GET", "/api/v1/log/proof/observation/{id}", api_h_proof_observation, 0, PUB},
    {"GET", "/api/v1/public/reports", api_h_public_reports, 0, PUB},
    {"GET", "/api/v1/public/reports/{date}", api_h_public_report, 0, PUB},
    {"GET", "/api/v1/public/findings", api_h_public_findings, 0, PUB},
};
#undef PUB
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
            size_t n = strcspn(b, "/");
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

static void on_request(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct api *a = ctx;
    struct api_params p;
    bool known;
    int r = find_route(req->method, req->path, &p, &known, resp->allow, sizeof resp->allow);
    if (r < 0) {
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
    ROUTES[r].handler(a, req, &p, resp);
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
            "# HELP truce_metrics_dropped_total Requests not counted (too many label sets).\n"
            "# TYPE truce_metrics_dropped_total counter\n"
            "truce_metrics_dropped_total %llu\n",
            a->obs_accepted, a->obs_duplicates, a->obs_rejected, a->findings_made, n_obs,
            (long long)store_log_committed(a->s), a->metrics_dropped);
    if (rc)
        oom(resp);
}

struct list_ctx {
    struct buf *b;
    size_t n;
};

static int list_item(void *ctx, const char *json)
{
    struct list_ctx *c = ctx;
    int rc = c->n ? buf_append(c->b, ",\n", 2) : 0;
    if (!rc)
        rc = buf_append(c->b, json, strlen(json));
    c->n++;
    return rc;
}

/* Fills f from the query; on a bad value answers 400 and returns -1. */
static int filter_from_query(struct api *a, const struct http_request *req,
                             struct store_filter *f, struct http_response *resp)
{
    store_filter_init(f);
    const char *tz = a->ag->v[a->ag->n - 1]->time_zone;
    struct errbuf e;
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    if (from && time_parse(from, tz, &f->from_ms, &e)) {
        errprefix(&e, "query parameter from");
        problem(resp, 400, e.msg);
        return -1;
    }
    if (to && time_parse(to, tz, &f->to_ms, &e)) {
        errprefix(&e, "query parameter to");
        problem(resp, 400, e.msg);
        return -1;
    }
    f->party = http_query(req, "party");
    f->clause = http_query(req, "clause");
    f->region = http_query(req, "region");
    f->kind = http_query(req, "kind");
    const char *limit = http_query(req, "limit");
    f->limit = API_LIST_DEFAULT_LIMIT;
    if (limit && (str_to_ll(limit, &f->limit) || f->limit < 1 || f->limit > API_LIST_MAX_LIMIT)) {
        char msg[128];
        snprintf(msg, sizeof msg, "query parameter limit: must be a number from 1 to %d",
                 API_LIST_MAX_LIMIT);
        problem(resp, 400, msg);
        return -1;
    }
    return 0;
}

static void list(struct api *a, const struct http_request *req, struct http_response *resp,
                 bool findings)
{
    struct store_filter f;
    if (filter_from_query(a, req, &f, resp))
        return;
    struct list_ctx c = {&resp->body, 0};
    struct errbuf e;
    int rc = buf_append(&resp->body, "[", 1);
    if (rc) {
        oom(resp);
        return;
    }
    rc = findings ? store_findings_list(a->s, &f, list_item, &c, &e)
                  : store_obs_list(a->s, &f, list_item, &c, &e);
    if (rc) {
        problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
        return;
    }
    if (buf_append(&resp->body, "]\n", 2))
        oom(resp);
}

static void h_observations(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp)
{
    (void)p;
    list(a, req, resp, false);
}

static void h_findings(struct api *a, const struct http_request *req, const struct api_params *p,
                       struct http_response *resp)
{
    (void)p;
    list(a, req, resp, true);
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

/* How the observation module starts the message of a record that is not JSON at all (the result
 * carries no code, so the text is what tells a malformed record from an invalid one). */
#define API_MALFORMED_PREFIX "record: malformed JSON"

struct ingest_ctx {
    struct buf *b;
    size_t n;
    int rc;
    long long first_malformed; /* index of the first record that is not JSON, 0: none */
    char malformed[sizeof(((struct errbuf *)0)->msg)];
};

static int on_result(void *ctx, const struct ingest_result *r)
{
    struct ingest_ctx *c = ctx;
    struct buf *b = c->b;
    int rc = buf_printf(b, "%s{\"index\":%lld,\"status\":\"%s\"", c->n ? ",\n" : "", r->index,
                        INGEST_STATUS_NAMES[r->status]);
    c->n++;
    if (!rc && r->client_id && r->client_id[0]) {
        rc = buf_printf(b, ",\"client_id\":");
        if (!rc)
            rc = buf_json_str(b, r->client_id);
    }
    if (!rc && (r->status == INGEST_ACCEPTED || r->status == INGEST_DUPLICATE))
        rc = buf_printf(b, ",\"id\":%lld", (long long)r->id);
    if (!rc && r->status == INGEST_ACCEPTED)
        rc = buf_printf(b, ",\"findings\":%zu", r->n_findings);
    if (r->status == INGEST_REJECTED && r->error && !c->first_malformed &&
        !strncmp(r->error, API_MALFORMED_PREFIX, strlen(API_MALFORMED_PREFIX))) {
        c->first_malformed = r->index;
        str_copy(c->malformed, sizeof c->malformed, r->error);
    }
    if (!rc && r->error) {
        rc = buf_printf(b, ",\"error\":");
        if (!rc)
            rc = buf_json_str(b, r->error);
    }
    if (!rc)
        rc = buf_append(b, "}", 1);
    if (rc)
        c->rc = rc; /* kept going: the records are stored either way */
    return 0;
}

/* The record format from the Content-Type (its media type only); AUTO guesses it. */
static enum obs_format body_format(const struct http_request *req)
{
    static const struct {
        const char *type;
        enum obs_format fmt;
    } TYPES[] = {
        {"application/x-ndjson", OBS_FMT_NDJSON}, {"application/jsonlines", OBS_FMT_NDJSON},
        {"application/geo+json-seq", OBS_FMT_NDJSON}, {"text/csv", OBS_FMT_CSV},
    };
    const char *ct = http_header(req, "Content-Type");
    if (!ct)
        return OBS_FMT_AUTO;
    size_t n = strcspn(ct, "; ");
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strlen(TYPES[i].type) == n && !strncasecmp(ct, TYPES[i].type, n))
            return TYPES[i].fmt;
    return OBS_FMT_AUTO;
}

/* A problem (400: "Malformed observations") carrying the per-record results as an extension. */
static void problem_results(struct http_response *resp, int status, const char *detail,
                            const struct buf *results)
{
    if (http_problem(resp, status, status == 400 ? "Malformed observations" : NULL, detail)) {
        oom(resp);
        return;
    }
    resp->body.len -= 2; /* reopen the object for the results: drop "}\n" */
    resp->body.p[resp->body.len] = 0;
    if (buf_printf(&resp->body, ",\"results\":[%s]}\n", results->p ? results->p : ""))
        oom(resp);
}

static void h_ingest(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    (void)p;
    if (req->body_len == 0) {
        problem(resp, 400, "the body is empty: send a JSON Feature, an array or "
                           "FeatureCollection of them, NDJSON or CSV");
        return;
    }
    FILE *f = fmemopen((void *)req->body, req->body_len, "r");
    if (!f) {
        problem(resp, 500, "cannot read the body");
        return;
    }
    struct buf results;
    buf_init(&results);
    struct ingest_ctx c = {.b = &results};
    struct ingest_opts opts = {.format = body_format(req),
                               .name = "body",
                               .result = on_result,
                               .ctx = &c,
                               .log = a->log};
    struct ingest_stats st = {0};
    struct errbuf e;
    int rc = ingest_stream(a->s, a->ag, f, &opts, &st, &e);
    fclose(f);
    a->obs_accepted += (unsigned long long)st.accepted;
    a->obs_duplicates += (unsigned long long)st.duplicates;
    a->obs_rejected += (unsigned long long)st.rejected;
    a->findings_made += (unsigned long long)st.findings;
    struct buf note;
    buf_init(&note);
    bool cut = false;
    if (st.accepted && a->log) {
        struct errbuf ce;
        bool made;
        if (log_checkpoint(a->log, a->s, &note, &made, &ce))
            fprintf(stderr, "truce serve: no checkpoint signed: %s\n", ce.msg);
        else
            cut = true;
    }
    if (c.rc) {
        oom(resp);
    } else if (!rc && c.first_malformed && st.accepted + st.duplicates == 0) {
        /* Nothing stored and some record is not even JSON: the request is malformed. */
        char msg[sizeof c.malformed + 32];
        snprintf(msg, sizeof msg, "record %lld: %s", c.first_malformed, c.malformed);
        problem_results(resp, 400, msg, &results);
    } else if (rc) {
        /* The input could not be read to its end (a broken JSON document, a database error):
         * nothing of the unfinished batch is stored; the results say so record by record. */
        int status = (rc == ERR_PARSE || rc == ERR_TOOBIG || rc == ERR_INVAL) ? 400 : 500;
        problem_results(resp, status, e.msg, &results);
    } else {
        resp->status = st.rejected == 0 && st.accepted + st.duplicates == st.records ? 200
                       : st.accepted + st.duplicates == 0                         ? 422
                                                                                  : 207;
        if (st.records == 0)
            resp->status = 422;
        int brc = buf_printf(&resp->body,
                             "{\"records\":%lld,\"accepted\":%lld,\"duplicates\":%lld,"
                             "\"rejected\":%lld,\"findings\":%lld,\"log_size\":%lld",
                             st.records, st.accepted, st.duplicates, st.rejected, st.findings,
                             (long long)store_log_committed(a->s));
        if (!brc && cut) {
            brc = buf_printf(&resp->body, ",\"checkpoint\":");
            if (!brc)
                brc = buf_json_str(&resp->body, note.p ? note.p : "");
        }
        if (!brc)
            brc = buf_printf(&resp->body, ",\"results\":[%s]}\n", results.p ? results.p : "");
        if (brc)
            oom(resp);
    }
    buf_reset(&note);
    buf_reset(&results);
}

static void h_checkpoint(struct api *a, const struct http_request *req,
                         const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    struct store_checkpoint cp = {0};
    struct errbuf e;
    int rc = store_checkpoint_last(a->s, &cp, &e);
    if (rc == ERR_NOTFOUND) {
        problem(resp, 404, "no checkpoint has been signed yet");
        return;
    }
    if (rc) {
        problem(resp, 500, e.msg);
        return;
    }
    resp->content_type = "text/plain; charset=utf-8";
    if (buf_append(&resp->body, cp.note, strlen(cp.note)))
        oom(resp);
    free(cp.note);
}

/* ---- life cycle ---- */

struct api *api_new(struct store *s, const struct store_agreements *ag, struct truce_log *log)
{
    struct api *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->s = s;
    a->ag = ag;
    a->log = log;
    a->map_cache_log = -1;
    return a;
}

void api_free(struct api *a)
{
    free(a->web_dir);
    buf_reset(&a->map_cache);
    free(a);
}

void api_http_app(struct api *a, struct http_app *app)
{
    app->body_limit = on_body_limit;
    app->handle = on_request;
    app->completed = on_completed;
    app->ctx = a;
}
