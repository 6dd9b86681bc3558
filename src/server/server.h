/* server.h: `truce serve`: the HTTP API over one data directory, run until asked to stop. */
#ifndef TRUCE_SERVER_H
#define TRUCE_SERVER_H
#include <signal.h>

#include "util/util.h"

#define SERVER_POLL_MS 100   /* how often the stop flag is looked at */
#define SERVER_DRAIN_MS 3000 /* how long requests in flight may take to finish on stop */

/* Opens the store, its agreement versions and its transparency log in data_dir, serves the API
 * (api/api.h) on listen ("HOST:PORT") and prints "listening on http://HOST:PORT" to stdout once
 * ready. Runs until *stop becomes non-zero (set it from a SIGINT/SIGTERM handler), then stops
 * accepting connections, lets requests in flight finish (at most SERVER_DRAIN_MS) and closes
 * everything. Returns 0 after a clean stop, or a negative error code after printing the reason
 * to stderr (no store in data_dir, bad address, port in use). Single-threaded: requests are served
 * one at a time in the calling thread, which alone touches the store. */
int server_run(const char *data_dir, const char *listen, volatile sig_atomic_t *stop) WUR;

/* Where the dashboard's files come from (web_dir: the web build's output, web/dist). NULL: look
 * next to the program (DIR/web/dist, DIR/../web/dist, DIR/../share/truce/web for the program in
 * DIR) and serve no dashboard, with a notice, when none is there. Call before server_run. */
void server_set_web_dir(const char *web_dir);

#endif
