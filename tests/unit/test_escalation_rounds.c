/* test_escalation_rounds.c: an evaluation with more windows to count than fit at once goes in
 * rounds and raises the same alerts. Builds escalation.c itself with room for only a few
 * findings' windows per round (ESC_MAX_CANDIDATES 325, where five thresholds need room for up
 * to 320 per finding), and evaluates the whole minsk-2015 sample at once. */
#define ESC_MAX_CANDIDATES 325
#include "../../src/escalation/escalation.c"

#include <unistd.h>

#include "ingest/ingest.h"
#include "t.h"

static int on_alert(void *ctx, const struct store_alert *a)
{
    struct buf *b = ctx;
    return buf_printf(b, "%s %s %s %s %lld %s\n", a->threshold, a->level, a->region, a->party,
                      a->n_findings, a->finding_ids);
}

static void test_rounds_raise_the_same_alerts(void)
{
    char dir[96];
    snprintf(dir, sizeof dir, "/tmp/truce-test-esc-rounds-%ld", (long)getpid());
    struct errbuf e;
    struct agreement *a = NULL;
    struct store *s = NULL;
    struct truce_log *log = NULL;
    struct store_agreements ag = {0};
    CHECK_INT(agr_load_file("examples/minsk-2015/agreement.json", &a, &e), 0);
    CHECK_INT(store_open(dir, true, &s, &e), 0);
    CHECK_INT(log_open(dir, s, &log, &e), 0);
    CHECK_INT(log_add_agreement(log, s, a, &e), 0);
    CHECK_INT(store_agreements_load(s, &ag, &e), 0);
    FILE *f = fopen("examples/minsk-2015/observations.ndjson", "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = "sample", .log = log};
    struct ingest_stats ist;
    CHECK_INT(ingest_stream(s, &ag, f, &o, &ist, &e), 0); /* no escalation while ingesting */
    fclose(f);
    struct esc_stats st = {0};
    int64_t last = 0;
    bool more = true;
    int rounds = 0;
    while (more && rounds < 100) {
        CHECK_INT(evaluate_some(s, ag.v[0], log, true, &last, &more, &st, &e), 0);
        rounds++;
    }
    CHECK(rounds >= 3);
    CHECK_INT(st.findings_seen, 21);
    CHECK_INT(st.alerts_raised, 4);
    CHECK_INT(last, 21);
    struct buf b;
    buf_init(&b);
    CHECK_INT(store_alerts_list(s, 0, 0, on_alert, &b, &e), 0);
    CHECK_CONTAINS(b.p, "fire-per-region-day notice donetsk  8 [1,2,3,4,5,6,7,10]\n");
    CHECK_CONTAINS(b.p, "heavy-weapon-fire serious donetsk  1 [15]\n");
    CHECK_CONTAINS(b.p, "withdrawal-same-party warning  af 2 [12,19]\n");
    CHECK_CONTAINS(b.p, "disengagement-breach serious donetsk  2 [10,13]\n");
    buf_reset(&b);
    CHECK_INT(esc_evaluate(s, ag.v[0], log, true, NULL, &st, &e), 0); /* again: nothing */
    CHECK_INT(st.alerts_raised, 0);
    fprintf(stderr, "  (%d rounds)\n", rounds);
    uint64_t checked;
    int64_t bad;
    CHECK_INT(log_verify(log, s, &checked, &bad, &e), 0);
    log_close(log);
    store_agreements_free(&ag);
    store_close(s);
    agr_free(a);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    static const struct t_case tests[] = {
        T(test_rounds_raise_the_same_alerts),
    };
    return T_RUN(tests);
}
