/* fuzz_request.c: libFuzzer harness for the request-to-observation path of
 * POST /api/v1/observations: the bytes are a request body fed through api_post_observations,
 * the function the server's handler uses (content type, framing of NDJSON in pieces, JSON and
 * CSV collection, validation, placement, rules, the store's group transaction, the answer),
 * without sockets. The first input byte picks the Content-Type (of a list with wrong ones), the
 * second the size of the pieces the body arrives in (1..255 bytes, 0: at once); the rest is the
 * body. Checks: the status is one the route documents, the answer is JSON, and for 200/207/422
 * records = accepted + duplicates + rejected.
 *
 * The store (minsk-2015 agreement, no transparency log) is made once in a directory
 * truce-fuzz-request-PID under /dev/shm when there is one (fsync is free there), else $TMPDIR or
 * /tmp; it is removed at exit, and directories of earlier runs whose process is gone (libFuzzer
 * does not always exit through exit()) are removed at the start. The agreement comes
 * from examples/minsk-2015/agreement.json relative to the working directory, else to the
 * harness binary (build-fuzz/..), else $TRUCE_FUZZ_AGREEMENT. Seeds: fuzz/corpus/request. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agreement/agreement.h"
#include "api/api.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AGREEMENT_REL "examples/minsk-2015/agreement.json"

static const char *const CONTENT_TYPES[] = {
    NULL, "application/x-ndjson", "application/json", "application/geo+json", "text/csv",
    "application/x-www-form-urlencoded", "text/plain; charset=utf-8", "image/png", "",
    "application/geo+json-seq", "multipart/form-data; boundary=x", "APPLICATION/X-NDJSON",
};
#define N_TYPES (sizeof CONTENT_TYPES / sizeof CONTENT_TYPES[0])

static char dir[PATH_MAX];
static struct store *st;
static struct store_agreements ag;
static struct api *api;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    api_free(api);
    store_agreements_free(&ag);
    store_close(st);
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes truce-fuzz-request-PID directories in base whose process no longer runs. */
static void remove_stale(const char *base)
{
    DIR *d = opendir(base);
    if (!d)
        return;
    static const char prefix[] = "truce-fuzz-request-";
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, sizeof prefix - 1))
            continue;
        long pid = strtol(de->d_name + sizeof prefix - 1, NULL, 10);
        if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", base, de->d_name);
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    closedir(d);
}

static int load_agreement(struct agreement **a, struct errbuf *e)
{
    const char *env = getenv("TRUCE_FUZZ_AGREEMENT");
    if (env && !agr_load_file(env, a, e))
        return 0;
    if (!agr_load_file(AGREEMENT_REL, a, e))
        return 0;
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        snprintf(path, sizeof path, "%s/../" AGREEMENT_REL, dirname(exe));
        if (!agr_load_file(path, a, e))
            return 0;
    }
    return -1;
}

static void setup(void)
{
    struct errbuf e;
    struct agreement *a = NULL;
    if (load_agreement(&a, &e)) {
        fprintf(stderr, "fuzz_request: cannot load the agreement (run from the repository root "
                        "or set TRUCE_FUZZ_AGREEMENT): %s\n", e.msg);
        abort();
    }
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    remove_stale(base);
    snprintf(dir, sizeof dir, "%s/truce-fuzz-request-%ld", base, (long)getpid());
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* a directory of a reused pid */
    if ((mkdir(dir, 0700) && errf(&e, ERR_IO, "%s: %s", dir, strerror(errno))) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "fuzz_request: setup: %s\n", e.msg);
        abort();
    }
    agr_free(a);
    if (!(api = api_new(st, &ag, NULL)))
        abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!api)
        setup();
    if (size < 2)
        return 0;
    const char *ct = CONTENT_TYPES[data[0] % N_TYPES];
    size_t piece = data[1];
    struct http_response resp = {.status = 200, .content_type = "application/json"};
    buf_init(&resp.body);
    api_post_observations(api, ct, (const char *)data + 2, size - 2, piece, &resp);
    switch (resp.status) {
    case 200: case 207: case 400: case 413: case 415: case 422:
        break;
    default:
        fprintf(stderr, "fuzz_request: unexpected status %d: %.*s\n", resp.status,
                (int)resp.body.len, resp.body.p ? resp.body.p : "");
        abort();
    }
    json_error_t je;
    json_t *j = json_loadb(resp.body.p ? resp.body.p : "", resp.body.len, 0, &je);
    if (!j) {
        fprintf(stderr, "fuzz_request: the answer is not JSON (%s): %.*s\n", je.text,
                (int)resp.body.len, resp.body.p ? resp.body.p : "");
        abort();
    }
    if (resp.status == 200 || resp.status == 207 || resp.status == 422) {
        json_int_t r = json_integer_value(json_object_get(j, "records")),
                   n = json_integer_value(json_object_get(j, "accepted")) +
                       json_integer_value(json_object_get(j, "duplicates")) +
                       json_integer_value(json_object_get(j, "rejected"));
        if (r != n) {
            fprintf(stderr, "fuzz_request: %lld records but %lld results\n", (long long)r,
                    (long long)n);
            abort();
        }
    }
    json_decref(j);
    buf_reset(&resp.body);
    return 0;
}
