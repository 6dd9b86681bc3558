/* bench_escalation.c: what escalation costs ingest. Ingests the same generated observations
 * (fire detections and tank sightings on the minsk-2015 scenario, spread over 120 days) with
 * the transparency log, without escalation and with the example's five thresholds evaluated
 * after every batch, in the same run (each twice, interleaved; the faster counts); prints both rates and their ratio, and the same
 * for one record per batch (as single HTTP POSTs). Exits 1 when escalation costs more than 25 %
 * of the ingest rate in batches (target: ratio >= 75 %), or when the alerts raised differ from
 * a full re-evaluation (which must raise none).
 *
 * Usage: build/bench/bench_escalation [N]   (default 50,000 records; run from the repository
 * root: it reads examples/minsk-2015/agreement.json) */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "escalation/escalation.h"
#include "ingest/ingest.h"
#include "log/log.h"

#define DEFAULT_N 50000
#define TARGET_RATIO 0.75

static uint64_t rng = 0x5EED1E55C0FFEE01ULL;
static double rnd01(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_escalation: %s: %s\n", what, msg);
    exit(2);
}

/* n records: 90 % located fire detections in Donetsk oblast near the line, 10 % tank sightings
 * attributed to a party near Horlivka (withdrawal violations), times over 120 days of 2016. */
static void generate(const char *path, long n, long offset)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, strerror(errno));
    int64_t t0 = 1451606400000LL; /* 2016-01-01T00:00:00Z */
    for (long i = 0; i < n; i++) {
        char when[40];
        time_format_utc(t0 + (int64_t)(rnd01() * 120 * 86400000.0), when, sizeof when);
        if (rnd01() < 0.9) {
            double lon = 37.55 + rnd01() * 0.6, lat = 47.9 + rnd01() * 0.45;
            fprintf(f,
                    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                    "[%.5f,%.5f]},\"properties\":{\"kind\":\"detection\",\"client_id\":\"b-%ld\","
                    "\"time\":\"%s\",\"means\":\"acoustic\",\"accuracy_m\":300,\"events\":[{\"type"
                    "\":\"impact\",\"count\":%d%s}]}}\n",
                    lon, lat, offset + i, when, 1 + (int)(rnd01() * 20),
                    rnd01() < 0.05 ? ",\"weapon\":{\"category\":\"artillery\",\"calibre_mm\":122}"
                                   : "");
        } else {
            double lon = 38.0 + rnd01() * 0.1, lat = 48.25 + rnd01() * 0.05;
            fprintf(f,
                    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                    "[%.5f,%.5f]},\"properties\":{\"kind\":\"sighting\",\"client_id\":\"b-%ld\","
                    "\"time\":\"%s\",\"means\":\"uav\",\"accuracy_m\":100,\"count\":2,\"weapon\":"
                    "{\"category\":\"tank\",\"model\":\"T-72\"},\"party\":\"af\"}}\n",
                    lon, lat, offset + i, when);
        }
    }
    fclose(f);
}

struct run {
    double seconds;
    long long records, findings, alerts;
};

static struct run ingest(const char *dir, const char *ndjson, bool escalate, size_t batch)
{
    struct errbuf e;
    struct agreement *a;
    struct store *s;
    struct truce_log *log;
    struct store_agreements ag;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &s, &e) || log_open(dir, s, &log, &e) ||
        log_add_agreement(log, s, a, &e) || store_agreements_load(s, &ag, &e))
        die(dir, e.msg);
    agr_free(a);
    FILE *f = fopen(ndjson, "r");
    if (!f)
        die(ndjson, strerror(errno));
    int64_t cursor = -1;
    struct esc_hook hook = {s, ag.v[0], log, &cursor, 0};
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = ndjson, .batch = batch, .log = log};
    if (escalate) {
        o.committed = esc_hook_after_batch;
        o.committed_ctx = &hook;
    }
    struct ingest_stats st;
    double t = now_s();
    if (ingest_stream(s, &ag, f, &o, &st, &e))
        die("ingest", e.msg);
    struct run r = {now_s() - t, st.records, st.findings, hook.alerts};
    fclose(f);
    if (escalate) {
        struct esc_stats es;
        if (esc_evaluate(s, ag.v[0], log, true, NULL, &es, &e))
            die("re-evaluation", e.msg);
        if (es.alerts_raised) {
            fprintf(stderr, "bench_escalation: a full re-evaluation raised %lld more alerts\n",
                    es.alerts_raised);
            exit(1);
        }
    }
    log_close(log);
    store_agreements_free(&ag);
    store_close(s);
    return r;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_N;
    if (n <= 0)
        die("N", "must be a positive number of records");
    const char *tmp = getenv("TMPDIR");
    char dir[4096], p[4200], nd[4200], nd1[4200];
    snprintf(dir, sizeof dir, "%s/truce-bench-esc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", strerror(errno));
    snprintf(nd, sizeof nd, "%s/obs.ndjson", dir);
    snprintf(nd1, sizeof nd1, "%s/obs1.ndjson", dir);
    generate(nd, n, 0);
    long n1 = n / 50 > 200 ? n / 50 : 200;
    generate(nd1, n1, n);
    sync();

    /* Each configuration twice, interleaved, keeping the faster: the disk is shared, and a
     * single run of either can catch another process's writeback. */
    struct run off = {1e300, 0, 0, 0}, on = off, off1 = off, on1 = off;
    for (int k = 0; k < 2; k++) {
        struct run x;
        snprintf(p, sizeof p, "%s/off%d", dir, k);
        if ((x = ingest(p, nd, false, 0)).seconds < off.seconds)
            off = x;
        snprintf(p, sizeof p, "%s/on%d", dir, k);
        if ((x = ingest(p, nd, true, 0)).seconds < on.seconds)
            on = x;
        snprintf(p, sizeof p, "%s/off1-%d", dir, k);
        if ((x = ingest(p, nd1, false, 1)).seconds < off1.seconds)
            off1 = x;
        snprintf(p, sizeof p, "%s/on1-%d", dir, k);
        if ((x = ingest(p, nd1, true, 1)).seconds < on1.seconds)
            on1 = x;
    }
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

    double r_off = (double)off.records / off.seconds, r_on = (double)on.records / on.seconds;
    double r_off1 = (double)off1.records / off1.seconds, r_on1 = (double)on1.records / on1.seconds;
    printf("batches of 10000: %lld records, %lld findings; without escalation %.0f obs/s, with 5 "
           "thresholds %.0f obs/s (%lld alerts); ratio %.0f%% (target >= %.0f%%)\n",
           on.records, on.findings, r_off, r_on, on.alerts, 100 * r_on / r_off,
           100 * TARGET_RATIO);
    printf("one record per batch: %lld records; without escalation %.0f obs/s, with %.0f obs/s "
           "(%lld alerts); ratio %.0f%%\n",
           on1.records, r_off1, r_on1, on1.alerts, 100 * r_on1 / r_off1);
    return r_on / r_off >= TARGET_RATIO ? 0 : 1;
}
