/* fuzz_truth.c: libFuzzer harness for the simulator's truth parser (sim_truth_parse) and the
 * scorer's incident reader (sim_eval_add). The input is parsed as a truth document; whatever
 * parses must find every report it holds by client id and count no event's observers above
 * the observers it lists, and is then scored with the input's lines as incidents. Independently
 * each input line is scored as an incident against a fixed small truth. Seeds: fuzz/corpus/truth
 * (truth files written by `truce simulate`, hand-made ones, incident lines). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate/simulate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FIXED_TRUTH[] =
    "{\"format\":\"truce-sim-truth/1\",\"parties\":[\"ua\",\"af\"],\"observers\":[{\"id\":\"p\"},"
    "{\"id\":\"c\"}],\"events\":[{\"id\":1,\"start\":\"2016-10-01T18:00:00Z\",\"end\":"
    "\"2016-10-01T18:10:00Z\",\"type\":\"impact\",\"count\":10,\"party\":\"af\",\"location\":"
    "[37.8,48.1],\"impact\":[37.8,48.1],\"origin\":[37.7,48.1],\"reports\":[{\"client_id\":"
    "\"a1\",\"observer\":\"p\"},{\"client_id\":\"b1\",\"observer\":\"c\"}]}],\"false_reports\":"
    "[{\"client_id\":\"f1\",\"observer\":\"p\"}]}";

static void score_lines(const struct sim_truth *t, const uint8_t *data, size_t size)
{
    struct sim_eval *ev;
    if (sim_eval_new(t, &ev))
        return;
    struct errbuf e;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            if (i > start)
                (void)sim_eval_add(ev, (const char *)data + start, i - start, &e);
            start = i + 1;
        }
    }
    struct sim_scores sc;
    if (!sim_eval_finish(ev, &sc)) {
        if (sc.matched_incidents + sc.duplicate_incidents + sc.false_incidents != sc.incidents)
            abort();
        if (sc.matched_events > sc.reported_events || sc.multi_matched_events > sc.multi_events)
            abort();
        if (sc.inside_ellipse > sc.with_ellipse || sc.inside_origin_radius > sc.with_origin_radius)
            abort();
        struct buf b;
        buf_init(&b);
        if (sim_scores_json(&sc, &b) || sim_scores_text(&sc, &b))
            abort();
        buf_reset(&b);
    }
    sim_eval_free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sim_truth *fixed;
    struct errbuf e;
    if (!fixed && sim_truth_parse(FIXED_TRUTH, strlen(FIXED_TRUTH), &fixed, &e)) {
        fprintf(stderr, "fuzz_truth: fixed truth: %s\n", e.msg);
        abort();
    }
    struct sim_truth *t = NULL;
    if (!sim_truth_parse((const char *)data, size, &t, &e)) {
        for (size_t i = 0; i < t->n_reports; i++)
            if (sim_truth_find(t, t->reports[i].client_id) != &t->reports[i])
                abort();
        for (size_t i = 0; i < t->n_events; i++)
            if ((size_t)t->events[i].n_observers > t->n_observers)
                abort();
        score_lines(t, data, size);
        sim_truth_free(t);
    }
    score_lines(fixed, data, size);
    return 0;
}
