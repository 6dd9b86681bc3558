/* http.h: truce's HTTP/1.1 server layer, the only user of libmicrohttpd: start and stop a daemon
 * on an address:port with named limits (header bytes, body bytes, connection timeout, maximum
 * connections), a request/response abstraction (method, path, query, headers, body; status,
 * content type, body) and RFC 9457 problem+json responses.
 *
 * Threading: none of its own. The daemon is driven by http_run in the caller's thread, and every
 * handler runs there, one request at a time, so the application's state (the store) stays with
 * the thread that owns it. */
#ifndef TRUCE_HTTP_H
#define TRUCE_HTTP_H
#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define HTTP_HEADER_BYTES (32u << 10)     /* request line and headers of one request */
#define HTTP_BODY_BYTES (16u << 20)       /* the largest body any route may accept */
#define HTTP_TIMEOUT_S 30u                /* idle seconds before a connection is closed */
#define HTTP_MAX_CONNECTIONS 64u          /* connections open at once */
#define HTTP_LISTEN_MAX 256               /* bytes of an "address:port" string */
#define HTTP_LINK_BYTES 4096              /* a response's Link header (RFC 8288) */

struct http_limits {
    size_t header_bytes, body_bytes;
    unsigned timeout_s, max_connections;
};
/* The defaults above. */
void http_limits_default(struct http_limits *l);

/* One request as a handler sees it: valid for the duration of the handler call. The body is
 * NUL-terminated (body_len excludes the NUL); path is without the query string. */
struct http_request {
    const char *method, *path;
    const char *body;
    size_t body_len;
    void *impl; /* the connection, for http_query and http_header */
};
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
 * for 401 (a static string; NULL: none) and a Link header (empty: none). */
struct http_response {
    int status;
    const char *content_type;
    struct buf body;
    char allow[64];
    const char *www_authenticate;
    char link[HTTP_LINK_BYTES];
};
/* Replaces the response with an RFC 9457 problem (application/problem+json) of status with
 * title and detail (detail may be NULL). Returns 0 or ERR_NOMEM. */
int http_problem(struct http_response *resp, int status, const char *title,
                 const char *detail) WUR;
/* The reason phrase of a status code ("Not Found"), "Unknown" for others. */
const char *http_status_text(int status);

/* What the application supplies. body_limit says how many body bytes a request may carry
 * (capped by the daemon's body limit; more gives 413 before the handler runs); handle fills
 * the response; completed (may be NULL) is told the final status of every request, including
 * those the server layer answered itself (413, 500). All run inside http_run and http_stop. */
struct http_app {
    size_t (*body_limit)(void *ctx, const char *method, const char *path);
    /* May be NULL. Called for every request once its headers are in, before any of its body is
     * read (req->body is empty): returns false after filling resp, which is then sent at once
     * (the body is never read: an unauthenticated upload costs nothing), or true to go on. */
    bool (*admit)(void *ctx, const struct http_request *req, struct http_response *resp);
    void (*handle)(void *ctx, const struct http_request *req, struct http_response *resp);
    void (*completed)(void *ctx, const char *method, const char *path, int status);
    void *ctx;
};

struct http_server;

/* Parses "HOST:PORT" (IPv4 dotted quad, "localhost", or [IPv6]) and starts listening with
 * limits lim (NULL: the defaults) for app; nothing is served until http_run. Errors: ERR_INVAL
 * for a bad address, ERR_IO when the daemon could not start (port in use). */
int http_start(const char *listen, const struct http_limits *lim, const struct http_app *app,
               struct http_server **out, struct errbuf *e) WUR;
/* Serves connections in the calling thread for at most wait_ms (less when a signal arrives):
 * accepts, reads, runs handlers, writes. Call it in a loop. Returns 0, or ERR_IO when the
 * daemon failed. */
int http_run(struct http_server *s, unsigned wait_ms) WUR;
/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http_server *s);
/* Stops accepting connections, keeps serving those open until they close (at most drain_ms,
 * so requests in flight finish), then stops the daemon and frees s. NULL is a no-op. */
void http_stop(struct http_server *s, unsigned drain_ms);

#endif
