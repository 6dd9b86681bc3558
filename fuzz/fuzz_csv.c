/* fuzz_csv.c: libFuzzer harness for the record reader (reader.c): the input is written to an
 * in-memory FILE and read record by record, once as CSV and once with format detection (AUTO:
 * CSV, NDJSON or a JSON document), and each framed record is validated with obs_parse_json
 * (without an agreement, so place names are not resolved). Seeds: fuzz/corpus/csv. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observation/observation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t size, enum obs_format fmt)
{
    static struct obs o;
    /* fmemopen of a zero-size buffer fails on some libcs; use a 1-byte dummy. */
    char dummy = 0;
    FILE *f = fmemopen(size ? (void *)data : &dummy, size ? size : 1, "r");
    if (!f)
        return;
    if (!size)
        (void)getc(f); /* consume the dummy byte: the stream is empty */
    struct obs_reader *r = NULL;
    struct errbuf e;
    if (obs_reader_open(f, fmt, "fuzz", &r, &e)) {
        fclose(f);
        return;
    }
    /* Every call must consume input or end it: more records than bytes means a reader loop. */
    for (size_t guard = 0;; guard++) {
        if (guard > size + 16) {
            fprintf(stderr, "fuzz_csv: the reader does not make progress\n");
            abort();
        }
        const char *text;
        size_t len;
        bool fatal;
        int rc = obs_reader_next(r, &text, &len, &fatal, &e);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (fatal)
                break;
            continue;
        }
        if (obs_parse_json(text, len, NULL, "Europe/Kyiv", &o, &e) == 0) {
            struct buf b;
            buf_init(&b);
            (void)!obs_to_json(&o, &b);
            buf_reset(&b);
        }
    }
    (void)obs_reader_offset(r);
    obs_reader_free(r);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, OBS_FMT_CSV);
    run(data, size, OBS_FMT_AUTO);
    return 0;
}
