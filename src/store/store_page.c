/* store_page.c: paged listings of observations, findings and incidents in (end time, id) order
 * with keyset positions, for the HTTP API and OGC API - Features.
 *
 * The ids of a page come from an index alone, by one of two plans:
 * - band: with a bbox whose latitude band holds at most STORE_PAGE_BAND_ROWS observations (a
 *   count on the index, stopped there, says), the latitude index observations(lat, lon,
 *   t_end_ms, kind, party, region) gives every match in the band, filters checked in the index,
 *   and SQLite keeps the first `limit` in order;
 * - time: otherwise the time index observations(t_end_ms, lon, lat, kind, party, region) is read
 *   in order from the window's start or the keyset position, filters checked in the index, until
 *   the page is full: about limit / (fraction of rows matching) entries.
 * Then each id is fetched whole (events and zones too) by primary key. Nothing uses OFFSET.
 * Incidents (one per fused event, far fewer than reports) always take the time plan on
 * incidents(t_end_ms), the bbox checked on each row's location. Must not write. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_int.h"

#define PAGE_MAX_BINDS 24

struct bind {
    enum { B_INT, B_DBL, B_TEXT } type;
    int64_t i;
    double d;
    const char *t;
};

/* The key query of a page as SQL text and its parameters in order. */
struct keyq {
    char sql[2048];
    struct bind b[PAGE_MAX_BINDS];
    int n;
};

static int dberr(struct store *s, struct errbuf *e, const char *what)
{
    return errf(e, ERR_DB, "%s: %s: %s", store_path_(s), what, sqlite3_errmsg(store_db(s)));
}

static void q_sql(struct keyq *q, const char *fmt, const char *a)
{
    size_t len = strlen(q->sql);
    snprintf(q->sql + len, sizeof q->sql - len, fmt, a);
}

static void q_int(struct keyq *q, int64_t v)
{
    q->b[q->n++] = (struct bind){.type = B_INT, .i = v};
}

static void q_dbl(struct keyq *q, double v)
{
    q->b[q->n++] = (struct bind){.type = B_DBL, .d = v};
}

static void q_text(struct keyq *q, const char *v)
{
    q->b[q->n++] = (struct bind){.type = B_TEXT, .t = v};
}

static void q_bind(const struct keyq *q, sqlite3_stmt *st)
{
    for (int k = 0; k < q->n; k++) {
        if (q->b[k].type == B_INT)
            sqlite3_bind_int64(st, k + 1, q->b[k].i);
        else if (q->b[k].type == B_DBL)
            sqlite3_bind_double(st, k + 1, q->b[k].d);
        else
            sqlite3_bind_text(st, k + 1, q->b[k].t, -1, SQLITE_STATIC);
    }
}

void store_page_init(struct store_page *p)
{
    memset(p, 0, sizeof *p);
    store_filter_init(&p->f);
}

/* Counts the observations in bbox's latitude band, stopping after max. */
static int band_rows(struct store *s, const struct geo_bbox *bb, long long max, long long *n,
                     struct errbuf *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s),
                           "SELECT count(*) FROM (SELECT 1 FROM observations INDEXED BY "
                           "observations_lat WHERE lat BETWEEN ?1 AND ?2 LIMIT ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "reading a bbox");
    sqlite3_bind_double(st, 1, bb->min_lat);
    sqlite3_bind_double(st, 2, bb->max_lat);
    sqlite3_bind_int64(st, 3, max + 1);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : dberr(s, e, "reading a bbox");
    if (!rc)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Whether page p takes the band plan. */
static int use_band(struct store *s, const struct store_page *p, bool *band, struct errbuf *e)
{
    *band = false;
    if (!p->has_bbox || p->id > 0)
        return 0;
    long long n = 0, max = p->band_rows > 0 ? p->band_rows : STORE_PAGE_BAND_ROWS;
    int rc = band_rows(s, &p->bbox, max, &n, e);
    if (!rc)
        *band = n <= max;
    return rc;
}

/* The bbox conditions on the observation (aliased o) or the incident (aliased i). */
static void where_bbox(struct keyq *q, const struct geo_bbox *bb, bool incidents)
{
    q_sql(q, "%s", incidents ? " AND i.lat BETWEEN ? AND ? AND i.lon BETWEEN ? AND ?"
                             : " AND o.lat BETWEEN ? AND ? AND o.lon BETWEEN ? AND ?");
    q_dbl(q, bb->min_lat);
    q_dbl(q, bb->max_lat);
    q_dbl(q, bb->min_lon);
    q_dbl(q, bb->max_lon);
}

/* Time window and keyset position on time column t and id column id. */
static void where_time_keyset(struct keyq *q, const struct store_page *p, const char *t,
                              const char *id)
{
    int64_t lo = p->f.from_ms;
    if (p->has_after && (lo == TIME_NONE || p->after_t_ms > lo))
        lo = p->after_t_ms;
    char cond[160];
    if (lo != TIME_NONE) {
        q_sql(q, " AND %s >= ?", t);
        q_int(q, lo);
    }
    if (p->has_after) {
        snprintf(cond, sizeof cond, " AND (%s > ? OR %s > ?)", t, id);
        q_sql(q, "%s", cond);
        q_int(q, p->after_t_ms);
        q_int(q, p->after_id);
    }
    if (p->f.to_ms != TIME_NONE) {
        q_sql(q, " AND %s < ?", t);
        q_int(q, p->f.to_ms);
    }
}

static void order_limit(struct keyq *q, const char *t, const char *id, long long limit)
{
    char cond[160];
    snprintf(cond, sizeof cond, " ORDER BY %s, %s LIMIT ?", t, id);
    q_sql(q, "%s", cond);
    q_int(q, limit > 0 ? limit : INT64_MAX);
}

/* The key query of an incidents page: the time index, party and region, the bbox on the
 * incident's location (kind and clause do not apply to incidents and are refused by callers). */
static void incident_key_query(const struct store_page *p, struct keyq *q)
{
    memset(q, 0, sizeof *q);
    if (p->id > 0) {
        q_sql(q, "%s", "SELECT i.id, i.t_end_ms FROM incidents i WHERE i.id = ?");
        q_int(q, p->id);
        return;
    }
    q_sql(q, "%s", "SELECT i.id, i.t_end_ms FROM incidents i INDEXED BY incidents_t_end WHERE 1");
    if (p->f.party) {
        q_sql(q, "%s", " AND i.party = ?");
        q_text(q, p->f.party);
    }
    if (p->f.region) {
        q_sql(q, "%s", " AND i.region = ?");
        q_text(q, p->f.region);
    }
    if (p->has_bbox)
        where_bbox(q, &p->bbox, true);
    where_time_keyset(q, p, "i.t_end_ms", "i.id");
    order_limit(q, "i.t_end_ms", "i.id", p->f.limit);
}

/* Builds the key query of page p, selecting (id, end time) in order, on the latitude index
 * (band) or the time index. */
static void key_query(const struct store_page *p, bool findings, bool band, struct keyq *q)
{
    memset(q, 0, sizeof *q);
    const struct store_filter *f = &p->f;
    if (p->id > 0) {
        q_sql(q, "%s", findings ? "SELECT f.id, f.t_end_ms FROM findings f WHERE f.id = ?"
                                : "SELECT o.id, o.t_end_ms FROM observations o WHERE o.id = ?");
        q_int(q, p->id);
        return;
    }
    const char *t = findings ? "f.t_end_ms" : "o.t_end_ms", *id = findings ? "f.id" : "o.id";
    if (!findings) {
        /* The index is named: without statistics the planner may take the latitude index
         * (as wide as the time index) for a scan in time order and sort the whole table. */
        q_sql(q, "SELECT o.id, o.t_end_ms FROM observations o INDEXED BY %s WHERE 1",
              band ? "observations_lat" : "observations_time");
        if (f->kind) {
            q_sql(q, "%s", " AND o.kind = ?");
            q_text(q, f->kind);
        }
        if (f->party) {
            q_sql(q, "%s", " AND o.party = ?");
            q_text(q, f->party);
        }
        if (f->region) {
            q_sql(q, "%s", " AND o.region = ?");
            q_text(q, f->region);
        }
        if (f->clause) {
            /* per candidate through findings_obs: IN would first collect every finding under
             * the clause */
            q_sql(q, "%s", " AND EXISTS (SELECT 1 FROM findings WHERE obs_id = o.id AND "
                           "clause = ?)");
            q_text(q, f->clause);
        }
    } else {
        if (band)
            q_sql(q, "%s", "SELECT f.id, f.t_end_ms FROM observations o INDEXED BY "
                           "observations_lat CROSS JOIN findings f ON f.obs_id = o.id WHERE 1");
        else if (p->has_bbox)
            q_sql(q, "%s", "SELECT f.id, f.t_end_ms FROM findings f JOIN observations o ON "
                           "o.id = f.obs_id WHERE 1");
        else
            q_sql(q, "%s", "SELECT f.id, f.t_end_ms FROM findings f WHERE 1");
        if (f->party) {
            q_sql(q, "%s", " AND f.party = ?");
            q_text(q, f->party);
        }
        if (f->region) {
            q_sql(q, "%s", " AND f.region = ?");
            q_text(q, f->region);
        }
        if (f->clause) {
            q_sql(q, "%s", " AND f.clause = ?");
            q_text(q, f->clause);
        }
    }
    if (p->has_bbox)
        where_bbox(q, &p->bbox, false);
    where_time_keyset(q, p, t, id);
    order_limit(q, t, id, p->f.limit);
}

static double col_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* Fetches record id whole and hands it to cb. */
static int emit(struct store *s, sqlite3_stmt *row, bool findings, int64_t id, int64_t t,
                struct buf *b, int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                struct errbuf *e)
{
    sqlite3_reset(row);
    sqlite3_bind_int64(row, 1, id);
    int step = sqlite3_step(row);
    if (step == SQLITE_DONE)
        return 0; /* cannot happen inside one read: the key query saw it */
    if (step != SQLITE_ROW)
        return dberr(s, e, findings ? "listing findings" : "listing observations");
    int rc = findings ? store_finding_row_json(row, b) : store_obs_row_json(row, b);
    if (rc)
        return rc;
    struct store_item it = {.id = id,
                            .t_ms = t,
                            .lon = col_or_nan(row, findings ? 14 : 7),
                            .lat = col_or_nan(row, findings ? 15 : 8),
                            .json = b->p};
    return cb(ctx, &it);
}

static int page(struct store *s, const struct store_page *p, bool findings,
                int (*cb)(void *ctx, const struct store_item *it), void *ctx, struct errbuf *e)
{
    const char *what = findings ? "listing findings" : "listing observations";
    char row_sql[2048];
    if (findings)
        snprintf(row_sql, sizeof row_sql,
                 "SELECT %sFROM findings f JOIN observations o ON o.id = f.obs_id WHERE f.id = ?1",
                 STORE_FINDING_COLUMNS);
    else
        snprintf(row_sql, sizeof row_sql, "SELECT %sFROM observations o WHERE o.id = ?1",
                 STORE_OBS_COLUMNS);
    sqlite3_stmt *keys = NULL, *row = NULL;
    struct buf b;
    buf_init(&b);
    bool band;
    int rc = use_band(s, p, &band, e);
    if (rc)
        goto out;
    struct keyq q;
    key_query(p, findings, band, &q);
    if (sqlite3_prepare_v2(store_db(s), row_sql, -1, &row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store_db(s), q.sql, -1, &keys, NULL) != SQLITE_OK) {
        rc = dberr(s, e, what);
        goto out;
    }
    q_bind(&q, keys);
    int step;
    while (!rc && (step = sqlite3_step(keys)) == SQLITE_ROW)
        rc = emit(s, row, findings, sqlite3_column_int64(keys, 0), sqlite3_column_int64(keys, 1),
                  &b, cb, ctx, e);
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = dberr(s, e, what);
out:
    buf_reset(&b);
    sqlite3_finalize(row);
    sqlite3_finalize(keys);
    return rc;
}

int store_obs_page(struct store *s, const struct store_page *p,
                   int (*cb)(void *ctx, const struct store_item *it), void *ctx, struct errbuf *e)
{
    return page(s, p, false, cb, ctx, e);
}

int store_findings_page(struct store *s, const struct store_page *p,
                        int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                        struct errbuf *e)
{
    return page(s, p, true, cb, ctx, e);
}

int store_incidents_page(struct store *s, const struct store_page *p,
                         int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                         struct errbuf *e)
{
    sqlite3_stmt *keys = NULL, *row = NULL;
    struct keyq q;
    incident_key_query(p, &q);
    int rc = 0;
    if (sqlite3_prepare_v2(store_db(s), "SELECT lon, lat, json FROM incidents WHERE id = ?1", -1,
                           &row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store_db(s), q.sql, -1, &keys, NULL) != SQLITE_OK) {
        rc = dberr(s, e, "listing incidents");
        goto out;
    }
    q_bind(&q, keys);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(keys)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(keys, 0), t = sqlite3_column_int64(keys, 1);
        sqlite3_reset(row);
        sqlite3_bind_int64(row, 1, id);
        int rs = sqlite3_step(row);
        if (rs == SQLITE_DONE)
            continue; /* cannot happen inside one read: the key query saw it */
        if (rs != SQLITE_ROW) {
            rc = dberr(s, e, "listing incidents");
            break;
        }
        struct store_item it = {.id = id,
                                .t_ms = t,
                                .lon = col_or_nan(row, 0),
                                .lat = col_or_nan(row, 1),
                                .json = (const char *)sqlite3_column_text(row, 2)};
        rc = cb(ctx, &it);
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = dberr(s, e, "listing incidents");
out:
    sqlite3_finalize(row);
    sqlite3_finalize(keys);
    return rc;
}

int store_page_plan(struct store *s, const struct store_page *p, bool findings, struct buf *out,
                    struct errbuf *e)
{
    bool band;
    int rc = use_band(s, p, &band, e);
    if (rc)
        return rc;
    struct keyq q;
    key_query(p, findings, band, &q);
    char sql[sizeof q.sql + 32];
    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", q.sql);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "explaining a listing");
    q_bind(&q, st);
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = buf_printf(out, "%s\n", (const char *)sqlite3_column_text(st, 3));
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "explaining a listing");
    sqlite3_finalize(st);
    return rc;
}
