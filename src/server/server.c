/* server.c: server_run: open the data directory (store, agreements, log), serve the API over
 * HTTP until the stop flag is set, then drain and close. */
#include "server/server.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "http/http.h"
#include "log/log.h"
#include "note/note.h"
#include "store/store.h"
#include "util/util.h"

static const char *web_dir_option;

void server_set_web_dir(const char *web_dir)
{
    web_dir_option = web_dir;
}

/* The web build next to the program, or NULL. */
static const char *web_dir_default(char *out, size_t n)
{
    static const char *const CANDIDATES[] = {"/web/dist", "/../web/dist", "/../share/truce/web"};
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return NULL;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    for (size_t i = 0; i < sizeof CANDIDATES / sizeof CANDIDATES[0]; i++) {
        snprintf(out, n, "%s%s/index.html", exe, CANDIDATES[i]);
        if (!access(out, R_OK)) {
            out[strlen(out) - strlen("/index.html")] = 0;
            return out;
        }
    }
    return NULL;
}

int server_run(const char *data_dir, const char *listen, volatile sig_atomic_t *stop)
{
    struct errbuf e;
    struct store *s = NULL;
    struct store_agreements ag = {0};
    struct truce_log *log = NULL;
    struct api *api = NULL;
    struct http_server *http = NULL;
    int rc = store_open(data_dir, false, &s, &e);
    if (!rc && (rc = store_agreements_load(s, &ag, &e)) == 0 && ag.n == 0)
        rc = errf(&e, ERR_NOTFOUND, "%s: the store holds no agreement", data_dir);
    if (!rc)
        rc = log_open(data_dir, s, &log, &e);
    if (!rc && !(api = api_new(s, &ag, log)))
        rc = errf(&e, ERR_NOMEM, "out of memory");
    if (!rc) {
        char vkey[NOTE_VKEY_SIZE], found[PATH_MAX];
        if (!log_verifier_key(data_dir, vkey, sizeof vkey, &e))
            api_set_verifier_key(api, vkey);
        const char *web = web_dir_option ? web_dir_option : web_dir_default(found, sizeof found);
        if (web)
            rc = api_set_web_dir(api, web, &e);
        else
            fprintf(stderr, "truce serve: no dashboard (no web/dist next to the program: run "
                            "make web, or give --web DIR)\n");
    }
    if (!rc) {
        struct http_app app;
        api_http_app(api, &app);
        struct http_limits lim;
        http_limits_default(&lim);
        rc = http_start(listen, &lim, &app, &http, &e);
    }
    if (rc) {
        fprintf(stderr, "truce serve: %s\n", e.msg);
    } else {
        printf("listening on http://%s (port %u)\n", listen, http_port(http));
        fflush(stdout);
        while (!*stop && !(rc = http_run(http, SERVER_POLL_MS)))
            ;
        if (rc)
            fprintf(stderr, "truce serve: the HTTP daemon failed\n");
        http_stop(http, SERVER_DRAIN_MS);
        printf("stopped\n");
        fflush(stdout);
    }
    api_free(api);
    log_close(log);
    if (s) {
        store_agreements_free(&ag);
        store_close(s);
    }
    return rc;
}
