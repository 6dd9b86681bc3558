/* http.h: truce's HTTP/1.1 server layer, the only user of libmicrohttpd: start and stop a daemon
 * on an address:port with named limits (header bytes, body bytes, connection timeout, maximum
 * connections), a request/response abstraction (method, path, query, headers, body; status,
 * content type, body), RFC 9457 problem+json responses, request bodies streamed to the
 * application as they arrive, group commit, and structured (JSON lines) logs.
 *
 * Threading: libmicrohttpd's threads (HTTP_THREADS_MAX at most, http_limits.threads) accept,
 * read and write the connections; the application is called by one thread at a time, under one
 * lock. A small request (a body of at most HTTP_QUEUED_BODY_BYTES by its Content-Length, or
 * none: nearly every request) is read whole by its connection's thread, suspended and queued
 * for the app thread, the caller's thread in http_run, which calls the application for it and
 * hands the answer back (the connection's thread sends it once resumed). A larger or chunked
 * upload is passed to the application by its connection's thread as it arrives, holding the
 * lock for each call. So while the app thread commits, the connection threads go on reading and
 * queueing requests, and the application's state (the store) is only ever used under the lock.
 *
 * Group commit: a handler whose answer must wait until its writes are durable sets
 * resp->after_commit. Its request waits (the connection stays suspended) while http_run goes on
 * serving the queue; once the queue is empty (or after HTTP_GROUP_WAIT_MS) http_run calls
 * app->commit once for everything staged by all of them, then has each waiting request's answer
 * made (stream->finish) and resumes its connection. One commit (one fsync of the log, one of the
 * database) thus acknowledges every request that came in while the previous one ran. */
#ifndef TRUCE_HTTP_H
#define TRUCE_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

/* Request line and headers of one request. It is also libmicrohttpd's buffer per connection,
 * which it zeroes for every request: 16 KiB rather than 32 saves about 5 % of a one-record POST. */
#define HTTP_HEADER_BYTES (16u << 10)
#define HTTP_BODY_BYTES (16u << 20)       /* the largest body any route may accept */
#define HTTP_TIMEOUT_S 30u                /* idle seconds before a connection is closed */
#define HTTP_MAX_CONNECTIONS 512u         /* connections open at once */
#define HTTP_LISTEN_MAX 256               /* bytes of an "address:port" string */
/* A request whose Content-Length is at most this (or that has no body) is read whole by its
 * connection's thread before the application sees it, admission included: what an
 * unauthenticated client can make the server read is bounded by this and the header bytes. */
#define HTTP_QUEUED_BODY_BYTES (16u << 10)
#define HTTP_THREADS_MAX 64u              /* connection threads */
#define HTTP_FINAL_SEND_MS 200            /* on stop, how long the last answers may take to go */
#define HTTP_LINK_BYTES 4096              /* a response's Link header (RFC 8288) */
#define HTTP_USER_MAX 64                  /* bytes of the user name an access log line shows */
/* While streamed bodies have records staged and no answer waits, http_run keeps reading for at
 * most this long before it commits them (so a long upload is committed at least this often). */
#define HTTP_STREAM_COMMIT_MS 1000u
/* Once an answer waits for the group commit, http_run serves the requests queued meanwhile for at
 * most this long before it commits (an empty queue ends it at once). */
#define HTTP_GROUP_WAIT_MS 2

struct http_limits {
    size_t header_bytes, body_bytes;
    unsigned timeout_s, max_connections;
    unsigned threads; /* connection threads; 0: one fewer than the processors, at least one */
};
/* The defaults above. */
void http_limits_default(struct http_limits *l);

/* One request as a handler sees it: valid for the duration of the handler call. The body is
 * NUL-terminated (body_len excludes the NUL); path is without the query string. */
struct http_request {
    const char *method, *path;
    const char *body;
    size_t body_len;
    void *impl;      /* the connection, for http_query and http_header */
    void *state;     /* a streamed request: what its stream's open returned (else NULL) */
    size_t body_max; /* the daemon's body limit (http_limits.body_bytes), for streams to apply */
    /* HTTP_APP_DATA_BYTES bytes the application may keep for this request from admit to handle
     * (zeroed when the request starts; suitably aligned for any type). */
    void *app_data;
};
#define HTTP_APP_DATA_BYTES 256
/* The value of query parameter name (decoded), or NULL. */
const char *http_query(const struct http_request *r, const char *name);
/* Calls cb with the name and value (decoded; value NULL for a bare name) of each query
 * parameter in order until cb returns non-zero, which is returned; 0 when all were seen. */
int http_query_each(const struct http_request *r,
                    int (*cb)(void *ctx, const char *name, const char *value), void *ctx);
/* The value of request header name (case-insensitive), or NULL. */
const char *http_header(const struct http_request *r, const char *name);

/* A response the handler fills: status (default 200), content type (a static string; default
 * application/json), body, an Allow header for 405 (empty: none), a WWW-Authenticate header
 * for 401 (a static string; NULL: none) and a Link header (empty: none). A handler of a streamed
 * request may instead set after_commit: the answer is made by the stream's finish once the next
 * group commit has run. user names the authenticated user for the access log (empty: none). */
struct http_response {
    int status;
    const char *content_type;
    struct buf body;
    char allow[64];
    const char *www_authenticate;
    char link[HTTP_LINK_BYTES];
    bool after_commit;
    char user[HTTP_USER_MAX];
};
/* Replaces the response with an RFC 9457 problem (application/problem+json) of status with
 * title and detail (detail may be NULL). Returns 0 or ERR_NOMEM. */
int http_problem(struct http_response *resp, int status, const char *title,
                 const char *detail) WUR;
/* The reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_status_text(int status);

/* A request whose body the application takes piece by piece as it arrives, with no overall
 * limit (the application limits what it keeps): open runs once the headers are in (req has no
 * body) and returns the request's state (NULL: answered 500); data gets each piece of the body
 * in order and returns 0, or non-zero to close the connection unanswered (nothing more of it is
 * read); then handle runs with req->state set; finish makes the answer of a handler that set
 * after_commit, after the group commit; close frees the state when the request is over
 * (answered or the connection gone). */
struct http_stream {
    void *(*open)(void *ctx, const struct http_request *req);
    int (*data)(void *ctx, void *state, const char *p, size_t n);
    void (*finish)(void *ctx, void *state, struct http_response *resp);
    void (*close)(void *ctx, void *state);
};

/* What the application supplies. body_limit says how many body bytes a request may carry
 * (capped by the daemon's body limit; more gives 413 before the handler runs); handle fills
 * the response; completed (may be NULL) is told the final status of every request, including
 * those the server layer answered itself (413, 500). stream (may be NULL) names the streamed
 * requests (NULL for a request whose body is collected); staged (may be NULL) says whether
 * writes wait for a commit; commit (may be NULL) makes them durable and records the outcome in
 * the states of the streamed requests. They are called under the server's one lock, by the
 * thread in http_run or by a connection's thread (never two at once), so the application needs
 * no locking of its own; each must return soon, as it holds up every other request. */
struct http_app {
    size_t (*body_limit)(void *ctx, const char *method, const char *path);
    /* May be NULL. Called for every request before its handler: a large or chunked upload as
     * soon as its headers are in, before any of its body is read; a small request (at most
     * HTTP_QUEUED_BODY_BYTES of body) once it is in whole, in the app thread (req->body is
     * empty either way). Returns false after filling resp, which is then sent (the rest of the
     * body is never read: an unauthenticated upload costs at most HTTP_QUEUED_BODY_BYTES), or
     * true to go on. */
    bool (*admit)(void *ctx, const struct http_request *req, struct http_response *resp);
    void (*handle)(void *ctx, const struct http_request *req, struct http_response *resp);
    void (*completed)(void *ctx, const char *method, const char *path, int status);
    void *ctx;
    const struct http_stream *(*stream)(void *ctx, const struct http_request *req);
    bool (*staged)(void *ctx);
    void (*commit)(void *ctx);
    void (*tick)(void *ctx); /* may be NULL: called at the end of every http_run */
};

struct http_server;

/* Parses "HOST:PORT" (IPv4 dotted quad, "localhost", or [IPv6]) and starts listening with
 * limits lim (NULL: the defaults) for app; nothing is served until http_run. Errors: ERR_INVAL
 * for a bad address, ERR_IO when the daemon could not start (port in use). */
int http_start(const char *listen, const struct http_limits *lim, const struct http_app *app,
               struct http_server **out, struct errbuf *e) WUR;
/* The app thread: waits at most wait_ms for queued requests, serves them (the application's
 * handlers run here), runs the group commit when an answer waits for it (or when streamed
 * records have been staged for HTTP_STREAM_COMMIT_MS), answers the requests that waited, calls
 * app->tick, and resumes the answered connections. The connection threads serve meanwhile, so
 * the caller must not use the application's state between calls (app->tick is the place for
 * periodic work). Call it in a loop. Returns 0. */
int http_run(struct http_server *s, unsigned wait_ms) WUR;
/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http_server *s);
/* Stops accepting connections, keeps serving those open until they close (at most drain_ms,
 * so requests in flight finish; answers carry "Connection: close"), commits what is staged,
 * then stops the daemon and frees s. NULL is a no-op. */
void http_stop(struct http_server *s, unsigned drain_ms);

/* ---- structured logs: one JSON object per line on stderr ---- */
enum http_log_level { HTTP_LOG_DEBUG, HTTP_LOG_INFO, HTTP_LOG_WARN, HTTP_LOG_ERROR };
extern const char *const HTTP_LOG_LEVEL_NAMES[4]; /* "debug", "info", "warn", "error" */
/* Lines below level are not written (default info). Access lines (one per request: time,
 * method, path, status, bytes, duration_ms, user) are at info. */
void http_log_set_level(enum http_log_level level);
/* Parses a level name; ERR_INVAL for another. */
int http_log_level_parse(const char *name, enum http_log_level *out) WUR;
/* Writes {"time":..,"level":..,"event":event,"detail":detail} (detail may be NULL) when level is
 * enabled. */
void http_log(enum http_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
