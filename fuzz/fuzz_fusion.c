/* fuzz_fusion.c: libFuzzer harness for the fusion engine. The input is NDJSON: each line an
 * observation record, validated (obs_parse_json) and placed as ingest does, then fused; every
 * incident is summarised and written as JSON and text. The same records are fused again in the
 * opposite order, which must give the same number of incidents (with at most
 * FUSION_MAX_EVIDENCE records the cap cannot split them differently). The minsk-2015 agreement
 * is found as in fuzz_observation.c. Seeds: fuzz/corpus/fusion. */
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agreement/agreement.h"
#include "fusion/fusion.h"
#include "observation/observation.h"
#include "placement/placement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AGREEMENT_REL "examples/minsk-2015/agreement.json"
#define MAX_RECORDS FUSION_MAX_EVIDENCE

static const struct agreement *agreement(void)
{
    static struct agreement *a;
    if (a)
        return a;
    struct errbuf e;
    const char *env = getenv("TRUCE_FUZZ_AGREEMENT");
    if (env && !agr_load_file(env, &a, &e))
        return a;
    if (!agr_load_file(AGREEMENT_REL, &a, &e))
        return a;
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        snprintf(path, sizeof path, "%s/../" AGREEMENT_REL, dirname(exe));
        if (!agr_load_file(path, &a, &e))
            return a;
    }
    fprintf(stderr, "fuzz_fusion: cannot load the agreement (run from the repository root or "
                    "set TRUCE_FUZZ_AGREEMENT): %s\n", e.msg);
    abort();
}

/* Fuses the records in the given order and returns the number of incidents after checking
 * every summary. */
static size_t fuse(const struct agreement *a, const struct fusion_obs *v, size_t n, bool reverse)
{
    struct fusion *f = fusion_new(a);
    if (!f)
        abort();
    struct errbuf e;
    for (size_t i = 0; i < n; i++) {
        int64_t inc;
        if (fusion_add(f, &v[reverse ? n - 1 - i : i], &inc, NULL, 0, NULL, &e))
            continue; /* refused (an invalid region): not fused */
    }
    const int64_t *ids0;
    size_t k = fusion_incident_ids(f, &ids0);
    int64_t ids[MAX_RECORDS];
    if (k > MAX_RECORDS)
        abort();
    memcpy(ids, ids0, k * sizeof *ids);
    static struct fusion_incident inc;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < k; i++) {
        if (fusion_incident_get(f, ids[i], &inc, &e))
            abort();
        if (inc.n_evidence < 1 || inc.count < 0 || inc.t_end_ms < inc.t_start_ms ||
            !(inc.semi_major_m >= inc.semi_minor_m || inc.semi_major_m != inc.semi_major_m))
            abort();
        b.len = 0;
        if (fusion_incident_json(&inc, &b) || b.p[b.len - 1] != '}')
            abort();
        b.len = 0;
        if (fusion_incident_text(&inc, a, &b))
            abort();
    }
    buf_reset(&b);
    fusion_free(f);
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct agreement *a = agreement();
    static struct obs o; /* large (polygon, remarks): keep it off the stack */
    static struct fusion_obs v[MAX_RECORDS];
    static char ids[MAX_RECORDS][sizeof o.client_id];
    size_t n = 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end && n < MAX_RECORDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct errbuf e;
        struct placement pl;
        if (!obs_parse_json(p, len, a, a->time_zone, &o, &e) &&
            !place_observation(a, &o, &pl, &e) &&
            fusion_obs_from(&o, &pl, (int64_t)n + 1, &v[n])) {
            memcpy(ids[n], o.client_id, sizeof ids[n]);
            v[n].client_id = ids[n];
            n++;
        }
        p += len + 1;
    }
    if (!n)
        return 0;
    if (fuse(a, v, n, false) != fuse(a, v, n, true))
        abort();
    return 0;
}
