/* server.c: server_run: open the data directory (store, agreements, log), serve the API over
 * HTTP until the stop flag is set, then drain and close. */
#include "server/server.h"

#include <stdio.h>

#include "api/api.h"
#include "http/http.h"
#include "log/log.h"
#include "store/store.h"
#include "util/util.h"

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
            api_tick(api);
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
