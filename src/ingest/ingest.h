/* ingest.h: the intake pipeline shared by the CLI (and later the server): read records, validate
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

#endif
