/* bench_fusion_mix.c: the fusion engine's cost per report on realistic, dense reports (the
 * "simulated mix" of bench_http_post), beside the parse and placement of the same reports.
 *
 * 1. Reads the first N records (default 40,000; argv[2]) of an NDJSON file of observations
 *    (argv[1]; default: `build/truce simulate --agreement examples/minsk-2015/agreement.json
 *    --seed 5 --days 30 --events-per-day 2000` into a temporary directory, run first).
 * 2. Baseline: every record parsed (obs_parse_json) and placed (place_observation), as intake
 *    does before fusion. CPU time per report.
 * 3. Fusion: every placed report added to one engine as intake does, one at a time
 *    (fusion_ingest), and after each the incidents it changed summarised once each, as
 *    fusion_flush does after every POST (the store's writes left out). CPU time per report.
 *
 * Prints both, their ratio, the exact tests per report (fusion_comparisons) and the number of
 * incidents. Then a check, untimed: the same run again keeping each summary's JSON; at the end
 * every incident's summary must be the one last written for it (an incident changed without
 * being reported as changed would differ). Exits non-zero when fusion costs more than
 * TARGET_RATIO times the parse and placement of the same reports, or the check fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agreement/agreement.h"
#include "fusion/fusion.h"
#include "fusion/fusion_int.h"
#include "observation/observation.h"
#include "placement/placement.h"

#define DEFAULT_N 40000L
#define TARGET_RATIO 3.0
#define AGREEMENT_REL "examples/minsk-2015/agreement.json"
#define LINE_MAX_BYTES (1 << 20)

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Adds every placed report to a new engine, one at a time, and after each summarises the
 * incidents it changed, once each, as fusion_flush does. With `last`, each summary's JSON is
 * kept in last[id] (the check; the times are then not the figure). NULL on an error. */
static struct fusion *fuse(const struct agreement *a, const struct obs *obs,
                           const struct placement *pl, const bool *ok, long got, char **last,
                           long *summaries, double *t_add, double *t_fuse)
{
    struct errbuf e;
    struct fusion *f = fusion_new(a);
    static struct fusion_incident inc;
    struct buf b;
    buf_init(&b);
    double t0 = cpu_s();
    for (long i = 0; f && i < got; i++) {
        if (!ok[i])
            continue;
        double ta = cpu_s();
        if (fusion_ingest(f, &obs[i], &pl[i], i + 1, &e)) {
            fprintf(stderr, "bench_fusion_mix: record %ld: %s\n", i + 1, e.msg);
            return NULL;
        }
        *t_add += cpu_s() - ta;
        qsort(f->dirty, f->n_dirty, sizeof *f->dirty, cmp_id);
        for (size_t d = 0; d < f->n_dirty; d++) {
            int64_t id = f->dirty[d];
            if ((d && id == f->dirty[d - 1]) || fusion_incident_of(f, id) != id)
                continue;
            if (fusion_incident_get(f, id, &inc, &e)) {
                fprintf(stderr, "bench_fusion_mix: incident %lld: %s\n", (long long)id, e.msg);
                return NULL;
            }
            (*summaries)++;
            if (last) {
                b.len = 0;
                if (fusion_incident_json(&inc, &b) || buf_append(&b, "", 1))
                    return NULL;
                free(last[id]);
                last[id] = strdup(b.p);
            }
        }
        f->n_dirty = 0;
    }
    *t_fuse = cpu_s() - t0;
    buf_reset(&b);
    return f;
}

int main(int argc, char **argv)
{
    char path[512];
    char tmpl[] = "/tmp/bench_fusion_mix.XXXXXX";
    bool made = false;
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        if (!mkdtemp(tmpl)) {
            perror("bench_fusion_mix: mkdtemp");
            return 2;
        }
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "build/truce simulate --agreement " AGREEMENT_REL
                 " --seed 5 --days 30 --events-per-day 2000 --out %s >/dev/null",
                 tmpl);
        if (system(cmd)) {
            fprintf(stderr, "bench_fusion_mix: `%s` failed (run from the repository root after "
                            "make)\n", cmd);
            return 2;
        }
        snprintf(path, sizeof path, "%s/observations.ndjson", tmpl);
        made = true;
    }
    long n = argc > 2 ? atol(argv[2]) : DEFAULT_N;
    if (n < 1)
        n = DEFAULT_N;
    struct errbuf e;
    struct agreement *a;
    if (agr_load_file(AGREEMENT_REL, &a, &e)) {
        fprintf(stderr, "bench_fusion_mix: %s (run from the repository root)\n", e.msg);
        return 2;
    }
    FILE *in = fopen(path, "r");
    if (!in) {
        perror(path);
        return 2;
    }
    /* the records, read untimed */
    char **lines = calloc((size_t)n, sizeof *lines);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    char *line = malloc(LINE_MAX_BYTES);
    long got = 0;
    while (got < n && fgets(line, LINE_MAX_BYTES, in)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (!len)
            continue;
        lines[got] = malloc(len + 1);
        memcpy(lines[got], line, len + 1);
        lens[got++] = len;
    }
    fclose(in);
    free(line);
    struct obs *obs = calloc((size_t)got, sizeof *obs);
    struct placement *pl = calloc((size_t)got, sizeof *pl);
    bool *ok = calloc((size_t)got, sizeof *ok);
    if (!lines || !lens || !obs || !pl || !ok) {
        fprintf(stderr, "bench_fusion_mix: out of memory\n");
        return 2;
    }
    /* baseline: parse and place */
    long placed = 0;
    double t0 = cpu_s();
    for (long i = 0; i < got; i++) {
        struct errbuf re;
        ok[i] = !obs_parse_json(lines[i], lens[i], a, a->time_zone, &obs[i], &re) &&
                !place_observation(a, &obs[i], &pl[i], &re);
        placed += ok[i];
    }
    double t_place = cpu_s() - t0;
    /* fusion: each report added, then what it changed summarised once each */
    long summaries = 0;
    double t_add = 0, t_fuse = 0;
    struct fusion *f = fuse(a, obs, pl, ok, got, NULL, &summaries, &t_add, &t_fuse);
    if (!f)
        return 2;
    const int64_t *ids;
    size_t n_inc = fusion_incident_ids(f, &ids);
    double us_place = placed ? t_place / (double)placed * 1e6 : 0;
    double us_fuse = placed ? t_fuse / (double)placed * 1e6 : 0;
    double ratio = us_place > 0 ? us_fuse / us_place : 0;
    printf("fusion mix: %ld records of %s, %ld placed -> %zu incidents; %.1f exact tests and "
           "%.2f summaries per report\n",
           got, path, placed, n_inc, placed ? (double)fusion_comparisons(f) / (double)placed : 0,
           placed ? (double)summaries / (double)placed : 0);
    printf("fusion mix: fusion %.1f us CPU per report (add %.1f + summaries %.1f) vs parse and "
           "placement %.1f us (ratio %.2f, target <= %.1f): %s\n",
           us_fuse, placed ? t_add / (double)placed * 1e6 : 0,
           placed ? (t_fuse - t_add) / (double)placed * 1e6 : 0, us_place, ratio, TARGET_RATIO,
           ratio <= TARGET_RATIO ? "met" : "MISSED");
    fusion_free(f);
    /* the check (untimed run): after the last report, every incident's summary is the one
     * written when it last changed; an incident changed without being reported would differ */
    char **last = calloc((size_t)got + 1, sizeof *last);
    long s2 = 0, differ = 0;
    double ta2 = 0, tf2 = 0;
    f = last ? fuse(a, obs, pl, ok, got, last, &s2, &ta2, &tf2) : NULL;
    if (!f)
        return 2;
    n_inc = fusion_incident_ids(f, &ids);
    int64_t *copy = malloc(n_inc * sizeof *copy + 1);
    memcpy(copy, ids, n_inc * sizeof *copy);
    struct buf b;
    buf_init(&b);
    static struct fusion_incident inc;
    for (size_t i = 0; i < n_inc; i++) {
        b.len = 0;
        if (fusion_incident_get(f, copy[i], &inc, &e) || fusion_incident_json(&inc, &b) ||
            buf_append(&b, "", 1))
            return 2;
        if (!last[copy[i]] || strcmp(last[copy[i]], b.p))
            differ++;
    }
    printf("fusion mix: check: %zu incidents, %ld whose last written summary differs from the "
           "final one (must be 0)\n", n_inc, differ);
    buf_reset(&b);
    free(copy);
    fusion_free(f);
    for (long i = 0; i <= got; i++)
        free(last[i]);
    free(last);
    for (long i = 0; i < got; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    free(obs);
    free(pl);
    free(ok);
    agr_free(a);
    if (made) {
        char rm[600];
        snprintf(rm, sizeof rm, "rm -rf %s", tmpl);
        if (system(rm))
            fprintf(stderr, "bench_fusion_mix: could not remove %s\n", tmpl);
    }
    return ratio <= TARGET_RATIO && !differ ? 0 : 1;
}
