/* fuzz_agreement.c: libFuzzer harness for agr_load_json, the loader of a self-contained
 * (resolved) agreement as the store keeps it. The input is one JSON text; on success the
 * agreement is exercised through its queries and freed. Seeds: fuzz/corpus/agreement. */
#include <stddef.h>
#include <stdint.h>

#include "agreement/agreement.h"
#include "escalation/escalation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agreement *a = NULL;
    struct errbuf e;
    if (agr_load_json((const char *)data, size, "fuzz", &a, &e))
        return 0;
    /* Touch the loaded structure the way placement and rules do. */
    struct geo_point p = {37.8, 48.0};
    (void)agr_region_at(a, p);
    (void)agr_control_at(a, p);
    (void)agr_place_nearest(a, p);
    (void)agr_place_find(a, "Donetsk");
    for (size_t i = 0; i < a->n_zones; i++)
        (void)agr_zone_distance_m(&a->zones[i], p);
    for (size_t i = 0; i < a->n_lines; i++)
        (void)geo_line_signed_distance_m(a->lines[i].line, p);
    (void)agr_weapon_class_match(a, "artillery", "2S1 Gvozdika", 122);
    int64_t from, to;
    (void)agr_report_window(a, 2016, 10, 10, &from, &to);
    /* the escalation section: the windows each threshold counts in */
    for (size_t i = 0; i < a->n_thresholds; i++) {
        int64_t starts[16], ends[16];
        size_t n = esc_windows(a, &a->thresholds[i], 1476100000000LL, starts, ends, 16);
        for (size_t k = 0; k < n; k++)
            if (starts[k] >= ends[k] || starts[k] > 1476100000000LL || ends[k] <= 1476100000000LL)
                __builtin_trap();
    }
    agr_free(a);
    return 0;
}
