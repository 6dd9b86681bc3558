/* http.c: the libmicrohttpd daemon behind http.h: listening address parsing, per-connection
 * body collection under a limit (413 before the handler), response queueing, problem+json,
 * and the graceful stop (quiesce, drain, stop). */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_DRAIN_POLL_MS 20 /* how often the drain looks at the open connections */

struct http_server {
    struct MHD_Daemon *d;
    struct http_app app;
    struct http_limits lim;
};

/* Per-request state kept by MHD between calls of the access handler. */
struct conn {
    size_t limit;
    bool too_big;
    bool answered; /* the app refused the request before its body (http_app.admit) */
    struct buf body;
};

void http_limits_default(struct http_limits *l)
{
    l->header_bytes = HTTP_HEADER_BYTES;
    l->body_bytes = HTTP_BODY_BYTES;
    l->timeout_s = HTTP_TIMEOUT_S;
    l->max_connections = HTTP_MAX_CONNECTIONS;
}

const char *http_query(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->impl, MHD_GET_ARGUMENT_KIND, name);
}

struct query_each {
    int (*cb)(void *ctx, const char *name, const char *value);
    void *ctx;
    int rc;
};

static enum MHD_Result on_query_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct query_each *q = cls;
    q->rc = q->cb(q->ctx, key, value);
    return q->rc ? MHD_NO : MHD_YES;
}

int http_query_each(const struct http_request *r,
                    int (*cb)(void *ctx, const char *name, const char *value), void *ctx)
{
    struct query_each q = {cb, ctx, 0};
    MHD_get_connection_values(r->impl, MHD_GET_ARGUMENT_KIND, on_query_value, &q);
    return q.rc;
}

const char *http_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->impl, MHD_HEADER_KIND, name);
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 207: return "Multi-Status";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

int http_problem(struct http_response *resp, int status, const char *title, const char *detail)
{
    resp->status = status;
    resp->content_type = "application/problem+json";
    resp->link[0] = 0;
    resp->body.len = 0;
    if (resp->body.p)
        resp->body.p[0] = 0;
    int rc = buf_printf(&resp->body, "{\"type\":\"about:blank\",\"status\":%d,\"title\":", status);
    if (!rc)
        rc = buf_json_str(&resp->body, title ? title : http_status_text(status));
    if (!rc && detail) {
        rc = buf_printf(&resp->body, ",\"detail\":");
        if (!rc)
            rc = buf_json_str(&resp->body, detail);
    }
    if (!rc)
        rc = buf_append(&resp->body, "}\n", 2);
    return rc;
}

/* Queues resp on c; the body is copied by MHD. */
static enum MHD_Result queue(struct MHD_Connection *c, const struct http_response *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body.len, resp->body.len ? resp->body.p : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    if (resp->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
    if (resp->link[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LINK, resp->link);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers with a problem made here (413, 500), telling the application's completed hook. */
static enum MHD_Result answer_problem(struct http_server *s, struct MHD_Connection *c,
                                      const char *method, const char *url, int status,
                                      const char *detail)
{
    struct http_response resp = {.status = status};
    buf_init(&resp.body);
    enum MHD_Result ret = MHD_NO;
    if (!http_problem(&resp, status, NULL, detail))
        ret = queue(c, &resp);
    buf_reset(&resp.body);
    if (s->app.completed)
        s->app.completed(s->app.ctx, method, url, status);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct conn *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        buf_init(&st->body);
        size_t lim = s->app.body_limit ? s->app.body_limit(s->app.ctx, method, url) : 0;
        st->limit = lim < s->lim.body_bytes ? lim : s->lim.body_bytes;
        *con_cls = st;
        if (s->app.admit) {
            struct http_request req = {.method = method, .path = url, .body = "", .impl = c};
            struct http_response resp = {.status = 200, .content_type = "application/json"};
            buf_init(&resp.body);
            if (!s->app.admit(s->app.ctx, &req, &resp)) {
                st->answered = true; /* whatever body follows is dropped */
                enum MHD_Result ret = queue(c, &resp);
                buf_reset(&resp.body);
                if (s->app.completed)
                    s->app.completed(s->app.ctx, method, url, resp.status);
                return ret;
            }
            buf_reset(&resp.body);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        long long n;
        if (cl && !str_to_ll(cl, &n) && n > 0 && (unsigned long long)n > st->limit) {
            st->too_big = true;
            char msg[128];
            snprintf(msg, sizeof msg, "the body may hold at most %zu bytes here, not %lld",
                     st->limit, n);
            return answer_problem(s, c, method, url, 413, msg);
        }
        return MHD_YES;
    }
    if (st->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_big) {
            if (st->body.len + *upload_data_size > st->limit) {
                st->too_big = true;
                buf_reset(&st->body);
            } else if (buf_append(&st->body, upload_data, *upload_data_size)) {
                st->too_big = true; /* out of memory: answered as too large */
                buf_reset(&st->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body may hold at most %zu bytes here", st->limit);
        return answer_problem(s, c, method, url, 413, msg);
    }
    struct http_request req = {.method = method,
                               .path = url,
                               .body = st->body.p ? st->body.p : "",
                               .body_len = st->body.len,
                               .impl = c};
    struct http_response resp = {.status = 200, .content_type = "application/json"};
    buf_init(&resp.body);
    s->app.handle(s->app.ctx, &req, &resp);
    if (resp.status < 100 || resp.status > 599)
        resp.status = 500;
    enum MHD_Result ret = queue(c, &resp);
    buf_reset(&resp.body);
    if (s->app.completed)
        s->app.completed(s->app.ctx, method, url, resp.status);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn *st = *con_cls;
    if (st) {
        buf_reset(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* Parses "HOST:PORT" / "[V6]:PORT" into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6,
                        struct errbuf *e)
{
    char host[HTTP_LISTEN_MAX];
    if (!listen || strlen(listen) >= sizeof host)
        return errf(e, ERR_INVAL, "listen address: expected HOST:PORT");
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return errf(e, ERR_INVAL, "listen address %s: expected HOST:PORT", listen);
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = 0;
    long long port;
    if (str_to_ll(colon + 1, &port) || port < 0 || port > 65535)
        return errf(e, ERR_INVAL, "listen address %s: port must be 0..65535", listen);
    memset(ss, 0, sizeof *ss);
    *v6 = false;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return errf(e, ERR_INVAL, "listen address %s: bad IPv6 address", listen);
        *v6 = true;
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (hl == 0)
        a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (!strcmp(host, "localhost"))
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return errf(e, ERR_INVAL, "listen address %s: bad IPv4 address", listen);
    return 0;
}

int http_start(const char *listen, const struct http_limits *lim, const struct http_app *app,
               struct http_server **out, struct errbuf *e)
{
    *out = NULL;
    struct sockaddr_storage ss;
    bool v6;
    int rc = parse_listen(listen, &ss, &v6, e);
    if (rc)
        return rc;
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return errf(e, ERR_NOMEM, "http: out of memory");
    s->app = *app;
    if (lim)
        s->lim = *lim;
    else
        http_limits_default(&s->lim);
    /* No internal thread: http_run drives the daemon from the caller's thread. */
    unsigned flags = MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* SO_REUSEADDR: a restart binds at once, whatever connections are in TIME_WAIT */
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->lim.header_bytes,
        MHD_OPTION_CONNECTION_TIMEOUT, s->lim.timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return errf(e, ERR_IO, "http: cannot listen on %s (address in use or not available)",
                    listen);
    }
    *out = s;
    return 0;
}

int http_run(struct http_server *s, unsigned wait_ms)
{
    if (wait_ms > INT32_MAX)
        wait_ms = INT32_MAX;
    return MHD_run_wait(s->d, (int32_t)wait_ms) == MHD_YES ? 0 : ERR_IO;
}

unsigned http_port(const struct http_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void http_stop(struct http_server *s, unsigned drain_ms)
{
    if (!s)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    int64_t deadline = time_now_ms() + drain_ms;
    while (time_now_ms() < deadline) {
        const union MHD_DaemonInfo *i =
            MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!i || i->num_connections == 0)
            break;
        if (MHD_run_wait(s->d, HTTP_DRAIN_POLL_MS) != MHD_YES)
            break;
    }
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(s);
}
