/* ingest.c: the batch loop of the intake pipeline (see ingest.h).
 *
 * Results of a batch are held until COMMIT returns and only then handed to the caller; if the
 * commit fails, the batch's records are reported as not stored. Memory is bounded by the batch
 * size (results keep a copy of their client id and error text only). */
#include "ingest/ingest.h"

#include <stdlib.h>
#include <string.h>

#include "fusion/fusion.h"
#include "placement/placement.h"
#include "rules/rules.h"

const char *const INGEST_STATUS_NAMES[4] = {"accepted", "duplicate", "rejected", "not stored"};

/* A result waiting for its batch's commit; its strings live in the batch's text buffer, kept as
 * offsets because the buffer may move as it grows. */
struct pending {
    struct ingest_result r;
    size_t client_id_off, error_off; /* SIZE_MAX: no error */
};

struct batch {
    struct pending *v;
    size_t n, cap;
    struct buf text;
};

static size_t batch_text(struct batch *b, const char *s)
{
    size_t off = b->text.len;
    if (buf_append(&b->text, s, strlen(s) + 1)) {
        fputs("truce: out of memory\n", stderr);
        abort();
    }
    return off;
}

static void batch_push(struct batch *b, const struct ingest_result *r)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    struct pending *p = &b->v[b->n++];
    p->r = *r;
    p->client_id_off = batch_text(b, r->client_id ? r->client_id : "");
    p->error_off = r->error ? batch_text(b, r->error) : SIZE_MAX;
}

static void batch_clear(struct batch *b)
{
    b->n = 0;
    b->text.len = 0;
}

/* Hands the batch's results to the caller; with `lost`, accepted ones become "not stored". */
static int batch_emit(struct batch *b, const struct ingest_opts *o, struct ingest_stats *st,
                      bool lost, const char *why)
{
    int rc = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct ingest_result *r = &b->v[i].r;
        r->client_id = b->text.p + b->v[i].client_id_off;
        r->error = b->v[i].error_off == SIZE_MAX ? NULL : b->text.p + b->v[i].error_off;
        if (lost && r->status != INGEST_REJECTED) {
            r->status = INGEST_NOT_STORED;
            r->error = why;
        }
        switch (r->status) {
        case INGEST_ACCEPTED:
            st->accepted++;
            st->findings += (long long)r->n_findings;
            break;
        case INGEST_DUPLICATE:
            st->duplicates++;
            break;
        case INGEST_REJECTED:
            st->rejected++;
            break;
        default:
            break;
        }
        if (o->result && !rc)
            rc = o->result(o->ctx, r);
    }
    batch_clear(b);
    return rc;
}

/* Appends the leaves of a stored observation and its findings, in the store's order. */
static int log_records(struct truce_log *log, const struct agreement *a, const struct obs *o,
                       const struct finding *fs, const struct store_insert_ids *ids,
                       struct errbuf *e)
{
    static const char *const kind_names[] = {"fire_prohibited", "weapon_withdrawal",
                                             "armed_presence"};
    struct store_log_record r = {
        .kind = STORE_LOG_OBSERVATION,
        .log_index = ids->obs_log_index,
        .id = ids->obs_id,
        .agreement_version = a->version,
        .text1 = o->client_id[0] ? o->client_id : NULL,
        .body = o->raw,
        .body_len = o->raw_len,
    };
    int rc = log_add(log, &r, e);
    for (size_t i = 0; i < ids->n_findings && !rc; i++) {
        const struct agr_rule *rule = &a->rules[fs[i].rule];
        struct store_log_record fr = {
            .kind = STORE_LOG_FINDING,
            .log_index = ids->finding_log_index[i],
            .id = ids->finding_ids[i],
            .obs_id = ids->obs_id,
            .agreement_version = a->version,
            .clause = rule->clause,
            .rule_kind = kind_names[rule->kind],
            .result = RULE_RESULT_NAMES[fs[i].result],
            .party = fs[i].party,
            .severity = rule->severity,
            .body = fs[i].reasons,
            .body_len = strlen(fs[i].reasons),
        };
        rc = log_add(log, &fr, e);
    }
    return rc;
}

int ingest_record(struct store *s, const struct store_agreements *agreements,
                  struct truce_log *log, struct fusion *fusion, const char *text, size_t len,
                  struct obs *scratch, struct ingest_result *r, struct errbuf *re,
                  struct errbuf *e)
{
    re->msg[0] = 0;
    r->client_id = "";
    r->error = NULL;
    r->id = 0;
    r->n_findings = 0;
    /* Names and parties are checked against the latest version; the rules of the version in
     * force when the event happened judge it. */
    const struct agreement *latest = agreements->v[agreements->n - 1];
    int prc = obs_parse_json(text, len, latest, latest->time_zone, scratch, re);
    const struct agreement *a = prc ? NULL : store_agreement_at(agreements, scratch->t_start_ms);
    struct placement p;
    if (!prc)
        prc = place_observation(a, scratch, &p, re);
    r->client_id = scratch->client_id;
    if (prc) {
        r->status = INGEST_REJECTED;
        r->error = re->msg;
        return 0;
    }
    struct finding fs[RULES_MAX_FINDINGS];
    size_t nf;
    rules_judge(a, scratch, &p, fs, &nf);
    bool dup;
    struct store_insert_ids ids;
    int src = store_obs_insert(s, a, scratch, &p, fs, nf, &r->id, &dup, &ids, re);
    if (src == ERR_CONFLICT) {
        r->status = INGEST_REJECTED;
        r->error = re->msg;
        return 0;
    }
    if (src)
        return errf(e, src, "%s", re->msg);
    if (!dup && log) {
        int rc = log_records(log, a, scratch, fs, &ids, e);
        if (rc)
            return rc;
    }
    if (!dup && fusion) { /* linked now; its incident stored and logged at the commit */
        int rc = fusion_ingest(fusion, scratch, &p, r->id, e);
        if (rc)
            return rc;
    }
    r->status = dup ? INGEST_DUPLICATE : INGEST_ACCEPTED;
    r->n_findings = dup ? 0 : nf;
    return 0;
}

int ingest_commit(struct store *s, struct truce_log *log, struct fusion *fusion,
                  const struct store_agreements *agreements, struct errbuf *e)
{
    /* the incidents the batch changed, once each, in its transaction and before the sync */
    int rc = fusion ? fusion_flush(fusion, s, log, NULL, e) : 0;
    if (!rc && log)
        rc = log_sync(log, e);
    if (!rc)
        rc = store_commit(s, e);
    if (rc)
        ingest_abort(s, log, fusion, agreements);
    return rc;
}

void ingest_abort(struct store *s, struct truce_log *log, struct fusion *fusion,
                  const struct store_agreements *agreements)
{
    store_rollback(s);
    if (log && log_rewind(log, s, NULL))
        fputs("truce: the log could not be rewound; it is repaired when next opened\n", stderr);
    /* the engine saw the records rolled back: back to what the store holds */
    if (fusion && fusion_reload(fusion, s, agreements, NULL))
        fputs("truce: the fusion engine could not be reloaded; run `truce fuse`\n", stderr);
}

int ingest_stream(struct store *s, const struct store_agreements *agreements, FILE *f,
                  const struct ingest_opts *opts, struct ingest_stats *stats, struct errbuf *e)
{
    memset(stats, 0, sizeof *stats);
    struct obs_reader *rd = NULL;
    int rc = obs_reader_open(f, opts->format, opts->name ? opts->name : "input", &rd, e);
    if (rc)
        return rc;
    size_t batch_max = opts->atomic ? SIZE_MAX : (opts->batch ? opts->batch : INGEST_DEFAULT_BATCH);
    struct batch b = {0};
    struct obs *o = xmalloc(sizeof *o);
    bool in_tx = false, any_rejected = false;
    for (;;) {
        if (!in_tx) {
            if ((rc = store_begin(s, e)))
                break;
            in_tx = true;
        }
        const char *text;
        size_t len;
        bool fatal;
        struct errbuf re;
        re.msg[0] = 0;
        int got = obs_reader_next(rd, &text, &len, &fatal, &re);
        if (got == 0)
            break;
        stats->records++;
        struct ingest_result r = {.index = stats->records, .client_id = ""};
        if (got < 0) {
            if (fatal) {
                rc = errf(e, got, "%s: record %lld: %s", opts->name ? opts->name : "input",
                          stats->records, re.msg);
                break;
            }
            r.status = INGEST_REJECTED;
            r.error = re.msg;
            any_rejected = true;
            batch_push(&b, &r);
        } else {
            int irc = ingest_record(s, agreements, opts->log, opts->fusion, text, len, o, &r, &re, e);
            if (irc) {
                rc = irc;
                break;
            }
            any_rejected |= r.status == INGEST_REJECTED;
            batch_push(&b, &r);
        }
        if (b.n >= batch_max) {
            if ((rc = ingest_commit(s, opts->log, opts->fusion, agreements, e))) {
                batch_emit(&b, opts, stats, true, "the batch could not be committed");
                break;
            }
            in_tx = false;
            if (opts->committed)
                opts->committed(opts->committed_ctx);
            if ((rc = batch_emit(&b, opts, stats, false, NULL)))
                break;
            if (opts->progress)
                opts->progress(opts->ctx, obs_reader_offset(rd), stats->records);
        }
    }
    if (in_tx) {
        if (rc) {
            ingest_abort(s, opts->log, opts->fusion, agreements);
            batch_emit(&b, opts, stats, true, "not stored: ingest stopped by an error");
        } else if (opts->atomic && any_rejected) {
            ingest_abort(s, opts->log, opts->fusion, agreements);
            batch_emit(&b, opts, stats, true,
                       "not stored: --atomic refuses the whole input when any record is rejected");
        } else if ((rc = ingest_commit(s, opts->log, opts->fusion, agreements, e))) {
            batch_emit(&b, opts, stats, true, "the batch could not be committed");
        } else {
            if (opts->committed)
                opts->committed(opts->committed_ctx);
            rc = batch_emit(&b, opts, stats, false, NULL);
            if (opts->progress)
                opts->progress(opts->ctx, obs_reader_offset(rd), stats->records);
        }
    } else if (b.n) {
        batch_emit(&b, opts, stats, true, "not stored");
    }
    batch_clear(&b);
    free(b.v);
    buf_reset(&b.text);
    free(o);
    obs_reader_free(rd);
    return rc;
}
