/* fuzz_observation.c: libFuzzer harness for obs_parse_json (one observation record), followed on
 * success by the rest of the per-record pipeline: place_observation, rules_judge and
 * obs_to_json. The minsk-2015 agreement is loaded once, from
 * examples/minsk-2015/agreement.json relative to the working directory (tests/run-all runs from
 * the repository root), else relative to the harness binary (build-fuzz/..), else from
 * $TRUCE_FUZZ_AGREEMENT. Seeds: fuzz/corpus/observation. */
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agreement/agreement.h"
#include "observation/observation.h"
#include "placement/placement.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AGREEMENT_REL "examples/minsk-2015/agreement.json"

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
    fprintf(stderr, "fuzz_observation: cannot load the agreement (run from the repository root "
                    "or set TRUCE_FUZZ_AGREEMENT): %s\n", e.msg);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct agreement *a = agreement();
    static struct obs o; /* large (polygon, remarks): keep it off the stack */
    struct errbuf e;
    /* The input is not NUL-terminated: obs_parse_json must respect len. */
    if (obs_parse_json((const char *)data, size, a, a->time_zone, &o, &e))
        return 0;
    struct placement p;
    if (!place_observation(a, &o, &p, &e)) {
        struct finding f[RULES_MAX_FINDINGS];
        size_t nf = 0;
        rules_judge(a, &o, &p, f, &nf);
        if (nf > RULES_MAX_FINDINGS)
            abort();
    }
    struct buf b;
    buf_init(&b);
    if (!obs_to_json(&o, &b) && b.len && b.p[b.len - 1] != '}')
        abort();
    buf_reset(&b);
    return 0;
}
