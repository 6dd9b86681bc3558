/* test_leaf.c: reading log leaves by index range and finding a record's leaf by id
 * (store_log_range, store_log_index_of) on the minsk-2015 scenario ingested 40 times over (under
 * new client ids) with fusion and a review: every range and every lookup gives the same record
 * and leaf bytes as a full scan of the store from leaf 0, and the leaf hash the log holds; a
 * removed observation leaves a gap and moves nothing else. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "fusion/fusion.h"
#include "ingest/ingest.h"
#include "ledger/ledger.h"
#include "log/log.h"
#include "review/review.h"
#include "store/store.h"
#include "t.h"

#define COPIES 40 /* times the 25 scenario records are ingested */

static char dir[64];
static struct store *st;
static struct store_agreements ag;
static struct truce_log *lg;

/* The scan: every record's kind, id and leaf bytes by leaf index. */
struct leaf {
    int kind;
    int64_t id;
    struct buf bytes;
};
static struct leaf *scan;
static int64_t n_scan;

static int on_scan(void *ctx, const struct store_log_record *r)
{
    (void)ctx;
    if (r->log_index != n_scan)
        return ERR_CONFLICT; /* the scan itself must be gap-free here */
    struct leaf *l = &scan[n_scan++];
    l->kind = (int)r->kind;
    l->id = r->id;
    buf_init(&l->bytes);
    return log_leaf_bytes(r, &l->bytes) ? ERR_NOMEM : 0;
}

struct got {
    int64_t index[300];
    struct buf bytes[300];
    int n;
};

static int on_range(void *ctx, const struct store_log_record *r)
{
    struct got *g = ctx;
    if (g->n == 300)
        return ERR_TOOBIG;
    g->index[g->n] = r->log_index;
    buf_init(&g->bytes[g->n]);
    return log_leaf_bytes(r, &g->bytes[g->n++]) ? ERR_NOMEM : 0;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        buf_reset(&g->bytes[i]);
    g->n = 0;
}

static bool same_leaf(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

/* Ranges of 1, 7 and 256 leaves from every index give the scan's leaves, in order. */
static void test_ranges_match_the_scan(void)
{
    struct errbuf e;
    CHECK(n_scan > 1900); /* 1,000 observations, their findings, incidents: 1,976 */
    static const int64_t widths[] = {1, 7, 256};
    long mismatches = 0;
    for (size_t w = 0; w < 3; w++) {
        for (int64_t from = 0; from < n_scan + 2; from += widths[w] == 1 ? 1 : 13) {
            struct got g = {.n = 0};
            CHECK_INT(store_log_range(st, from, widths[w], on_range, &g, &e), 0);
            int64_t want = from + widths[w] > n_scan ? (from < n_scan ? n_scan - from : 0)
                                                     : widths[w];
            if (g.n != want) {
                T_FAIL_("range [%lld, +%lld): %d records, want %lld", (long long)from,
                        (long long)widths[w], g.n, (long long)want);
                got_free(&g);
                return;
            }
            for (int i = 0; i < g.n; i++)
                if (g.index[i] != from + i || !same_leaf(&g.bytes[i], &scan[from + i].bytes))
                    mismatches++;
            got_free(&g);
        }
    }
    CHECK_INT(mismatches, 0);
    /* and the log holds these leaves */
    struct got g = {.n = 0};
    CHECK_INT(store_log_range(st, n_scan - 100, 256, on_range, &g, &e), 0);
    CHECK_INT(g.n, 100);
    for (int i = 0; i < g.n; i++) {
        struct ledger_hash want, have;
        ledger_leaf_hash(g.bytes[i].p, g.bytes[i].len, &want);
        CHECK_INT(ledger_leaf(log_tree(lg), (uint64_t)g.index[i], &have, &e), 0);
        CHECK(ledger_hash_eq(&want, &have));
    }
    got_free(&g);
}

/* Each record's leaf index by its id is where the scan found it (incidents: the newest). */
static void test_index_of_matches_the_scan(void)
{
    struct errbuf e;
    long checked[6] = {0}, wrong = 0;
    for (int64_t i = 0; i < n_scan; i++) {
        int64_t want = i;
        if (scan[i].kind == STORE_LOG_INCIDENT) /* the newest version of this incident */
            for (int64_t j = i + 1; j < n_scan; j++)
                if (scan[j].kind == STORE_LOG_INCIDENT && scan[j].id == scan[i].id)
                    want = j;
        int64_t got = -1;
        CHECK_INT(store_log_index_of(st, (enum store_log_kind)scan[i].kind, scan[i].id, &got, &e),
                  0);
        if (got != want)
            wrong++;
        checked[scan[i].kind]++;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(checked[STORE_LOG_AGREEMENT], 1);
    CHECK_INT(checked[STORE_LOG_OBSERVATION], 25 * COPIES);
    CHECK(checked[STORE_LOG_FINDING] > 0);
    CHECK(checked[STORE_LOG_INCIDENT] > 0);
    CHECK_INT(checked[STORE_LOG_REVIEW], 1);
    int64_t got;
    CHECK_INT(store_log_index_of(st, STORE_LOG_OBSERVATION, 25 * COPIES + 1, &got, &e),
              ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "observation 1001 is not stored");
    CHECK_INT(store_log_index_of(st, STORE_LOG_INCIDENT, -5, &got, &e), ERR_NOTFOUND);
    CHECK_INT(store_log_index_of(st, (enum store_log_kind)9, 1, &got, &e), ERR_INVAL);
}

/* Rows removed behind the store's back (what `truce log verify` reports) leave gaps; the leaves
 * around them keep their indices. */
static void test_removed_rows_leave_gaps(void)
{
    struct errbuf e;
    int64_t gone;
    CHECK_INT(store_log_index_of(st, STORE_LOG_OBSERVATION, 500, &gone, &e), 0);
    sqlite3 *db;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME);
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "DELETE FROM observations WHERE id IN (500, 501)", NULL, NULL,
                           NULL),
              SQLITE_OK);
    sqlite3_close(db);
    struct got g = {.n = 0};
    CHECK_INT(store_log_range(st, gone - 3, 20, on_range, &g, &e), 0);
    CHECK(g.n >= 18 && g.n < 20);
    bool seen_gone = false, wrong = false;
    for (int i = 0; i < g.n; i++) {
        seen_gone |= g.index[i] == gone;
        wrong |= !same_leaf(&g.bytes[i], &scan[g.index[i]].bytes);
        if (i && g.index[i] <= g.index[i - 1])
            wrong = true;
    }
    CHECK(!seen_gone);
    CHECK(!wrong);
    got_free(&g);
    CHECK_INT(store_log_range(st, gone, 1, on_range, &g, &e), 0);
    CHECK_INT(g.n, 0);
    int64_t li;
    CHECK_INT(store_obs_log_index(st, 500, &li, &e), ERR_NOTFOUND);
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-leaf-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || log_open(dir, st, &lg, &e) ||
        log_add_agreement(lg, st, a, &e) || store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    struct fusion *fu;
    if (fusion_load(st, &ag, &fu, &e)) {
        fprintf(stderr, "setup: fusion: %s\n", e.msg);
        return 1;
    }
    /* the scenario COPIES times, each copy under its own client ids */
    FILE *f = fopen("examples/minsk-2015/observations.ndjson", "r");
    struct buf all;
    buf_init(&all);
    char line[8192];
    for (int k = 0; f && k < COPIES; k++) {
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            char *cid = strstr(line, "\"client_id\": \"");
            if (!cid || buf_append(&all, line, (size_t)(cid - line) + 14) ||
                buf_printf(&all, "c%d-%s", k, cid + 14)) {
                fprintf(stderr, "setup: a scenario line without a client id\n");
                return 1;
            }
        }
    }
    if (f)
        fclose(f);
    FILE *in = fmemopen(all.p, all.len, "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = "scenario", .log = lg, .fusion = fu};
    struct ingest_stats s = {0};
    if (!in || ingest_stream(st, &ag, in, &o, &s, &e) || s.accepted != 25 * COPIES) {
        fprintf(stderr, "setup: ingest: %s (%lld accepted)\n", e.msg, s.accepted);
        return 1;
    }
    fclose(in);
    buf_reset(&all);
    int64_t rid;
    char to[16];
    struct review_request r = {.finding_id = 3, .action = "confirm", .actor = "anna",
                               .role = "analyst", .text = "two patrols heard it"};
    if (review_apply(lg, st, &r, &rid, to, sizeof to, &e)) {
        fprintf(stderr, "setup: review: %s\n", e.msg);
        return 1;
    }
    int64_t size = store_log_committed(st);
    scan = calloc((size_t)size, sizeof *scan);
    if (!scan || store_log_records(st, 0, on_scan, NULL, &e) || n_scan != size) {
        fprintf(stderr, "setup: scan: %lld of %lld leaves\n", (long long)n_scan,
                (long long)size);
        return 1;
    }
    static const struct t_case tests[] = {
        T(test_ranges_match_the_scan),
        T(test_index_of_matches_the_scan),
        T(test_removed_rows_leave_gaps),
    };
    int rc = T_RUN(tests);
    for (int64_t i = 0; i < n_scan; i++)
        buf_reset(&scan[i].bytes);
    free(scan);
    fusion_free(fu);
    log_close(lg);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return rc;
}
