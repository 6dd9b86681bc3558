/* ingest.h: the intake pipeline shared by the CLI and the server: read records, validate
 * (M2), place (M3), judge (M6 rules) and store them, one transaction per batch. Each record gets
 * its own result, reported only after its batch has committed, so an "accepted" result is
 * durable. Good records are stored and bad ones reported; with `atomic` one bad record refuses
 * the whole input. A resubmitted client id is a no-op. */
#ifndef TRUCE_INGEST_H
#define TRUCE_INGEST_H
#include <stdio.h>

#include "fusion/fusion.h"
#include "log/log.h"
#include "observation/observation.h"
#include "store/store.h"

#define INGEST_DEFAULT_BATCH 10000

enum ingest_status { INGEST_ACCEPTED, INGEST_DUPLICATE, INGEST_REJECTED, INGEST_NOT_STORED };
extern const char *const INGEST_STATUS_NAMES[4];

struct ingest_result {
    long long index; /* 1-based record number in the input */
    enum ingest_status status;
    int64_t id;           /* stored observation id (accepted, duplicate) */
    size_t n_findings;    /* findings made (accepted) */
    const char *client_id; /* may be "" */
    const char *error;     /* rejected: "field: reason" */
};

struct ingest_opts {
    enum obs_format format;
    bool atomic;
    size_t batch; /* records per transaction; 0: INGEST_DEFAULT_BATCH */
    const char *name; /* input name for messages */
    /* called after each committed batch's results, with the bytes read so far (may be NULL) */
    void (*progress)(void *ctx, uint64_t bytes, long long records);
    /* called once per record, in input order, after its batch committed (may be NULL) */
    int (*result)(void *ctx, const struct ingest_result *r);
    void *ctx;
    /* the transparency log: every stored observation and finding is appended as a leaf and
     * synced before its batch commits (NULL: no log, for measurements) */
    struct truce_log *log;
    /* called after each batch committed, outside any transaction (may be NULL): escalation
     * evaluates its thresholds here; its failures do not stop the ingest */
    void (*committed)(void *committed_ctx);
    void *committed_ctx;
    /* the fusion engine holding the stored fire observations: each accepted one is fused and its
     * incident stored in the same transaction (NULL: no fusion; `truce fuse` catches up). After a
     * rolled-back batch the engine is reloaded from the store. */
    struct fusion *fusion;
};

struct ingest_stats {
    long long records, accepted, duplicates, rejected, findings;
};

/* Ingests every record of f. Returns 0 when the input was read to its end (even with rejected
 * records: see stats), or a negative code for a failure that stopped it (unreadable input, a
 * database error); records of batches committed before a failure stay stored and were reported. */
int ingest_stream(struct store *s, const struct store_agreements *agreements, FILE *f,
                  const struct ingest_opts *opts, struct ingest_stats *stats,
                  struct errbuf *e) WUR;

/* The steps ingest_stream is made of, for callers that frame records and group transactions
 * themselves (the HTTP server's group commit). ingest_record takes one record's JSON text (len
 * bytes): validates, places and judges it and, when it is good, stores it with its log leaves in
 * the caller's open transaction (store_begin). r gets its result (status, id, findings; client
 * id and error point into scratch and re, valid until their next use); an accepted fire report
 * is linked into its incident (fusion may be NULL), which ingest_commit stores and logs.
 * Returns 0 (also for a rejected record), or a negative code in e for a store or log failure
 * after which the transaction must be abandoned with ingest_abort. */
int ingest_record(struct store *s, const struct store_agreements *agreements,
                  struct truce_log *log, struct fusion *fusion, const char *text, size_t len,
                  struct obs *scratch, struct ingest_result *r, struct errbuf *re,
                  struct errbuf *e) WUR;
/* Makes the open transaction durable: the incidents its fire reports changed stored and logged
 * once each (fusion_flush; fusion may be NULL), the log's leaves synced, then COMMIT. On failure
 * the transaction is rolled back and the log rewound (ingest_abort), and nothing of it is
 * stored. */
int ingest_commit(struct store *s, struct truce_log *log, struct fusion *fusion,
                  const struct store_agreements *agreements, struct errbuf *e) WUR;
/* Abandons the open transaction: ROLLBACK, the log cut back to the committed size, and the fusion
 * engine (fusion may be NULL) reloaded from the store. */
void ingest_abort(struct store *s, struct truce_log *log, struct fusion *fusion,
                  const struct store_agreements *agreements);

#endif
