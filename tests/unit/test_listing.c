/* test_listing.c: paged listings (store_obs_page, store_findings_page) and the query parameter
 * parsers of the API, on the minsk-2015 example plus 2,000 generated located detections:
 * following pages gives every record once in (end time, id) order, bbox / time / kind filters
 * give exactly what a scan of the whole store gives (bboxes through both plans), the query plans
 * use the indexes, and the parsers accept and refuse what docs/api.md says. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"
#include "ingest/ingest.h"
#include "store/store.h"
#include "t.h"

#define N_GENERATED 2000
#define MAX_RECORDS 4096

static char dir[64];
static struct store *st;
static struct store_agreements ag;

/* Every stored observation as the plain listing gives it: id, end time, lon, lat, kind. */
struct rec {
    long long id;
    int64_t t;
    double lon, lat;
    char kind[16];
};
static struct rec all[MAX_RECORDS];
static size_t n_all;

static int collect_all(void *ctx, const char *json)
{
    (void)ctx;
    json_t *o = json_loads(json, 0, NULL);
    if (!o || n_all == MAX_RECORDS)
        return -1;
    struct rec *r = &all[n_all++];
    r->id = json_integer_value(json_object_get(o, "id"));
    r->lon = json_real_value(json_object_get(o, "lon"));
    r->lat = json_real_value(json_object_get(o, "lat"));
    snprintf(r->kind, sizeof r->kind, "%s", json_string_value(json_object_get(o, "kind")));
    struct errbuf e;
    if (time_parse(json_string_value(json_object_get(o, "time_end")), NULL, &r->t, &e))
        r->t = TIME_NONE;
    json_decref(o);
    return 0;
}

struct got {
    long long ids[MAX_RECORDS];
    size_t n;
    int64_t last_t, last_id;
    bool out_of_order;
};

static int collect_page(void *ctx, const struct store_item *it)
{
    struct got *g = ctx;
    if (g->n && (it->t_ms < g->last_t || (it->t_ms == g->last_t && it->id <= g->last_id)))
        g->out_of_order = true;
    if (g->n < MAX_RECORDS)
        g->ids[g->n++] = it->id;
    g->last_t = it->t_ms;
    g->last_id = it->id;
    return 0;
}

/* Follows pages of `limit` from p to the end into g; returns the number of pages. */
static int follow(struct store_page p, long long limit, bool findings, struct got *g)
{
    memset(g, 0, sizeof *g);
    p.f.limit = limit;
    struct errbuf e;
    int pages = 0;
    for (;;) {
        size_t before = g->n;
        int rc = findings ? store_findings_page(st, &p, collect_page, g, &e)
                          : store_obs_page(st, &p, collect_page, g, &e);
        CHECK_INT(rc, 0);
        if (rc || g->n == before)
            break;
        pages++;
        p.has_after = true;
        p.after_t_ms = g->last_t;
        p.after_id = g->last_id;
        if (pages > MAX_RECORDS)
            break;
    }
    return pages;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The ids of `all` that keep(r) selects, sorted, against g's ids sorted. */
static void check_same(struct got *g, bool (*keep)(const struct rec *r, const void *arg),
                       const void *arg, const char *what)
{
    static long long want[MAX_RECORDS];
    size_t n = 0;
    for (size_t i = 0; i < n_all; i++)
        if (keep(&all[i], arg))
            want[n++] = all[i].id;
    qsort(g->ids, g->n, sizeof g->ids[0], cmp_ll);
    CHECK_INT(g->n, n);
    CHECK(!g->out_of_order);
    size_t diff = 0;
    for (size_t i = 0; i < n && i < g->n; i++)
        diff += want[i] != g->ids[i];
    if (diff)
        T_FAIL_("%s: %zu ids differ", what, diff);
}

static bool keep_any(const struct rec *r, const void *arg)
{
    (void)r;
    (void)arg;
    return true;
}

static bool keep_bbox(const struct rec *r, const void *arg)
{
    const struct geo_bbox *b = arg;
    return r->lon >= b->min_lon && r->lon <= b->max_lon && r->lat >= b->min_lat &&
           r->lat <= b->max_lat;
}

static bool keep_bbox_detection(const struct rec *r, const void *arg)
{
    return keep_bbox(r, arg) && !strcmp(r->kind, "detection");
}

struct window_kind {
    int64_t from, to;
    const char *kind;
};

static bool keep_window_kind(const struct rec *r, const void *arg)
{
    const struct window_kind *w = arg;
    return r->t >= w->from && r->t < w->to && (!w->kind || !strcmp(r->kind, w->kind));
}

static void test_pages_give_every_observation_once_in_order(void)
{
    struct store_page p;
    store_page_init(&p);
    struct got g;
    static const long long limits[] = {1, 7, 100, 100000};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        int pages = follow(p, limits[i], false, &g);
        CHECK_INT(pages, (n_all + (size_t)limits[i] - 1) / (size_t)limits[i]);
        check_same(&g, keep_any, NULL, "all pages");
    }
}

static void test_bbox_small_and_large_match_a_scan(void)
{
    /* boxes around Avdiivka, around the generated detections, a point, and far away; each
     * cell by cell and through the time index */
    static const struct geo_bbox boxes[] = {
        {37.5, 47.5, 38.5, 48.5}, {37.0, 47.0, 39.0, 49.0}, {38.0, 48.0, 38.0, 48.0},
        {0, 0, 1, 1}};
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++)
        for (int plan = 0; plan <= 3; plan++) {
            /* cells; the time plan; the time plan on a budget it keeps to; and on one it spends
             * at once, then the cells */
            static const char *const names[] = {"bbox", "bbox (time plan)",
                                                "bbox (time plan, budget)",
                                                "bbox (budget spent, cells)"};
            struct store_page p;
            store_page_init(&p);
            p.has_bbox = true;
            p.bbox = boxes[i];
            p.cells_max = plan == 1 ? -1 : plan >= 2 ? 1 : 0;
            p.time_budget = plan == 3 ? 1 : 0;
            struct got g;
            follow(p, 50, false, &g);
            check_same(&g, keep_bbox, &boxes[i], names[plan]);
            p.f.kind = "detection";
            follow(p, 30, false, &g);
            check_same(&g, keep_bbox_detection, &boxes[i], "bbox and kind");
        }
    /* findings in a bbox: cell by cell (pages of 3: the kept keys are replaced as later cells
     * give earlier ones) as through the time index, each once, in order */
    static struct got by_cells, by_time;
    size_t total = 0;
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        struct store_page p;
        store_page_init(&p);
        p.has_bbox = true;
        p.bbox = boxes[i];
        follow(p, 3, true, &by_cells);
        p.cells_max = -1;
        follow(p, 3, true, &by_time);
        CHECK(!by_cells.out_of_order);
        CHECK_INT(by_cells.n, by_time.n);
        qsort(by_cells.ids, by_cells.n, sizeof by_cells.ids[0], cmp_ll);
        qsort(by_time.ids, by_time.n, sizeof by_time.ids[0], cmp_ll);
        for (size_t k = 0; k < by_cells.n && k < by_time.n; k++)
            CHECK_INT(by_cells.ids[k], by_time.ids[k]);
        for (size_t k = 1; k < by_cells.n; k++)
            CHECK(by_cells.ids[k] != by_cells.ids[k - 1]);
        total += by_cells.n;
    }
    CHECK(total > 10);
}

static void test_time_and_kind_filters_match_a_scan(void)
{
    struct errbuf e;
    struct window_kind w = {0, 0, NULL};
    CHECK_INT(time_parse("2016-10-10T00:00:00Z", NULL, &w.from, &e), 0);
    CHECK_INT(time_parse("2016-10-11T00:00:00Z", NULL, &w.to, &e), 0);
    static const char *const kinds[] = {NULL, "fire", "detection", "sighting"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        w.kind = kinds[i];
        struct store_page p;
        store_page_init(&p);
        p.f.from_ms = w.from;
        p.f.to_ms = w.to;
        p.f.kind = w.kind;
        struct got g;
        follow(p, 3, false, &g);
        check_same(&g, keep_window_kind, &w, kinds[i] ? kinds[i] : "window");
    }
}

static int count_json(void *ctx, const char *json)
{
    (void)json;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_get_one_and_findings_pages(void)
{
    struct store_page p;
    store_page_init(&p);
    p.id = all[3].id;
    p.f.limit = 1;
    struct got g;
    memset(&g, 0, sizeof g);
    struct errbuf e;
    CHECK_INT(store_obs_page(st, &p, collect_page, &g, &e), 0);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.ids[0], all[3].id);
    p.id = 999999;
    memset(&g, 0, sizeof g);
    CHECK_INT(store_obs_page(st, &p, collect_page, &g, &e), 0);
    CHECK_INT(g.n, 0);
    /* findings: each once, in order, through pages of 40, as many as the plain listing has */
    size_t n_findings = 0;
    struct store_filter f;
    store_filter_init(&f);
    CHECK_INT(store_findings_list(st, &f, count_json, &n_findings, &e), 0);
    CHECK(n_findings > 21);
    store_page_init(&p);
    follow(p, 40, true, &g);
    CHECK_INT(g.n, n_findings);
    CHECK(!g.out_of_order);
    qsort(g.ids, g.n, sizeof g.ids[0], cmp_ll);
    for (size_t i = 1; i < g.n; i++)
        CHECK(g.ids[i] != g.ids[i - 1]);
}

static void check_plan_of(const struct store_page *p, bool findings, const char *want)
{
    struct buf plan;
    buf_init(&plan);
    struct errbuf e;
    CHECK_INT(store_page_plan(st, p, findings, &plan, &e), 0);
    CHECK_CONTAINS(plan.p, want);
    buf_reset(&plan);
}

static void check_plan(const struct store_page *p, const char *want)
{
    check_plan_of(p, false, want);
}

static void test_plans_use_the_indexes(void)
{
    struct store_page p;
    store_page_init(&p);
    p.f.limit = 100;
    check_plan(&p, "USING COVERING INDEX observations_time");
    p.f.kind = "sighting";
    check_plan(&p, "USING COVERING INDEX observations_time");
    store_page_init(&p);
    p.f.limit = 100;
    p.has_bbox = true;
    p.bbox = (struct geo_bbox){37.5, 47.5, 38.5, 48.5}; /* 11 x 11 cells: cell by cell */
    check_plan(&p, "cells of 0.1 degree: 121");
    check_plan(&p, "USING COVERING INDEX observations_cell (<expr>=? AND t_end_ms<?)");
    check_plan_of(&p, true, "USING COVERING INDEX observations_cell (<expr>=? AND t_end_ms<?)");
    p.bbox = (struct geo_bbox){36, 46, 39, 49}; /* more than STORE_PAGE_CELLS_MAX cells */
    check_plan(&p, "time index on a budget, then cells of 0.1 degree: 961");
    check_plan(&p, "USING COVERING INDEX observations_time");
    p.bbox = (struct geo_bbox){-100, -50, 100, 50}; /* more than STORE_PAGE_CELLS_FALLBACK */
    check_plan(&p, "SCAN o USING COVERING INDEX observations_time");
    p.bbox = (struct geo_bbox){37.5, 47.5, 38.5, 48.5};
    p.cells_max = 100; /* fewer cells than this bbox's: the time index */
    check_plan(&p, "USING COVERING INDEX observations_time");
    store_page_init(&p);
    p.f.limit = 100;
    p.f.party = "af";
    check_plan_of(&p, true, "findings_t_end");
    check_plan(&p, "USING COVERING INDEX observations_time");
}

static void test_bbox_parser(void)
{
    struct geo_bbox b;
    struct errbuf e;
    CHECK_INT(api_parse_bbox("37.5,47.5,38.5,48.5", &b, &e), 0);
    CHECK_NEAR(b.min_lon, 37.5, 0);
    CHECK_NEAR(b.max_lat, 48.5, 0);
    CHECK_INT(api_parse_bbox("37.5,47.5,-10,38.5,48.5,200", &b, &e), 0);
    CHECK_NEAR(b.max_lon, 38.5, 0);
    CHECK_NEAR(b.max_lat, 48.5, 0);
    CHECK_INT(api_parse_bbox("1,2,3", &b, &e), ERR_PARSE);
    CHECK_CONTAINS(e.msg, "3 numbers");
    CHECK_INT(api_parse_bbox("38,48,37,49", &b, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "antimeridian");
    CHECK_INT(api_parse_bbox("48,37,49,200", &b, &e), ERR_INVAL);
    CHECK_INT(api_parse_bbox("a,b,c,d", &b, &e), ERR_PARSE);
    CHECK_INT(api_parse_bbox("1,2,3,4,", &b, &e), ERR_PARSE);
    CHECK_INT(api_parse_bbox("nan,2,3,4", &b, &e), ERR_PARSE);
}

static void test_datetime_parser(void)
{
    int64_t from, to, t;
    struct errbuf e;
    CHECK_INT(time_parse("2016-10-10T09:00:00Z", NULL, &t, &e), 0);
    CHECK_INT(api_parse_datetime("2016-10-10T09:00:00Z", "UTC", &from, &to, &e), 0);
    CHECK_INT(from, t);
    CHECK_INT(to, t + 1);
    CHECK_INT(api_parse_datetime("../2016-10-10T09:00:00Z", "UTC", &from, &to, &e), 0);
    CHECK(from == TIME_NONE);
    CHECK_INT(to, t + 1);
    CHECK_INT(api_parse_datetime("2016-10-10T09:00:00Z/", "UTC", &from, &to, &e), 0);
    CHECK_INT(from, t);
    CHECK(to == TIME_NONE);
    CHECK_INT(api_parse_datetime("2016-10-10T12:00:00+03:00/2016-10-10T09:00:00Z", "UTC", &from,
                                 &to, &e),
              0);
    CHECK_INT(from, t);
    CHECK_INT(to, t + 1);
    CHECK(api_parse_datetime("2016-10-11/2016-10-10", "UTC", &from, &to, &e) != 0);
    CHECK_CONTAINS(e.msg, "ends before it starts");
    CHECK(api_parse_datetime("yesterday", "UTC", &from, &to, &e) != 0);
    CHECK(api_parse_datetime("a/b/c", "UTC", &from, &to, &e) != 0);
    CHECK(api_parse_datetime("..", "UTC", &from, &to, &e) != 0);
}

static void test_cursor_parser(void)
{
    int64_t t, id;
    struct errbuf e;
    char c[API_CURSOR_BYTES];
    api_format_cursor(1476093600000LL, 17, c, sizeof c);
    CHECK_INT(api_parse_cursor(c, &t, &id, &e), 0);
    CHECK_INT(t, 1476093600000LL);
    CHECK_INT(id, 17);
    api_format_cursor(-5, 1, c, sizeof c);
    CHECK_INT(api_parse_cursor(c, &t, &id, &e), 0);
    CHECK_INT(t, -5);
    CHECK_INT(api_parse_cursor("12", &t, &id, &e), ERR_PARSE);
    CHECK_INT(api_parse_cursor("1.0", &t, &id, &e), ERR_PARSE);
    CHECK_INT(api_parse_cursor("1.-2", &t, &id, &e), ERR_PARSE);
    CHECK_INT(api_parse_cursor("1.2x", &t, &id, &e), ERR_PARSE);
    CHECK_INT(api_parse_cursor("99999999999999999999.1", &t, &id, &e), ERR_PARSE);
    CHECK_INT(api_parse_cursor("", &t, &id, &e), ERR_PARSE);
}

/* 2,000 located detections in 37.2..38.8 E 47.2..48.8 N over 2016-10-12 (fixed seed). */
/* Detections placed exactly on the edges of the 0.1-degree cells (37.1..37.5 E, 47.3..47.7 N,
 * decimal degrees that are no exact doubles) and boxes whose edges are those same lines: cell by
 * cell gives every record the time index gives. Runs last: it adds records. */
static void test_bbox_on_cell_edges(void)
{
    struct buf b;
    buf_init(&b);
    int n = 0;
    for (int i = 0; i <= 4; i++)
        for (int j = 0; j <= 4; j++, n++)
            CHECK_INT(buf_printf(&b,
                                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                                 "\"coordinates\":[37.%d,47.%d]},\"properties\":{\"kind\":"
                                 "\"detection\",\"client_id\":\"edge-%d\",\"time\":"
                                 "\"2016-10-13T%02d:00:00Z\",\"means\":\"acoustic\","
                                 "\"accuracy_m\":100,\"events\":[{\"type\":\"impact\","
                                 "\"count\":1}]}}\n",
                                 1 + i, 3 + j, n, n % 24),
                      0);
    FILE *f = fmemopen(b.p, b.len, "r");
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = "edges"};
    struct ingest_stats s = {0};
    struct errbuf e;
    CHECK_INT(ingest_stream(st, &ag, f, &o, &s, &e), 0);
    CHECK_INT(s.accepted, n);
    fclose(f);
    buf_reset(&b);
    static const struct geo_bbox boxes[] = {
        {37.1, 47.3, 37.5, 47.7}, {37.2, 47.4, 37.2, 47.4}, {37.3, 47.3, 37.4, 47.6},
        {37.15, 47.35, 37.3, 47.5}, {37.0, 47.2, 37.1, 47.3}};
    static struct got by_cells, by_time;
    size_t total = 0;
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        struct store_page p;
        store_page_init(&p);
        p.has_bbox = true;
        p.bbox = boxes[i];
        p.f.kind = "detection";
        p.f.from_ms = 1476316800000LL; /* 2016-10-13: the edge records only */
        follow(p, 4, false, &by_cells);
        p.cells_max = -1;
        follow(p, 4, false, &by_time);
        CHECK(!by_cells.out_of_order);
        CHECK_INT(by_cells.n, by_time.n);
        qsort(by_cells.ids, by_cells.n, sizeof by_cells.ids[0], cmp_ll);
        qsort(by_time.ids, by_time.n, sizeof by_time.ids[0], cmp_ll);
        for (size_t k = 0; k < by_cells.n && k < by_time.n; k++)
            CHECK_INT(by_cells.ids[k], by_time.ids[k]);
        total += by_cells.n;
    }
    /* the whole grid, one point, a 2 x 4 block, a 2 x 2 block within, the grid's corner */
    CHECK_INT(total, 25 + 1 + 8 + 4 + 1);
}

static int add_generated(void)
{
    struct buf b;
    buf_init(&b);
    unsigned long long x = 12345;
    int rc = 0;
    for (int i = 0; i < N_GENERATED && !rc; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double lon = 37.2 + (double)(x >> 40) / (double)(1ULL << 24) * 1.6;
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double lat = 47.2 + (double)(x >> 40) / (double)(1ULL << 24) * 1.6;
        rc = buf_printf(&b,
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                        "[%.6f,%.6f]},\"properties\":{\"kind\":\"detection\",\"client_id\":"
                        "\"gen-%d\",\"time\":\"2016-10-12T%02d:%02d:00Z\",\"means\":\"acoustic\","
                        "\"accuracy_m\":100,\"events\":[{\"type\":\"impact\",\"count\":1}]}}\n",
                        lon, lat, i, i / 60 % 24, i % 60);
    }
    FILE *f = rc ? NULL : fmemopen(b.p, b.len, "r");
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = "generated"};
    struct ingest_stats s = {0};
    struct errbuf e;
    if (f) {
        rc = ingest_stream(st, &ag, f, &o, &s, &e);
        fclose(f);
    }
    buf_reset(&b);
    return rc || s.accepted != N_GENERATED ? -1 : 0;
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-listing-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    FILE *f = fopen("examples/minsk-2015/observations.ndjson", "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = "example"};
    struct ingest_stats s;
    struct store_filter all_f;
    store_filter_init(&all_f);
    if (!f || ingest_stream(st, &ag, f, &o, &s, &e) || add_generated() ||
        store_obs_list(st, &all_f, collect_all, NULL, &e)) {
        fprintf(stderr, "setup: ingest: %s\n", e.msg);
        return 1;
    }
    fclose(f);
    static const struct t_case tests[] = {
        T(test_pages_give_every_observation_once_in_order),
        T(test_bbox_small_and_large_match_a_scan),
        T(test_time_and_kind_filters_match_a_scan),
        T(test_get_one_and_findings_pages),
        T(test_plans_use_the_indexes),
        T(test_bbox_parser),
        T(test_datetime_parser),
        T(test_cursor_parser),
        T(test_bbox_on_cell_edges),
    };
    int rc = T_RUN(tests);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
