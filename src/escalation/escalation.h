/* escalation.h: escalation (capability M7): the agreement's thresholds evaluated over stored
 * findings raise alerts (levels notice < warning < serious < guarantee_trigger), each alert a
 * leaf of the transparency log; subscribers (guarantors, parties) get every alert at or above
 * their level as a webhook: a JSON body signed with the instance's Ed25519 log key, delivered
 * from a persistent outbox with retries and exponential backoff, by a thread with its own store
 * connection (or once, by `truce deliver`). docs/escalation.md describes the whole.
 *
 * Evaluation runs in the thread that owns the store and the log; delivery never touches the
 * log. The only user of libcurl. */
#ifndef TRUCE_ESCALATION_H
#define TRUCE_ESCALATION_H
#include <stdbool.h>
#include <stdint.h>

#include "agreement/agreement.h"
#include "log/log.h"
#include "store/store.h"
#include "util/util.h"

#define ESC_MAX_LISTED 100             /* finding ids kept with an alert (all are counted) */
#ifndef ESC_MAX_CANDIDATES /* (threshold, group, window) counted at once; more in several rounds */
#define ESC_MAX_CANDIDATES 100000
#endif
#define ESC_SUBSCRIBER_NAME_MAX 64     /* bytes of a subscriber name */
#define ESC_URL_MAX 2048               /* bytes of a webhook URL */
#define ESC_SUBSCRIBER_JSON_MAX (16u << 10) /* a subscriber as JSON (POST /api/v1/subscribers) */
#define ESC_MAX_SUBSCRIBERS 1000       /* subscribers one alert is queued for */
#define ESC_CONNECT_TIMEOUT_MS 5000    /* webhook connect timeout */
#define ESC_REQUEST_TIMEOUT_MS 15000   /* whole webhook request */
#define ESC_RETRY_BASE_MS 5000         /* first retry after about this long, doubling */
#define ESC_RETRY_MAX_MS 3600000       /* backoff cap: one hour */
#define ESC_MAX_ATTEMPTS 25            /* attempts before a delivery is marked failed */
#define ESC_POLL_MS 1000               /* how often the delivery thread looks for due rows */
#define ESC_BATCH 32                   /* deliveries taken from the outbox at a time */
#define ESC_SIGNATURE_HEADER "Truce-Signature"
#define ESC_SIG_HEADER_MAX 512         /* bytes of a Truce-Signature header value */

struct esc_stats {
    long long findings_seen, candidates, alerts_raised, deliveries_queued;
};

/* Evaluates agreement a's thresholds over the findings stored since the last evaluation (every
 * finding with from_start): raises each alert once per (threshold, group, window) and never for
 * a window overlapping an alert already raised for the same threshold and group; appends each
 * alert's leaf to log (may be NULL: no leaves, for tests without a log) and queues one outbox
 * row per subscriber that wants it. Re-running it changes nothing.
 *
 * The counting only reads; a transaction (with its fsync) is opened only when alerts are raised,
 * so evaluating after an ingest batch that raises none costs no write. How far the findings were
 * evaluated is kept in *cursor (may be NULL; -1 at first: read from the store) and written to the
 * store with the alerts; after a restart the findings since the last alert are counted again,
 * which raises nothing twice. Call it outside any transaction, from the thread that writes the
 * store and the log. */
int esc_evaluate(struct store *s, const struct agreement *a, struct truce_log *log,
                 bool from_start, int64_t *cursor, struct esc_stats *st, struct errbuf *e) WUR;

/* For ingest_opts.committed: evaluates the thresholds of agreement a after each committed batch
 * (nothing when a has none), adding the alerts raised to `alerts`; a failure is printed to
 * stderr and left for the next batch or `truce alerts evaluate` (the records are stored). */
struct esc_hook {
    struct store *s;
    const struct agreement *a;
    struct truce_log *log;
    int64_t *cursor; /* esc_evaluate's cursor, kept by the caller across batches (may be NULL) */
    long long alerts;
};
void esc_hook_after_batch(void *hook);

/* Evaluates what was left unevaluated (after a crash between an ingest batch's commit and its
 * evaluation), printing what it raised or why it failed to stderr; for `truce serve` at start. */
void esc_startup_evaluate(struct store *s, const struct agreement *a, struct truce_log *log);

/* The windows [start, end) of threshold t that contain time t_ms, written to starts and ends
 * (at most max), oldest first; returns their number. Windows of whole days are made of report
 * days (each ending at the local cut-off); others are fixed lengths from esc_anchor_ms. */
size_t esc_windows(const struct agreement *a, const struct agr_threshold *t, int64_t t_ms,
                   int64_t *starts, int64_t *ends, size_t max);

/* ---- subscribers ---- */

/* Checks and adds a subscriber: name of 1..ESC_SUBSCRIBER_NAME_MAX letters, digits, '.', '_',
 * '-'; url http:// or https:// of at most ESC_URL_MAX bytes without spaces or control
 * characters; min_level a level name (NULL: notice); party NULL or a party of agreement a (a
 * party's subscriber gets alerts about that party and alerts about no party). */
int esc_subscriber_add(struct store *s, const struct agreement *a, const char *name,
                       const char *url, const char *min_level, const char *party,
                       struct errbuf *e) WUR;
/* The same from a JSON object {"name", "url", "min_level"?, "party"?} of len bytes (the API's
 * body); unknown fields are refused. */
int esc_subscriber_add_json(struct store *s, const struct agreement *a, const char *json,
                            size_t len, struct errbuf *e) WUR;
/* Parses and checks such a JSON object without storing it (for the fuzz harness): 0 when valid. */
int esc_subscriber_check_json(const struct agreement *a, const char *json, size_t len,
                              struct errbuf *e) WUR;

/* Appends the JSON object of alert al to out, with "state" (open or acknowledged) and, with
 * deliveries, the state of each webhook delivery (read from store s). */
int esc_alert_json(struct store *s, const struct store_alert *al, bool deliveries,
                   struct buf *out, struct errbuf *e) WUR;

/* ---- delivery ---- */

struct esc_delivery_stats {
    long long attempted, delivered, retried, failed;
};

/* Delivers every outbox row due now, once each, from data directory dir, using store s (the
 * caller's connection, owned by the calling thread): builds the body, signs it with the log's
 * key, POSTs it; records the outcome and the next attempt. *stop (may be NULL) non-zero aborts
 * the request in flight and stops. */
int esc_deliver_due(const char *dir, struct store *s, const volatile int *stop,
                    struct esc_delivery_stats *st, struct errbuf *e) WUR;

/* Builds the webhook body of outbox row r into out (exactly the bytes that are signed). */
int esc_webhook_body(struct store *s, const struct store_outbox_row *r, const char *origin,
                     struct buf *out, struct errbuf *e) WUR;

/* A background delivery thread over data directory dir with its own store connection. */
struct esc_delivery;
int esc_delivery_start(const char *dir, struct esc_delivery **out, struct errbuf *e) WUR;
/* Asks the thread to look at the outbox now (after alerts were raised). Any thread. */
void esc_delivery_kick(struct esc_delivery *d);
/* Stops the thread (aborting a request in flight) and frees d; NULL is a no-op. */
void esc_delivery_stop(struct esc_delivery *d);

/* Verifies a webhook: header is the Truce-Signature value ("ed25519 keyid=<8 hex> sig=<b64>"),
 * vkey the instance's verifier key (`truce log key`), body the exact bytes received.
 * Errors: ERR_PARSE (header shape), ERR_CONFLICT (signed by another key), ERR_INVAL (bad
 * signature). */
int esc_webhook_verify(const char *vkey, const char *header, const void *body, size_t len,
                       struct errbuf *e) WUR;

#endif
