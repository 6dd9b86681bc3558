/* bench_leaf.c: reading log leaves at 1,000,000 observations (issue 5): what the observation
 * proof route (GET /api/v1/proof/observation/{id or client id}) and a live C2SP entry bundle
 * (GET /log/tile/entries/N) read from the store, against the full-scan read they replaced,
 * measured in the same run on the same database.
 *
 * 1. Fills a fresh store with N observations (default 1,000,000; argv[1] or $TRUCE_BENCH_N)
 *    through store_obs_insert, every third with one finding (a leaf of its own), 10,000 per
 *    transaction. Untimed.
 * 2. Proof lookup: a random observation's client id -> its id -> its leaf index
 *    (store_obs_log_index) -> its record (store_log_range of 1) -> its leaf bytes.
 *    Entry bundle: the 256 records of a random full bundle (store_log_range) -> leaf bytes.
 * 3. Baselines: the same two reads through the queries store_log_records ran before (every table
 *    read in key order "WHERE log_index >= ?", merged by leaf index, stopped once the leaves are
 *    read), on a second read-only connection with the store's cache and mmap settings.
 *
 * Prints p50/p99/max wall-clock and CPU p99 of each and the ratios; exits non-zero when the
 * proof lookup's CPU p99 is 1 ms or more or the bundle's 10 ms or more. TRUCE_BENCH_KEEP=1 keeps
 * the directory; TRUCE_BENCH_DIR=that directory measures again without filling. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "agreement/agreement.h"
#include "log/log.h"
#include "store/store.h"

#define DEFAULT_N 1000000L
#define REPS 300       /* timed reads of each new path */
#define BASE_REPS 20   /* timed reads of each baseline (each scans the tables) */
#define BUNDLE 256     /* leaves in a full entry bundle (C2SP tlog-tiles) */
#define TARGET_PROOF_MS 1.0
#define TARGET_BUNDLE_MS 10.0
#define BATCH 10000
#define AGREEMENT_REL "examples/minsk-2015/agreement.json"
#define T0_MS 1475280000000LL /* 2016-10-01T00:00:00Z */
#define SPAN_MS (30LL * 86400000LL)

static uint64_t rng_state = 0x5EED1E55C0FFEE03ULL;
static uint64_t rnd64(void) { return splitmix64(&rng_state); }
static double rnd01(void) { return splitmix01(&rng_state); }

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_leaf: %s: %s\n", what, msg);
    exit(2);
}

/* ---- filling the store ---- */

static struct obs o; /* large: static */

static void fill(struct store *s, const struct agreement *a, long n)
{
    struct errbuf e;
    char raw[256];
    struct finding f = {.rule = 0, .result = RULE_VIOLATION, .party = "ua"};
    snprintf(f.reasons, sizeof f.reasons, "[\"bench: a weapon inside its withdrawal zone\"]");
    for (long i = 0; i < n; i++) {
        if (i % BATCH == 0 && store_begin(s, &e))
            die("begin", e.msg);
        memset(&o, 0, offsetof(struct obs, remarks));
        o.remarks[0] = 0;
        o.kind = i % 3 ? OBS_FIRE : OBS_DETECTION;
        o.t_end_ms = T0_MS + (int64_t)((double)SPAN_MS * (double)i / (double)n);
        o.t_start_ms = o.t_end_ms - 600000;
        o.means = OBS_M_PATROL;
        o.count = -1;
        o.weapon.calibre_mm = NAN;
        o.dist_min_m = o.dist_max_m = NAN;
        snprintf(o.client_id, sizeof o.client_id, "bench-%ld", i);
        o.n_events = 1;
        o.events[0] = (struct obs_event){.type = 0, .count = 1, .weapon = {.calibre_mm = NAN}};
        int len = snprintf(raw, sizeof raw,
                           "{\"type\":\"Feature\",\"properties\":{\"client_id\":\"bench-%ld\"}}",
                           i);
        o.raw = raw;
        o.raw_len = (size_t)len;
        struct placement p = {0};
        p.how = PLACE_LOCATED;
        p.centre = (struct geo_point){36.5 + 3.7 * rnd01(), 46.9 + 3.2 * rnd01()};
        p.radius_m = 100;
        p.region = 0;
        p.control = "ua";
        p.nearest_place = -1;
        int64_t id;
        bool dup;
        if (store_obs_insert(s, a, &o, &p, &f, i % 3 == 0 ? 1 : 0, &id, &dup, NULL, &e))
            die("insert", e.msg);
        if ((i + 1) % BATCH == 0 || i + 1 == n) {
            if (store_commit(s, &e))
                die("commit", e.msg);
        }
    }
}

/* ---- the new reads ---- */

struct leaves {
    int64_t want;  /* first leaf index */
    int n;
    struct buf b;  /* every leaf's bytes, one after the other */
};

static int take(void *ctx, const struct store_log_record *r)
{
    struct leaves *l = ctx;
    if (r->log_index != l->want + l->n)
        return 1;
    struct buf one;
    buf_init(&one);
    int rc = log_leaf_bytes(r, &one) || buf_append(&l->b, one.p, one.len);
    buf_reset(&one);
    l->n++;
    return rc ? ERR_NOMEM : 0;
}

/* ---- the old read: store_log_records before the leaf ranges ---- */

static const char *const OLD_SQL[6] = {
    "SELECT log_index, version, agreement_id, json, NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM agreements WHERE log_index >= ?1 ORDER BY version",
    "SELECT log_index, id, client_id, raw, agreement_version, NULL, NULL, NULL, NULL, NULL "
    "FROM observations WHERE log_index >= ?1 ORDER BY id",
    "SELECT log_index, id, obs_id, reasons, agreement_version, clause, result, party, "
    "severity, rule_kind FROM findings WHERE log_index >= ?1 ORDER BY id",
    "SELECT log_index, id, threshold, finding_ids, agreement_version, level, region, party, "
    "window_start_ms, window_end_ms, findings FROM alerts WHERE log_index >= ?1 ORDER BY id",
    "SELECT log_index, incident_id, NULL, json, agreement_version, NULL, NULL, party, "
    "grade, NULL FROM incident_log WHERE log_index >= ?1 ORDER BY log_index",
    "SELECT log_index, id, finding_id, text, created_ms, action, status_to, party, actor, "
    "role, status_from FROM finding_reviews WHERE log_index >= ?1 ORDER BY id"};

/* Reads count records from leaf from as the old store_log_records did (prepare, step each
 * table from its start, merge by leaf index); returns the bytes of their bodies read. */
static size_t old_read(sqlite3 *db, int64_t from, int count)
{
    sqlite3_stmt *q[6];
    bool live[6];
    for (int k = 0; k < 6; k++) {
        if (sqlite3_prepare_v2(db, OLD_SQL[k], -1, &q[k], NULL) != SQLITE_OK)
            die("old read", sqlite3_errmsg(db));
        sqlite3_bind_int64(q[k], 1, from);
        live[k] = sqlite3_step(q[k]) == SQLITE_ROW;
    }
    size_t bytes = 0;
    for (int got = 0; got < count; got++) {
        int best = -1;
        for (int k = 0; k < 6; k++)
            if (live[k] && (best < 0 || sqlite3_column_int64(q[k], 0) <
                                            sqlite3_column_int64(q[best], 0)))
                best = k;
        if (best < 0)
            break;
        bytes += (size_t)sqlite3_column_bytes(q[best], 3);
        live[best] = sqlite3_step(q[best]) == SQLITE_ROW;
    }
    for (int k = 0; k < 6; k++)
        sqlite3_finalize(q[k]);
    return bytes;
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stats {
    double p50, p99, max;
};

static struct stats summarise(double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    return (struct stats){ms[n / 2], ms[(int)ceil(0.99 * n) - 1], ms[n - 1]};
}

int main(int argc, char **argv)
{
    long n = DEFAULT_N;
    const char *env = getenv("TRUCE_BENCH_N");
    if (argc > 1)
        n = atol(argv[1]);
    else if (env)
        n = atol(env);
    if (n < 3 * BUNDLE)
        die("N", "at least 768 observations");
    char dir[] = "/tmp/truce-bench-leaf-XXXXXX";
    const char *reuse = getenv("TRUCE_BENCH_DIR");
    if (reuse && strlen(reuse) == strlen(dir))
        memcpy(dir, reuse, sizeof dir);
    else if (!mkdtemp(dir))
        die("mkdtemp", "cannot create a temporary directory");
    char data[sizeof dir + 8];
    snprintf(data, sizeof data, "%s/data", dir);
    struct errbuf e;
    struct agreement *a;
    if (agr_load_file(AGREEMENT_REL, &a, &e))
        die("agreement (run from the repository root)", e.msg);
    struct store *s;
    long long stored = 0;
    if (reuse) {
        if (store_open(data, false, &s, &e) || store_obs_count(s, &stored, &e))
            die("store", e.msg);
        n = (long)stored;
    } else {
        if (store_open(data, true, &s, &e) || store_begin(s, &e) ||
            store_agreement_add(s, a, &e) || store_commit(s, &e))
            die("store", e.msg);
        double t0 = bench_wall_ms();
        fill(s, a, n);
        printf("stored %ld observations (%ld findings) through store_obs_insert in %.1f s\n", n,
               (n + 2) / 3, (bench_wall_ms() - t0) / 1e3);
    }
    int64_t size = store_log_committed(s);
    printf("%lld leaves\n", (long long)size);

    static double ms[REPS], cpu[REPS];
    struct stats proof, proofc, bundle, bundlec, oproof, oproofc, obundle, obundlec;
    /* proof lookups: client id -> id -> leaf index -> record -> leaf bytes */
    for (int r = -REPS / 10; r < REPS; r++) {
        char cid[32];
        snprintf(cid, sizeof cid, "bench-%ld", (long)(rnd64() % (uint64_t)n));
        struct leaves l = {0};
        buf_init(&l.b);
        double q0 = bench_wall_ms(), c0 = bench_cpu_ms();
        int64_t id, index;
        if (store_obs_id_by_client(s, cid, &id, &e) || store_obs_log_index(s, id, &index, &e))
            die("proof lookup", e.msg);
        l.want = index;
        if (store_log_range(s, index, 1, take, &l, &e) < 0 || l.n != 1)
            die("proof lookup", "the leaf's record is missing");
        double c1 = bench_cpu_ms(), q1 = bench_wall_ms();
        buf_reset(&l.b);
        if (r < 0)
            continue;
        cpu[r] = c1 - c0;
        ms[r] = q1 - q0;
    }
    proof = summarise(ms, REPS);
    proofc = summarise(cpu, REPS);
    /* entry bundles: the 256 leaves of a random full bundle */
    int64_t full = size / BUNDLE;
    size_t bundle_bytes = 0;
    for (int r = -REPS / 10; r < REPS; r++) {
        struct leaves l = {.want = (int64_t)(rnd64() % (uint64_t)full) * BUNDLE};
        buf_init(&l.b);
        double q0 = bench_wall_ms(), c0 = bench_cpu_ms();
        if (store_log_range(s, l.want, BUNDLE, take, &l, &e) < 0 || l.n != BUNDLE)
            die("bundle", "a bundle's records are missing");
        double c1 = bench_cpu_ms(), q1 = bench_wall_ms();
        bundle_bytes = l.b.len;
        buf_reset(&l.b);
        if (r < 0)
            continue;
        cpu[r] = c1 - c0;
        ms[r] = q1 - q0;
    }
    bundle = summarise(ms, REPS);
    bundlec = summarise(cpu, REPS);

    /* the old reads, on a connection of their own */
    sqlite3 *db;
    char db_path[sizeof data + 16];
    snprintf(db_path, sizeof db_path, "%s/%s", data, STORE_DB_NAME);
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("baseline", sqlite3_errmsg(db));
    sqlite3_exec(db, "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824", NULL, NULL, NULL);
    for (int pass = 0; pass < 2; pass++) {
        int count = pass ? BUNDLE : 1;
        for (int r = -2; r < BASE_REPS; r++) {
            int64_t from = pass ? (int64_t)(rnd64() % (uint64_t)full) * BUNDLE
                                : (int64_t)(rnd64() % (uint64_t)size);
            double q0 = bench_wall_ms(), c0 = bench_cpu_ms();
            size_t bytes = old_read(db, from, count);
            double c1 = bench_cpu_ms(), q1 = bench_wall_ms();
            if (!bytes)
                die("baseline", "no records read");
            if (r < 0)
                continue;
            cpu[r] = c1 - c0;
            ms[r] = q1 - q0;
        }
        if (pass) {
            obundle = summarise(ms, BASE_REPS);
            obundlec = summarise(cpu, BASE_REPS);
        } else {
            oproof = summarise(ms, BASE_REPS);
            oproofc = summarise(cpu, BASE_REPS);
        }
    }
    sqlite3_close(db);

    printf("%-36s %9s %9s %9s %9s\n", "read", "p50 ms", "p99 ms", "max ms", "cpu p99");
    printf("%-36s %9.3f %9.3f %9.3f %9.3f\n", "proof lookup (client id -> leaf)", proof.p50,
           proof.p99, proof.max, proofc.p99);
    printf("%-36s %9.3f %9.3f %9.3f %9.3f  (%zu bytes)\n", "entry bundle (256 leaves)", bundle.p50,
           bundle.p99, bundle.max, bundlec.p99, bundle_bytes);
    printf("%-36s %9.3f %9.3f %9.3f %9.3f\n", "old: 1 leaf, tables scanned", oproof.p50,
           oproof.p99, oproof.max, oproofc.p99);
    printf("%-36s %9.3f %9.3f %9.3f %9.3f\n", "old: 256 leaves, tables scanned", obundle.p50,
           obundle.p99, obundle.max, obundlec.p99);
    printf("leaf: %ld observations, %lld leaves: proof lookup p50 %.3f ms (old %.1f ms, %.0fx), "
           "entry bundle p50 %.3f ms (old %.1f ms, %.0fx); CPU p99 %.3f / %.3f ms (targets %.0f / "
           "%.0f ms)\n",
           n, (long long)size, proof.p50, oproof.p50, oproof.p50 / fmax(proof.p50, 1e-6),
           bundle.p50, obundle.p50, obundle.p50 / fmax(bundle.p50, 1e-6), proofc.p99,
           bundlec.p99, TARGET_PROOF_MS, TARGET_BUNDLE_MS);
    store_close(s);
    agr_free(a);
    if (!getenv("TRUCE_BENCH_KEEP") && !reuse)
        bench_rm_tree(dir);
    else
        printf("kept %s\n", dir);
    int fail = 0;
    if (proofc.p99 >= TARGET_PROOF_MS) {
        printf("FAIL: proof lookup CPU p99 %.3f ms is not under %.0f ms\n", proofc.p99,
               TARGET_PROOF_MS);
        fail = 1;
    }
    if (bundlec.p99 >= TARGET_BUNDLE_MS) {
        printf("FAIL: entry bundle CPU p99 %.3f ms is not under %.0f ms\n", bundlec.p99,
               TARGET_BUNDLE_MS);
        fail = 1;
    }
    return fail;
}
