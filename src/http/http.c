/* http.c: the libmicrohttpd daemon behind http.h: listening address parsing, connection threads
 * (MHD's own) that read requests and send answers, the queue of small requests for the app
 * thread and the lock under which the application is called, body collection under a limit
 * (413 before the handler) or streaming to the application, the group commit (suspend, commit,
 * answer, resume), problem+json, the access log, and the graceful stop (quiesce, drain, commit,
 * stop). */
#include "http/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
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
    /* The application is called by one thread at a time: whichever holds app_lock (the app
     * thread in http_run, or a connection thread serving a large request). */
    pthread_mutex_t app_lock;
    struct conn *waiting; /* suspended until the next group commit (app_lock) */
    size_t n_waiting;
    int64_t commit_us;    /* the last group commit (app_lock) */
    /* Small requests handed to the app thread, oldest first (q_lock). */
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    struct conn *queue, **queue_tail;
    bool app_sleeping; /* the app thread waits on q_cond */
    bool wake;         /* something for the app thread besides the queue */
    bool closing;      /* http_stop: connection threads serve requests themselves */
    atomic_bool stopping; /* draining: answers say Connection: close */
    pthread_mutex_t log_lock;
    struct buf log;       /* access log lines not yet written (log_lock) */
    pthread_mutex_t peers_lock;
    struct peer *peers;   /* every open connection (peers_lock) */
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
    bool queued;   /* small: read whole by the connection's thread, served by the app thread */
    struct buf body;
    const struct http_stream *stream; /* NULL: the body is collected */
    void *state;
    bool dropped;   /* the stream refused data: the connection is being closed */
    /* The answer made while the connection was suspended, sent by its thread once resumed. */
    bool ready;
    struct http_response ans;
    int64_t start_us;
    struct conn *next; /* in the app queue, the waiting list or a list of answers to resume */
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
    pthread_mutex_lock(&s->log_lock);
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
    pthread_mutex_unlock(&s->log_lock);
}

/* Writes what the access log holds. */
static void log_flush(struct http_server *s)
{
    pthread_mutex_lock(&s->log_lock);
    log_write(&s->log);
    pthread_mutex_unlock(&s->log_lock);
}

void http_limits_default(struct http_limits *l)
{
    l->header_bytes = HTTP_HEADER_BYTES;
    l->body_bytes = HTTP_BODY_BYTES;
    l->timeout_s = HTTP_TIMEOUT_S;
    l->max_connections = HTTP_MAX_CONNECTIONS;
    l->threads = 0;
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

/* MHD's response for resp (the body is copied), with its access line written. */
static struct MHD_Response *make_response(struct http_server *s, struct conn *st,
                                          const struct http_response *resp)
{
    log_access(s, st, resp->status, resp->body.len, resp->user);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body.len, resp->body.len ? resp->body.p : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    if (resp->allow[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->www_authenticate);
    if (resp->link[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LINK, resp->link);
    if (atomic_load_explicit(&s->stopping, memory_order_relaxed))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return r;
}

/* Sends resp on st's connection (in its own access handler), with its access line. */
static enum MHD_Result send_answer(struct http_server *s, struct conn *st,
                                   const struct http_response *resp)
{
    struct MHD_Response *r = make_response(s, st, resp);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(st->c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void free_answer(struct conn *st)
{
    if (st->ready)
        buf_reset(&st->ans.body);
    st->ready = false;
}

/* Answers st with resp (under app_lock): the application's completed hook is told, and the
 * answer is either sent at once (direct: in the connection's own access handler) or taken over
 * (resp's body moved) for its thread to send once the connection is resumed, so that making
 * the response and the access line costs the app thread nothing. A queued request's stream
 * state is closed here: the application is done with it. */
static enum MHD_Result answer(struct http_server *s, struct conn *st, struct http_response *resp,
                              bool direct)
{
    if (resp->status < 100 || resp->status > 599)
        resp->status = 500;
    if (s->app.completed)
        s->app.completed(s->app.ctx, st->method, st->url, resp->status);
    if (direct)
        return send_answer(s, st, resp);
    if (st->stream && st->state) {
        st->stream->close(s->app.ctx, st->state);
        st->state = NULL;
    }
    memcpy(&st->ans, resp, offsetof(struct http_response, link));
    st->ans.link[0] = 0;
    if (resp->link[0])
        str_copy(st->ans.link, sizeof st->ans.link, resp->link);
    st->ans.after_commit = false;
    str_copy(st->ans.user, sizeof st->ans.user, resp->user);
    buf_init(&resp->body); /* moved */
    st->ready = true;
    return MHD_YES;
}

/* Answers with a problem made here (413, 500). */
static enum MHD_Result answer_problem(struct http_server *s, struct conn *st, int status,
                                      const char *detail, bool direct)
{
    struct http_response resp = {.status = status};
    buf_init(&resp.body);
    if (http_problem(&resp, status, NULL, detail))
        resp.body.len = 0;
    enum MHD_Result ret = answer(s, st, &resp, direct);
    buf_reset(&resp.body);
    return ret;
}

static struct http_request request_of(struct conn *st)
{
    return (struct http_request){.method = st->method,
                                 .path = st->url,
                                 .body = st->body.p ? st->body.p : "",
                                 .body_len = st->body.len,
                                 .impl = st->c,
                                 .state = st->state,
                                 .body_max = st->s->lim.body_bytes,
                                 .app_data = st->app_data};
}

/* The headers are in (under app_lock): admission, the stream or the body limit. Returns true
 * when the request was answered (*ret says how the answer went). */
static bool req_begin(struct http_server *s, struct conn *st, bool direct, enum MHD_Result *ret)
{
    *ret = MHD_YES;
    struct http_request req = request_of(st);
    req.body = "";
    req.body_len = 0;
    if (s->app.admit) { /* authentication and roles, before any body is read or staged */
        struct http_response resp = {.status = 200, .content_type = "application/json"};
        buf_init(&resp.body);
        if (!s->app.admit(s->app.ctx, &req, &resp)) {
            st->answered = true; /* whatever body follows is dropped */
            *ret = answer(s, st, &resp, direct);
            buf_reset(&resp.body);
            return true;
        }
        buf_reset(&resp.body);
    }
    st->stream = s->app.stream ? s->app.stream(s->app.ctx, &req) : NULL;
    if (st->stream) {
        st->state = st->stream->open(s->app.ctx, &req);
        if (!st->state) {
            st->stream = NULL;
            *ret = answer_problem(s, st, 500, "out of memory", direct);
            return true;
        }
        return false;
    }
    size_t lim = s->app.body_limit ? s->app.body_limit(s->app.ctx, st->method, st->url) : 0;
    st->limit = lim < s->lim.body_bytes ? lim : s->lim.body_bytes;
    const char *cl = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long n;
    if (cl && !str_to_ll(cl, &n) && n > 0 && (unsigned long long)n > st->limit) {
        st->too_big = true;
        char msg[128];
        snprintf(msg, sizeof msg, "the body may hold at most %zu bytes here, not %lld",
                 st->limit, n);
        *ret = answer_problem(s, st, 413, msg, direct);
        return true;
    }
    return false;
}

/* A piece of the body (under app_lock). Returns MHD_NO to close the connection unanswered. */
static enum MHD_Result req_data(struct http_server *s, struct conn *st, const char *p, size_t n)
{
    if (st->answered)
        return MHD_YES;
    if (st->stream) {
        if (st->dropped || st->stream->data(s->app.ctx, st->state, p, n)) {
            st->dropped = true;
            return MHD_NO;
        }
    } else if (!st->too_big) {
        if (st->body.len + n > st->limit) {
            st->too_big = true;
            buf_reset(&st->body);
        } else if (buf_append(&st->body, p, n)) {
            st->too_big = true; /* out of memory: answered as too large */
            buf_reset(&st->body);
        }
    }
    return MHD_YES;
}

/* Commits what is staged and answers every request waiting for it (under app_lock); the
 * answers are kept in the requests and the connections put on *resume. */
static void settle(struct http_server *s, struct conn **resume)
{
    if (s->app.commit)
        s->app.commit(s->app.ctx);
    s->commit_us = mono_us();
    struct conn *w = s->waiting;
    s->waiting = NULL;
    s->n_waiting = 0;
    while (w) {
        struct conn *next = w->next;
        struct http_response resp = {.status = 200, .content_type = "application/json"};
        buf_init(&resp.body);
        w->stream->finish(s->app.ctx, w->state, &resp);
        (void)answer(s, w, &resp, false);
        buf_reset(&resp.body);
        w->next = *resume;
        *resume = w;
        w = next;
    }
}

static bool is_closing(struct http_server *s)
{
    pthread_mutex_lock(&s->q_lock);
    bool c = s->closing;
    pthread_mutex_unlock(&s->q_lock);
    return c;
}

/* Tells the app thread that it has something to do besides the queue. */
static void wake_app(struct http_server *s)
{
    pthread_mutex_lock(&s->q_lock);
    s->wake = true;
    if (s->app_sleeping)
        pthread_cond_signal(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
}

/* The whole request is in (under app_lock): the handler runs; an answer that waits for the
 * group commit suspends the connection (direct) or joins the waiting list. Returns true when
 * the request waits. */
static bool req_end(struct http_server *s, struct conn *st, bool direct, enum MHD_Result *ret)
{
    *ret = MHD_YES;
    if (st->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body may hold at most %zu bytes here", st->limit);
        *ret = answer_problem(s, st, 413, msg, direct);
        return false;
    }
    struct http_request req = request_of(st);
    struct http_response resp = {.status = 200, .content_type = "application/json"};
    buf_init(&resp.body);
    s->app.handle(s->app.ctx, &req, &resp);
    if (resp.after_commit && st->stream) {
        buf_reset(&resp.body);
        if (direct && is_closing(s)) {
            /* http_stop has settled for the last time: this request commits for itself (what
             * others staged is committed with it; they are answered by the next settle) */
            if (s->app.commit)
                s->app.commit(s->app.ctx);
            struct http_response fin = {.status = 200, .content_type = "application/json"};
            buf_init(&fin.body);
            st->stream->finish(s->app.ctx, st->state, &fin);
            *ret = answer(s, st, &fin, true);
            buf_reset(&fin.body);
            return false;
        }
        st->next = s->waiting;
        s->waiting = st;
        s->n_waiting++;
        if (direct) {
            MHD_suspend_connection(st->c);
            wake_app(s);
        }
        return true;
    }
    *ret = answer(s, st, &resp, direct);
    buf_reset(&resp.body);
    return false;
}

/* A small request is served whole by the connection's thread when its headers say its body
 * (if any) is at most HTTP_QUEUED_BODY_BYTES: it is read, then handed to the app thread. */
static bool small_request(struct MHD_Connection *c)
{
    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return false;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long n;
    return !cl || (!str_to_ll(cl, &n) && n >= 0 && n <= (long long)HTTP_QUEUED_BODY_BYTES);
}

static void peer_in_request(struct http_server *s, struct MHD_Connection *c, bool in)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!ci || !ci->socket_context)
        return;
    struct peer *p = ci->socket_context;
    pthread_mutex_lock(&s->peers_lock);
    p->in_request = in;
    if (!in)
        p->since_ms = time_now_ms();
    pthread_mutex_unlock(&s->peers_lock);
}

/* A request read whole (under app_lock): admission, its body, the handler. Returns true when it
 * waits for the group commit. A stream that refuses the body leaves it unanswered (dropped). */
static bool serve_whole(struct http_server *s, struct conn *st, bool direct, enum MHD_Result *ret)
{
    if (req_begin(s, st, direct, ret))
        return false;
    struct buf body = st->body; /* st->body collects the body anew for a request without stream */
    buf_init(&st->body);
    if (body.len)
        *ret = req_data(s, st, body.p, body.len);
    buf_reset(&body);
    return *ret == MHD_YES && req_end(s, st, direct, ret);
}

/* The access handler, in the connection's thread. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct conn *st = *con_cls;
    enum MHD_Result ret = MHD_YES;
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
        peer_in_request(s, c, true);
        *con_cls = st;
        st->queued = small_request(c);
        if (st->queued)
            return MHD_YES;
        pthread_mutex_lock(&s->app_lock);
        (void)req_begin(s, st, true, &ret);
        pthread_mutex_unlock(&s->app_lock);
        return ret;
    }
    if (st->ready) { /* resumed with its answer */
        ret = send_answer(s, st, &st->ans);
        free_answer(st);
        return ret;
    }
    if (st->queued && st->dropped)
        return MHD_NO; /* resumed unanswered: closed */
    if (st->queued) {
        if (*upload_data_size) {
            if (st->body.len + *upload_data_size > HTTP_QUEUED_BODY_BYTES ||
                buf_append(&st->body, upload_data, *upload_data_size))
                return MHD_NO; /* more than its Content-Length said, or out of memory */
            *upload_data_size = 0;
            return MHD_YES;
        }
        pthread_mutex_lock(&s->q_lock);
        if (!s->closing) {
            MHD_suspend_connection(c);
            st->next = NULL;
            *s->queue_tail = st;
            s->queue_tail = &st->next;
            if (s->app_sleeping)
                pthread_cond_signal(&s->q_cond);
            pthread_mutex_unlock(&s->q_lock);
            return MHD_YES;
        }
        pthread_mutex_unlock(&s->q_lock);
        /* stopping: served here, like a large request */
        st->queued = false;
        pthread_mutex_lock(&s->app_lock);
        (void)serve_whole(s, st, true, &ret);
        pthread_mutex_unlock(&s->app_lock);
        return ret;
    }
    pthread_mutex_lock(&s->app_lock);
    if (*upload_data_size) {
        ret = req_data(s, st, upload_data, *upload_data_size);
        *upload_data_size = 0;
    } else if (!st->answered) {
        (void)req_end(s, st, true, &ret);
    }
    pthread_mutex_unlock(&s->app_lock);
    return ret;
}

/* Serves a queued request in the app thread (under app_lock); an answered one goes on *resume. */
static void serve_queued(struct http_server *s, struct conn *st, struct conn **resume)
{
    enum MHD_Result ret;
    if (!serve_whole(s, st, false, &ret)) {
        st->next = *resume;
        *resume = st;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http_server *s = cls;
    struct conn *st = *con_cls;
    peer_in_request(s, c, false);
    if (st) {
        if (st->stream && st->state) {
            pthread_mutex_lock(&s->app_lock);
            st->stream->close(s->app.ctx, st->state);
            pthread_mutex_unlock(&s->app_lock);
        }
        free_answer(st);
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
        pthread_mutex_lock(&s->peers_lock);
        p->next = s->peers;
        if (s->peers)
            s->peers->prev = p;
        s->peers = p;
        pthread_mutex_unlock(&s->peers_lock);
        *socket_context = p;
    } else if (*socket_context) {
        struct peer *p = *socket_context;
        pthread_mutex_lock(&s->peers_lock);
        if (p->prev)
            p->prev->next = p->next;
        else
            s->peers = p->next;
        if (p->next)
            p->next->prev = p->prev;
        pthread_mutex_unlock(&s->peers_lock);
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
    int cut = 0;
    pthread_mutex_lock(&s->peers_lock);
    for (struct peer *p = s->peers; p; p = p->next) {
        if (p->in_request || p->cut || now - p->since_ms < limit)
            continue;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(p->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            shutdown(ci->connect_fd, SHUT_RDWR); /* MHD sees the end and closes it */
            p->cut = true;
            cut++;
        }
    }
    pthread_mutex_unlock(&s->peers_lock);
    for (int i = 0; i < cut; i++)
        http_log(HTTP_LOG_INFO, "timeout",
                 "a connection sent no complete request within %u s: closed", s->lim.timeout_s);
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

/* The connection threads for lim->threads (0: one fewer than the processors, at least one). */
static unsigned thread_count(const struct http_limits *lim)
{
    if (lim->threads)
        return lim->threads < HTTP_THREADS_MAX ? lim->threads : HTTP_THREADS_MAX;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 2)
        return 1;
    return n - 1 < HTTP_THREADS_MAX ? (unsigned)(n - 1) : HTTP_THREADS_MAX;
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
    pthread_mutex_init(&s->app_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->peers_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->q_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->queue_tail = &s->queue;
    atomic_init(&s->stopping, false);
    s->commit_us = mono_us();
    unsigned threads = thread_count(&s->lim);
    /* MHD's own threads read and write the connections; the application runs in http_run. */
    unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_AUTO |
                     MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        /* SO_REUSEADDR: a restart binds at once, whatever connections are in TIME_WAIT */
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
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

/* Takes the queue (q_lock held). */
static struct conn *take_queue(struct http_server *s)
{
    struct conn *q = s->queue;
    s->queue = NULL;
    s->queue_tail = &s->queue;
    return q;
}

/* One round of the app thread (http_run). */
static void serve_round(struct http_server *s, unsigned wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->q_lock);
    while (!s->queue && !s->wake) {
        s->app_sleeping = true;
        int w = pthread_cond_timedwait(&s->q_cond, &s->q_lock, &until);
        s->app_sleeping = false;
        if (w)
            break; /* the wait is over */
    }
    s->wake = false;
    struct conn *batch = take_queue(s);
    pthread_mutex_unlock(&s->q_lock);

    struct conn *resume = NULL;
    pthread_mutex_lock(&s->app_lock);
    int64_t t0 = mono_us();
    while (batch) {
        while (batch) {
            struct conn *next = batch->next;
            serve_queued(s, batch, &resume);
            batch = next;
        }
        /* Requests queued meanwhile join the group, for at most HTTP_GROUP_WAIT_MS. */
        if (mono_us() - t0 >= HTTP_GROUP_WAIT_MS * 1000)
            break;
        pthread_mutex_lock(&s->q_lock);
        batch = take_queue(s);
        pthread_mutex_unlock(&s->q_lock);
    }
    bool staged = s->app.staged && s->app.staged(s->app.ctx);
    if (s->waiting ||
        (staged && mono_us() - s->commit_us >= (int64_t)HTTP_STREAM_COMMIT_MS * 1000))
        settle(s, &resume);
    if (s->app.tick)
        s->app.tick(s->app.ctx);
    pthread_mutex_unlock(&s->app_lock);
    while (resume) {
        struct conn *next = resume->next;
        MHD_resume_connection(resume->c);
        resume = next;
    }
    sweep(s);
    log_flush(s);
}

int http_run(struct http_server *s, unsigned wait_ms)
{
    serve_round(s, wait_ms);
    return 0;
}

unsigned http_port(const struct http_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

static unsigned connections(struct http_server *s)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

void http_stop(struct http_server *s, unsigned drain_ms)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    int64_t deadline = time_now_ms() + drain_ms;
    while (time_now_ms() < deadline && connections(s) > 0)
        serve_round(s, HTTP_DRAIN_POLL_MS);
    /* From here on the connection threads serve what still comes themselves (committing before
     * they answer), so no connection is suspended again: stopping a daemon with suspended
     * connections is not allowed. The last queued requests are served, what is staged is
     * committed (durable, if unanswered), and the waiting answered. */
    pthread_mutex_lock(&s->q_lock);
    s->closing = true;
    s->wake = true;
    pthread_mutex_unlock(&s->q_lock);
    serve_round(s, 0);
    pthread_mutex_lock(&s->app_lock);
    struct conn *resume = NULL;
    settle(s, &resume);
    pthread_mutex_unlock(&s->app_lock);
    while (resume) {
        struct conn *next = resume->next;
        MHD_resume_connection(resume->c);
        resume = next;
    }
    /* the resumed send their answers */
    int64_t until = time_now_ms() + HTTP_FINAL_SEND_MS;
    while (time_now_ms() < until && connections(s) > 0) {
        struct timespec ts = {0, HTTP_DRAIN_POLL_MS * 1000000L / 4};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    log_flush(s);
    buf_reset(&s->log);
    pthread_mutex_destroy(&s->app_lock);
    pthread_mutex_destroy(&s->q_lock);
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->peers_lock);
    pthread_cond_destroy(&s->q_cond);
    free(s);
}
