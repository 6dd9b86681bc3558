/* api_web.c: what the dashboard and the public page need from truce serve: the dashboard's
 * static files (GET/HEAD, a fixed set of content types, no path outside the web directory),
 * the agreement's geography as GeoJSON, an observation's inclusion proof with the signed
 * checkpoint it is proved against, and the public views (published findings, the reports of
 * closed periods without their annex of observations). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"
#include "ledger/ledger.h"
#include "note/note.h"
#include "report/report.h"
#include "review/review.h"

#define API_PUBLIC_REPORTS_MAX 366  /* newest report dates listed by /api/v1/public/reports */
#define API_PUBLIC_FINDINGS_MAX 10000 /* published findings listed at most */
#define API_PUBLIC_STATUS "published" /* the finding status the public may see */

/* ---- static files ---- */

static const struct {
    const char *ext, *type;
} CONTENT_TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

/* The content type for path's extension, or NULL: files of other types are not served. */
static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof CONTENT_TYPES / sizeof CONTENT_TYPES[0]; i++)
        if (!strcmp(dot, CONTENT_TYPES[i].ext))
            return CONTENT_TYPES[i].type;
    return NULL;
}

/* A request path is served only when every segment is made of [A-Za-z0-9_.-], does not start
 * with a dot (no "..", no hidden files) and there is no empty segment. */
bool api_web_path_safe(const char *p)
{
    if (*p != '/' || strlen(p) >= API_STATIC_PATH_MAX)
        return false;
    for (const char *s = p + 1; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || s[0] == '.')
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.'))
                return false;
        }
        s += n;
        if (*s == '/') {
            s++;
            if (!*s)
                return false; /* trailing slash */
        }
    }
    return true;
}

void api_set_verifier_key(struct api *a, const char *vkey)
{
    str_copy(a->vkey, sizeof a->vkey, vkey ? vkey : "");
}

int api_set_web_dir(struct api *a, const char *dir, struct errbuf *e)
{
    free(a->web_dir);
    a->web_dir = NULL;
    if (!dir)
        return 0;
    char real[PATH_MAX], index[PATH_MAX + 16];
    if (!realpath(dir, real))
        return errf(e, ERR_NOTFOUND, "web directory %s: %s", dir, strerror(errno));
    snprintf(index, sizeof index, "%s/index.html", real);
    if (access(index, R_OK))
        return errf(e, ERR_NOTFOUND, "web directory %s has no index.html (build it: make web)",
                    dir);
    a->web_dir = strdup(real);
    return a->web_dir ? 0 : errf(e, ERR_NOMEM, "out of memory");
}

bool api_static_serve(struct api *a, const struct http_request *req, struct http_response *resp)
{
    if (!a->web_dir || (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) ||
        !strncmp(req->path, "/api/", 5))
        return false;
    const char *path = req->path;
    if (!strcmp(path, "/"))
        path = "/index.html";
    else if (!strcmp(path, "/public"))
        path = "/public.html";
    const char *type = content_type(path);
    if (!type || !api_web_path_safe(path))
        return false;
    char full[PATH_MAX + API_STATIC_PATH_MAX], real[PATH_MAX];
    snprintf(full, sizeof full, "%s%s", a->web_dir, path);
    /* A symbolic link out of the web directory is not followed out of it. */
    size_t nd = strlen(a->web_dir);
    if (!realpath(full, real) || strncmp(real, a->web_dir, nd) || real[nd] != '/')
        return false;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    if ((unsigned long long)st.st_size > API_STATIC_MAX_BYTES) {
        close(fd);
        api_problem(resp, 500, "static file over API_STATIC_MAX_BYTES");
        return true;
    }
    buf_reset(&resp->body);
    size_t want = (size_t)st.st_size;
    char chunk[65536];
    while (want) {
        ssize_t r = read(fd, chunk, want < sizeof chunk ? want : sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (buf_append(&resp->body, chunk, (size_t)r)) {
            close(fd);
            api_oom(resp);
            return true;
        }
        want -= (size_t)r;
    }
    close(fd);
    if (want) {
        api_problem(resp, 500, "static file changed while being read");
        return true;
    }
    resp->status = 200;
    resp->content_type = type;
    return true;
}

/* ---- geography ---- */

static int ring_json(struct buf *b, const struct geo_point *pts, size_t n)
{
    int rc = buf_append(b, "[", 1);
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_printf(b, "%s[%.6f,%.6f]", i ? "," : "", pts[i].lon_deg, pts[i].lat_deg);
    return rc || buf_append(b, "]", 1);
}

/* An area as a MultiPolygon, each ring its own polygon (truce's areas have no holes). */
static int area_json(struct buf *b, const struct geo_area *ar)
{
    int rc = buf_printf(b, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (size_t i = 0; i < geo_area_ring_count(ar) && !rc; i++) {
        size_t n;
        const struct geo_point *pts = geo_area_ring(ar, i, &n);
        rc = buf_printf(b, "%s[", i ? "," : "") || ring_json(b, pts, n) ||
             buf_append(b, "]", 1);
    }
    return rc || buf_append(b, "]}", 2);
}

static int feature_open(struct buf *b, bool *first, const char *layer, const char *id,
                        const char *name, const char *kind, const char *party)
{
    int rc = buf_printf(b, "%s{\"type\":\"Feature\",\"properties\":{\"layer\":\"%s\"",
                        *first ? "" : ",\n", layer);
    *first = false;
    const char *keys[] = {"id", "name", "kind", "party"};
    const char *vals[] = {id, name, kind, party};
    for (int i = 0; i < 4 && !rc; i++)
        if (vals[i])
            rc = buf_printf(b, ",\"%s\":", keys[i]) || buf_json_str(b, vals[i]);
    return rc || buf_printf(b, "},\"geometry\":");
}

void api_h_geography(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    (void)req;
    (void)p;
    const struct agreement *g = a->ag->v[a->ag->n - 1];
    struct buf *b = &resp->body;
    bool first = true;
    int rc = buf_printf(b, "{\"type\":\"FeatureCollection\",\"agreement\":") ||
             buf_json_str(b, g->id) ||
             buf_printf(b, ",\"version\":%d,\"illustrative\":%s,\"parties\":[", g->version,
                        g->illustrative ? "true" : "false");
    for (size_t i = 0; i < g->n_parties && !rc; i++)
        rc = buf_printf(b, "%s{\"id\":", i ? "," : "") || buf_json_str(b, g->parties[i].id) ||
             buf_printf(b, ",\"name\":") || buf_json_str(b, g->parties[i].name) ||
             buf_printf(b, ",\"side\":") || buf_json_str(b, g->parties[i].side) ||
             buf_append(b, "}", 1);
    rc = rc || buf_printf(b, "],\"features\":[");
    for (size_t i = 0; i < g->n_regions && !rc; i++)
        rc = feature_open(b, &first, "region", g->regions[i].id, g->regions[i].name, NULL,
                          NULL) ||
             area_json(b, g->regions[i].area) || buf_append(b, "}", 1);
    for (size_t i = 0; i < g->n_control && !rc; i++)
        rc = feature_open(b, &first, "control", NULL, NULL, NULL, g->control[i].party) ||
             area_json(b, g->control[i].area) || buf_append(b, "}", 1);
    for (size_t i = 0; i < g->n_zones && !rc; i++) {
        const struct agr_zone *z = &g->zones[i];
        for (size_t k = 0; k < z->n_include && !rc; k++)
            rc = feature_open(b, &first, "zone", z->id, z->name, z->kind, NULL) ||
                 area_json(b, z->include[k]) || buf_append(b, "}", 1);
    }
    for (size_t i = 0; i < g->n_lines && !rc; i++) {
        const struct agr_line *l = &g->lines[i];
        rc = feature_open(b, &first, "line", l->id, l->name, NULL, NULL) ||
             buf_printf(b, "{\"type\":\"LineString\",\"coordinates\":") ||
             ring_json(b, geo_line_points(l->line), geo_line_vertex_count(l->line)) ||
             buf_append(b, "}}", 2);
    }
    if (rc || buf_append(b, "]}\n", 3)) {
        api_oom(resp);
        return;
    }
    resp->content_type = "application/geo+json";
}

/* ---- inclusion proof of an observation ---- */

struct leaf_ctx {
    int64_t want;
    struct buf *leaf;
    bool found;
};

static int on_leaf(void *ctx, const struct store_log_record *r)
{
    struct leaf_ctx *c = ctx;
    if (r->log_index != c->want)
        return 0;
    c->found = true;
    return log_leaf_bytes(r, c->leaf) ? ERR_NOMEM : 1; /* 1: stop, found */
}

void api_h_proof_observation(struct api *a, const struct http_request *req,
                             const struct api_params *p, struct http_response *resp)
{
    (void)req;
    long long id;
    struct errbuf e;
    int rc;
    if (!a->log) {
        api_problem(resp, 404, "this server has no transparency log");
        return;
    }
    if (str_to_ll(p->v[0], &id)) {
        /* not a number: the observation's client id (an incident's evidence names those) */
        int64_t oid;
        if ((rc = store_obs_id_by_client(a->s, p->v[0], &oid, &e))) {
            api_problem(resp, rc == ERR_NOTFOUND ? 404 : 500, e.msg);
            return;
        }
        id = oid;
    } else if (id < 1) {
        api_problem(resp, 400, "the observation id must be a positive number or a client id");
        return;
    }
    int64_t index;
    rc = store_obs_log_index(a->s, id, &index, &e);
    if (rc) {
        api_problem(resp, rc == ERR_NOTFOUND ? 404 : 500, e.msg);
        return;
    }
    struct store_checkpoint cp = {0};
    if ((rc = store_checkpoint_last(a->s, &cp, &e))) {
        api_problem(resp, rc == ERR_NOTFOUND ? 409 : 500,
                    rc == ERR_NOTFOUND ? "no checkpoint has been signed yet" : e.msg);
        return;
    }
    if (index >= cp.size) {
        free(cp.note);
        api_problem(resp, 409, "the observation is not yet covered by a signed checkpoint");
        return;
    }
    struct buf leaf;
    buf_init(&leaf);
    struct leaf_ctx lc = {index, &leaf, false};
    rc = store_log_range(a->s, index, 1, on_leaf, &lc, &e);
    struct ledger_hash proof[LEDGER_MAX_PROOF], lh;
    size_t np = 0;
    if ((rc != 0 && rc != 1) || !lc.found) {
        api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : "the leaf's record is missing");
        goto out;
    }
    if (ledger_inclusion_proof(log_tree(a->log), (uint64_t)index, (uint64_t)cp.size, proof, &np,
                               &e) ||
        ledger_leaf(log_tree(a->log), (uint64_t)index, &lh, &e)) {
        api_problem(resp, 500, e.msg);
        goto out;
    }
    size_t b64n = sodium_base64_ENCODED_LEN(leaf.len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64n);
    if (!b64) {
        api_oom(resp);
        goto out;
    }
    sodium_bin2base64(b64, b64n, (const unsigned char *)leaf.p, leaf.len,
                      sodium_base64_VARIANT_ORIGINAL);
    char hex[LEDGER_HEX_SIZE];
    ledger_hash_hex(&lh, hex);
    struct buf *b = &resp->body;
    rc = buf_printf(b, "{\"observation\":%lld,\"leaf_index\":%lld,\"tree_size\":%lld,"
                       "\"leaf_hash\":\"%s\",\"leaf\":\"%s\",\"proof\":[",
                    id, (long long)index, (long long)cp.size, hex, b64);
    free(b64);
    for (size_t i = 0; i < np && !rc; i++) {
        ledger_hash_hex(&proof[i], hex);
        rc = buf_printf(b, "%s\"%s\"", i ? "," : "", hex);
    }
    rc = rc || buf_printf(b, "],\"checkpoint\":") || buf_json_str(b, cp.note) ||
         buf_printf(b, ",\"verifier_key\":") || buf_json_str(b, a->vkey) ||
         buf_append(b, "}\n", 2);
    if (rc)
        api_oom(resp);
out:
    buf_reset(&leaf);
    free(cp.note);
}

/* ---- public views ---- */

struct dates_ctx {
    const struct agreement *g;
    int64_t now;
    char (*v)[11];
    size_t n, cap;
};

/* The report date whose period holds t: periods end at the cut-off, so an event after it
 * belongs to the next day's report. */
static void report_date_of(const struct agreement *g, int64_t t, char out[11])
{
    char buf[40];
    time_format_local(t + (int64_t)(1440 - g->cutoff_minutes) * 60000, g->time_zone, buf,
                      sizeof buf);
    memcpy(out, buf, 10);
    out[10] = 0;
}

static int on_event_date(void *ctx, const struct store_event_row *r)
{
    struct dates_ctx *c = ctx;
    char d[11];
    report_date_of(c->g, r->t_end_ms, d);
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->v[i], d))
            return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    memcpy(c->v[c->n++], d, 11);
    return 0;
}

static int cmp_date_desc(const void *x, const void *y)
{
    return strcmp((const char *)y, (const char *)x);
}

/* Whether the report of date (YYYY-MM-DD) covers a closed period: only those are public. */
static bool period_closed(const struct agreement *g, const char *date)
{
    int y, m, d;
    int64_t from, to;
    return sscanf(date, "%4d-%2d-%2d", &y, &m, &d) == 3 &&
           !agr_report_window(g, y, m, d, &from, &to) && to <= time_now_ms();
}

void api_h_public_reports(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    const struct agreement *g = a->ag->v[a->ag->n - 1];
    struct dates_ctx c = {.g = g, .now = time_now_ms()};
    struct errbuf e;
    int rc = store_report_events(a->s, a->ag->v[0]->effective_ms, c.now,
                                 on_event_date, &c, &e);
    if (rc) {
        free(c.v);
        api_problem(resp, 500, e.msg);
        return;
    }
    qsort(c.v, c.n, sizeof *c.v, cmp_date_desc);
    struct buf *b = &resp->body;
    rc = buf_printf(b, "{\"agreement\":") || buf_json_str(b, g->id) ||
         buf_printf(b, ",\"title\":") || buf_json_str(b, g->title) ||
         buf_printf(b, ",\"illustrative\":%s,\"reports\":[", g->illustrative ? "true" : "false");
    size_t shown = 0;
    for (size_t i = 0; i < c.n && shown < API_PUBLIC_REPORTS_MAX && !rc; i++)
        if (period_closed(g, c.v[i]))
            rc = buf_printf(b, "%s{\"date\":\"%s\",\"html\":\"/api/v1/public/reports/%s\"}",
                            shown++ ? "," : "", c.v[i], c.v[i]);
    free(c.v);
    if (rc || buf_append(b, "]}\n", 3))
        api_oom(resp);
}

struct pub_ctx {
    struct buf *b;
    size_t n;
    int rc;
};

static int on_public_finding(void *ctx, const struct store_finding_row *r)
{
    struct pub_ctx *c = ctx;
    if (!r->status || strcmp(r->status, API_PUBLIC_STATUS) || c->n >= API_PUBLIC_FINDINGS_MAX)
        return 0;
    char t[40];
    time_format_utc(r->t_end_ms, t, sizeof t);
    struct buf *b = c->b;
    int rc = buf_printf(b, "%s{\"id\":%lld,\"time\":\"%s\",\"clause\":", c->n++ ? ",\n" : "",
                        (long long)r->id, t) ||
             buf_json_str(b, r->clause) || buf_printf(b, ",\"rule_kind\":") ||
             buf_json_str(b, r->rule_kind) || buf_printf(b, ",\"result\":") ||
             buf_json_str(b, r->result) || buf_printf(b, ",\"party\":") ||
             buf_json_str(b, r->party) || buf_printf(b, ",\"severity\":") ||
             buf_json_str(b, r->severity ? r->severity : "") || buf_printf(b, ",\"region\":") ||
             buf_json_str(b, r->region ? r->region : "") || buf_printf(b, ",\"reasons\":") ||
             buf_json_str(b, r->reasons ? r->reasons : "") || buf_append(b, "}", 1);
    if (rc)
        c->rc = rc;
    return 0;
}

void api_h_public_findings(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    struct store_filter f;
    store_filter_init(&f);
    struct pub_ctx c = {&resp->body, 0, 0};
    struct errbuf e;
    int rc = buf_printf(&resp->body, "{\"status\":\"%s\",\"findings\":[", API_PUBLIC_STATUS);
    if (!rc && (rc = store_findings_rows(a->s, &f, on_public_finding, &c, &e))) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (rc || c.rc || buf_append(&resp->body, "]}\n", 3))
        api_oom(resp);
}

void api_h_public_report(struct api *a, const struct http_request *req,
                         const struct api_params *p, struct http_response *resp)
{
    (void)req;
    const char *date = p->v[0];
    int y, m, d;
    char extra;
    if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
        m < 1 || m > 12 || d < 1 || d > 31) {
        api_problem(resp, 400, "the date must be YYYY-MM-DD");
        return;
    }
    const struct agreement *g = a->ag->v[a->ag->n - 1];
    int64_t noon;
    if (time_local_to_utc(y, m, d, 12, 0, g->time_zone, &noon) == 0)
        g = store_agreement_at(a->ag, noon);
    if (!period_closed(g, date)) {
        api_problem(resp, 404, "the report of a period that has not ended is not public");
        return;
    }
    struct errbuf e;
    int rc = report_daily(a->s, g, y, m, d, REPORT_HTML_PUBLIC, &resp->body, &e);
    if (rc) {
        api_problem(resp, rc == ERR_INVAL ? 400 : 500, e.msg);
        return;
    }
    resp->content_type = "text/html; charset=utf-8";
}

/* ---- the map's points, compact ---- */

#define API_MAP_DICT_MAX 65536 /* distinct strings in one column of the map's points */

struct dict {
    char **v;
    size_t n, cap;
};

/* The index of s in d, adding it; -1 when d is full. NULL and "" are the same entry. */
static long dict_index(struct dict *d, const char *s)
{
    if (!s)
        s = "";
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i], s))
            return (long)i;
    if (d->n == API_MAP_DICT_MAX)
        return -1;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n] = xmalloc(strlen(s) + 1);
    memcpy(d->v[d->n], s, strlen(s) + 1);
    return (long)d->n++;
}

static void dict_free(struct dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i]);
    free(d->v);
}

/* The map's points as columns: id, end time, lon, lat, a size in metres (the observation's
 * radius of uncertainty, the incident's ellipse), a count, and string columns written as indices
 * into per-column dictionaries. Both map routes fill one of these and write it the same way. */
#define MAP_MAX_COLS 5

struct map_row {
    int64_t id, t;
    double lon, lat, size_m;
    long long count;
    long col[MAP_MAX_COLS];
};

struct map_table {
    const char *size_name;          /* the JSON name of the size column */
    const char *const *col_names;   /* n_cols names of the string columns */
    int n_cols;
    struct dict d[MAP_MAX_COLS];
    struct map_row *rows;
    size_t n, cap;
    bool full; /* a dictionary reached API_MAP_DICT_MAX */
};

/* A new row of t (its string columns still to be set with map_set). */
static struct map_row *map_row_add(struct map_table *t, int64_t id, int64_t time_ms, double lon,
                                   double lat, double size_m, long long count)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->rows = xrealloc(t->rows, t->cap * sizeof *t->rows);
    }
    struct map_row *m = &t->rows[t->n++];
    *m = (struct map_row){.id = id, .t = time_ms, .lon = lon, .lat = lat, .size_m = size_m,
                          .count = count};
    return m;
}

static void map_set(struct map_table *t, struct map_row *m, int k, const char *value)
{
    if ((m->col[k] = dict_index(&t->d[k], value)) < 0)
        t->full = true;
}

/* The clauses of a record's findings ("a,b", or NULL) as "|a|b|" (the dashboard looks for "|a|"
 * in it) into set. */
static void clause_set(const char *clauses, char *set, size_t n)
{
    snprintf(set, n, "|%s%s", clauses ? clauses : "", clauses ? "|" : "");
    for (char *q = set; *q; q++)
        if (*q == ',')
            *q = '|';
}

/* Appends v (after a comma unless it is the first, i == 0) without printf: these arrays are
 * 100,000 numbers long. */
static int put_ll(struct buf *b, size_t i, long long v)
{
    char d[24];
    return (i && buf_append(b, ",", 1)) || (v < 0 && buf_append(b, "-", 1)) ||
           buf_append(b, d, str_utoa(d, v < 0 ? 0ull - (unsigned long long)v
                                              : (unsigned long long)v));
}

#define PUT_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

/* Writes v in decimal at q (room for 21 bytes); returns the end. */
static char *fmt_ll(char *q, long long v)
{
    if (v < 0) {
        *q++ = '-';
        return q + str_utoa(q, 0ull - (unsigned long long)v);
    }
    return q + str_utoa(q, (unsigned long long)v);
}

/* Writes degrees v with 5 decimals at q (room for 24 bytes) as put_deg5; returns the end. */
static char *fmt_deg5(char *q, double v)
{
    if (!isfinite(v) || fabs(v) > 1e12) {
        memcpy(q, "null", 4);
        return q + 4;
    }
    long long u = llround(fabs(v) * 100000.0);
    char d[32], *r = d + sizeof d;
    for (int k = 0; k < 5; k++, u /= 10)
        *--r = (char)('0' + u % 10);
    *--r = '.';
    do
        *--r = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (v < 0)
        *q++ = '-';
    memcpy(q, r, (size_t)(d + sizeof d - r));
    return q + (d + sizeof d - r);
}

#define CPY_LIT(q, s) (memcpy((q), (s), sizeof(s) - 1), (q) + sizeof(s) - 1)

/* Appends degrees v with 5 decimals (about a metre) like "%.5f" but without printf, which took
 * a third of the map's answer for 200,000 coordinates; null when not finite. */
static int put_deg5(struct buf *b, size_t i, double v)
{
    char d[32];
    return (i && buf_append(b, ",", 1)) || buf_append(b, d, (size_t)(fmt_deg5(d, v) - d));
}

/* Writes t as {"n":N,"log":LOG,"id":[...],"t":[...],"lon":[...],"lat":[...],SIZE:[...],
 * "count":[...],COLUMN:[indices]...,"dict":{COLUMN:[strings]...}}; LOG is the committed log size
 * it was read at. */
static int map_table_json(const struct map_table *t, int64_t log, struct buf *b)
{
    int w = buf_printf(b, "{\"n\":%zu,\"log\":%lld,\"id\":[", t->n, (long long)log);
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_ll(b, i, t->rows[i].id);
    w = w || buf_printf(b, "],\"t\":[");
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_ll(b, i, t->rows[i].t);
    w = w || buf_printf(b, "],\"lon\":[");
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_deg5(b, i, t->rows[i].lon);
    w = w || buf_printf(b, "],\"lat\":[");
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_deg5(b, i, t->rows[i].lat);
    w = w || buf_printf(b, "],\"%s\":[", t->size_name);
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_ll(b, i, llround(t->rows[i].size_m));
    w = w || buf_printf(b, "],\"count\":[");
    for (size_t i = 0; i < t->n && !w; i++)
        w = put_ll(b, i, t->rows[i].count);
    for (int k = 0; k < t->n_cols && !w; k++) {
        w = buf_printf(b, "],\"%s\":[", t->col_names[k]);
        for (size_t i = 0; i < t->n && !w; i++)
            w = put_ll(b, i, t->rows[i].col[k]);
    }
    w = w || buf_printf(b, "],\"dict\":{");
    for (int k = 0; k < t->n_cols && !w; k++) {
        w = buf_printf(b, "%s\"%s\":[", k ? "," : "", t->col_names[k]);
        for (size_t i = 0; i < t->d[k].n && !w; i++)
            w = buf_printf(b, "%s", i ? "," : "") || buf_json_str(b, t->d[k].v[i]);
        w = w || buf_append(b, "]", 1);
    }
    return w || buf_append(b, "}}\n", 3);
}


/* Writes t as the GeoJSON FeatureCollection the dashboard hands to its map's worker as is:
 * {"type":"FeatureCollection","log":LOG,"features":[...]}, each feature a Point with the
 * properties id, type and party (indices into the dictionaries of t's columns answer made at the
 * same LOG), count (1 for 0) and r (the size column, metres). */
static int map_table_geojson(const struct map_table *t, int type_col, int party_col, int64_t log,
                             struct buf *b)
{
    int w = buf_printf(b, "{\"type\":\"FeatureCollection\",\"log\":%lld,\"features\":[",
                       (long long)log);
    for (size_t i = 0; i < t->n && !w; i++) {
        /* one feature is at most about 260 bytes: written here, appended at once */
        const struct map_row *m = &t->rows[i];
        char f[320], *q = f;
        if (i)
            *q++ = ',';
        q = CPY_LIT(q, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
        q = fmt_deg5(q, m->lon);
        *q++ = ',';
        q = fmt_deg5(q, m->lat);
        q = CPY_LIT(q, "]},\"properties\":{\"id\":");
        q = fmt_ll(q, m->id);
        q = CPY_LIT(q, ",\"type\":");
        q = fmt_ll(q, m->col[type_col]);
        q = CPY_LIT(q, ",\"party\":");
        q = fmt_ll(q, m->col[party_col]);
        q = CPY_LIT(q, ",\"count\":");
        q = fmt_ll(q, m->count ? m->count : 1);
        q = CPY_LIT(q, ",\"r\":");
        double r = m->size_m;
        q = fmt_ll(q, isfinite(r) && fabs(r) < 1e15 ? llround(r) : 0);
        q = CPY_LIT(q, "}}");
        w = buf_append(b, f, (size_t)(q - f));
    }
    return w || PUT_LIT(b, "]}\n");
}

static void map_table_free(struct map_table *t)
{
    for (int k = 0; k < t->n_cols; k++)
        dict_free(&t->d[k]);
    free(t->rows);
}

/* Answers from cache when it was made at the current committed log size (every change to what
 * the maps show grows the log). Returns true when it did. */
static bool map_from_cache(struct api *a, const struct buf *cache, int64_t cache_log,
                           struct http_response *resp)
{
    if (cache_log != store_log_committed(a->s) || !cache->len)
        return false;
    if (buf_append(&resp->body, cache->p, cache->len))
        api_oom(resp);
    return true;
}

/* Answers with t (filled by rc's query; e its error), keeping a copy in cache when cache is not
 * NULL. Frees t. */
static void map_answer(struct api *a, struct map_table *t, int rc, const struct errbuf *e,
                       struct buf *cache, int64_t *cache_log, struct http_response *resp)
{
    int64_t log_now = store_log_committed(a->s);
    if (rc) {
        api_problem(resp, 500, e->msg);
    } else if (t->full) {
        api_problem(resp, 500, "more distinct values than API_MAP_DICT_MAX in a column");
    } else if (map_table_json(t, log_now, &resp->body)) {
        api_oom(resp);
    } else if (cache) {
        buf_reset(cache);
        *cache_log = buf_append(cache, resp->body.p, resp->body.len) ? -1 : log_now;
    }
    map_table_free(t);
}

/* ---- GET /api/v1/map/observations ---- */

enum { COL_TYPE, COL_REGION, COL_PARTY, COL_CLAUSES, N_OBS_COLS };
static const char *const OBS_COL_NAMES[N_OBS_COLS] = {"type", "region", "party", "clauses"};

static int on_map_point(void *ctx, const struct store_map_row *r)
{
    struct map_table *t = ctx;
    struct map_row *m = map_row_add(t, r->id, r->t_end_ms, r->lon, r->lat, r->radius_m, r->count);
    char set[1024];
    clause_set(r->clauses, set, sizeof set);
    map_set(t, m, COL_TYPE, r->event_type ? r->event_type : r->kind);
    map_set(t, m, COL_REGION, r->region);
    map_set(t, m, COL_PARTY,
            r->finding_party ? r->finding_party
            : r->party && *r->party ? r->party
                                    : "undetermined");
    map_set(t, m, COL_CLAUSES, set);
    return 0;
}

void api_h_map_observations(struct api *a, const struct http_request *req,
                            const struct api_params *p, struct http_response *resp)
{
    (void)req;
    (void)p;
    if (map_from_cache(a, &a->map_cache, a->map_cache_log, resp))
        return;
    struct map_table t = {.size_name = "radius_m", .col_names = OBS_COL_NAMES,
                          .n_cols = N_OBS_COLS};
    struct errbuf e;
    int rc = store_map_points(a->s, on_map_point, &t, &e);
    map_answer(a, &t, rc, &e, &a->map_cache, &a->map_cache_log, resp);
}

/* ---- GET /api/v1/map/incidents: the same for the fused incidents ---- */

enum { ICOL_TYPE, ICOL_REGION, ICOL_PARTY, ICOL_GRADE, ICOL_CLAUSES, N_INC_COLS };
static const char *const INC_COL_NAMES[N_INC_COLS] = {"type", "region", "party", "grade",
                                                      "clauses"};
_Static_assert(N_INC_COLS <= MAP_MAX_COLS && N_OBS_COLS <= MAP_MAX_COLS, "map columns");

/* The event type with the largest reconciled count in counts (AGR_EVENT_TYPES order; an
 * uncountable one, -1, below any count), "incident" when none is recorded. */
static const char *dominant_of_counts(const char *counts)
{
    const char *best = "incident";
    long long n = -2;
    const char *q = counts ? counts : "";
    for (int k = 0; k < AGR_N_EVENT_TYPES && *q; k++) {
        char *end;
        long long v = strtoll(q, &end, 10);
        if (end == q)
            break;
        if (v != 0 && (v < 0 ? -1 : v) > n) {
            n = v < 0 ? -1 : v;
            best = AGR_EVENT_TYPES[k];
        }
        q = *end == ',' ? end + 1 : end;
    }
    return best;
}

static int on_map_incident(void *ctx, const struct store_map_incident_row *r)
{
    struct map_table *t = ctx;
    struct map_row *m =
        map_row_add(t, r->id, r->t_end_ms, r->lon, r->lat, r->semi_major_m, r->count);
    char set[1024];
    clause_set(r->clauses, set, sizeof set);
    map_set(t, m, ICOL_TYPE, dominant_of_counts(r->counts));
    map_set(t, m, ICOL_REGION, r->region);
    map_set(t, m, ICOL_PARTY, r->party ? r->party : "undetermined");
    map_set(t, m, ICOL_GRADE, r->grade ? r->grade : "undetermined");
    map_set(t, m, ICOL_CLAUSES, set);
    return 0;
}

void api_web_free(struct api *a)
{
    if (a->map_inc_table)
        map_table_free(a->map_inc_table);
    free(a->map_inc_table);
    a->map_inc_table = NULL;
}

/* Both answers of the incidents' map for all parties come from one read: the dashboard asks for
 * the columns (answered at once, the read kept in t), then its map's worker for the GeoJSON
 * (written from the kept read, which is then let go). Takes t. */
static void map_incidents_cache(struct api *a, struct map_table *t, int64_t log, bool geojson,
                                const struct buf *answer)
{
    api_web_free(a);
    buf_reset(&a->map_inc_cache);
    buf_reset(&a->map_inc_geo_cache);
    a->map_inc_cache_log = a->map_inc_geo_cache_log = -1;
    struct buf *mine = geojson ? &a->map_inc_geo_cache : &a->map_inc_cache;
    if (!buf_append(mine, answer->p, answer->len))
        *(geojson ? &a->map_inc_geo_cache_log : &a->map_inc_cache_log) = log;
    if (geojson) {
        if (!map_table_json(t, log, &a->map_inc_cache))
            a->map_inc_cache_log = log;
        map_table_free(t);
    } else if ((a->map_inc_table = malloc(sizeof *t))) {
        *a->map_inc_table = *t;
        a->map_inc_table_log = log;
    } else {
        map_table_free(t);
    }
}

void api_h_map_incidents(struct api *a, const struct http_request *req,
                         const struct api_params *p, struct http_response *resp)
{
    (void)p;
    const char *party = NULL;
    if (api_scope_party(a, &party, resp))
        return;
    const char *format = http_query(req, "format"), *want_log = http_query(req, "log");
    bool geojson = format && !strcmp(format, "geojson");
    if (format && !geojson) {
        api_problem(resp, 400, "format: only geojson (the map's features), or none (columns)");
        return;
    }
    int64_t log_now = store_log_committed(a->s);
    if (want_log) {
        /* the GeoJSON's indices mean the dictionaries of the columns answer made at that size */
        char *end;
        errno = 0;
        long long v = strtoll(want_log, &end, 10);
        if (errno || end == want_log || *end || v < 0) {
            api_problem(resp, 400, "log: not a log size (a non-negative integer)");
            return;
        }
        if (v != log_now) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "log: the columns were read at log size %lld, the log is now %lld: ask "
                     "for both again",
                     v, (long long)log_now);
            api_problem(resp, 409, msg);
            return;
        }
    }
    /* the answer for all parties is kept; a party user's own share is made afresh */
    if (!party && map_from_cache(a, geojson ? &a->map_inc_geo_cache : &a->map_inc_cache,
                                 geojson ? a->map_inc_geo_cache_log : a->map_inc_cache_log, resp))
        return;
    if (!party && geojson && a->map_inc_table && a->map_inc_table_log == log_now) {
        /* the read the columns were answered from */
        if (map_table_geojson(a->map_inc_table, ICOL_TYPE, ICOL_PARTY, log_now, &resp->body))
            api_oom(resp);
        else if (!buf_append(&a->map_inc_geo_cache, resp->body.p, resp->body.len))
            a->map_inc_geo_cache_log = log_now;
        api_web_free(a);
        return;
    }
    struct map_table t = {.size_name = "semi_major_m", .col_names = INC_COL_NAMES,
                          .n_cols = N_INC_COLS};
    struct errbuf e;
    int rc = store_map_incidents(a->s, party, on_map_incident, &t, &e);
    if (rc)
        api_problem(resp, 500, e.msg);
    else if (t.full)
        api_problem(resp, 500, "more distinct values than API_MAP_DICT_MAX in a column");
    else if (geojson ? map_table_geojson(&t, ICOL_TYPE, ICOL_PARTY, log_now, &resp->body)
                     : map_table_json(&t, log_now, &resp->body))
        api_oom(resp);
    if (!rc && !t.full && !party && resp->status != 500) {
        map_incidents_cache(a, &t, log_now, geojson, &resp->body);
        return;
    }
    map_table_free(&t);
}

/* ---- the review of findings ---- */

/* Who is asking: the user the request's token named (the route admits no public). */
static bool api_caller(struct api *a, const struct http_request *req, const char **actor,
                       const char **role, const char **party)
{
    (void)req;
    *actor = *role = *party = NULL;
    if (!a->who.authenticated)
        return false;
    *actor = a->who.name;
    *role = auth_role_name(a->who.role);
    *party = a->who.party[0] ? a->who.party : NULL;
    return true;
}

static int parse_finding_id(const struct api_params *p, long long *id, struct http_response *resp)
{
    if (str_to_ll(p->v[0], id) || *id < 1) {
        api_problem(resp, 400, "the finding id must be a positive number");
        return -1;
    }
    return 0;
}

void api_h_finding_review(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    long long id;
    if (parse_finding_id(p, &id, resp))
        return;
    const char *actor, *role, *party;
    if (!api_caller(a, req, &actor, &role, &party)) {
        api_problem(resp, 401, "reviewing a finding needs an authenticated user with a role "
                               "(analyst, publisher or party)");
        return;
    }
    if (!a->log) {
        api_problem(resp, 409, "this server has no transparency log to record the step in");
        return;
    }
    json_error_t je;
    json_t *body = json_loadb(req->body, req->body_len, 0, &je);
    const char *action = json_string_value(json_object_get(body, "action"));
    const char *text = json_string_value(json_object_get(body, "reason"));
    if (!text)
        text = json_string_value(json_object_get(body, "statement"));
    if (!body || !action) {
        json_decref(body);
        api_problem(resp, 400, "the body must be {\"action\": \"confirm|dismiss|dispute|publish\","
                               " \"reason\": \"...\"}");
        return;
    }
    struct review_request r = {.finding_id = id, .action = action, .actor = actor, .role = role,
                               .party = party, .text = text};
    int64_t rid;
    char to[16];
    struct errbuf e;
    int rc = review_apply(a->log, a->s, &r, &rid, to, sizeof to, &e);
    json_decref(body);
    if (rc) {
        api_problem(resp, rc == ERR_NOTFOUND ? 404 : rc == ERR_CONFLICT ? 409
                          : rc == ERR_INVAL ? (strstr(e.msg, "role") ? 403 : 400) : 500,
                    e.msg);
        return;
    }
    if (buf_printf(&resp->body, "{\"finding\":%lld,\"review\":%lld,\"status\":\"%s\"}\n", id,
                   (long long)rid, to))
        api_oom(resp);
}

struct reviews_ctx {
    struct buf *b;
    size_t n;
    int rc;
};

static int on_review(void *ctx, const struct store_review *r)
{
    struct reviews_ctx *c = ctx;
    char t[40];
    time_format_utc(r->time_ms, t, sizeof t);
    struct buf *b = c->b;
    int rc = buf_printf(b, "%s{\"id\":%lld,\"time\":\"%s\",\"action\":", c->n++ ? ",\n" : "",
                        (long long)r->id, t) ||
             buf_json_str(b, r->action) || buf_printf(b, ",\"from\":") ||
             buf_json_str(b, r->status_from) || buf_printf(b, ",\"to\":") ||
             buf_json_str(b, r->status_to) || buf_printf(b, ",\"actor\":") ||
             buf_json_str(b, r->actor) || buf_printf(b, ",\"role\":") ||
             buf_json_str(b, r->role) || buf_printf(b, ",\"party\":") ||
             (r->party ? buf_json_str(b, r->party) : buf_append(b, "null", 4)) ||
             buf_printf(b, ",\"text\":") || buf_json_str(b, r->text) ||
             buf_printf(b, ",\"log_index\":%lld}", (long long)r->log_index);
    if (rc)
        c->rc = rc;
    return 0;
}

void api_h_finding_reviews(struct api *a, const struct http_request *req,
                           const struct api_params *p, struct http_response *resp)
{
    (void)req;
    long long id;
    if (parse_finding_id(p, &id, resp))
        return;
    char status[16], party[32];
    struct errbuf e;
    int rc = store_finding_get(a->s, id, status, party, &e);
    if (rc) {
        api_problem(resp, rc == ERR_NOTFOUND ? 404 : 500, e.msg);
        return;
    }
    struct reviews_ctx c = {&resp->body, 0, 0};
    rc = buf_printf(&resp->body, "{\"finding\":%lld,\"status\":\"%s\",\"reviews\":[", id, status);
    if (!rc && (rc = store_finding_reviews(a->s, id, on_review, &c, &e))) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (rc || c.rc || buf_append(&resp->body, "]}\n", 3))
        api_oom(resp);
}
