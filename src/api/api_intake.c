/* api_intake.c: POST /api/v1/observations as bodies arrive, with group commit (see
 * api_intake_int.h): content-type and format detection, NDJSON framing of a stream of any
 * length, collection of JSON documents and CSV for the observation reader, staging into the
 * group's transaction, the commit and its outcome per request, per-record results (bounded),
 * the answer (200/207/422, 400/413/503 problems), and the checkpoint signed after commits. */
#include "api/api_intake_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "escalation/escalation.h"
#include "log/log.h"

/* How the observation module starts the message of a record that is not JSON at all (the result
 * carries no code, so the text is what tells a malformed record from an invalid one). */
#define API_MALFORMED_PREFIX "record: malformed JSON"
/* Bytes looked at to tell NDJSON from a JSON document when the content type does not say. */
#define INTAKE_DETECT_BYTES (64u << 10)
#define INTAKE_MSG_MAX (sizeof(((struct errbuf *)0)->msg))

enum intake_mode { MODE_DETECT, MODE_NDJSON, MODE_COLLECT };

struct intake_group {
    struct store *s;
    const struct store_agreements *ag;
    struct truce_log *log;
    bool in_tx;
    long long staged;    /* records stored in the open transaction */
    struct intake *open; /* every intake not closed yet */
    struct obs *scratch;
    /* the newest checkpoint this server signed */
    struct buf cp_note;
    int64_t cp_size, cp_ms;
    bool cp_any;
    unsigned long long commits, committed_records;
    size_t collected; /* bytes of bodies being collected by all intakes */
    struct fusion *fusion; /* incidents of the stored fire reports (may be NULL) */
    struct esc_hook esc;  /* escalation after each commit; its cursor is esc_cursor */
    int64_t esc_cursor;
};

/* Where a request's results stand: kept at each commit so a failed one can be cut back. */
struct results_mark {
    size_t len;
    long long n, omitted;
};

struct intake {
    struct intake_group *g;
    struct intake *next, *prev;
    enum intake_mode mode;
    enum obs_format fmt; /* MODE_COLLECT: the reader's format */
    struct buf pending;  /* NDJSON: the unfinished line; otherwise the body so far */
    bool skipping;       /* NDJSON: inside a line over the record limit */
    bool too_big;        /* collected body over body_max */
    size_t body_max;
    bool oom, failed;
    bool busy;      /* over API_COLLECT_TOTAL_BYTES: answered 503 */
    size_t counted; /* bytes of pending counted in g->collected */
    unsigned long long bytes;
    long long index; /* records seen */
    struct ingest_stats committed, staged;
    bool staged_stored; /* an accepted or duplicate record waits for the commit */
    int64_t log_needed; /* log leaves that must be signed to cover this request's records */
    struct buf results;
    struct results_mark now, at_commit;
    long long first_malformed;
    char malformed[INTAKE_MSG_MAX];
    int read_rc; /* the document could not be read (400/500) */
    char msg[INTAKE_MSG_MAX];
};

/* ---- the group ---- */

struct intake_group *intake_group_new(struct store *s, const struct store_agreements *ag,
                                      struct truce_log *log, struct fusion *fusion)
{
    struct intake_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->scratch = malloc(sizeof *g->scratch);
    if (!g->scratch) {
        free(g);
        return NULL;
    }
    g->s = s;
    g->ag = ag;
    g->log = log;
    g->fusion = fusion;
    g->esc_cursor = -1;
    g->esc = (struct esc_hook){s, ag->v[ag->n - 1], log, &g->esc_cursor, 0};
    buf_init(&g->cp_note);
    struct store_checkpoint cp = {0};
    struct errbuf e;
    if (log && store_checkpoint_last(s, &cp, &e) == 0) {
        g->cp_size = cp.size;
        free(cp.note);
    }
    return g;
}

void intake_group_free(struct intake_group *g)
{
    if (!g)
        return;
    if (g->in_tx)
        intake_group_commit(g);
    buf_reset(&g->cp_note);
    free(g->scratch);
    free(g);
}

bool intake_group_staged(const struct intake_group *g) { return g->in_tx; }

/* Signs a checkpoint over the committed leaves when they are not all in one: at most once per
 * API_CHECKPOINT_INTERVAL_MS, or at once when final (the server stops). */
static void checkpoint_if_due(struct intake_group *g, bool final)
{
    if (!g->log || g->in_tx)
        return;
    int64_t size = store_log_committed(g->s);
    int64_t now = time_now_ms();
    if (size <= g->cp_size ||
        (!final && g->cp_any && now - g->cp_ms < API_CHECKPOINT_INTERVAL_MS))
        return;
    g->cp_any = true;
    g->cp_ms = now;
    g->cp_note.len = 0;
    bool made;
    struct errbuf e;
    if (log_checkpoint(g->log, g->s, &g->cp_note, &made, &e)) {
        g->cp_note.len = 0;
        http_log(HTTP_LOG_ERROR, "checkpoint", "no checkpoint signed: %s", e.msg);
        return;
    }
    g->cp_size = size;
}

void intake_group_tick(struct intake_group *g) { checkpoint_if_due(g, false); }

void intake_group_finish(struct intake_group *g)
{
    intake_group_commit(g);
    checkpoint_if_due(g, true);
}

void intake_group_counters(const struct intake_group *g, unsigned long long *commits,
                           unsigned long long *records)
{
    *commits = g->commits;
    *records = g->committed_records;
}

/* After a commit (ok) or a failed or abandoned transaction: each open intake's staged records
 * become committed, or, when they needed the store and it failed, the intake fails. */
static void settle_all(struct intake_group *g, bool ok, const char *why)
{
    for (struct intake *in = g->open; in; in = in->next) {
        if (!ok && in->staged_stored) {
            if (!in->failed) {
                in->failed = true;
                snprintf(in->msg, sizeof in->msg,
                         "the store could not commit (%s): records from %lld on were not stored; "
                         "those before were",
                         why, in->committed.records + 1);
            }
            in->results.len = in->at_commit.len;
            if (in->results.p)
                in->results.p[in->results.len] = 0;
            in->now = in->at_commit;
        } else {
            in->committed.records += in->staged.records;
            in->committed.accepted += in->staged.accepted;
            in->committed.duplicates += in->staged.duplicates;
            in->committed.rejected += in->staged.rejected;
            in->committed.findings += in->staged.findings;
            in->at_commit = in->now;
        }
        memset(&in->staged, 0, sizeof in->staged);
        in->staged_stored = false;
    }
}

void intake_group_commit(struct intake_group *g)
{
    if (!g->in_tx)
        return;
    struct errbuf e;
    int64_t t0 = time_now_ms();
    int rc = ingest_commit(g->s, g->log, g->fusion, g->ag, &e);
    http_log(HTTP_LOG_DEBUG, "commit", "%lld records in %lld ms", g->staged,
             (long long)(time_now_ms() - t0));
    g->in_tx = false;
    if (rc) {
        http_log(HTTP_LOG_ERROR, "commit", "the group transaction failed: %s", e.msg);
    } else {
        g->commits++;
        g->committed_records += (unsigned long long)g->staged;
    }
    g->staged = 0;
    settle_all(g, rc == 0, rc ? e.msg : NULL);
    if (!rc) {
        esc_hook_after_batch(&g->esc); /* alerts (and their leaves) in their own transaction */
        checkpoint_if_due(g, false);
    }
}

unsigned long long intake_group_alerts(const struct intake_group *g)
{
    return (unsigned long long)g->esc.alerts;
}

/* A store or log failure while staging: the whole group transaction is abandoned. */
static void group_fail(struct intake_group *g, const char *why)
{
    http_log(HTTP_LOG_ERROR, "ingest", "the group transaction was abandoned: %s", why);
    if (g->in_tx)
        ingest_abort(g->s, g->log, g->fusion, g->ag);
    g->in_tx = false;
    g->staged = 0;
    settle_all(g, false, why);
}

/* ---- one request ---- */

static int set_oom(struct intake *in)
{
    in->oom = true;
    return -1;
}

static void result_add(struct intake *in, const struct ingest_result *r)
{
    if (r->status == INGEST_REJECTED && r->error && !in->first_malformed &&
        !strncmp(r->error, API_MALFORMED_PREFIX, strlen(API_MALFORMED_PREFIX))) {
        in->first_malformed = r->index;
        str_copy(in->malformed, sizeof in->malformed, r->error);
    }
    if (in->now.n >= API_INGEST_RESULTS_MAX ||
        (r->index > API_INGEST_RESULTS_MAX && r->status != INGEST_REJECTED)) {
        in->now.omitted++;
        return;
    }
    struct buf *b = &in->results;
    int rc = buf_printf(b, "%s{\"index\":%lld,\"status\":\"%s\"", in->now.n ? ",\n" : "",
                        r->index, INGEST_STATUS_NAMES[r->status]);
    if (!rc && r->client_id && r->client_id[0]) {
        rc = buf_printf(b, ",\"client_id\":");
        if (!rc)
            rc = buf_json_str(b, r->client_id);
    }
    if (!rc && (r->status == INGEST_ACCEPTED || r->status == INGEST_DUPLICATE))
        rc = buf_printf(b, ",\"id\":%lld", (long long)r->id);
    if (!rc && r->status == INGEST_ACCEPTED)
        rc = buf_printf(b, ",\"findings\":%zu", r->n_findings);
    if (!rc && r->error) {
        rc = buf_printf(b, ",\"error\":");
        if (!rc)
            rc = buf_json_str(b, r->error);
    }
    if (!rc)
        rc = buf_append(b, "}", 1);
    if (rc)
        in->oom = true;
    in->now.n++;
    in->now.len = b->len;
}

static void count(struct ingest_stats *st, const struct ingest_result *r)
{
    st->records++;
    if (r->status == INGEST_ACCEPTED) {
        st->accepted++;
        st->findings += (long long)r->n_findings;
    } else if (r->status == INGEST_DUPLICATE) {
        st->duplicates++;
    } else {
        st->rejected++;
    }
}

/* A record refused before it was parsed (too long, unreadable): no store access. */
static void reject(struct intake *in, const char *why)
{
    struct ingest_result r = {.index = ++in->index, .status = INGEST_REJECTED,
                              .client_id = "", .error = why};
    count(&in->staged, &r);
    result_add(in, &r);
}

/* One record's text: validated, placed, judged and stored in the group's transaction. */
static int stage(struct intake *in, const char *text, size_t len)
{
    struct intake_group *g = in->g;
    struct errbuf re, e;
    if (!g->in_tx) {
        if (store_begin(g->s, &e)) {
            in->staged_stored = true; /* so it fails with the rest */
            group_fail(g, e.msg);
            return -1;
        }
        g->in_tx = true;
    }
    struct ingest_result r = {.index = ++in->index, .client_id = ""};
    if (ingest_record(g->s, g->ag, g->log, g->fusion, text, len, g->scratch, &r, &re, &e)) {
        in->staged_stored = true;
        group_fail(g, e.msg);
        return -1;
    }
    count(&in->staged, &r);
    result_add(in, &r);
    if (r.status != INGEST_REJECTED) {
        in->staged_stored = true;
        g->staged++;
        in->log_needed = store_log_size(g->s);
    }
    if (g->staged >= API_GROUP_MAX_RECORDS)
        intake_group_commit(g);
    return 0;
}

/* One NDJSON line: blank lines are skipped, a final CR dropped. */
static int line(struct intake *in, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == n)
        return 0;
    return stage(in, p, n);
}

static void too_long(struct intake *in)
{
    char msg[96];
    snprintf(msg, sizeof msg, "record: line longer than %u bytes", LIMIT_RECORD_BYTES);
    reject(in, msg);
}

/* Frames NDJSON: complete lines are staged straight from the piece, a partial one is kept. */
static int ndjson_feed(struct intake *in, const char *p, size_t n)
{
    while (n && !in->failed) {
        const char *nl = memchr(p, '\n', n);
        size_t span = nl ? (size_t)(nl - p) : n;
        if (!in->skipping) {
            if (in->pending.len + span > LIMIT_RECORD_BYTES) {
                in->skipping = true;
                in->pending.len = 0;
            } else if (nl && !in->pending.len) {
                if (line(in, p, span))
                    return 0; /* failed: the answer says so */
                goto next;
            } else if (buf_append(&in->pending, p, span)) {
                return set_oom(in);
            }
        }
        if (nl) {
            if (in->skipping) {
                in->skipping = false;
                too_long(in);
            } else {
                int rc = line(in, in->pending.p, in->pending.len);
                in->pending.len = 0;
                if (rc)
                    return 0;
            }
        }
    next:
        if (!nl)
            break;
        p += span + 1;
        n -= span + 1;
    }
    return 0;
}

/* Gives back what this request's collected body counted against API_COLLECT_TOTAL_BYTES. */
static void uncount(struct intake *in)
{
    in->g->collected -= in->counted;
    in->counted = 0;
}

/* Decides between NDJSON (streamed) and a collected document from the first bytes. */
static int decide(struct intake *in)
{
    enum obs_format f = obs_detect_format(in->pending.p ? in->pending.p : "", in->pending.len);
    if (f != OBS_FMT_NDJSON) {
        in->mode = MODE_COLLECT;
        in->fmt = f;
        return 0;
    }
    in->mode = MODE_NDJSON;
    uncount(in);
    struct buf first = in->pending;
    buf_init(&in->pending);
    int rc = ndjson_feed(in, first.p ? first.p : "", first.len);
    buf_reset(&first);
    return rc;
}

struct intake *intake_open(struct intake_group *g, const char *content_type, size_t body_max,
                           bool *oom)
{
    static const struct {
        const char *type;
        enum intake_mode mode;
        enum obs_format fmt;
    } TYPES[] = {
        {"application/x-ndjson", MODE_NDJSON, OBS_FMT_NDJSON},
        {"application/jsonlines", MODE_NDJSON, OBS_FMT_NDJSON},
        {"application/geo+json-seq", MODE_NDJSON, OBS_FMT_NDJSON},
        {"text/csv", MODE_COLLECT, OBS_FMT_CSV},
        {"application/json", MODE_DETECT, OBS_FMT_AUTO},
        {"application/geo+json", MODE_DETECT, OBS_FMT_AUTO},
        /* what clients send when not told (curl --data-binary): the content decides */
        {"application/x-www-form-urlencoded", MODE_DETECT, OBS_FMT_AUTO},
        {"application/octet-stream", MODE_DETECT, OBS_FMT_AUTO},
        {"text/plain", MODE_DETECT, OBS_FMT_AUTO},
    };
    *oom = false;
    enum intake_mode mode = MODE_DETECT;
    enum obs_format fmt = OBS_FMT_AUTO;
    if (content_type && *content_type) {
        size_t n = strcspn(content_type, "; \t");
        size_t i = 0, nt = sizeof TYPES / sizeof TYPES[0];
        for (; i < nt; i++)
            if (strlen(TYPES[i].type) == n && !strncasecmp(content_type, TYPES[i].type, n))
                break;
        if (i == nt)
            return NULL;
        mode = TYPES[i].mode;
        fmt = TYPES[i].fmt;
    }
    struct intake *in = calloc(1, sizeof *in);
    if (!in) {
        *oom = true;
        return NULL;
    }
    in->g = g;
    in->body_max = body_max && body_max < API_INGEST_BODY_BYTES ? body_max : API_INGEST_BODY_BYTES;
    in->mode = mode;
    in->fmt = fmt;
    buf_init(&in->pending);
    buf_init(&in->results);
    in->next = g->open;
    if (g->open)
        g->open->prev = in;
    g->open = in;
    return in;
}

int intake_data(struct intake *in, const char *p, size_t n)
{
    in->bytes += n;
    if (in->failed || in->oom)
        return 0; /* the rest is read and dropped; the answer says why */
    if (in->mode == MODE_NDJSON)
        return ndjson_feed(in, p, n);
    if (in->too_big || in->busy)
        return 0;
    if (in->pending.len + n > in->body_max) {
        in->too_big = true;
        uncount(in);
        buf_reset(&in->pending);
        return 0;
    }
    if (in->g->collected + n > API_COLLECT_TOTAL_BYTES) {
        in->busy = true;
        uncount(in);
        buf_reset(&in->pending);
        return 0;
    }
    if (buf_append(&in->pending, p, n))
        return set_oom(in);
    in->g->collected += n;
    in->counted += n;
    if (in->mode == MODE_DETECT &&
        (in->pending.len >= INTAKE_DETECT_BYTES || memchr(p, '\n', n)))
        return decide(in);
    return 0;
}

/* Frames a collected JSON document or CSV with the observation reader and stages each record. */
static void collect_end(struct intake *in)
{
    FILE *f = fmemopen(in->pending.p, in->pending.len, "r");
    if (!f) {
        in->read_rc = ERR_IO;
        str_copy(in->msg, sizeof in->msg, "cannot read the body");
        return;
    }
    struct obs_reader *rd = NULL;
    struct errbuf e;
    int rc = obs_reader_open(f, in->fmt, "body", &rd, &e);
    if (rc) {
        in->read_rc = rc;
        str_copy(in->msg, sizeof in->msg, e.msg);
    }
    while (!rc && !in->failed) {
        const char *text;
        size_t len;
        bool fatal;
        struct errbuf re;
        re.msg[0] = 0;
        int got = obs_reader_next(rd, &text, &len, &fatal, &re);
        if (got == 0)
            break;
        if (got < 0 && fatal) {
            in->read_rc = got;
            snprintf(in->msg, sizeof in->msg, "body: record %lld: %s", in->index + 1, re.msg);
            break;
        }
        if (got < 0)
            reject(in, re.msg);
        else if (stage(in, text, len))
            break;
    }
    obs_reader_free(rd);
    fclose(f);
}

/* Moves this request's staged records to committed when none of them needs the store. */
static void settle_own(struct intake *in)
{
    if (in->staged_stored)
        return;
    in->committed.records += in->staged.records;
    in->committed.accepted += in->staged.accepted;
    in->committed.duplicates += in->staged.duplicates;
    in->committed.rejected += in->staged.rejected;
    in->committed.findings += in->staged.findings;
    memset(&in->staged, 0, sizeof in->staged);
    in->at_commit = in->now;
}

void intake_end(struct intake *in, struct http_response *resp)
{
    if (!in->failed && !in->oom) {
        if (in->mode == MODE_DETECT && in->bytes && !in->too_big)
            (void)decide(in);
        if (in->mode == MODE_NDJSON && !in->failed && !in->oom) {
            if (in->skipping) {
                in->skipping = false;
                too_long(in);
            } else if (in->pending.len) {
                (void)line(in, in->pending.p, in->pending.len);
                in->pending.len = 0;
            }
        } else if (in->mode == MODE_COLLECT && !in->too_big && !in->busy && in->bytes) {
            collect_end(in);
        }
        uncount(in);
    }
    if (in->staged_stored && !in->failed) {
        resp->after_commit = true;
        return;
    }
    settle_own(in);
    intake_answer(in, resp);
}

static void oom_answer(struct http_response *resp)
{
    if (http_problem(resp, 500, NULL, "out of memory"))
        resp->status = 500;
}

/* A problem carrying the per-record results as an extension member. */
static void problem_results(struct intake *in, struct http_response *resp, int status,
                            const char *title, const char *detail)
{
    if (http_problem(resp, status, title, detail)) {
        oom_answer(resp);
        return;
    }
    resp->body.len -= 2; /* reopen the object for the results: drop "}\n" */
    resp->body.p[resp->body.len] = 0;
    if (buf_printf(&resp->body, ",\"results\":[%s]}\n", in->results.p ? in->results.p : ""))
        oom_answer(resp);
}

void intake_answer(struct intake *in, struct http_response *resp)
{
    const struct ingest_stats *st = &in->committed;
    if (in->oom) {
        oom_answer(resp);
        return;
    }
    if (in->failed) {
        problem_results(in, resp, 503, NULL, in->msg);
        return;
    }
    if (in->busy) {
        if (http_problem(resp, 503, NULL,
                         "too many JSON or CSV uploads are being collected at once: retry "
                         "later, or send NDJSON (Content-Type: application/x-ndjson), which is "
                         "processed as it arrives"))
            oom_answer(resp);
        return;
    }
    if (in->too_big) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "a JSON document or CSV body may hold at most %zu bytes (send NDJSON, "
                 "Content-Type: application/x-ndjson, for larger inputs)",
                 in->body_max);
        if (http_problem(resp, 413, NULL, msg))
            oom_answer(resp);
        return;
    }
    if (in->bytes == 0) {
        if (http_problem(resp, 400, NULL,
                         "the body is empty: send a JSON Feature, an array or "
                         "FeatureCollection of them, NDJSON or CSV"))
            oom_answer(resp);
        return;
    }
    if (in->read_rc) {
        /* The document could not be read to its end: records read before are reported. */
        int status = (in->read_rc == ERR_PARSE || in->read_rc == ERR_TOOBIG ||
                      in->read_rc == ERR_INVAL) ? 400 : 500;
        problem_results(in, resp, status, status == 400 ? "Malformed observations" : NULL,
                        in->msg);
        return;
    }
    if (in->first_malformed && st->accepted + st->duplicates == 0) {
        /* Nothing stored and some record is not even JSON: the request is malformed. */
        char msg[INTAKE_MSG_MAX + 32];
        snprintf(msg, sizeof msg, "record %lld: %s", in->first_malformed, in->malformed);
        problem_results(in, resp, 400, "Malformed observations", msg);
        return;
    }
    resp->status = st->rejected == 0 && st->accepted + st->duplicates == st->records ? 200
                   : st->accepted + st->duplicates == 0                            ? 422
                                                                                   : 207;
    if (st->records == 0)
        resp->status = 422;
    struct intake_group *g = in->g;
    int rc = buf_printf(&resp->body,
                        "{\"records\":%lld,\"accepted\":%lld,\"duplicates\":%lld,"
                        "\"rejected\":%lld,\"findings\":%lld,\"log_size\":%lld",
                        st->records, st->accepted, st->duplicates, st->rejected, st->findings,
                        (long long)store_log_committed(g->s));
    if (!rc && st->accepted && in->log_needed && g->cp_size >= in->log_needed &&
        g->cp_note.len) {
        rc = buf_printf(&resp->body, ",\"checkpoint\":");
        if (!rc)
            rc = buf_json_str(&resp->body, g->cp_note.p);
    }
    if (!rc && in->now.omitted)
        rc = buf_printf(&resp->body, ",\"results_omitted\":%lld", in->now.omitted);
    if (!rc)
        rc = buf_printf(&resp->body, ",\"results\":[%s]}\n", in->results.p ? in->results.p : "");
    if (rc)
        oom_answer(resp);
}

void intake_stats(const struct intake *in, struct ingest_stats *st) { *st = in->committed; }

void intake_taken(const struct intake *in, struct ingest_stats *st)
{
    *st = in->committed;
    st->records += in->staged.records;
    st->accepted += in->staged.accepted;
    st->duplicates += in->staged.duplicates;
    st->rejected += in->staged.rejected;
    st->findings += in->staged.findings;
}

void intake_close(struct intake *in)
{
    if (!in)
        return;
    struct intake_group *g = in->g;
    uncount(in);
    if (in->prev)
        in->prev->next = in->next;
    else
        g->open = in->next;
    if (in->next)
        in->next->prev = in->prev;
    buf_reset(&in->pending);
    buf_reset(&in->results);
    free(in);
}
