/* store.h: the embedded SQLite store of a truce data directory: agreement versions, accepted
 * observations with their raw payloads and placements, and findings. WAL mode, one transaction
 * per ingest batch, synchronous=FULL so a committed batch survives a crash or kill -9; the schema
 * is versioned and migrated forward on open.
 *
 * The only module that includes sqlite3.h. One thread owns a store. */
#ifndef TRUCE_STORE_H
#define TRUCE_STORE_H
#include <stdbool.h>
#include <stdint.h>

#include "agreement/agreement.h"
#include "observation/observation.h"
#include "placement/placement.h"
#include "rules/rules.h"
#include "util/util.h"

#define STORE_DB_NAME "truce.db"
#define STORE_SCHEMA_VERSION 4

struct store;

/* Opens (create=false) or creates (create=true: dir may exist but must not hold a store) the
 * store in dir, migrating the schema forward when it is older. */
int store_open(const char *dir, bool create, struct store **out, struct errbuf *e) WUR;
void store_close(struct store *s);

int store_begin(struct store *s, struct errbuf *e) WUR;
int store_commit(struct store *s, struct errbuf *e) WUR;
void store_rollback(struct store *s);

/* Adds an agreement version. Refuses a different agreement id than the stored one, and a version
 * number or effective time not above the latest. */
int store_agreement_add(struct store *s, const struct agreement *a, struct errbuf *e) WUR;

/* All stored versions in ascending order (at least one in an initialised store); free with
 * store_agreements_free. */
struct store_agreements {
    struct agreement **v;
    size_t n;
};
int store_agreements_load(struct store *s, struct store_agreements *out, struct errbuf *e) WUR;
void store_agreements_free(struct store_agreements *l);
/* The version in force at time t: the latest whose effective time is <= t, else the first. */
const struct agreement *store_agreement_at(const struct store_agreements *l, int64_t t_ms);

/* Inserts an accepted observation with its placement and findings. When the client id was
 * stored before with the same raw record, nothing is written and *duplicate is set with the
 * stored id in *id; with a different record, nothing is written and ERR_CONFLICT is returned
 * (the record is to be rejected, the batch goes on). */
/* What an insert stored, for the transparency log: the observation's id and leaf index, and the
 * ids and leaf indices of its findings, in the order the leaves must be appended. */
struct store_insert_ids {
    int64_t obs_id, obs_log_index;
    size_t n_findings;
    int64_t finding_ids[RULES_MAX_FINDINGS], finding_log_index[RULES_MAX_FINDINGS];
};
int store_obs_insert(struct store *s, const struct agreement *a, const struct obs *o,
                     const struct placement *p, const struct finding *f, size_t nf, int64_t *id,
                     bool *duplicate, struct store_insert_ids *ids, struct errbuf *e) WUR;

/* The transparency log's size as the store sees it: every stored agreement version,
 * observation and finding has a leaf index, assigned in storage order. store_log_size counts
 * those assigned so far (in the open transaction too), store_log_committed those of the last
 * COMMIT, which records the size with the records in the same transaction. */
int64_t store_log_size(const struct store *s);
int64_t store_log_committed(const struct store *s);

enum store_log_kind { STORE_LOG_AGREEMENT, STORE_LOG_OBSERVATION, STORE_LOG_FINDING,
                      STORE_LOG_REVIEW };
/* One logged record with the fields its leaf is made of (docs/log-format.md). */
struct store_log_record {
    enum store_log_kind kind;
    int64_t log_index, id;
    int64_t obs_id;        /* findings */
    int agreement_version; /* observations and findings */
    const char *text1;     /* agreement id, or an observation's client id (NULL: none) */
    const char *clause, *result, *party, *severity, *rule_kind; /* findings */
    const char *body;      /* agreement JSON, observation raw record, finding reasons,
                            * review reason or statement */
    size_t body_len;
    /* reviews (party above: the actor's party, or NULL) */
    int64_t finding_id, time_ms;
    const char *action, *status_from, *status_to, *actor, *role;
};
/* A checkpoint the log signed (the signed note's text is kept whole). */
struct store_checkpoint {
    int64_t size, signed_ms;
    char root_hex[65];
    char *note; /* owned: free() it */
};
/* The newest signed checkpoint (ERR_NOTFOUND when none was signed yet). */
int store_checkpoint_last(struct store *s, struct store_checkpoint *out, struct errbuf *e) WUR;
/* Calls cb with every signed checkpoint, oldest first (c->note is borrowed for the call). */
int store_checkpoints_each(struct store *s, int (*cb)(void *ctx, const struct store_checkpoint *c),
                           void *ctx, struct errbuf *e) WUR;
/* Records a signed checkpoint (inside or outside a transaction). */
int store_checkpoint_add(struct store *s, int64_t size, const char *root_hex, const char *note,
                         struct errbuf *e) WUR;

/* Replaces the signed note of the newest checkpoint, which must be for size leaves (the same
 * checkpoint with witnesses' cosignature lines added). */
int store_checkpoint_set_note(struct store *s, int64_t size, const char *note,
                              struct errbuf *e) WUR;

/* The leaf index of stored observation obs_id (ERR_NOTFOUND when there is none). */
int store_obs_log_index(struct store *s, int64_t obs_id, int64_t *log_index,
                        struct errbuf *e) WUR;
/* Calls cb with every logged record from leaf index from_index on, in leaf order. */
int store_log_records(struct store *s, int64_t from_index,
                      int (*cb)(void *ctx, const struct store_log_record *r), void *ctx,
                      struct errbuf *e) WUR;

/* Filters for listings; unset fields are NULL / TIME_NONE. */
struct store_filter {
    int64_t from_ms, to_ms; /* on the observation's end time, [from, to) */
    const char *party, *clause, *region, *kind;
    long long limit; /* 0: no limit */
};
void store_filter_init(struct store_filter *f);

/* Calls cb with each observation as one JSON object (normalised, with placement), in id order. */
int store_obs_list(struct store *s, const struct store_filter *f,
                   int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e) WUR;
/* Calls cb with each finding as one JSON object, in id order. */
int store_findings_list(struct store *s, const struct store_filter *f,
                        int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e) WUR;

/* Rows for the daily report. */
struct store_event_row {
    int64_t obs_id, t_end_ms;
    const char *region; /* region id or NULL */
    const char *event_type;
    long long count; /* -1 uncountable */
    const char *qualifier;
    const char *phrase;
};
int store_report_events(struct store *s, int64_t from_ms, int64_t to_ms,
                        int (*cb)(void *ctx, const struct store_event_row *r), void *ctx,
                        struct errbuf *e) WUR;

struct store_zone_row {
    int64_t obs_id, t_end_ms;
    const char *zone, *relation;
    double distance_m;
    const char *kind, *phrase; /* observation kind, placement phrase */
    long long n_events;        /* sum of counts of its fire events (uncountable as 0) */
};
int store_report_zones(struct store *s, int64_t from_ms, int64_t to_ms,
                       int (*cb)(void *ctx, const struct store_zone_row *r), void *ctx,
                       struct errbuf *e) WUR;

struct store_finding_row {
    int64_t id, obs_id, t_end_ms;
    const char *clause, *rule_kind, *result, *party, *severity, *status, *reasons, *region;
};
/* Calls cb with each finding matching f as a row, in id order. */
int store_findings_rows(struct store *s, const struct store_filter *f,
                        int (*cb)(void *ctx, const struct store_finding_row *r), void *ctx,
                        struct errbuf *e) WUR;
int store_report_findings(struct store *s, int64_t from_ms, int64_t to_ms,
                          int (*cb)(void *ctx, const struct store_finding_row *r), void *ctx,
                          struct errbuf *e) WUR;

/* One located observation as the dashboard's map shows it. */
struct store_map_row {
    int64_t id, t_end_ms;
    double lon, lat;
    const char *kind, *region, *party; /* region and party may be NULL */
    const char *event_type;            /* the event type with the largest count, or NULL */
    long long count;                   /* summed event counts, else the record's count, else 0 */
    const char *clauses;       /* the clauses of its findings, comma-separated, or NULL: none */
    const char *finding_party; /* a party its findings attribute it to (not "undetermined") */
    double radius_m;           /* radius of its region of uncertainty (0: a point) */
};
/* Calls cb with every located observation, in id order. */
int store_map_points(struct store *s, int (*cb)(void *ctx, const struct store_map_row *r),
                     void *ctx, struct errbuf *e) WUR;

/* One step of the review of a finding (M6). */
struct store_review {
    int64_t id, finding_id, time_ms, log_index;
    const char *action, *status_from, *status_to, *actor, *role;
    const char *party; /* the actor's party (role party), or NULL */
    const char *text;  /* the reason or the party's statement */
};
/* The status and party of finding id (ERR_NOTFOUND when there is none). */
int store_finding_get(struct store *s, int64_t id, char status[16], char party[32],
                      struct errbuf *e) WUR;
/* Records review step r (its next leaf index is the log's next) and sets the finding's status
 * to r->status_to, in the caller's transaction. *id gets the step's id. */
int store_finding_review_add(struct store *s, const struct store_review *r, int64_t *id,
                             struct errbuf *e) WUR;
/* Calls cb with every review step of finding finding_id, oldest first. */
int store_finding_reviews(struct store *s, int64_t finding_id,
                          int (*cb)(void *ctx, const struct store_review *r), void *ctx,
                          struct errbuf *e) WUR;

/* Number of stored observations (for summaries and tests). */
int store_obs_count(struct store *s, long long *n, struct errbuf *e) WUR;

#endif
