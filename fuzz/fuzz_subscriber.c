/* fuzz_subscriber.c: libFuzzer harness for the two escalation inputs that come from outside:
 * the JSON body of POST /api/v1/subscribers (esc_subscriber_check_json) and, for receivers, the
 * Truce-Signature header checked by esc_webhook_verify. The first byte picks the surface; the
 * rest is the input. Seeds: fuzz/corpus/subscriber. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escalation/escalation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agreement *agreement;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct errbuf e;
    if (!agreement && agr_load_file("fuzz/corpus/agreement/tiny-escalation.json", &agreement, &e))
        abort(); /* run from the repository root */
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        (void)esc_subscriber_check_json(agreement, text, len, &e);
        return 0;
    }
    /* header, a NUL, body */
    const char *nul = memchr(text, 0, len);
    char *header = strndup(text, nul ? (size_t)(nul - text) : len);
    const char *body = nul ? nul + 1 : "";
    size_t body_len = nul ? len - (size_t)(nul + 1 - text) : 0;
    static const char vkey[] =
        "truce.example/minsk-2015+57b1cdd4+Af5vS4uFJjLw/ZM6ZKrmga6c7dAPAXcqGswih3zGK5KS";
    (void)esc_webhook_verify(vkey, header, body, body_len, &e);
    free(header);
    return 0;
}
