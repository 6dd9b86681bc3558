/* delivery.c: webhook delivery from the persistent outbox: the body (alert, findings summary,
 * checkpoint reference), its Ed25519 signature with the instance's log key, the POST with
 * libcurl (bounded timeouts, no redirects, http and https only), exponential backoff with
 * jitter, and the background thread `truce serve` runs.
 *
 * Delivery is at least once: a crash after the receiver answered 2xx and before the outcome is
 * recorded sends the same alert again; receivers dedupe on the alert id (docs/escalation.md).
 * Nothing here writes the transparency log. */
#include "escalation/escalation.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "note/note.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_start(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- the body ---- */

struct body_ctx {
    struct store *s;
    struct buf *out;
    struct buf ids;
    int rc;
    struct errbuf *e;
    bool found;
};

static int on_alert(void *ctx, const struct store_alert *al)
{
    struct body_ctx *c = ctx;
    c->found = true;
    if (buf_append(&c->ids, al->finding_ids, strlen(al->finding_ids)))
        return errf(c->e, ERR_NOMEM, "out of memory");
    return esc_alert_json(c->s, al, false, c->out, c->e);
}

struct list_ctx {
    struct buf *b;
    size_t n;
};

static int on_finding(void *ctx, const char *json)
{
    struct list_ctx *c = ctx;
    int rc = (c->n++ ? buf_append(c->b, ",", 1) : 0) || buf_append(c->b, json, strlen(json));
    return rc ? ERR_NOMEM : 0;
}

int esc_webhook_body(struct store *s, const struct store_outbox_row *r, const char *origin,
                     struct buf *out, struct errbuf *e)
{
    struct body_ctx c = {.s = s, .out = out, .e = e};
    buf_init(&c.ids);
    int rc = buf_append(out, "{\"type\":\"truce.alert/1\",\"instance\":", 35) ||
                     buf_json_str(out, origin) || buf_append(out, ",\"alert\":", 9)
                 ? errf(e, ERR_NOMEM, "out of memory")
                 : 0;
    if (!rc)
        rc = store_alerts_list(s, r->alert_id, 1, on_alert, &c, e);
    if (!rc && !c.found)
        rc = errf(e, ERR_NOTFOUND, "outbox %lld: alert %lld is not stored", (long long)r->id,
                  (long long)r->alert_id);
    if (!rc) {
        struct store_filter f;
        store_filter_init(&f);
        f.ids_json = c.ids.p;
        struct list_ctx lc = {out, 0};
        rc = buf_append(out, ",\"findings\":[", 13) ? errf(e, ERR_NOMEM, "out of memory") : 0;
        if (!rc)
            rc = store_findings_list(s, &f, on_finding, &lc, e);
        if (!rc && buf_append(out, "]", 1))
            rc = errf(e, ERR_NOMEM, "out of memory");
    }
    if (!rc) {
        /* The newest checkpoint: it covers the alert's leaf when its size is above log_index
         * (a receiver asks the log for an inclusion proof of that leaf at that size). */
        struct store_checkpoint cp = {0};
        int crc = store_checkpoint_last(s, &cp, NULL);
        if (crc == 0) {
            rc = buf_printf(out, ",\"checkpoint\":{\"size\":%lld,\"root_hex\":\"%s\",\"note\":",
                            (long long)cp.size, cp.root_hex) ||
                 buf_json_str(out, cp.note) || buf_append(out, "}", 1);
            free(cp.note);
        } else {
            rc = buf_append(out, ",\"checkpoint\":null", 18);
        }
        rc = rc ||
             buf_printf(out, ",\"delivery\":{\"id\":%lld,\"subscriber\":", (long long)r->id) ||
             buf_json_str(out, r->subscriber) || buf_append(out, "}}\n", 3);
        if (rc)
            rc = errf(e, ERR_NOMEM, "out of memory");
    }
    buf_reset(&c.ids);
    return rc;
}

/* ---- one POST ---- */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    const volatile int *stop = ctx;
    return stop && *stop; /* non-zero aborts the transfer */
}

/* POSTs body to url with the signature header; 0 when the receiver answered 2xx, else a
 * negative code with the reason in why. */
static int post(const char *url, const struct buf *body, const char *sig_header, int64_t alert_id,
                int64_t delivery_id, const volatile int *stop, char *why, size_t why_n)
{
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(why, why_n, "curl: cannot start a transfer");
        return ERR_NOMEM;
    }
    struct curl_slist *hdr = NULL;
    char line[ESC_SIG_HEADER_MAX + 64];
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    snprintf(line, sizeof line, "%s: %s", ESC_SIGNATURE_HEADER, sig_header);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "Truce-Alert-Id: %lld", (long long)alert_id);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof line, "Truce-Delivery-Id: %lld", (long long)delivery_id);
    hdr = curl_slist_append(hdr, line);
    hdr = curl_slist_append(hdr, "Expect:"); /* no 100-continue round trip */
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "truce-webhook/1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ESC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ESC_REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    int rc = 0;
    if (cc != CURLE_OK) {
        snprintf(why, why_n, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = ERR_IO;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
            snprintf(why, why_n, "HTTP %ld", status);
            rc = ERR_IO;
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

/* ---- the outbox ---- */

/* The first retry's delay: ESC_RETRY_BASE_MS, or TRUCE_WEBHOOK_RETRY_BASE_MS (at least 100) for
 * tests and operators who want it shorter or longer. */
static int64_t retry_base_ms(void)
{
    const char *v = getenv("TRUCE_WEBHOOK_RETRY_BASE_MS");
    long long n;
    if (v && !str_to_ll(v, &n) && n >= 100 && n <= ESC_RETRY_MAX_MS)
        return n;
    return ESC_RETRY_BASE_MS;
}

/* Delay before attempt number attempts + 1: base * 2^attempts, capped, times a jitter factor in
 * [0.75, 1.25) so that many receivers failing together do not retry in lockstep. */
static int64_t backoff_ms(long long attempts, unsigned *seed)
{
    int64_t d = retry_base_ms();
    for (long long i = 0; i < attempts && d < ESC_RETRY_MAX_MS; i++)
        d *= 2;
    if (d > ESC_RETRY_MAX_MS)
        d = ESC_RETRY_MAX_MS;
    double jitter = 0.75 + 0.5 * ((double)rand_r(seed) / ((double)RAND_MAX + 1.0));
    return (int64_t)((double)d * jitter);
}

struct due {
    struct store_outbox_row *v;
    size_t n;
};

static int on_due(void *ctx, const struct store_outbox_row *r)
{
    struct due *d = ctx;
    d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
    struct store_outbox_row c = *r;
    c.subscriber = xstrdup(r->subscriber);
    c.url = xstrdup(r->url);
    c.state = NULL;
    c.last_error = NULL;
    d->v[d->n++] = c;
    return 0;
}

static void due_free(struct due *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free((char *)d->v[i].subscriber);
        free((char *)d->v[i].url);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

int esc_deliver_due(const char *dir, struct store *s, const volatile int *stop,
                    struct esc_delivery_stats *st, struct errbuf *e)
{
    memset(st, 0, sizeof *st);
    pthread_once(&curl_once, curl_start);
    if (curl_init_rc != CURLE_OK)
        return errf(e, ERR_IO, "curl: %s", curl_easy_strerror(curl_init_rc));
    char logdir[4096], path[4200];
    if (path_join(logdir, sizeof logdir, dir, LOG_DIR_NAME) ||
        path_join(path, sizeof path, logdir, LOG_SIGNING_KEY_NAME))
        return errf(e, ERR_INVAL, "%s: path too long", dir);
    struct note_signer *signer = NULL; /* read once something is due */
    int rc = 0;
    unsigned seed = (unsigned)time_now_ms() ^ (unsigned)(uintptr_t)&seed;
    int64_t pass_start = time_now_ms();
    struct buf body;
    buf_init(&body);
    struct due due = {0};
    while (!rc && !(stop && *stop)) {
        due_free(&due);
        if ((rc = store_outbox_due(s, pass_start, ESC_BATCH, on_due, &due, e)) || !due.n)
            break;
        if (!signer && (rc = note_key_read(path, &signer, e)))
            break;
        for (size_t i = 0; i < due.n && !rc && !(stop && *stop); i++) {
            const struct store_outbox_row *r = &due.v[i];
            body.len = 0;
            struct errbuf be;
            char why[512] = "", sig[NOTE_RAW_SIG_B64_SIZE], header[ESC_SIG_HEADER_MAX];
            int brc = esc_webhook_body(s, r, note_signer_name(signer), &body, &be);
            if (!brc)
                brc = note_sign_raw(signer, body.p, body.len, sig, &be);
            if (brc) {
                snprintf(why, sizeof why, "cannot build the body: %s", be.msg);
            } else {
                snprintf(header, sizeof header, "ed25519 keyid=%08x sig=%s",
                         (unsigned)note_signer_keyid(signer), sig);
                st->attempted++;
                brc = post(r->url, &body, header, r->alert_id, r->id, stop, why, sizeof why);
            }
            if (stop && *stop && brc)
                break; /* aborted by the stop: not an attempt; retried on the next start */
            int64_t now = time_now_ms();
            bool give_up = brc && r->attempts + 1 >= ESC_MAX_ATTEMPTS;
            int64_t next = brc ? now + backoff_ms(r->attempts, &seed) : now;
            rc = store_outbox_attempt(s, r->id, brc == 0, why, next, give_up, now, e);
            if (!rc) {
                if (!brc)
                    st->delivered++;
                else if (give_up)
                    st->failed++;
                else
                    st->retried++;
            }
        }
    }
    due_free(&due);
    buf_reset(&body);
    note_signer_free(signer);
    return rc;
}

/* ---- the thread ---- */

struct esc_delivery {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    volatile int stop;
    bool kicked;
    char dir[4096];
};

static void *delivery_main(void *arg)
{
    struct esc_delivery *d = arg;
    struct store *s = NULL;
    struct errbuf e;
    /* Its own connection: WAL lets it read and record attempts while the server thread
     * ingests; it never holds the write lock for longer than one UPDATE. */
    if (store_open(d->dir, false, &s, &e)) {
        fprintf(stderr, "truce: webhook delivery stopped: %s\n", e.msg);
        return NULL;
    }
    while (!d->stop) {
        struct esc_delivery_stats st;
        if (esc_deliver_due(d->dir, s, &d->stop, &st, &e) && !d->stop)
            fprintf(stderr, "truce: webhook delivery: %s\n", e.msg);
        else if (st.attempted)
            fprintf(stderr,
                    "truce: webhooks: %lld attempted, %lld delivered, %lld to retry, %lld "
                    "failed\n",
                    st.attempted, st.delivered, st.retried, st.failed);
        pthread_mutex_lock(&d->mu);
        if (!d->stop && !d->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)(ESC_POLL_MS % 1000) * 1000000L;
            until.tv_sec += ESC_POLL_MS / 1000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&d->cv, &d->mu, &until);
        }
        d->kicked = false;
        pthread_mutex_unlock(&d->mu);
    }
    store_close(s);
    return NULL;
}

int esc_delivery_start(const char *dir, struct esc_delivery **out, struct errbuf *e)
{
    pthread_once(&curl_once, curl_start);
    if (curl_init_rc != CURLE_OK)
        return errf(e, ERR_IO, "curl: %s", curl_easy_strerror(curl_init_rc));
    struct esc_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return errf(e, ERR_NOMEM, "out of memory");
    str_copy(d->dir, sizeof d->dir, dir);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, delivery_main, d)) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return errf(e, ERR_IO, "cannot start the webhook delivery thread");
    }
    *out = d;
    return 0;
}

void esc_delivery_kick(struct esc_delivery *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->kicked = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void esc_delivery_stop(struct esc_delivery *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}

/* ---- verification (receivers, and `truce webhook verify`) ---- */

int esc_webhook_verify(const char *vkey, const char *header, const void *body, size_t len,
                       struct errbuf *e)
{
    if (strlen(header) >= ESC_SIG_HEADER_MAX)
        return errf(e, ERR_PARSE, "%s: longer than %d bytes", ESC_SIGNATURE_HEADER,
                    ESC_SIG_HEADER_MAX);
    char copy[ESC_SIG_HEADER_MAX];
    str_copy(copy, sizeof copy, header);
    char *save = NULL, *alg = strtok_r(copy, " ", &save);
    const char *keyid = NULL, *sig = NULL;
    for (char *tok = strtok_r(NULL, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strncmp(tok, "keyid=", 6))
            keyid = tok + 6;
        else if (!strncmp(tok, "sig=", 4))
            sig = tok + 4;
    }
    if (!alg || strcmp(alg, "ed25519") || !keyid || !sig || strlen(keyid) != 8)
        return errf(e, ERR_PARSE, "%s: expected \"ed25519 keyid=<8 hex digits> sig=<base64>\"",
                    ESC_SIGNATURE_HEADER);
    struct note_verifier *v = NULL;
    int rc = note_verifier_parse(vkey, &v, e);
    if (rc)
        return rc;
    char want[16];
    snprintf(want, sizeof want, "%08x", (unsigned)note_verifier_keyid(v));
    if (strcmp(want, keyid))
        rc = errf(e, ERR_CONFLICT, "signed by key %s, not by %s+%s", keyid, note_verifier_name(v),
                  want);
    else
        rc = note_verify_raw(v, body, len, sig, e);
    note_verifier_free(v);
    return rc;
}
