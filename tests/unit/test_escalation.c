/* test_escalation.c: escalation thresholds (M7) on the shipped minsk-2015 and donetsk-dmz
 * scenarios: which alerts are raised, at which level, for which group and window, exactly once
 * (re-evaluation and re-ingest raise nothing; one record per batch raises the same alerts, each
 * when its threshold is crossed);
 * windows follow the local cut-off through DST; outbox rows go to the subscribers that want the
 * alert; the escalation section's errors name their JSON pointer; webhook bodies are signed and
 * verify, altered ones do not. */
#include <openssl/sha.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "escalation/escalation.h"
#include "ingest/ingest.h"
#include "log/log.h"
#include "note/note.h"
#include "report/report.h"
#include "t.h"

/* A fresh data directory holding the agreement of `example`, its log, and ag loaded. */
struct env {
    char dir[96];
    struct store *s;
    struct store_agreements ag;
    struct truce_log *log;
};

static int env_open(struct env *v, const char *agreement, const char *tag)
{
    struct errbuf e;
    struct agreement *a = NULL;
    snprintf(v->dir, sizeof v->dir, "/tmp/truce-test-esc-%ld-%s", (long)getpid(), tag);
    int rc = agr_load_file(agreement, &a, &e);
    if (!rc)
        rc = store_open(v->dir, true, &v->s, &e);
    if (!rc)
        rc = log_open(v->dir, v->s, &v->log, &e);
    if (!rc)
        rc = log_add_agreement(v->log, v->s, a, &e);
    if (!rc)
        rc = store_agreements_load(v->s, &v->ag, &e);
    agr_free(a);
    if (rc)
        fprintf(stderr, "setup: %s\n", e.msg);
    return rc;
}

static void env_close(struct env *v)
{
    log_close(v->log);
    store_agreements_free(&v->ag);
    store_close(v->s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", v->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", v->dir);
}

/* Ingests a file with escalation after every batch of `batch` records; returns alerts raised. */
static long long ingest(struct env *v, const char *path, size_t batch)
{
    FILE *f = fopen(path, "r");
    int64_t cursor = -1;
    struct esc_hook hook = {v->s, v->ag.v[v->ag.n - 1], v->log, &cursor, 0};
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = path, .batch = batch,
                            .log = v->log, .committed = esc_hook_after_batch,
                            .committed_ctx = &hook};
    struct ingest_stats st;
    struct errbuf e;
    CHECK_INT(ingest_stream(v->s, &v->ag, f, &o, &st, &e), 0);
    fclose(f);
    return hook.alerts;
}

/* The alerts as "threshold level region party start end count ids" lines. */
struct summary {
    char text[4096];
    size_t len;
};

static int on_alert(void *ctx, const struct store_alert *a)
{
    struct summary *s = ctx;
    char from[40], to[40];
    time_format_utc(a->window_start_ms, from, sizeof from);
    time_format_utc(a->window_end_ms, to, sizeof to);
    s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len,
                               "%s %s %s %s %s %s %lld %s\n", a->threshold, a->level,
                               a->region[0] ? a->region : "-", a->party[0] ? a->party : "-", from,
                               to, a->n_findings, a->finding_ids);
    return 0;
}

static void summarise(struct env *v, struct summary *s)
{
    struct errbuf e;
    s->len = 0;
    s->text[0] = 0;
    CHECK_INT(store_alerts_list(v->s, 0, 0, on_alert, s, &e), 0);
}

static const char MINSK_ALERTS[] =
    "fire-per-region-day notice donetsk - 2016-10-09T16:30:00Z 2016-10-10T16:30:00Z 8 "
    "[1,2,3,4,5,6,7,10]\n"
    "heavy-weapon-fire serious donetsk - 2016-10-10T16:30:00Z 2016-10-11T16:30:00Z 1 [15]\n"
    "withdrawal-same-party warning - af 2016-10-08T16:30:00Z 2016-10-11T16:30:00Z 2 [12,19]\n"
    "disengagement-breach serious donetsk - 2016-10-09T16:30:00Z 2016-10-10T16:30:00Z 2 "
    "[10,13]\n";

static void test_minsk_raises_its_alerts_once(void)
{
    struct env v;
    if (env_open(&v, "examples/minsk-2015/agreement.json", "once"))
        return;
    struct errbuf e;
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "osce", "http://127.0.0.1:9/h", NULL, NULL, &e),
              0);
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "ua", "http://127.0.0.1:9/ua", "warning", "ua",
                                 &e),
              0);
    CHECK_INT(ingest(&v, "examples/minsk-2015/observations.ndjson", 0), 4);
    struct summary s;
    summarise(&v, &s);
    CHECK_STR(s.text, MINSK_ALERTS);
    /* the same file again (duplicates) and a full re-evaluation: nothing new */
    CHECK_INT(ingest(&v, "examples/minsk-2015/observations.ndjson", 0), 0);
    struct esc_stats st;
    CHECK_INT(esc_evaluate(v.s, v.ag.v[0], v.log, true, NULL, &st, &e), 0);
    CHECK_INT(st.findings_seen, 21);
    CHECK_INT(st.alerts_raised, 0);
    summarise(&v, &s);
    CHECK_STR(s.text, MINSK_ALERTS);
    /* outbox: osce gets all 4, the ua liaison (warning+, about ua or nobody) alerts 2 and 4 */
    int64_t due;
    CHECK_INT(store_outbox_next_due(v.s, &due, &e), 0);
    CHECK(due != TIME_NONE);
    uint64_t checked;
    int64_t bad;
    CHECK_INT(log_verify(v.log, v.s, &checked, &bad, &e), 0);
    CHECK_INT(checked, 1 + 25 + 21 + 4);
    /* the daily report lists the alerts whose window ended at its cut-off */
    struct buf b;
    buf_init(&b);
    CHECK_INT(report_daily(v.s, v.ag.v[0], 2016, 10, 11, REPORT_TEXT, &b, &e), 0);
    CHECK_CONTAINS(b.p, "\nEscalation alerts (windows ending at this cut-off): 2\n"
                        "- serious (alert 2, heavy-weapon-fire, Donetsk region): 1 finding. ");
    CHECK_CONTAINS(b.p, "- warning (alert 3, withdrawal-same-party, party af): 2 findings. ");
    b.len = 0;
    CHECK_INT(report_daily(v.s, v.ag.v[0], 2016, 10, 10, REPORT_JSON, &b, &e), 0);
    CHECK_CONTAINS(b.p, "\"alerts\":[{\"id\":1,\"level\":\"notice\",\"threshold\":"
                        "\"fire-per-region-day\",\"region\":\"donetsk\",\"party\":null,"
                        "\"findings_counted\":8},{\"id\":4,");
    buf_reset(&b);
    env_close(&v);
}

struct pairs {
    char text[256];
    size_t len;
};

static int on_row(void *ctx, const struct store_outbox_row *r)
{
    struct pairs *p = ctx;
    p->len += (size_t)snprintf(p->text + p->len, sizeof p->text - p->len, "%lld:%s ",
                               (long long)r->alert_id, r->subscriber);
    return 0;
}

static void test_batching_raises_the_same_alerts(void)
{
    struct env v;
    if (env_open(&v, "examples/minsk-2015/agreement.json", "batch1"))
        return;
    struct errbuf e;
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "osce", "http://127.0.0.1:9/h", NULL, NULL, &e),
              0);
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "ua", "http://127.0.0.1:9/ua", "warning", "ua",
                                 &e),
              0);
    /* one record per transaction: evaluation runs 25 times and raises the same alerts (same
     * threshold, level, group and window), each as soon as its threshold is crossed: the count
     * is the one at that moment (5 of the 8 Donetsk violations, 1 of the 2 findings inside the
     * disengagement area), and the order follows the records */
    CHECK_INT(ingest(&v, "examples/minsk-2015/observations.ndjson", 1), 4);
    struct summary s;
    summarise(&v, &s);
    CHECK_STR(s.text,
              "fire-per-region-day notice donetsk - 2016-10-09T16:30:00Z 2016-10-10T16:30:00Z 5 "
              "[1,2,3,4,5]\n"
              "disengagement-breach serious donetsk - 2016-10-09T16:30:00Z 2016-10-10T16:30:00Z 1 "
              "[10]\n"
              "heavy-weapon-fire serious donetsk - 2016-10-10T16:30:00Z 2016-10-11T16:30:00Z 1 "
              "[15]\n"
              "withdrawal-same-party warning - af 2016-10-08T16:30:00Z 2016-10-11T16:30:00Z 2 "
              "[12,19]\n");
    struct pairs p = {"", 0};
    CHECK_INT(store_outbox_list(v.s, 0, on_row, &p, &e), 0);
    CHECK_STR(p.text, "1:osce 2:osce 2:ua 3:osce 3:ua 4:osce ");
    env_close(&v);
}

static void test_dmz_guarantee_trigger(void)
{
    struct env v;
    if (env_open(&v, "examples/donetsk-dmz/agreement.json", "dmz"))
        return;
    CHECK_INT(ingest(&v, "examples/donetsk-dmz/observations.ndjson", 0), 5);
    struct summary s;
    summarise(&v, &s);
    CHECK_CONTAINS(s.text, "mlrs-fire-trigger guarantee_trigger - - 2026-03-04T17:30:00Z "
                           "2026-03-05T17:30:00Z 1 [5]\n");
    CHECK_CONTAINS(s.text, "heavy-weapons-dmz serious - ru ");
    CHECK_CONTAINS(s.text, "armed-presence-dmz warning - ua ");
    env_close(&v);
}

static void test_windows_follow_the_local_cutoff(void)
{
    struct agreement *a;
    struct errbuf e;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e)) {
        T_FAIL_("%s", e.msg);
        return;
    }
    const struct agr_threshold *day = &a->thresholds[0], *three = &a->thresholds[2];
    int64_t starts[8], ends[8], t;
    char x[40];
    /* summer (UTC+3): the day ends at 16:30Z; winter (UTC+2): at 17:30Z */
    CHECK_INT(time_parse("2016-10-10T16:29:59Z", NULL, &t, &e), 0);
    CHECK_INT(esc_windows(a, day, t, starts, ends, 8), 1);
    time_format_utc(ends[0], x, sizeof x);
    CHECK_STR(x, "2016-10-10T16:30:00Z");
    CHECK_INT(time_parse("2016-10-10T16:30:00Z", NULL, &t, &e), 0); /* the cut-off: next day */
    CHECK_INT(esc_windows(a, day, t, starts, ends, 8), 1);
    time_format_utc(starts[0], x, sizeof x);
    CHECK_STR(x, "2016-10-10T16:30:00Z");
    CHECK_INT(time_parse("2016-12-01T12:00:00Z", NULL, &t, &e), 0);
    CHECK_INT(esc_windows(a, day, t, starts, ends, 8), 1);
    time_format_utc(ends[0], x, sizeof x);
    CHECK_STR(x, "2016-12-01T17:30:00Z");
    /* a 72-hour window stepping daily: three windows hold any instant */
    CHECK_INT(esc_windows(a, three, t, starts, ends, 8), 3);
    time_format_utc(starts[0], x, sizeof x);
    CHECK_STR(x, "2016-11-28T17:30:00Z");
    time_format_utc(ends[2], x, sizeof x);
    CHECK_STR(x, "2016-12-03T17:30:00Z");
    agr_free(a);
}

/* Loads the minsk agreement with its escalation section replaced by `esc` (JSON text). */
static int load_with(const char *esc, struct errbuf *e)
{
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, e))
        return -100;
    char *json = a->resolved_json;
    char *at = strstr(json, ",\"escalation\":");
    char *end = at ? strstr(at, ",\"format\":") : NULL; /* keys are sorted: escalation, format */
    struct buf b;
    buf_init(&b);
    int rc = -100;
    if (at && end && !buf_append(&b, json, (size_t)(at - json)) &&
        !buf_printf(&b, ",\"escalation\":%s", esc) && !buf_append(&b, end, strlen(end))) {
        struct agreement *b2 = NULL;
        rc = agr_load_json(b.p, b.len, "test", &b2, e);
        agr_free(b2);
    }
    buf_reset(&b);
    agr_free(a);
    return rc;
}

#define TH(extra)                                                                                 \
    "{\"thresholds\":[{\"id\":\"x\",\"level\":\"notice\",\"text\":\"t\",\"window_hours\":24" extra \
    "}]}"

static void test_escalation_section_errors(void)
{
    struct errbuf e;
    CHECK_INT(load_with(TH(""), &e), 0);
    CHECK_INT(load_with(TH(",\"levle\":1"), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation/thresholds/0: unknown field \"levle\"");
    CHECK_INT(load_with("{\"thresholds\":[{\"id\":\"x\",\"level\":\"alarm\",\"text\":\"t\","
                        "\"window_hours\":24}]}",
                        &e),
              ERR_INVAL);
    CHECK_CONTAINS(e.msg, "level must be notice, warning, serious or guarantee_trigger");
    CHECK_INT(load_with(TH(",\"clauses\":[\"minsk2-1\",\"nope\"]"), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation/thresholds/0/clauses/1: unknown clause \"nope\"");
    CHECK_INT(load_with(TH(",\"weapon_classes\":[\"lasers\"]"), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation/thresholds/0/weapon_classes/0");
    CHECK_INT(load_with(TH(",\"zones\":[\"zolote\"],\"zone_relations\":[\"inside\"]"), &e),
              ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation/thresholds/0/zone_relations/0: unknown value \"inside\"");
    CHECK_INT(load_with(TH(",\"step_hours\":48"), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "\"step_hours\" must be a whole number of hours from 1 to 24");
    CHECK_INT(load_with(TH(",\"min_findings\":0"), &e), ERR_INVAL);
    CHECK_INT(load_with(TH(",\"per\":\"sector\""), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "per must be all, region, party or region_party");
    CHECK_INT(load_with("{\"thresholds\":[{\"id\":\"x\",\"level\":\"notice\",\"text\":\"t\","
                        "\"window_hours\":24},{\"id\":\"x\",\"level\":\"notice\",\"text\":\"t\","
                        "\"window_hours\":24}]}",
                        &e),
              ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation/thresholds/1: duplicate threshold id \"x\"");
    CHECK_INT(load_with("[]", &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "/escalation: must be an object");
    CHECK_INT(load_with("{\"thresholds\":[],\"extra\":1}", &e), ERR_INVAL);
}

static void test_subscriber_checks(void)
{
    struct env v;
    if (env_open(&v, "examples/minsk-2015/agreement.json", "subs"))
        return;
    const struct agreement *a = v.ag.v[0];
    struct errbuf e;
    CHECK_INT(esc_subscriber_add(v.s, a, "g", "https://g.example/h", "serious", NULL, &e), 0);
    CHECK_INT(esc_subscriber_add(v.s, a, "g", "https://g.example/h", NULL, NULL, &e), ERR_CONFLICT);
    CHECK_INT(esc_subscriber_add(v.s, a, "bad name", "https://x", NULL, NULL, &e), ERR_INVAL);
    CHECK_INT(esc_subscriber_add(v.s, a, "x", "file:///etc/passwd", NULL, NULL, &e), ERR_INVAL);
    CHECK_INT(esc_subscriber_add(v.s, a, "x", "http://", NULL, NULL, &e), ERR_INVAL);
    CHECK_INT(esc_subscriber_add(v.s, a, "x", "http://a b", NULL, NULL, &e), ERR_INVAL);
    CHECK_INT(esc_subscriber_add(v.s, a, "x", "http://a", "loud", NULL, &e), ERR_INVAL);
    CHECK_INT(esc_subscriber_add(v.s, a, "x", "http://a", NULL, "ru", &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "party: \"ru\" is not a party");
    const char *ok = "{\"name\":\"p\",\"url\":\"http://p.example\",\"party\":\"af\"}";
    CHECK_INT(esc_subscriber_add_json(v.s, a, ok, strlen(ok), &e), 0);
    const char *dup = "{\"name\":\"q\",\"name\":\"r\",\"url\":\"http://x\"}";
    CHECK_INT(esc_subscriber_check_json(a, dup, strlen(dup), &e), ERR_PARSE);
    const char *num = "{\"name\":\"q\",\"url\":5}";
    CHECK_INT(esc_subscriber_check_json(a, num, strlen(num), &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "url: must be a string");
    CHECK_INT(store_subscriber_remove(v.s, "p", &e), 0);
    CHECK_INT(store_subscriber_remove(v.s, "p", &e), ERR_NOTFOUND);
    env_close(&v);
}

static void test_webhook_signature(void)
{
    struct env v;
    if (env_open(&v, "examples/minsk-2015/agreement.json", "sig"))
        return;
    struct errbuf e;
    CHECK_INT(log_key_create(v.dir, "truce.example/test", &e), 0);
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "osce", "http://127.0.0.1:9/h", NULL, NULL, &e),
              0);
    CHECK_INT(ingest(&v, "examples/minsk-2015/observations.ndjson", 0), 4);
    struct store_outbox_row r = {.id = 1, .alert_id = 3, .subscriber = "osce"};
    struct buf body;
    buf_init(&body);
    CHECK_INT(esc_webhook_body(v.s, &r, "truce.example/test", &body, &e), 0);
    CHECK_CONTAINS(body.p, "{\"type\":\"truce.alert/1\",\"instance\":\"truce.example/test\","
                           "\"alert\":{\"id\":3,\"threshold\":\"withdrawal-same-party\"");
    CHECK_CONTAINS(body.p, "\"findings\":[{\"id\":12,");
    CHECK_CONTAINS(body.p, "{\"id\":19,");
    CHECK_CONTAINS(body.p, "\"delivery\":{\"id\":1,\"subscriber\":\"osce\"}}\n");
    char path[200], vkey[NOTE_VKEY_SIZE], sig[NOTE_RAW_SIG_B64_SIZE], header[256];
    snprintf(path, sizeof path, "%s/log/%s", v.dir, LOG_SIGNING_KEY_NAME);
    struct note_signer *signer = NULL;
    CHECK_INT(note_key_read(path, &signer, &e), 0);
    CHECK_INT(log_verifier_key(v.dir, vkey, sizeof vkey, &e), 0);
    if (signer) {
        CHECK_INT(note_sign_raw(signer, body.p, body.len, sig, &e), 0);
        snprintf(header, sizeof header, "ed25519 keyid=%08x sig=%s",
                 (unsigned)note_signer_keyid(signer), sig);
        CHECK_INT(esc_webhook_verify(vkey, header, body.p, body.len, &e), 0);
        body.p[10] ^= 1;
        CHECK_INT(esc_webhook_verify(vkey, header, body.p, body.len, &e), ERR_INVAL);
        body.p[10] ^= 1;
        header[15] = header[15] == '0' ? '1' : '0'; /* another key id */
        CHECK_INT(esc_webhook_verify(vkey, header, body.p, body.len, &e), ERR_CONFLICT);
        CHECK_INT(esc_webhook_verify(vkey, "ed25519 sig=AAAA", body.p, body.len, &e), ERR_PARSE);
        note_signer_free(signer);
    }
    buf_reset(&body);
    env_close(&v);
}

static void unhex(const char *h, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) == 1)
            out[i] = (unsigned char)v;
    }
}

/* RFC 8032 section 7.1, TEST 2: the detached signature over arbitrary bytes that webhooks use
 * is plain Ed25519 (the one-byte message 0x72 under the RFC's key), and it verifies through
 * esc_webhook_verify with the verifier key string. */
static void test_raw_signature_is_rfc8032(void)
{
    unsigned char seed[32], pk[32], msg[1] = {0x72}, want[64], raw[33], h[32];
    unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", seed, 32);
    unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", pk, 32);
    unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
          "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
          want, 64);
    /* key ID: SHA-256(name || 0x0A || type || public key), first 4 bytes big endian */
    unsigned char idin[64];
    memcpy(idin, "rfc8032\n\x01", 9);
    memcpy(idin + 9, pk, 32);
    SHA256(idin, 41, h);
    unsigned keyid = (unsigned)h[0] << 24 | (unsigned)h[1] << 16 | (unsigned)h[2] << 8 | h[3];
    char b64[64], skey[160], vkey[160], sig[NOTE_RAW_SIG_B64_SIZE], want64[NOTE_RAW_SIG_B64_SIZE];
    raw[0] = 0x01;
    memcpy(raw + 1, seed, 32);
    sodium_bin2base64(b64, sizeof b64, raw, 33, sodium_base64_VARIANT_ORIGINAL);
    snprintf(skey, sizeof skey, "PRIVATE+KEY+rfc8032+%08x+%s", keyid, b64);
    memcpy(raw + 1, pk, 32);
    sodium_bin2base64(b64, sizeof b64, raw, 33, sodium_base64_VARIANT_ORIGINAL);
    snprintf(vkey, sizeof vkey, "rfc8032+%08x+%s", keyid, b64);
    sodium_bin2base64(want64, sizeof want64, want, 64, sodium_base64_VARIANT_ORIGINAL);
    struct note_signer *signer = NULL;
    struct errbuf e;
    CHECK_INT(note_signer_parse(skey, &signer, &e), 0);
    if (!signer)
        return;
    CHECK_INT(note_sign_raw(signer, msg, 1, sig, &e), 0);
    CHECK_STR(sig, want64);
    char header[256];
    snprintf(header, sizeof header, "ed25519 keyid=%08x sig=%s", keyid, sig);
    CHECK_INT(esc_webhook_verify(vkey, header, msg, 1, &e), 0);
    msg[0] = 0x73;
    CHECK_INT(esc_webhook_verify(vkey, header, msg, 1, &e), ERR_INVAL);
    note_signer_free(signer);
}

struct rows {
    char text[512];
    size_t len;
    int64_t next_min, next_max, created;
};

static int on_state(void *ctx, const struct store_outbox_row *r)
{
    struct rows *p = ctx;
    p->len += (size_t)snprintf(p->text + p->len, sizeof p->text - p->len, "%lld:%s:%lld:%s ",
                               (long long)r->id, r->state, r->attempts,
                               r->last_error ? "error" : "-");
    if (r->next_attempt_ms < p->next_min)
        p->next_min = r->next_attempt_ms;
    if (r->next_attempt_ms > p->next_max)
        p->next_max = r->next_attempt_ms;
    return 0;
}

/* A receiver that is down: every attempt fails, is recorded with its error and rescheduled
 * after the backoff (base 1 s here, within the +-25 % jitter); after the last attempt the
 * delivery is failed for good. Uses a loopback port nothing listens on. */
static void test_failed_deliveries_are_retried_with_backoff(void)
{
    struct env v;
    if (env_open(&v, "examples/minsk-2015/agreement.json", "retry"))
        return;
    struct errbuf e;
    CHECK_INT(log_key_create(v.dir, "truce.example/test", &e), 0);
    CHECK_INT(esc_subscriber_add(v.s, v.ag.v[0], "down", "http://127.0.0.1:1/hook", "serious",
                                 NULL, &e),
              0);
    CHECK_INT(ingest(&v, "examples/minsk-2015/observations.ndjson", 0), 4);
    setenv("TRUCE_WEBHOOK_RETRY_BASE_MS", "1000", 1);
    struct esc_delivery_stats st;
    int64_t before = time_now_ms();
    CHECK_INT(esc_deliver_due(v.dir, v.s, NULL, &st, &e), 0);
    int64_t after = time_now_ms();
    CHECK_INT(st.attempted, 2); /* the two serious alerts */
    CHECK_INT(st.delivered, 0);
    CHECK_INT(st.retried, 2);
    struct rows p = {"", 0, INT64_MAX, INT64_MIN, 0};
    CHECK_INT(store_outbox_list(v.s, 0, on_state, &p, &e), 0);
    CHECK_STR(p.text, "1:pending:1:error 2:pending:1:error ");
    CHECK(p.next_min >= before + 750);
    CHECK(p.next_max <= after + 1250);
    /* nothing is due again before the backoff */
    CHECK_INT(esc_deliver_due(v.dir, v.s, NULL, &st, &e), 0);
    CHECK_INT(st.attempted, 0);
    /* the last attempt: failed for good */
    char db[160];
    snprintf(db, sizeof db, "%s/%s", v.dir, STORE_DB_NAME);
    sqlite3 *raw;
    CHECK_INT(sqlite3_open(db, &raw), SQLITE_OK);
    CHECK_INT(sqlite3_exec(raw, "UPDATE outbox SET attempts = 24, next_attempt_ms = 0", NULL, NULL,
                           NULL),
              SQLITE_OK);
    sqlite3_close(raw);
    CHECK_INT(esc_deliver_due(v.dir, v.s, NULL, &st, &e), 0);
    CHECK_INT(st.failed, 2);
    p.len = 0;
    CHECK_INT(store_outbox_list(v.s, 0, on_state, &p, &e), 0);
    CHECK_STR(p.text, "1:failed:25:error 2:failed:25:error ");
    unsetenv("TRUCE_WEBHOOK_RETRY_BASE_MS");
    env_close(&v);
}

int main(void)
{
    static const struct t_case tests[] = {
        T(test_minsk_raises_its_alerts_once),
        T(test_batching_raises_the_same_alerts),
        T(test_dmz_guarantee_trigger),
        T(test_windows_follow_the_local_cutoff),
        T(test_escalation_section_errors),
        T(test_subscriber_checks),
        T(test_webhook_signature),
        T(test_raw_signature_is_rfc8032),
        T(test_failed_deliveries_are_retried_with_backoff),
    };
    return T_RUN(tests);
}
