/* server.c: server_run: open the data directory (store, agreements, log), serve the API over
 * HTTP until the stop flag is set, then drain, commit and close. */
#include "server/server.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "escalation/escalation.h"
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

int server_run(const struct server_config *c, volatile sig_atomic_t *stop)
{
    struct errbuf e;
    struct store *s = NULL;
    struct store_agreements ag = {0};
    struct truce_log *log = NULL;
    struct api *api = NULL;
    struct http_server *http = NULL;
    struct esc_delivery *delivery = NULL; /* webhooks: a thread with its own connection */
    http_log_set_level(c->log_level);
    int rc = store_open(c->data, false, &s, &e);
    if (!rc && (rc = store_agreements_load(s, &ag, &e)) == 0 && ag.n == 0)
        rc = errf(&e, ERR_NOTFOUND, "%s: the store holds no agreement", c->data);
    if (!rc)
        rc = log_open(c->data, s, &log, &e);
    if (!rc && !(api = api_new(s, &ag, log)))
        rc = errf(&e, ERR_NOMEM, "out of memory");
    if (!rc)
        rc = api_open_witness(api, c->data, &e);
    if (!rc) {
        char vkey[NOTE_VKEY_SIZE], found[PATH_MAX];
        if (!log_verifier_key(c->data, vkey, sizeof vkey, &e))
            api_set_verifier_key(api, vkey);
        const char *web = web_dir_option ? web_dir_option : web_dir_default(found, sizeof found);
        if (web)
            rc = api_set_web_dir(api, web, &e);
        else
            http_log(HTTP_LOG_WARN, "dashboard",
                     "none: no web/dist next to the program (run make web, or give --web DIR)");
    }
    if (!rc) {
        struct http_app app;
        api_http_app(api, &app);
        rc = http_start(c->listen, &c->lim, &app, &http, &e);
    }
    if (!rc) /* alerts a crash between a batch's commit and its evaluation left unraised */
        esc_startup_evaluate(s, ag.v[ag.n - 1], log);
    if (!rc)
        rc = esc_delivery_start(c->data, &delivery, &e);
    if (rc) {
        /* one JSON line like every other (docs/operations.md); the exit status says it failed */
        http_log(HTTP_LOG_ERROR, "start", "%s", e.msg);
        http_stop(http, 0);
    } else {
        printf("listening on http://%s (port %u)\n", c->listen, http_port(http));
        fflush(stdout);
        http_log(HTTP_LOG_INFO, "listening",
                 "http://%s (port %u), data %s, at most %u connections", c->listen,
                 http_port(http), c->data, c->lim.max_connections);
        while (!*stop && !(rc = http_run(http, SERVER_POLL_MS)))
            ;
        if (rc)
            http_log(HTTP_LOG_ERROR, "stop", "the HTTP daemon failed");
        else
            http_log(HTTP_LOG_INFO, "stopping", "draining requests in flight (at most %u ms)",
                     c->drain_ms);
        http_stop(http, c->drain_ms);
        api_finish(api);
        esc_delivery_stop(delivery);
        http_log(HTTP_LOG_INFO, "stopped", NULL);
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
