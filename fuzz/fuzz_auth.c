/* fuzz_auth.c: libFuzzer harness for the Authorization header parser of src/auth: the input is
 * parsed as a header value of its exact length and, NUL-terminated, as auth_authenticate would
 * see it. Invariants: an accepted token lies inside the input, is 1..AUTH_TOKEN_MAX bytes of
 * the b64token alphabet, and parsing "Bearer " + that token gives it back unchanged. Seeds:
 * fuzz/corpus/auth. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct errbuf e;
    const char *tok;
    size_t n;
    const char *in = (const char *)data;
    if (auth_bearer_parse(in, size, &tok, &n, &e) == 0) {
        if (tok < in || tok + n > in + size || n == 0 || n > AUTH_TOKEN_MAX)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=",
                        tok[i]) || tok[i] == 0)
                abort();
        char again[AUTH_TOKEN_MAX + 16];
        memcpy(again, "Bearer ", 7);
        memcpy(again + 7, tok, n);
        const char *t2;
        size_t n2;
        if (auth_bearer_parse(again, 7 + n, &t2, &n2, &e) != 0 || n2 != n ||
            memcmp(t2, tok, n) != 0)
            abort();
    }
    char *z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = 0;
    (void)auth_bearer_parse(z, strlen(z), &tok, &n, &e);
    free(z);
    return 0;
}
