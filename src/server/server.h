/* server.h: `truce serve`: the HTTP API over one data directory, run until asked to stop, and
 * its configuration (a key = value file, overridden by flags). */
#ifndef TRUCE_SERVER_H
#define TRUCE_SERVER_H
#include <signal.h>

#include "http/http.h"
#include "util/util.h"

#define SERVER_POLL_MS 100   /* how often the stop flag is looked at */
#define SERVER_DRAIN_MS 3000 /* how long requests in flight may take to finish on stop */
#define SERVER_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVER_CONFIG_BYTES (64u << 10) /* the largest configuration file read */
#define SERVER_CONFIG_LINE 4096         /* bytes of one line of it */
#define SERVER_PATH_MAX 4096

/* Everything `truce serve` can be told. Keys of the file and flags (docs/operations.md):
 *   data             the data directory
 *   listen           HOST:PORT (default 127.0.0.1:8080)
 *   log_level        debug, info (default: a JSON line per request), warn, error
 *   max_connections  connections open at once (HTTP_MAX_CONNECTIONS)
 *   timeout_s        idle seconds before a connection is closed (HTTP_TIMEOUT_S)
 *   header_bytes     request line and headers of one request (HTTP_HEADER_BYTES)
 *   body_bytes       the largest collected body (HTTP_BODY_BYTES; NDJSON streams are not bound)
 *   threads          connection threads (0, the default: one fewer than the processors, at
 *                    least one); the application runs in one more, the caller's
 *   drain_ms         how long requests in flight may take on stop (SERVER_DRAIN_MS) */
struct server_config {
    char data[SERVER_PATH_MAX]; /* empty: not set */
    char listen[HTTP_LISTEN_MAX];
    enum http_log_level log_level;
    struct http_limits lim;
    unsigned drain_ms;
};

/* The defaults (no data directory). */
void server_config_default(struct server_config *c);
/* Sets one key (as in the file; a flag's name with dashes for underscores) from its text.
 * ERR_INVAL with e saying which key and why for an unknown key or a bad value. */
int server_config_set(struct server_config *c, const char *key, const char *value,
                      struct errbuf *e) WUR;
/* Reads a configuration file of "key = value" lines (blank lines and lines starting with # are
 * skipped; a value may be in double quotes) over c. Errors name the file and line. */
int server_config_load(const char *path, struct server_config *c, struct errbuf *e) WUR;

/* Opens the store, its agreement versions and its transparency log in c->data, serves the API
 * (api/api.h) on c->listen and prints "listening on http://HOST:PORT" to stdout once ready
 * (structured logs go to stderr). Runs until *stop becomes non-zero (set it from a
 * SIGINT/SIGTERM handler), then stops accepting connections, lets requests in flight finish (at
 * most c->drain_ms), commits what was staged and closes everything. Returns 0 after a clean
 * stop, or a negative error code after logging the reason (no store in the data directory, bad
 * address, port in use). Requests are read and answered by connection threads and served in the
 * calling thread, which alone uses the store (larger uploads under the same lock); concurrent
 * POSTs share group commits (http/http.h). */
int server_run(const struct server_config *c, volatile sig_atomic_t *stop) WUR;

/* Where the dashboard's files come from (web_dir: the web build's output, web/dist). NULL: look
 * next to the program (DIR/web/dist, DIR/../web/dist, DIR/../share/truce/web for the program in
 * DIR) and serve no dashboard, with a notice, when none is there. Call before server_run. */
void server_set_web_dir(const char *web_dir);

#endif
