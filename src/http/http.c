/* http.c: the libmicrohttpd daemon behind http.h: listening address parsing, per-connection
 * body collection under a limit (413 before the handler) or streaming to the application,
 * response queueing, the group commit (suspend, commit, answer, resume), problem+json, the
 * access log, and the graceful stop (quiesce, drain, commit, stop). */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_DRAIN_POLL_MS 20 /* how often the drain looks at the open connections */
#define HTTP_LOG_FLUSH_BYTES (64u << 10) /* access log bytes buffered before a write */
#define HTTP_SWEEP_MS 200 /* how often connections are checked against the request deadline */

struct conn;

/* One open connection, for the request deadline (slow clients). */
struct peer {
    struct MHD_Connection *c;
    int64_t since_ms; /* opened, or answered its last request */
    bool in_request;  /* headers of a request are in and it is not over */
    bool cut;         /* shut down by the sweep */
    struct peer *next, *prev;
};

struct http_server {
    struct MHD_Daemon *d;
    struct http_app app;
    struct http_limits lim;
    struct conn *waiting; /* suspended until the next group commit, newest first */
    size_t n_waiting;
    bool stopping;        /* draining: answers say Connection: close */
    struct buf log;       /* access log lines not yet written */
    struct peer *peers;   /* every open connection */
    int64_t swept_ms;
};

/* Per-request state kept by MHD between calls of the access handler. */
struct conn {
    struct http_server *s;
    struct MHD_Connection *c;
    const char *method, *url; /* MHD's, valid for the request's life */
    size_t limit;
    bool too_big;
    bool answered; /* the app refused the request before its body (http_app.admit) */
    struct buf body;
    const struct http_stream *stream; /* NULL: the body is collected */
    void *state;
    bool dropped;   /* the stream refused data: the connection is being closed */
    int64_t start_us;
    struct conn *next_waiting;
    _Alignas(max_align_t) unsigned char app_data[HTTP_APP_DATA_BYTES]; /* http_request.app_data */
};

static enum http_log_level log_level = HTTP_LOG_INFO;
const char *const HTTP_LOG_LEVEL_NAMES[4] = {"debug", "info", "warn", "error"};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "2026-11-28T10:00:00.123Z" */
static void log_time(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void http_log_set_level(enum http_log_level level) { log_level = level; }

int http_log_level_parse(const char *name, enum http_log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, HTTP_LOG_LEVEL_NAMES[i])) {
            *out = (enum http_log_level)i;
            return 0;
        }
    return ERR_INVAL;
}

/* Writes all of b to stderr (one write for whole lines, so lines of processes sharing the
 * stream do not interleave) and empties it. */
static void log_write(struct buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(STDERR_FILENO, b->p + off, b->len - off);
        if (w <= 0)
            break; /* a log that cannot be written is not a reason to stop serving */
        off += (size_t)w;
    }
    b->len = 0;
}

void http_log(enum http_log_level level, const char *event, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char t[40], detail[1024];
    log_time(t, sizeof t);
    struct buf b;
    buf_init(&b);
    int rc = buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":", t,
                        HTTP_LOG_LEVEL_NAMES[level]);
    if (!rc)
        rc = buf_json_str(&b, event);
    if (!rc && fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        rc = buf_printf(&b, ",\"detail\":");
        if (!rc)
            rc = buf_json_str(&b, detail);
    }
    if (!rc)
        rc = buf_append(&b, "}\n", 2);
    if (!rc)
        log_write(&b);
    buf_reset(&b);
}

/* Adds the access line of a finished request to the server's log buffer. */
static void log_access(struct http_server *s, struct conn *st, int status, size_t bytes,
                       const char *user)
{
    if (HTTP_LOG_INFO < log_level)
        return;
    char t[40];
    log_time(t, sizeof t);
    double ms = st ? (double)(mono_us() - st->start_us) / 1000.0 : 0;
    struct buf *b = &s->log;
    int rc = buf_printf(b, "{\"time\":\"%s\",\"level\":\"info\",\"event\":\"request\","
                           "\"method\":", t);
    if (!rc)
        rc = buf_json_str(b, st && st->method ? st->method : "");
    if (!rc)
        rc = buf_printf(b, ",\"path\":");
    if (!rc)
        rc = buf_json_str(b, st && st->url ? st->url : "");
    if (!rc)
        rc = buf_printf(b, ",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f", status, bytes,
                        ms);
    if (!rc && user && user[0]) {
        rc = buf_printf(b, ",\"user\":");
        if (!rc)
            rc = buf_json_str(b, user);
    }
    if (!rc)
        rc = buf_append(b, "}\n", 2);
    if (rc || b->len >= HTTP_LOG_FLUSH_BYTES)
        log_write(b);
}

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

/* Queues resp on c (the body is copied by MHD) and writes the access line. */
static enum MHD_Result queue(struct http_server *s, struct conn *st, struct MHD_Connection *c,
                             const struct http_response *resp)
{
    log_access(s, st, resp->status, resp->body.len, resp->user);
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
    if (s->stopping)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers with a problem made here (413, 500), telling the application's completed hook. */
static enum MHD_Result answer_problem(struct http_server *s, struct conn *st,
                                      struct MHD_Connection *c, const char *method,
                                      const char *url, int status, const char *detail)
{
    struct http_response resp = {.status = status};
    buf_init(&resp.body);
    enum MHD_Result ret = MHD_NO;
    if (!http_problem(&resp, status, NULL, detail))
        ret = queue(s, st, c, &resp);
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
        st->s = s;
        st->c = c;
        st->method = method;
        st->url = url;
        st->start_us = mono_us();
        buf_init(&st->body);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (ci && ci->socket_context)
            ((struct peer *)ci->socket_context)->in_request = true;
        *con_cls = st;
        struct http_request req = {
            .method = method, .path = url, .body = "", .impl = c, .body_max = s->lim.body_bytes,
            .app_data = st->app_data};
        if (s->app.admit) { /* authentication and roles, before any body is read or staged */
            struct http_response resp = {.status = 200, .content_type = "application/json"};
            buf_init(&resp.body);
            if (!s->app.admit(s->app.ctx, &req, &resp)) {
                st->answered = true; /* whatever body follows is dropped */
                enum MHD_Result ret = queue(s, st, c, &resp);
                buf_reset(&resp.body);
                if (s->app.completed)
                    s->app.completed(s->app.ctx, method, url, resp.status);
                return ret;
            }
            buf_reset(&resp.body);
        }
        st->stream = s->app.stream ? s->app.stream(s->app.ctx, &req) : NULL;
        if (st->stream) {
            st->state = st->stream->open(s->app.ctx, &req);
            if (!st->state) {
                st->stream = NULL;
                return answer_problem(s, st, c, method, url, 500, "out of memory");
            }
            return MHD_YES;
        }
        size_t lim = s->app.body_limit ? s->app.body_limit(s->app.ctx, method, url) : 0;
        st->limit = lim < s->lim.body_bytes ? lim : s->lim.body_bytes;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        long long n;
        if (cl && !str_to_ll(cl, &n) && n > 0 && (unsigned long long)n > st->limit) {
            st->too_big = true;
            char msg[128];
            snprintf(msg, sizeof msg, "the body may hold at most %zu bytes here, not %lld",
                     st->limit, n);
            return answer_problem(s, st, c, method, url, 413, msg);
        }
        return MHD_YES;
    }
    if (st->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (st->stream) {
            if (st->dropped ||
                st->stream->data(s->app.ctx, st->state, upload_data, *upload_data_size)) {
                st->dropped = true;
                return MHD_NO; /* closes the connection, unanswered */
            }
        } else if (!st->too_big) {
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
        return answer_problem(s, st, c, method, url, 413, msg);
    }
    struct http_request req = {.method = method,
                               .path = url,
                               .body = st->body.p ? st->body.p : "",
                               .body_len = st->body.len,
                               .impl = c,
                               .state = st->state,
                               .body_max = s->lim.body_bytes,
                               .app_data = st->app_data};
    struct http_response resp = {.status = 200, .content_type = "application/json"};
    buf_init(&resp.body);
    s->app.handle(s->app.ctx, &req, &resp);
    if (resp.after_commit && st->stream) {
        buf_reset(&resp.body);
        st->next_waiting = s->waiting;
        s->waiting = st;
        s->n_waiting++;
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    if (resp.status < 100 || resp.status > 599)
        resp.status = 500;
    enum MHD_Result ret = queue(s, st, c, &resp);
    buf_reset(&resp.body);
    if (s->app.completed)
        s->app.completed(s->app.ctx, method, url, resp.status);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http_server *s = cls;
    struct conn *st = *con_cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        struct peer *p = ci->socket_context;
        p->in_request = false;
        p->since_ms = time_now_ms();
    }
    if (st) {
        if (st->stream)
            st->stream->close(s->app.ctx, st->state);
        buf_reset(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct peer *p = calloc(1, sizeof *p);
        if (!p)
            return; /* not swept: MHD's idle timeout still applies */
        p->c = c;
        p->since_ms = time_now_ms();
        p->next = s->peers;
        if (s->peers)
            s->peers->prev = p;
        s->peers = p;
        *socket_context = p;
    } else if (*socket_context) {
        struct peer *p = *socket_context;
        if (p->prev)
            p->prev->next = p->next;
        else
            s->peers = p->next;
        if (p->next)
            p->next->prev = p->prev;
        free(p);
        *socket_context = NULL;
    }
}

/* Slow clients: a connection that has not sent a whole request's headers within timeout_s of
 * opening or of its last answer is shut down (MHD's own timeout only sees idleness, which a
 * client trickling a byte at a time never shows). */
static void sweep(struct http_server *s)
{
    int64_t now = time_now_ms();
    if (now - s->swept_ms < HTTP_SWEEP_MS)
        return;
    s->swept_ms = now;
    int64_t limit = (int64_t)s->lim.timeout_s * 1000;
    for (struct peer *p = s->peers; p; p = p->next) {
        if (p->in_request || p->cut || now - p->since_ms < limit)
            continue;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(p->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            shutdown(ci->connect_fd, SHUT_RDWR); /* MHD sees the end and closes it */
            p->cut = true;
            http_log(HTTP_LOG_INFO, "timeout",
                     "a connection sent no complete request within %u s: closed",
                     s->lim.timeout_s);
        }
    }
}

/* The group commit: when anything is staged or waits, commits it (the application records the
 * outcome in its streams' states), then answers every waiting request and resumes it. */
static void settle(struct http_server *s)
{
    bool staged = s->app.staged && s->app.staged(s->app.ctx);
    if (!staged && !s->waiting)
        return;
    if (s->app.commit)
        s->app.commit(s->app.ctx);
    struct conn *w = s->waiting;
    s->waiting = NULL;
    s->n_waiting = 0;
    while (w) {
        struct conn *next = w->next_waiting;
        struct http_response resp = {.status = 200, .content_type = "application/json"};
        buf_init(&resp.body);
        w->stream->finish(s->app.ctx, w->state, &resp);
        if (resp.status < 100 || resp.status > 599)
            resp.status = 500;
        queue(s, w, w->c, &resp); /* allowed on a suspended connection; sent once resumed */
        buf_reset(&resp.body);
        if (s->app.completed)
            s->app.completed(s->app.ctx, w->method, w->url, resp.status);
        MHD_resume_connection(w->c);
        w = next;
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
    buf_init(&s->log);
    /* No internal thread: http_run drives the daemon from the caller's thread. */
    unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_AUTO |
                     (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* SO_REUSEADDR: a restart binds at once, whatever connections are in TIME_WAIT */
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->lim.header_bytes,
        MHD_OPTION_CONNECTION_TIMEOUT, s->lim.timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_END);
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
    int rc = MHD_run_wait(s->d, (int32_t)wait_ms) == MHD_YES ? 0 : ERR_IO;
    /* Streams with staged records and no answer waiting: keep reading, commit in bulk. */
    int64_t t0 = time_now_ms();
    while (!rc && !s->waiting && s->app.staged && s->app.staged(s->app.ctx)) {
        int64_t left = t0 + HTTP_STREAM_COMMIT_MS - time_now_ms();
        if (left <= 0)
            break;
        rc = MHD_run_wait(s->d, (int32_t)left) == MHD_YES ? 0 : ERR_IO;
    }
    /* Answers wait: linger while more requests keep arriving to join the group, at most
     * HTTP_GROUP_WAIT_MS (a round that brings none ends it). */
    int64_t t1 = time_now_ms();
    while (!rc && s->waiting && time_now_ms() - t1 < HTTP_GROUP_WAIT_MS) {
        size_t before = s->n_waiting;
        rc = MHD_run_wait(s->d, 1) == MHD_YES ? 0 : ERR_IO;
        if (s->n_waiting == before)
            break;
    }
    settle(s);
    sweep(s);
    log_write(&s->log);
    return rc;
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
    s->stopping = true;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    int64_t deadline = time_now_ms() + drain_ms;
    while (time_now_ms() < deadline) {
        const union MHD_DaemonInfo *i =
            MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!i || i->num_connections == 0)
            break;
        if (http_run(s, HTTP_DRAIN_POLL_MS))
            break;
    }
    /* What is staged is committed (durable, if unanswered) and no connection stays suspended:
     * stopping a daemon with suspended connections is not allowed. The last round may suspend
     * more, hence the second settle. */
    settle(s);
    (void)MHD_run_wait(s->d, 0);
    settle(s);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    log_write(&s->log);
    buf_reset(&s->log);
    free(s);
}
