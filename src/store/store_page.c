/* store_page.c: paged listings of observations, findings and incidents in (end time, id) order
 * with keyset positions, for the HTTP API and OGC API - Features.
 *
 * The ids of a page come from an index alone, by one of two plans:
 * - cells: with a bbox over at most STORE_PAGE_CELLS_MAX cells of 0.1 x 0.1 degree, the cell
 *   index observations(cell, t_end_ms, id, lon, lat, kind, party, region) (migration 9) is read
 *   cell by cell, each in time order from the window's start or the keyset position, filters
 *   and the exact bbox checked in the index; the first `limit` of all cells are kept (a cell is
 *   read only up to the time of the limit-th kept so far: a seek and about what it adds);
 * - time: otherwise the time index observations(t_end_ms, id, lon, lat, kind, party, region) is
 *   read in order from the window's start or the keyset position, filters checked in the index,
 *   until the page is full: about limit / (fraction of rows matching) entries.
 *   A bbox of more cells (up to STORE_PAGE_CELLS_FALLBACK) takes the time plan on a budget of
 *   SQLite VM operations (STORE_PAGE_TIME_BUDGET, about 1.5 ms): a box holding too few records to
 *   fill the page by then (far from the data) is read cell by cell after all.
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
    int bound; /* cell plan: the index in b of the latest end time wanted (-1: none) */
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

/* The cell of a point: 0.1 degree in latitude and longitude, numbered row by row. The SQL must
 * be migration 9's index expression exactly (SQLite matches the expression's text); the C the
 * same arithmetic (doubles, truncation; lat + 90 and lon + 180 are not negative), so the cells
 * of bbox's corners bound the cells of every point inside it. */
#define CELL_SQL(t)                                                                        \
    "CAST((" t "lat + 90.0) * 10 AS INTEGER) * 3601 + CAST((" t "lon + 180.0) * 10 AS INTEGER)"
#define CELL_ROW 3601
static int64_t cell_x(double lon) { return (int64_t)((lon + 180.0) * 10); }
static int64_t cell_y(double lat) { return (int64_t)((lat + 90.0) * 10); }

static int64_t bbox_cells(const struct geo_bbox *bb)
{
    return (cell_x(bb->max_lon) - cell_x(bb->min_lon) + 1) *
           (cell_y(bb->max_lat) - cell_y(bb->min_lat) + 1);
}

/* Whether page p takes the cell plan. */
static bool use_cells(const struct store_page *p)
{
    if (!p->has_bbox || p->id > 0 || p->f.limit <= 0 || p->cells_max < 0)
        return false;
    long long max = p->cells_max > 0 ? p->cells_max : STORE_PAGE_CELLS_MAX;
    return bbox_cells(&p->bbox) <= max;
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

/* Builds the key query of page p, selecting (id, end time) in order, on the time index or (cells)
 * on the cell index for one cell: then its parameter 1 is the cell and parameter q->bound + 1
 * the latest end time still wanted. */
static void key_query(const struct store_page *p, bool findings, bool cells, struct keyq *q)
{
    memset(q, 0, sizeof *q);
    q->bound = -1;
    const struct store_filter *f = &p->f;
    if (p->id > 0) {
        q_sql(q, "%s", findings ? "SELECT f.id, f.t_end_ms FROM findings f WHERE f.id = ?"
                                : "SELECT o.id, o.t_end_ms FROM observations o WHERE o.id = ?");
        q_int(q, p->id);
        return;
    }
    /* a finding's end time is its observation's (stored with it): the cell plan orders by the
     * observation's, which the cell index holds */
    const char *t = findings && !cells ? "f.t_end_ms" : "o.t_end_ms";
    const char *id = findings ? "f.id" : "o.id";
    if (cells) {
        q_sql(q, "%s", findings ? "SELECT f.id, o.t_end_ms FROM observations o INDEXED BY "
                                  "observations_cell CROSS JOIN findings f ON f.obs_id = o.id "
                                  "WHERE " CELL_SQL("o.") " = ?"
                                : "SELECT o.id, o.t_end_ms FROM observations o INDEXED BY "
                                  "observations_cell WHERE " CELL_SQL("o.") " = ?");
        q_int(q, 0);
    } else if (!findings) {
        /* The index is named: without statistics the planner may take the cell index (as wide
         * as the time index) for a scan in time order and sort the whole table. */
        q_sql(q, "%s", "SELECT o.id, o.t_end_ms FROM observations o INDEXED BY observations_time "
                       "WHERE 1");
    } else if (p->has_bbox) {
        q_sql(q, "%s", "SELECT f.id, f.t_end_ms FROM findings f JOIN observations o ON "
                       "o.id = f.obs_id WHERE 1");
    } else {
        q_sql(q, "%s", "SELECT f.id, f.t_end_ms FROM findings f WHERE 1");
    }
    if (!findings) {
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
    if (cells) {
        q_sql(q, " AND %s <= ?", t);
        q->bound = q->n;
        q_int(q, INT64_MAX);
    }
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

/* A key of the cell plan's page: (end time, id), kept in a max-heap of the first `limit`. */
struct key {
    int64_t t, id;
};

static bool key_less(const struct key *a, const struct key *b)
{
    return a->t < b->t || (a->t == b->t && a->id < b->id);
}

static void heap_down(struct key *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && key_less(&h[m], &h[l]))
            m = l;
        if (r < n && key_less(&h[m], &h[r]))
            m = r;
        if (m == i)
            return;
        struct key x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

static void heap_up(struct key *h, size_t i)
{
    while (i > 0 && key_less(&h[(i - 1) / 2], &h[i])) {
        struct key x = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

static int cmp_key(const void *a, const void *b)
{
    return key_less(a, b) ? -1 : key_less(b, a);
}

/* The cell plan: the first limit keys of all cells of the bbox, in order, into *out (*n). */
static int cell_keys(struct store *s, const struct store_page *p, sqlite3_stmt *keys,
                     const struct keyq *q, struct key **out, size_t *n, struct errbuf *e)
{
    size_t limit = (size_t)p->f.limit, have = 0;
    struct key *h = malloc(limit * sizeof *h);
    if (!h)
        return errf(e, ERR_NOMEM, "out of memory");
    int64_t x0 = cell_x(p->bbox.min_lon), x1 = cell_x(p->bbox.max_lon);
    int64_t y0 = cell_y(p->bbox.min_lat), y1 = cell_y(p->bbox.max_lat);
    int rc = 0;
    q_bind(q, keys); /* bindings outlive sqlite3_reset: only the cell and the bound change */
    for (int64_t y = y0; y <= y1 && !rc; y++)
        for (int64_t x = x0; x <= x1 && !rc; x++) {
            sqlite3_reset(keys);
            sqlite3_bind_int64(keys, 1, y * CELL_ROW + x);
            if (have == limit) /* nothing after the limit-th kept can enter */
                sqlite3_bind_int64(keys, q->bound + 1, h[0].t);
            int step;
            while ((step = sqlite3_step(keys)) == SQLITE_ROW) {
                struct key k = {sqlite3_column_int64(keys, 1), sqlite3_column_int64(keys, 0)};
                if (have < limit) {
                    h[have] = k;
                    heap_up(h, have++);
                } else if (key_less(&k, &h[0])) {
                    h[0] = k;
                    heap_down(h, have, 0);
                } else {
                    break; /* the cell's next keys are later still */
                }
            }
            if (step != SQLITE_ROW && step != SQLITE_DONE)
                rc = dberr(s, e, "listing a bbox");
        }
    sqlite3_reset(keys);
    if (rc) {
        free(h);
        return rc;
    }
    qsort(h, have, sizeof *h, cmp_key);
    *out = h;
    *n = have;
    return 0;
}

/* Stops a statement once its budget of progress calls is spent. */
static int out_of_budget(void *ctx)
{
    long long *left = ctx;
    return --*left < 0;
}

/* Whether page p, a bbox over more cells than the cell plan takes, tries the time plan on a
 * budget first (and then the cells). */
static bool use_budget(const struct store_page *p)
{
    return p->has_bbox && p->id <= 0 && p->f.limit > 0 && p->cells_max >= 0 &&
           bbox_cells(&p->bbox) <= STORE_PAGE_CELLS_FALLBACK;
}

/* The time plan's keys of p, at most STORE_PAGE_TIME_BUDGET SQLite VM operations spent on them
 * (p->time_budget in tests): *spent when the page was not full by then. */
static int budget_keys(struct store *s, const struct store_page *p, sqlite3_stmt *keys,
                       const struct keyq *q, struct key **out, size_t *n, bool *spent,
                       struct errbuf *e)
{
    size_t limit = (size_t)p->f.limit, have = 0;
    struct key *ks = malloc(limit * sizeof *ks);
    if (!ks)
        return errf(e, ERR_NOMEM, "out of memory");
    long long ops = p->time_budget > 0 ? p->time_budget : STORE_PAGE_TIME_BUDGET;
    long long left = ops / 100;
    q_bind(q, keys);
    sqlite3_progress_handler(store_db(s), 100, out_of_budget, &left);
    int step = SQLITE_DONE;
    while (have < limit && (step = sqlite3_step(keys)) == SQLITE_ROW)
        ks[have++] = (struct key){sqlite3_column_int64(keys, 1), sqlite3_column_int64(keys, 0)};
    sqlite3_progress_handler(store_db(s), 0, NULL, NULL);
    *spent = step == SQLITE_INTERRUPT; /* a read-only statement: nothing is rolled back */
    int rc = step == SQLITE_ROW || step == SQLITE_DONE || *spent ? 0
                                                                 : dberr(s, e, "listing a bbox");
    sqlite3_reset(keys);
    if (rc) {
        free(ks);
        return rc;
    }
    *out = ks;
    *n = have;
    return 0;
}

static int page(struct store *s, const struct store_page *p, bool findings,
                int (*cb)(void *ctx, const struct store_item *it), void *ctx, struct errbuf *e)
{
    const char *what = findings ? "listing findings" : "listing observations";
    /* the row statement is the same on every call: prepared once per store */
    char row_sql[2048];
    if (findings)
        snprintf(row_sql, sizeof row_sql,
                 "SELECT %sFROM findings f JOIN observations o ON o.id = f.obs_id WHERE f.id = ?1",
                 STORE_FINDING_COLUMNS);
    else
        snprintf(row_sql, sizeof row_sql, "SELECT %sFROM observations o WHERE o.id = ?1",
                 STORE_OBS_COLUMNS);
    sqlite3_stmt *keys = NULL,
                 *row = store_cached(s, findings ? STORE_CACHED_PAGE_FINDING_ROW
                                                 : STORE_CACHED_PAGE_OBS_ROW, row_sql);
    struct buf b;
    buf_init(&b);
    struct key *ks = NULL;
    size_t nk = 0;
    bool cells = use_cells(p);
    struct keyq q;
    key_query(p, findings, cells, &q);
    int rc = 0;
    if (!row || sqlite3_prepare_v2(store_db(s), q.sql, -1, &keys, NULL) != SQLITE_OK) {
        rc = dberr(s, e, what);
        goto out;
    }
    bool spent = false;
    if (!cells && use_budget(p)) {
        if ((rc = budget_keys(s, p, keys, &q, &ks, &nk, &spent, e)))
            goto out;
        if (spent) { /* a box holding few records: cell by cell after all */
            free(ks);
            ks = NULL;
            sqlite3_finalize(keys);
            keys = NULL;
            cells = true;
            key_query(p, findings, true, &q);
            if (sqlite3_prepare_v2(store_db(s), q.sql, -1, &keys, NULL) != SQLITE_OK) {
                rc = dberr(s, e, what);
                goto out;
            }
        }
    }
    if (cells && (rc = cell_keys(s, p, keys, &q, &ks, &nk, e)))
        goto out;
    if (ks) {
        for (size_t i = 0; i < nk && !rc; i++)
            rc = emit(s, row, findings, ks[i].id, ks[i].t, &b, cb, ctx, e);
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
    free(ks);
    buf_reset(&b);
    if (row)
        sqlite3_reset(row);
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
    bool cells = use_cells(p);
    struct keyq q;
    key_query(p, findings, cells, &q);
    char sql[sizeof q.sql + 32];
    snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", q.sql);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(s, e, "explaining a listing");
    q_bind(&q, st);
    int rc = 0, step;
    if (cells)
        rc = buf_printf(out, "cells of 0.1 degree: %lld, each:\n", (long long)bbox_cells(&p->bbox));
    else if (use_budget(p))
        rc = buf_printf(out, "time index on a budget, then cells of 0.1 degree: %lld; time:\n",
                        (long long)bbox_cells(&p->bbox));
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = buf_printf(out, "%s\n", (const char *)sqlite3_column_text(st, 3));
    if (!rc && step != SQLITE_DONE)
        rc = dberr(s, e, "explaining a listing");
    sqlite3_finalize(st);
    return rc;
}
