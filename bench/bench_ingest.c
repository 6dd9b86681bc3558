/* bench_ingest.c: end-to-end intake speed of the durable pipeline against a bare SQLite insert.
 *
 * 1. Generates N observations (default 1,000,000; argv[1] or $TRUCE_BENCH_N to change) with a
 *    fixed seed as NDJSON into a temporary file: about 70% fire reports from observers at real
 *    gazetteer places near the line of contact (compass bearings, distance ranges, 1-3 events),
 *    10% located detections, 10% weapon sightings of mixed classes and parties, 5% presence,
 *    2.5% allegations and 2.5% UAV flights, spread over 30 days from 2016-10-01.
 * 2. Pipeline: in a forked child (so its peak RSS is the pipeline's alone), a fresh store
 *    (store_open create) with the minsk-2015 agreement (agr_load_file + store_agreement_add),
 *    store_agreements_load, then ingest_stream over the file with the default batch (WAL,
 *    synchronous=FULL as the store sets them). Timed: ingest_stream. Run three times: bare;
 *    with the transparency log; with the log and the fusion engine, as `truce ingest` runs it
 *    (the figure a user sees; the targets below are the bare pipeline's).
 * 3. Baseline: every row the pipeline stored (observations, obs_events, obs_zones, findings)
 *    is read back into memory (untimed), then inserted into a fresh SQLite database with the
 *    store's own schema and indexes (read from its sqlite_master) and settings (page size, WAL,
 *    synchronous=FULL, cache, checkpoint interval), observation by observation with its child
 *    rows, 10000 observations per transaction. Timed: the insert loop with its commits.
 * 4. jansson alone: every NDJSON line parsed and freed, to show the ceiling that the two
 *    mandated libraries (jansson and SQLite) put on any pipeline: 1 / (1/json + 1/bare).
 *
 * Prints one summary line and exits non-zero when the pipeline is under 100000 obs/s, under 40%
 * of the bare insert rate, or rejected any record. Set TRUCE_BENCH_KEEP=1 to keep the temporary
 * directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "splitmix.h"
#include "agreement/agreement.h"
#include "fusion/fusion.h"
#include "ingest/ingest.h"
#include "log/log.h"
#include "observation/observation.h"
#include "store/store.h"

#define DEFAULT_N 1000000L
#define TARGET_OBS_PER_S 100000.0
#define TARGET_RATIO 0.40
#define BASELINE_BATCH 10000
#define AGREEMENT_REL "examples/minsk-2015/agreement.json"

/* ---- helpers ---- */

static uint64_t rng_state = 0x5EED1E55C0FFEE01ULL;

static uint64_t rnd64(void) { return splitmix64(&rng_state); }
static double rnd01(void) { return (double)(rnd64() >> 11) * 0x1.0p-53; }
static int rndi(int lo, int hi) { return lo + (int)(rnd64() % (uint64_t)(hi - lo + 1)); }
static double rndr(double lo, double hi) { return lo + (hi - lo) * rnd01(); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_ingest: %s: %s\n", what, msg);
    exit(2);
}

static struct agreement *load_agreement(void)
{
    struct agreement *a;
    struct errbuf e;
    if (!agr_load_file(AGREEMENT_REL, &a, &e))
        return a;
    char exe[4096], path[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char dir[4096];
        path_dirname(dir, sizeof dir, exe);
        snprintf(path, sizeof path, "%s/../../%s", dir, AGREEMENT_REL);
        if (!agr_load_file(path, &a, &e))
            return a;
    }
    die("loading the agreement (run from the repository root)", e.msg);
    return NULL;
}

/* ---- generation ---- */

struct gen {
    const struct agreement *a;
    int *near; /* gazetteer places within 40 km of the line of contact, inside a region */
    size_t n_near;
};

/* Kyiv local time as monitors write it: +03:00 until 30 Oct 2016 01:00 UTC, then +02:00. */
static void fmt_local(int64_t ms, char *out, size_t n)
{
    const int64_t dst_end = 1477789200000LL; /* 2016-10-30T01:00:00Z */
    int off_h = ms < dst_end ? 3 : 2;
    time_t t = (time_t)(ms / 1000 + off_h * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s+0%d:00", d, off_h);
}

static const char *pick(const char *const *v, size_t n) { return v[rnd64() % n]; }
#define PICK(arr) pick(arr, sizeof arr / sizeof arr[0])

static const char *const COMPASS[16] = {"N",  "NNE", "NE", "ENE", "E",  "ESE", "SE", "SSE",
                                        "S",  "SSW", "SW", "WSW", "W",  "WNW", "NW", "NNW"};
static const char *const PARTIES[] = {"ua", "af", "ua", "af", "unknown"};
static const char *const REMARKS[] = {
    "heard from the checkpoint", "assessed as outgoing from the north-east",
    "positioned at the observation post; windows rattled",
    "the SMM could not assess the direction of fire", "reported by the camera operator",
    "\\\"heavy\\\" fire according to residents"}; /* JSON-escaped as written */

/* Weapons of a sighting: category, model (or NULL), calibre (0: none). */
struct weapon_def {
    const char *category, *model;
    int calibre;
};
static const struct weapon_def WEAPONS[] = {
    {"artillery", "2S1 Gvozdika", 122}, {"howitzer", "D-30", 122},
    {"artillery", "2A65 Msta-B", 152},  {"mlrs", "BM-21 Grad", 122},
    {"tank", "T-72", 0},                {"tank", "T-64", 0},
    {"mortar", NULL, 120},              {"mortar", "2B14 Podnos", 82},
    {"anti_tank_gun", "MT-12 Rapira", 100}, {"recoilless_gun", "SPG-9", 73},
    {"apc", "BMP-1", 0},                {"tactical_missile", "9K79 Tochka", 0},
};

static void put_count(FILE *f, const char *key)
{
    int r = rndi(0, 99);
    if (r < 70)
        fprintf(f, "\"%s\":%d", key, rndi(1, 60));
    else if (r < 85)
        fprintf(f, "\"%s\":\"about %d\"", key, rndi(2, 40) * 5);
    else if (r < 95)
        fprintf(f, "\"%s\":\"at least %d\"", key, rndi(2, 80));
    else
        fprintf(f, "\"%s\":\"uncountable\"", key);
}

static void put_event(FILE *f)
{
    /* undetermined 40, impact 10, outgoing 8, airburst 3, projectile 5, flare 4, flash 5,
     * burst 13, shot 12 */
    static const int cum[] = {40, 50, 58, 61, 66, 70, 75, 88, 100};
    int r = rndi(0, 99), t = 0;
    while (r >= cum[t])
        t++;
    fprintf(f, "{\"type\":\"%s\",", AGR_EVENT_TYPES[t]);
    put_count(f, "count");
    if (t >= 7 && rnd01() < 0.5)
        fprintf(f, ",\"weapon\":{\"category\":\"small_arms\"}");
    else if (t <= 3 && rnd01() < 0.2) {
        static const char *const W[] = {
            "{\"category\":\"mortar\",\"calibre_mm\":82}",
            "{\"category\":\"mortar\",\"calibre_mm\":120}",
            "{\"category\":\"artillery\",\"calibre_mm\":122}",
            "{\"category\":\"artillery\",\"calibre_mm\":152}",
            "{\"category\":\"mlrs\",\"model\":\"BM-21 Grad\"}"};
        fprintf(f, ",\"weapon\":%s", PICK(W));
    }
    fputc('}', f);
}

static struct geo_point near_point(const struct gen *g, double max_km)
{
    const struct agr_place *pl = &g->a->places[g->near[rnd64() % g->n_near]];
    return geo_direct(pl->pt, rndr(0, 360), rndr(0, max_km * 1000));
}

static void put_observer_place(FILE *f, const struct gen *g)
{
    const struct agr_place *pl = &g->a->places[g->near[rnd64() % g->n_near]];
    fprintf(f, "\"observer\":{\"place\":\"%s\"}", pl->name);
}

static void put_observer(FILE *f, const struct gen *g)
{
    if (rnd01() < 0.85) {
        put_observer_place(f, g);
    } else {
        struct geo_point p = near_point(g, 3);
        fprintf(f, "\"observer\":{\"name\":\"SMM camera\",\"coordinates\":[%.5f,%.5f]}",
                p.lon_deg, p.lat_deg);
    }
}

static void put_bearings_distance(FILE *f, int max_bearings)
{
    int nb = rndi(1, max_bearings);
    if (rnd01() < 0.2) {
        fprintf(f, "\"bearings\":[");
        for (int i = 0; i < nb; i++)
            fprintf(f, "%s%d", i ? "," : "", rndi(0, 359));
        fprintf(f, "]");
    } else {
        int c = rndi(0, 15);
        fprintf(f, "\"bearings\":[");
        for (int i = 0; i < nb; i++)
            fprintf(f, "%s\"%s\"", i ? "," : "", COMPASS[(c + i) % 16]);
        fprintf(f, "]");
    }
    int r = rndi(0, 9);
    if (r < 8) {
        int lo = rndi(0, 10);
        fprintf(f, ",\"distance_km\":[%d,%d]", lo, lo + rndi(1, 6));
    } else if (r < 9) {
        fprintf(f, ",\"distance_km\":%.1f", rndr(0.5, 8));
    } else {
        fprintf(f, ",\"distance_km\":\"unknown\"");
    }
}

static void put_time(FILE *f, int64_t start_ms, int64_t dur_ms)
{
    char a[48], b[48];
    fmt_local(start_ms, a, sizeof a);
    if (dur_ms <= 0) {
        fprintf(f, "\"time\":\"%s\"", a);
        return;
    }
    fmt_local(start_ms + dur_ms, b, sizeof b);
    fprintf(f, "\"time\":{\"start\":\"%s\",\"end\":\"%s\"}", a, b);
}

static void put_point(FILE *f, struct geo_point p)
{
    fprintf(f, "{\"type\":\"Point\",\"coordinates\":[%.5f,%.5f]}", p.lon_deg, p.lat_deg);
}

static void gen_record(FILE *f, const struct gen *g, long i, long n)
{
    const int64_t t0 = 1475280000000LL; /* 2016-10-01T00:00:00Z */
    int64_t start = t0 + (int64_t)((double)i * (30.0 * 86400000.0) / (double)n) +
                    (int64_t)rndi(0, 600) * 1000;
    int k = rndi(0, 999);
    fprintf(f, "{\"type\":\"Feature\",\"geometry\":");
    if (k < 700) { /* fire from an observer */
        fprintf(f, "null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, (int64_t)rndi(0, 300) * 60000);
        static const char *const M[] = {"patrol", "patrol", "patrol", "camera", "acoustic"};
        fprintf(f, ",\"means\":\"%s\",", PICK(M));
        if (rnd01() < 0.3)
            fprintf(f, "\"report\":\"SMM %ld\",", 1000 + i / 20000);
        put_observer(f, g);
        fputc(',', f);
        put_bearings_distance(f, 3);
        fprintf(f, ",\"events\":[");
        int ne = rndi(1, 3);
        for (int j = 0; j < ne; j++) {
            if (j)
                fputc(',', f);
            put_event(f);
        }
        fputc(']', f);
        if (rnd01() < 0.15) {
            int c = rndi(0, 15);
            fprintf(f, ",\"flight_direction\":{\"from\":\"%s\",\"to\":\"%s\"}", COMPASS[c],
                    COMPASS[(c + 8) % 16]);
        }
    } else if (k < 800) { /* located detection */
        struct geo_point p = near_point(g, 10);
        if (rnd01() < 0.9) {
            put_point(f, p);
        } else {
            double d = rndr(0.002, 0.02);
            fprintf(f, "{\"type\":\"Polygon\",\"coordinates\":[[[%.5f,%.5f],[%.5f,%.5f],"
                       "[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f]]]}",
                    p.lon_deg - d, p.lat_deg - d, p.lon_deg + d, p.lat_deg - d, p.lon_deg + d,
                    p.lat_deg + d, p.lon_deg - d, p.lat_deg + d, p.lon_deg - d, p.lat_deg - d);
        }
        fprintf(f, ",\"properties\":{\"kind\":\"detection\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, 0);
        static const char *const M[] = {"radar", "acoustic", "camera"};
        fprintf(f, ",\"means\":\"%s\"", PICK(M));
        fprintf(f, ",\"events\":[");
        int ne = rndi(1, 2);
        for (int j = 0; j < ne; j++) {
            if (j)
                fputc(',', f);
            put_event(f);
        }
        fputc(']', f);
    } else if (k < 900) { /* weapon sighting */
        const struct weapon_def *w = &WEAPONS[rnd64() % (sizeof WEAPONS / sizeof WEAPONS[0])];
        bool located = rnd01() < 0.85;
        if (located)
            put_point(f, near_point(g, 25));
        else
            fprintf(f, "null");
        fprintf(f, ",\"properties\":{\"kind\":\"sighting\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, 0);
        static const char *const M[] = {"uav", "patrol", "satellite", "uav"};
        fprintf(f, ",\"means\":\"%s\",", PICK(M));
        if (located) {
            fprintf(f, "\"accuracy_m\":%d,", rndi(20, 500));
        } else {
            put_observer_place(f, g);
            fputc(',', f);
            put_bearings_distance(f, 1);
            fputc(',', f);
        }
        if (rnd01() < 0.8)
            fprintf(f, "\"count\":%d", rndi(1, 12));
        else
            fprintf(f, "\"count\":\"about %d\"", rndi(2, 20));
        fprintf(f, ",\"weapon\":{\"category\":\"%s\"", w->category);
        if (w->model)
            fprintf(f, ",\"model\":\"%s\"", w->model);
        if (w->calibre)
            fprintf(f, ",\"calibre_mm\":%d", w->calibre);
        fprintf(f, "},\"party\":\"%s\"", PICK(PARTIES));
    } else if (k < 950) { /* presence */
        put_point(f, near_point(g, 8));
        fprintf(f, ",\"properties\":{\"kind\":\"presence\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, (int64_t)rndi(0, 60) * 60000);
        fprintf(f, ",\"means\":\"%s\",\"armed\":%s,\"count\":%d,\"party\":\"%s\"",
                rnd01() < 0.5 ? "patrol" : "uav", rnd01() < 0.6 ? "true" : "false",
                rndi(2, 40), PICK(PARTIES));
    } else if (k < 975) { /* allegation */
        bool ua = rnd01() < 0.5;
        fprintf(f, "null,\"properties\":{\"kind\":\"allegation\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, (int64_t)rndi(0, 600) * 60000);
        fprintf(f, ",\"party\":\"%s\",\"against\":\"%s\",\"report\":\"press statement\",",
                ua ? "ua" : "af", ua ? "af" : "ua");
        put_observer_place(f, g);
        fprintf(f, ",\"event_type\":\"impact\",\"count\":%d", rndi(1, 50));
    } else { /* UAV flight */
        fprintf(f, "null,\"properties\":{\"kind\":\"uav_flight\",\"client_id\":\"b-%ld\",", i);
        put_time(f, start, (int64_t)rndi(1, 30) * 60000);
        fprintf(f, ",\"means\":\"patrol\",\"party\":\"unknown\",");
        put_observer_place(f, g);
        fprintf(f, ",\"bearings\":\"%s\"", COMPASS[rndi(0, 15)]);
    }
    if (rnd01() < 0.3)
        fprintf(f, ",\"remarks\":\"%s\"", PICK(REMARKS));
    fprintf(f, "}}\n");
}

static void generate(const char *path, long n, const struct agreement *a)
{
    struct gen g = {.a = a};
    g.near = calloc(a->n_places, sizeof *g.near);
    int line = a->reference_line[0];
    for (size_t i = 0; i < a->n_places; i++) {
        struct geo_point p = a->places[i].pt;
        if (agr_region_at(a, p) < 0)
            continue;
        if (line >= 0 && fabs(geo_line_signed_distance_m(a->lines[line].line, p)) > 40000)
            continue;
        g.near[g.n_near++] = (int)i;
    }
    if (!g.n_near)
        die("generating", "no gazetteer place near the line of contact");
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, strerror(errno));
    static char iobuf[1 << 20];
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    for (long i = 0; i < n; i++)
        gen_record(f, &g, i, n);
    if (fclose(f))
        die(path, strerror(errno));
    free(g.near);
}

/* ---- the pipeline, in a child process ---- */

struct pipeline_result {
    int rc;
    double seconds;
    struct ingest_stats stats;
    long long leaves; /* the log's size after the run (with the log) */
    char msg[1024];
};

static void run_pipeline(const char *store_dir, const char *ndjson, bool with_log,
                         bool with_fusion, struct pipeline_result *out)
{
    memset(out, 0, sizeof *out);
    struct errbuf e;
    struct store *s = NULL;
    struct agreement *a = load_agreement();
    struct store_agreements list = {0};
    struct truce_log *log = NULL;
    if ((out->rc = store_open(store_dir, true, &s, &e)) ||
        (with_log && (out->rc = log_open(store_dir, s, &log, &e))) ||
        (out->rc = with_log ? log_add_agreement(log, s, a, &e) : store_agreement_add(s, a, &e)) ||
        (out->rc = store_agreements_load(s, &list, &e))) {
        snprintf(out->msg, sizeof out->msg, "%s", e.msg);
        log_close(log);
        store_close(s);
        agr_free(a);
        return;
    }
    agr_free(a);
    FILE *f = fopen(ndjson, "r");
    if (!f) {
        out->rc = ERR_IO;
        snprintf(out->msg, sizeof out->msg, "%s: %s", ndjson, strerror(errno));
        return;
    }
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = ndjson};
    o.log = log;
    /* as `truce ingest` runs it: the engine loaded from the (empty) store before the clock */
    struct fusion *fu = NULL;
    if (with_fusion && (out->rc = fusion_load(s, &list, &fu, &e)))
        snprintf(out->msg, sizeof out->msg, "%s", e.msg);
    o.fusion = fu;
    double t = now_s();
    if (!out->rc)
        out->rc = ingest_stream(s, &list, f, &o, &out->stats, &e);
    out->seconds = now_s() - t;
    if (out->rc)
        snprintf(out->msg, sizeof out->msg, "%s", e.msg);
    out->leaves = store_log_committed(s);
    fusion_free(fu);
    fclose(f);
    log_close(log);
    store_agreements_free(&list);
    store_close(s);
}

/* Runs the pipeline in a forked child, so that its ru_maxrss is the pipeline's own. */
static void fork_pipeline(const char *store_dir, const char *ndjson, bool with_log,
                          bool with_fusion, struct pipeline_result *pr, struct rusage *ru)
{
    int pfd[2];
    if (pipe(pfd))
        die("pipe", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        close(pfd[0]);
        struct pipeline_result r;
        run_pipeline(store_dir, ndjson, with_log, with_fusion, &r);
        ssize_t w = write(pfd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 3);
    }
    close(pfd[1]);
    ssize_t got = 0;
    while (got < (ssize_t)sizeof *pr) {
        ssize_t k = read(pfd[0], (char *)pr + got, sizeof *pr - (size_t)got);
        if (k <= 0)
            break;
        got += k;
    }
    close(pfd[0]);
    int status;
    if (wait4(pid, &status, 0, ru) < 0 || got != (ssize_t)sizeof *pr || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        die("pipeline", "the child process failed");
    if (pr->rc)
        die("pipeline", pr->msg);
}

/* ---- the baseline ---- */

/* Rows are packed into one buffer: per column a type byte (SQLITE_INTEGER, SQLITE_FLOAT,
 * SQLITE_TEXT, SQLITE_NULL) and its value (8 bytes, or a 4-byte length and the bytes). */
struct arena {
    unsigned char *p;
    size_t len, cap;
};

static void arena_put(struct arena *a, const void *d, size_t n)
{
    if (a->len + n > a->cap) {
        a->cap = a->cap ? a->cap * 2 : (64u << 20);
        while (a->len + n > a->cap)
            a->cap *= 2;
        a->p = realloc(a->p, a->cap);
        if (!a->p)
            die("baseline", "out of memory");
    }
    memcpy(a->p + a->len, d, n);
    a->len += n;
}

/* One stored table, read back whole: its rows in storage order, each with the observation id
 * it belongs to (so the baseline can interleave tables as the pipeline does). */
struct table_rows {
    const char *name;
    int n_cols;
    struct arena ar;
    size_t *off;
    int64_t *obs_id;
    long n;
};

static void load_table(sqlite3 *db, struct table_rows *t, const char *key, const char *order)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s, * FROM %s ORDER BY %s", key, t->name, order);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        die(t->name, sqlite3_errmsg(db));
    t->n_cols = sqlite3_column_count(q) - 1;
    size_t cap = 1 << 16;
    t->off = malloc(cap * sizeof *t->off);
    t->obs_id = malloc(cap * sizeof *t->obs_id);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if ((size_t)t->n == cap) {
            cap *= 2;
            t->off = realloc(t->off, cap * sizeof *t->off);
            t->obs_id = realloc(t->obs_id, cap * sizeof *t->obs_id);
        }
        t->obs_id[t->n] = sqlite3_column_int64(q, 0);
        t->off[t->n++] = t->ar.len;
        for (int c = 1; c <= t->n_cols; c++) {
            unsigned char ty = (unsigned char)sqlite3_column_type(q, c);
            arena_put(&t->ar, &ty, 1);
            if (ty == SQLITE_INTEGER) {
                int64_t v = sqlite3_column_int64(q, c);
                arena_put(&t->ar, &v, 8);
            } else if (ty == SQLITE_FLOAT) {
                double v = sqlite3_column_double(q, c);
                arena_put(&t->ar, &v, 8);
            } else if (ty != SQLITE_NULL) {
                const unsigned char *s = sqlite3_column_text(q, c);
                uint32_t l = (uint32_t)sqlite3_column_bytes(q, c);
                arena_put(&t->ar, &l, 4);
                arena_put(&t->ar, s, l);
            }
        }
    }
    sqlite3_finalize(q);
}

#define N_TABLES 4
static void load_rows(const char *db_path, struct table_rows *t, char **schema)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(db_path, sqlite3_errmsg(db));
    t[0].name = "observations";
    t[1].name = "obs_events";
    t[2].name = "obs_zones";
    t[3].name = "findings";
    load_table(db, &t[0], "id", "id");
    load_table(db, &t[1], "obs_id", "obs_id, seq");
    load_table(db, &t[2], "obs_id", "obs_id, zone");
    load_table(db, &t[3], "obs_id", "id");
    /* the store's own schema for these tables and their indexes, as SQLite kept it */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT group_concat(sql, '; ') FROM sqlite_master WHERE sql NOT NULL "
                           "AND tbl_name IN ('observations', 'obs_events', 'obs_zones', "
                           "'findings')",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        die(db_path, sqlite3_errmsg(db));
    *schema = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void sql_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg ? msg : sqlite3_errmsg(db));
}

static void insert_row(sqlite3 *db, sqlite3_stmt *st, const struct table_rows *t, long r)
{
    const unsigned char *p = t->ar.p + t->off[r];
    for (int c = 1; c <= t->n_cols; c++) {
        unsigned char type = *p++;
        if (type == SQLITE_INTEGER) {
            int64_t v;
            memcpy(&v, p, 8);
            p += 8;
            sqlite3_bind_int64(st, c, v);
        } else if (type == SQLITE_FLOAT) {
            double v;
            memcpy(&v, p, 8);
            p += 8;
            sqlite3_bind_double(st, c, v);
        } else if (type == SQLITE_NULL) {
            sqlite3_bind_null(st, c);
        } else {
            uint32_t len;
            memcpy(&len, p, 4);
            p += 4;
            sqlite3_bind_text(st, c, (const char *)p, (int)len, SQLITE_STATIC);
            p += len;
        }
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        die("baseline insert", sqlite3_errmsg(db));
    sqlite3_reset(st);
}

/* Inserts every row the pipeline stored (observations, events, zone relations, findings) into a
 * fresh database with the store's schema, indexes and settings, observation by observation in
 * the pipeline's order and with its batch size; returns the seconds taken. */
static double run_baseline(const char *db_path, const struct table_rows *t, const char *schema)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die(db_path, sqlite3_errmsg(db));
    sql_ok(db, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
               "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;");
    sql_ok(db, schema);
    sqlite3_stmt *st[N_TABLES];
    for (int k = 0; k < N_TABLES; k++) {
        char sql[1024];
        size_t l = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (", t[k].name);
        for (int c = 1; c <= t[k].n_cols; c++)
            l += (size_t)snprintf(sql + l, sizeof sql - l, "%s?%d", c > 1 ? "," : "", c);
        snprintf(sql + l, sizeof sql - l, ")");
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st[k], NULL) != SQLITE_OK)
            die("baseline insert", sqlite3_errmsg(db));
    }
    long next[N_TABLES] = {0};
    double tm = now_s();
    for (long r = 0; r < t[0].n; r++) {
        if (r % BASELINE_BATCH == 0)
            sql_ok(db, "BEGIN IMMEDIATE");
        insert_row(db, st[0], &t[0], r);
        int64_t id = t[0].obs_id[r];
        for (int k = 1; k < N_TABLES; k++)
            while (next[k] < t[k].n && t[k].obs_id[next[k]] == id)
                insert_row(db, st[k], &t[k], next[k]++);
        if (r % BASELINE_BATCH == BASELINE_BATCH - 1 || r == t[0].n - 1)
            sql_ok(db, "COMMIT");
    }
    double secs = now_s() - tm;
    for (int k = 0; k < N_TABLES; k++)
        sqlite3_finalize(st[k]);
    sqlite3_close(db);
    return secs;
}

/* The cost of jansson alone on the same records: every line parsed and freed, nothing else. */
static double json_parse_rate(const char *ndjson, long *n_out)
{
    struct errbuf e;
    char *text;
    size_t len;
    if (file_read(ndjson, (size_t)1 << 40, &text, &len, &e))
        die("reading the NDJSON", e.msg);
    long n = 0;
    double t = now_s();
    for (char *p = text; p < text + len;) {
        char *q = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = q ? (size_t)(q - p) : (size_t)(text + len - p);
        json_error_t je;
        json_t *j = json_loadb(p, l, JSON_REJECT_DUPLICATES, &je);
        if (!j)
            die("jansson", je.text);
        json_decref(j);
        n++;
        p += l + 1;
    }
    double secs = now_s() - t;
    free(text);
    *n_out = n;
    return (double)n / secs;
}

/* ---- main ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the temporary directory and everything in it. */
static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

int main(int argc, char **argv)
{
    long n = DEFAULT_N;
    const char *ns = argc > 1 ? argv[1] : getenv("TRUCE_BENCH_N");
    if (ns && (n = strtol(ns, NULL, 10)) <= 0)
        die("N", "must be a positive number of observations");

    const char *tmp = getenv("TMPDIR");
    char dir[4096], ndjson[4200], store_dir[4200], bare[4200], db_path[4300];
    snprintf(dir, sizeof dir, "%s/truce-bench-ingest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", strerror(errno));
    snprintf(ndjson, sizeof ndjson, "%s/observations.ndjson", dir);
    snprintf(store_dir, sizeof store_dir, "%s/store", dir);
    snprintf(bare, sizeof bare, "%s/bare.db", dir);
    snprintf(db_path, sizeof db_path, "%s/" STORE_DB_NAME, store_dir);

    struct agreement *a = load_agreement();
    double t = now_s();
    generate(ndjson, n, a);
    agr_free(a);
    struct stat sb;
    stat(ndjson, &sb);
    printf("generated %ld observations (%.1f MB NDJSON) in %.2f s\n", n,
           (double)sb.st_size / 1e6, now_s() - t);
    fflush(stdout);

    /* (a) the pipeline in a forked child: its ru_maxrss is the pipeline's own. The generated
     * file is flushed first so neither timed phase pays for another's writeback. */
    sync();
    struct pipeline_result pr;
    struct rusage ru;
    fork_pipeline(store_dir, ndjson, false, false, &pr, &ru);
    double obs_per_s = (double)pr.stats.records / pr.seconds;
    printf("pipeline: %lld records: %lld accepted, %lld duplicates, %lld rejected, %lld findings; "
           "peak RSS %.1f MB (ru_maxrss of the forked pipeline child: store open, agreement "
           "load, ingest)\n",
           pr.stats.records, pr.stats.accepted, pr.stats.duplicates, pr.stats.rejected,
           pr.stats.findings, (double)ru.ru_maxrss / 1024.0);
    fflush(stdout);

    /* (a') the same with the transparency log on (issue 3: the log must not stall ingest) */
    char store_log_dir[4300];
    snprintf(store_log_dir, sizeof store_log_dir, "%s/store-with-log", dir);
    sync();
    struct pipeline_result prl;
    struct rusage rul;
    fork_pipeline(store_log_dir, ndjson, true, false, &prl, &rul);
    double log_obs_per_s = (double)prl.stats.records / prl.seconds;
    printf("with the transparency log: %.0f obs/s (%.0f%% of the rate without it), %lld leaves "
           "synced before each commit; peak RSS %.1f MB\n",
           log_obs_per_s, 100.0 * log_obs_per_s / obs_per_s,
           prl.stats.accepted + prl.stats.findings + 1, (double)rul.ru_maxrss / 1024.0);
    fflush(stdout);

    /* (a'') as `truce ingest` runs it: the log and the fusion engine (each fire report linked
     * into its incident; each changed incident stored and logged once per batch) */
    char store_fu_dir[4300];
    snprintf(store_fu_dir, sizeof store_fu_dir, "%s/store-with-fusion", dir);
    sync();
    struct pipeline_result prf;
    struct rusage ruf;
    fork_pipeline(store_fu_dir, ndjson, true, true, &prf, &ruf);
    double fu_obs_per_s = (double)prf.stats.records / prf.seconds;
    printf("as truce ingest runs it (log and fusion): %.0f obs/s (%.0f%% of the rate with the log "
           "alone), %lld leaves of which %lld incident versions; peak RSS %.1f MB\n",
           fu_obs_per_s, 100.0 * fu_obs_per_s / log_obs_per_s, prf.leaves,
           prf.leaves - (prl.stats.accepted + prl.stats.findings + 1),
           (double)ruf.ru_maxrss / 1024.0);
    fflush(stdout);

    /* (b) the baseline: every row the pipeline stored, pre-loaded into memory, inserted into a
     * fresh database with the store's schema: the cost of storing alone */
    struct table_rows tabs[N_TABLES];
    memset(tabs, 0, sizeof tabs);
    char *schema = NULL;
    load_rows(db_path, tabs, &schema);
    if (tabs[0].n <= 0)
        die("baseline", "the pipeline stored no rows");
    sync(); /* the pipeline's writes are flushed before the baseline's clock starts */
    double bsecs = run_baseline(bare, tabs, schema);
    long all_rows = 0;
    for (int k = 0; k < N_TABLES; k++) {
        all_rows += tabs[k].n;
        free(tabs[k].ar.p);
        free(tabs[k].off);
        free(tabs[k].obs_id);
    }
    free(schema);
    double base_obs_per_s = (double)tabs[0].n / bsecs;

    /* (c) jansson alone on the same records */
    long nj;
    double json_per_s = json_parse_rate(ndjson, &nj);

    double ratio = obs_per_s / base_obs_per_s;
    printf("baseline: the same %ld rows (%ld observations with their events, zone relations and "
           "findings) inserted bare in %.2f s = %.0f obs/s\n",
           all_rows, tabs[0].n, bsecs, base_obs_per_s);
    printf("jansson alone parses the same records at %.0f records/s; jansson plus the bare insert "
           "cap any pipeline at %.0f obs/s\n",
           json_per_s, 1.0 / (1.0 / json_per_s + 1.0 / base_obs_per_s));
    printf("ingest: %lld observations in %.2f s = %.0f obs/s; bare SQLite insert of the same rows "
           "%.0f obs/s; ratio %.0f%% (target >= %.0f obs/s and >= %.0f%%)\n",
           pr.stats.records, pr.seconds, obs_per_s, base_obs_per_s, ratio * 100,
           TARGET_OBS_PER_S, TARGET_RATIO * 100);

    const char *keep = getenv("TRUCE_BENCH_KEEP");
    if (keep && *keep && strcmp(keep, "0"))
        printf("kept %s\n", dir);
    else
        rm_tree(dir);

    int fail = 0;
    if (obs_per_s < TARGET_OBS_PER_S) {
        printf("FAIL: %.0f obs/s is below the target of %.0f obs/s\n", obs_per_s,
               TARGET_OBS_PER_S);
        fail = 1;
    }
    if (ratio < TARGET_RATIO) {
        printf("FAIL: the pipeline runs at %.0f%% of the bare insert rate, below %.0f%%\n",
               ratio * 100, TARGET_RATIO * 100);
        fail = 1;
    }
    if (pr.stats.rejected || pr.stats.accepted != n) {
        printf("FAIL: %lld of %ld generated observations were not accepted\n",
               n - pr.stats.accepted, n);
        fail = 1;
    }
    return fail;
}
