/* fuzz_webpath.c: libFuzzer harness for api_web_path_safe, the check that decides whether a
 * request path may name a file of the dashboard's web directory. The input is one path (NUL
 * bytes cut it short, as in a C string); an accepted path must never climb out of the
 * directory: no segment starting with a dot (so no "." or ".."), no empty segment, no byte
 * outside [A-Za-z0-9_./-]. Seeds: fuzz/corpus/webpath. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    size_t n = size < sizeof path - 1 ? size : sizeof path - 1;
    memcpy(path, data, n);
    path[n] = 0;
    if (!api_web_path_safe(path))
        return 0;
    if (path[0] != '/' || strstr(path, "/.") || strstr(path, "//") ||
        strlen(path) >= API_STATIC_PATH_MAX)
        abort();
    for (const char *p = path; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/", *p))
            abort();
    return 0;
}
