/* bench_fusion_quality.c: the quality of fusion, location and attribution (issue 4) measured end
 * to end at the simulator's documented noise (docs/simulator.md): `truce simulate` (seed 2016,
 * 30 days x 40 events on minsk-2015), `truce init`, `truce ingest`, `truce incidents --format
 * ndjson`, then the scorer in-process. Prints the scores beside the baseline "one incident per
 * observation (no fusion)" scored on the same truth in the same run, and exits 1 when a target
 * of issue 4 is missed.
 *
 * Runs the truce binary named by $TRUCE (default build/truce) from the repository root. When
 * that binary has no `incidents` command (before the fusion branch is merged) it says so and
 * exits 0. Temporary files live under $TMPDIR and are removed. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simulate/simulate.h"

#define AGREEMENT "examples/minsk-2015/agreement.json"
#define SEED "2016"
#define DAYS "30"
#define PER_DAY "40"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs argv with standard output to out_path (NULL: /dev/null) and standard error kept (or
 * silenced when quiet). Returns the exit status, or -1 when it could not run. */
static int run(char *const argv[], const char *out_path, bool quiet)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(127);
        if (quiet) {
            int nul = open("/dev/null", O_WRONLY);
            if (nul >= 0)
                dup2(nul, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int score_file(const struct sim_truth *t, const char *path, struct sim_scores *sc)
{
    FILE *f = fopen(path, "r");
    struct sim_eval *ev = NULL;
    if (!f || sim_eval_new(t, &ev)) {
        if (f)
            fclose(f);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long lineno = 0, bad = 0;
    struct errbuf e;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n && sim_eval_add(ev, line, (size_t)n, &e) && bad++ < 5)
            fprintf(stderr, "bench_fusion_quality: %s line %lld: %s\n", path, lineno, e.msg);
    }
    free(line);
    fclose(f);
    int rc = sim_eval_finish(ev, sc);
    sim_eval_free(ev);
    return rc || bad ? -1 : 0;
}

/* The no-fusion baseline: every observation its own incident, placed nowhere, undetermined. */
static int score_baseline(const struct sim_truth *t, struct sim_scores *sc)
{
    struct sim_eval *ev = NULL;
    if (sim_eval_new(t, &ev))
        return -1;
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    int rc = 0;
    for (size_t i = 0; i < t->n_reports && !rc; i++) {
        b.len = 0;
        rc = buf_printf(&b, "{\"id\":%zu,\"location\":null,\"party\":\"undetermined\","
                            "\"grade\":\"undetermined\",\"evidence\":[\"%s\"]}",
                        i + 1, t->reports[i].client_id);
        if (!rc)
            rc = sim_eval_add(ev, b.p, b.len, &e);
    }
    if (!rc)
        rc = sim_eval_finish(ev, sc);
    buf_reset(&b);
    sim_eval_free(ev);
    return rc;
}

int main(void)
{
    const char *truce = getenv("TRUCE") ? getenv("TRUCE") : "build/truce";
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/truce-fq-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("bench_fusion_quality: mkdtemp");
        return 2;
    }
    char sim[4200], data[4200], obs[4300], truth_path[4300], inc[4300];
    snprintf(sim, sizeof sim, "%s/sim", tmpl);
    snprintf(data, sizeof data, "%s/data", tmpl);
    snprintf(obs, sizeof obs, "%s/observations.ndjson", sim);
    snprintf(truth_path, sizeof truth_path, "%s/truth.json", sim);
    snprintf(inc, sizeof inc, "%s/incidents.ndjson", tmpl);
    int rc = 2;
    struct sim_truth *t = NULL;
    char *text = NULL;
    char *help[] = {(char *)truce, "incidents", "--help", NULL};
    char *simulate[] = {(char *)truce, "simulate", "--agreement", AGREEMENT, "--seed", SEED,
                        "--days", DAYS, "--events-per-day", PER_DAY, "--out", sim, "--quiet", NULL};
    char *init[] = {(char *)truce, "init", data, "--agreement", AGREEMENT, NULL};
    char *ingest[] = {(char *)truce, "--data", data, "ingest", "--quiet", obs, NULL};
    char *incidents[] = {(char *)truce, "--data", data, "incidents", "--format", "ndjson", NULL};
    if (run(help, NULL, true) != 0) {
        printf("bench_fusion_quality: skipped: %s has no 'incidents' command (the fusion branch "
               "adds it)\n", truce);
        rc = 0;
        goto out;
    }
    double t0 = now_s();
    if (run(simulate, NULL, false) || run(init, NULL, false) || run(ingest, NULL, false)) {
        fprintf(stderr, "bench_fusion_quality: simulate, init or ingest failed (run from the "
                        "repository root; TRUCE=%s)\n", truce);
        goto out;
    }
    double t1 = now_s();
    if (run(incidents, inc, false)) {
        fprintf(stderr, "bench_fusion_quality: truce incidents failed\n");
        goto out;
    }
    double t2 = now_s();
    size_t len;
    struct errbuf e;
    if (file_read(truth_path, SIM_TRUTH_MAX_BYTES, &text, &len, &e) ||
        sim_truth_parse(text, len, &t, &e)) {
        fprintf(stderr, "bench_fusion_quality: %s\n", e.msg);
        goto out;
    }
    struct sim_scores fused, base;
    if (score_file(t, inc, &fused) || score_baseline(t, &base)) {
        fprintf(stderr, "bench_fusion_quality: cannot score the incidents\n");
        goto out;
    }
    struct buf b;
    buf_init(&b);
    if (sim_scores_text(&fused, &b)) {
        buf_reset(&b);
        goto out;
    }
    printf("fusion quality: seed " SEED ", " DAYS " days x " PER_DAY " events, %zu observations "
           "(simulate+init+ingest %.1f s, incidents %.1f s)\n%s",
           t->n_reports, t1 - t0, t2 - t1, b.p);
    buf_reset(&b);
    printf("baseline (one incident per observation, no fusion): precision %.4f, recall %.4f; "
           "two or more observers: precision %.4f, recall %.4f\n",
           base.precision, base.recall, base.precision_multi, base.recall_multi);
    printf("fusion quality: precision (two or more observers) %.4f vs %.4f without fusion "
           "(ratio %.2f); recall %.4f; wrong at probable or better %.4f; triangulated median "
           "%.0f m (targets >= 0.95, >= 0.95, <= 0.01, <= 1000 m): %s\n",
           fused.precision_multi, base.precision_multi,
           base.precision_multi > 0 ? fused.precision_multi / base.precision_multi : 0,
           fused.recall_multi, fused.wrong_share_probable_or_better, fused.loc_median_tri_m,
           fused.met_precision && fused.met_recall && fused.met_attribution && fused.met_location
               ? "met" : "MISSED");
    rc = fused.met_precision && fused.met_recall && fused.met_attribution && fused.met_location
             ? 0 : 1;
out:
    sim_truth_free(t);
    free(text);
    nftw(tmpl, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
