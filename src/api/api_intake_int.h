/* api_intake_int.h: private to the api module: the intake of POST /api/v1/observations with
 * group commit. Bodies are taken as they arrive: NDJSON record by record (any length; one record
 * at most LIMIT_RECORD_BYTES), a JSON document or CSV collected up to API_INGEST_BODY_BYTES and
 * then framed by the observation reader. Every good record is stored (ingest_record) in the
 * group's open transaction, shared by all requests of a round of the app thread;
 * intake_group_commit makes it durable with one log sync and one COMMIT, and only then are the
 * requests answered. After
 * each commit the agreement's escalation thresholds are evaluated over the new findings
 * (escalation.h), which may log alerts before the next checkpoint is signed. */
#ifndef TRUCE_API_INTAKE_INT_H
#define TRUCE_API_INTAKE_INT_H
#include "http/http.h"
#include "ingest/ingest.h"

/* The group transaction is committed once it holds this many records, even mid-round. */
#define API_GROUP_MAX_RECORDS 10000
/* A request's answer lists every record's result for its first API_INGEST_RESULTS_MAX records,
 * then only rejected ones, up to API_INGEST_RESULTS_MAX entries in all (the counts are always
 * complete). */
#define API_INGEST_RESULTS_MAX 10000
/* JSON documents and CSV bodies being collected by all requests at once may hold at most this
 * many bytes together; a request that would go over it is answered 503 (retry, or send NDJSON,
 * which is not collected). */
#define API_COLLECT_TOTAL_BYTES (256u << 20)
/* A new checkpoint is signed after a commit at most this often (and by api_tick when idle). */
#define API_CHECKPOINT_INTERVAL_MS 1000

struct intake_group;
struct intake;

/* The group of store s (its agreements ag, log and fusion engine, which may be NULL: records are
 * fused into incidents as they are staged). NULL: out of memory. */
struct intake_group *intake_group_new(struct store *s, const struct store_agreements *ag,
                                      struct truce_log *log, struct fusion *fusion);
void intake_group_free(struct intake_group *g);
/* Whether records are staged in the open transaction. */
bool intake_group_staged(const struct intake_group *g);
/* Commits the staged records (log sync, COMMIT) and records the outcome in every open intake;
 * signs a checkpoint when one is due. A no-op when nothing is staged. */
void intake_group_commit(struct intake_group *g);
/* Signs a checkpoint when committed leaves are not in one and API_CHECKPOINT_INTERVAL_MS
 * passed since the last. */
void intake_group_tick(struct intake_group *g);
/* Commits what is staged and signs a checkpoint over every committed leaf, whatever the interval
 * (the server is stopping). */
void intake_group_finish(struct intake_group *g);

/* Group commits made and the records they stored, since the start (for /metrics). */
void intake_group_counters(const struct intake_group *g, unsigned long long *commits,
                           unsigned long long *records);

/* Escalation alerts raised after the group's commits, since the start (for /metrics). */
unsigned long long intake_group_alerts(const struct intake_group *g);
/* A request's intake; content_type may be NULL; a JSON document or CSV body may hold at most
 * body_max bytes (capped at API_INGEST_BODY_BYTES; 0: that). NULL: the content type is not one
 * observations come in (the caller answers 415), or out of memory (*oom set). */
struct intake *intake_open(struct intake_group *g, const char *content_type, size_t body_max,
                           bool *oom);
/* The next piece of the body. Returns 0, or non-zero when the connection should be dropped. */
int intake_data(struct intake *in, const char *p, size_t n);
/* The body is complete: stages the rest. Either answers in resp at once (nothing of this request
 * waits for a commit), or sets resp->after_commit. */
void intake_end(struct intake *in, struct http_response *resp);
/* The answer after the group commit. */
void intake_answer(struct intake *in, struct http_response *resp);
/* What this request's committed records came to. */
void intake_stats(const struct intake *in, struct ingest_stats *st);
/* What this request's records came to so far: committed, and staged for the next commit. */
void intake_taken(const struct intake *in, struct ingest_stats *st);
void intake_close(struct intake *in);

/* The media types intake_open accepts, for a 415's detail. */
#define API_INGEST_TYPES                                                                        \
    "application/json, application/geo+json, application/x-ndjson, application/geo+json-seq, " \
    "text/csv (or none)"

#endif
