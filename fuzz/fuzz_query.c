/* fuzz_query.c: libFuzzer harness for the query-parameter parsers of paged listings
 * (src/api/api_query.c): every input is given, as one NUL-terminated value, to api_parse_bbox,
 * api_parse_datetime (in UTC and in Europe/Kyiv) and api_parse_cursor, and what they accept is
 * checked: a bbox is ordered and on Earth, a window is not empty, and a cursor survives
 * api_format_cursor -> api_parse_cursor unchanged. Seeds: fuzz/corpus/query. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * API_QUERY_VALUE_BYTES)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    struct errbuf e;
    struct geo_bbox b;
    if (api_parse_bbox(s, &b, &e) == 0) {
        if (!(b.min_lon <= b.max_lon && b.min_lat <= b.max_lat && b.min_lon >= -180 &&
              b.max_lon <= 180 && b.min_lat >= -90 && b.max_lat <= 90)) {
            fprintf(stderr, "bbox accepted out of order or off Earth: %s\n", s);
            abort();
        }
    }
    static const char *const zones[] = {"UTC", "Europe/Kyiv"};
    for (int z = 0; z < 2; z++) {
        int64_t from, to;
        if (api_parse_datetime(s, zones[z], &from, &to, &e) == 0 && from != TIME_NONE &&
            to != TIME_NONE && !(from < to)) {
            fprintf(stderr, "empty window accepted: %s\n", s);
            abort();
        }
    }
    int64_t t, id;
    if (api_parse_cursor(s, &t, &id, &e) == 0) {
        char again[API_CURSOR_BYTES];
        api_format_cursor(t, id, again, sizeof again);
        int64_t t2, id2;
        if (api_parse_cursor(again, &t2, &id2, &e) || t2 != t || id2 != id || id < 1) {
            fprintf(stderr, "cursor does not round-trip: %s -> %s\n", s, again);
            abort();
        }
    }
    free(s);
    return 0;
}
