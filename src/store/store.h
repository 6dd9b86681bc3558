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
#define STORE_SCHEMA_VERSION 10

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

enum store_log_kind {
    STORE_LOG_AGREEMENT,
    STORE_LOG_OBSERVATION,
    STORE_LOG_FINDING,
    STORE_LOG_ALERT,
    STORE_LOG_INCIDENT,
    STORE_LOG_REVIEW
};
/* One logged record with the fields its leaf is made of (docs/log-format.md). */
struct store_log_record {
    enum store_log_kind kind;
    int64_t log_index, id;
    int64_t obs_id;        /* findings */
    int agreement_version; /* observations and findings */
    const char *text1;     /* agreement id, or an observation's client id (NULL: none) */
    const char *clause, *result, *party, *severity, *rule_kind; /* findings (party: alerts,
                                                                     incidents) */
    const char *grade;                      /* incidents */
    const char *threshold, *level, *region; /* alerts ("" for no region or party) */
    int64_t window_start_ms, window_end_ms, n_findings; /* alerts */
    const char *body; /* agreement JSON, observation raw record, finding reasons, alert's
                         finding ids as a JSON array, incident JSON,
                         review reason or statement */
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

/* The id of the observation stored under client id client_id (ERR_NOTFOUND when none). */
int store_obs_id_by_client(struct store *s, const char *client_id, int64_t *obs_id,
                           struct errbuf *e) WUR;
/* The leaf index of stored observation obs_id (ERR_NOTFOUND when there is none). */
int store_obs_log_index(struct store *s, int64_t obs_id, int64_t *log_index,
                        struct errbuf *e) WUR;
/* The leaf index of the logged record of kind with id (agreements: the version; incidents: the
 * newest logged version of incident id), by primary key or index: O(log n). ERR_NOTFOUND when
 * there is none. */
int store_log_index_of(struct store *s, enum store_log_kind kind, int64_t id,
                       int64_t *log_index, struct errbuf *e) WUR;
/* Calls cb with every logged record from leaf index from_index on, in leaf order. */
int store_log_records(struct store *s, int64_t from_index,
                      int (*cb)(void *ctx, const struct store_log_record *r), void *ctx,
                      struct errbuf *e) WUR;
/* The same for the records of leaves [from_index, from_index + count) only (count <= 0: to
 * the end). Each table is entered at its first row in range by bisecting its primary key, so a
 * range costs O(log² n + count), not a scan. cb returning non-zero stops the walk and is
 * returned. Records of removed rows leave gaps: callers that need every leaf check
 * r->log_index. */
int store_log_range(struct store *s, int64_t from_index, int64_t count,
                    int (*cb)(void *ctx, const struct store_log_record *r), void *ctx,
                    struct errbuf *e) WUR;

/* Filters for listings; unset fields are NULL / TIME_NONE. */
struct store_filter {
    int64_t from_ms, to_ms; /* on the observation's end time, [from, to) */
    const char *party, *clause, *region, *kind;
    const char *ids_json; /* findings only: a JSON array of finding ids to keep, or NULL */
    long long limit; /* 0: no limit */
};
void store_filter_init(struct store_filter *f);

/* Calls cb with each observation as one JSON object (normalised, with placement), in id order. */
int store_obs_list(struct store *s, const struct store_filter *f,
                   int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e) WUR;
/* Calls cb with each finding as one JSON object, in id order. */
int store_findings_list(struct store *s, const struct store_filter *f,
                        int (*cb)(void *ctx, const char *json), void *ctx, struct errbuf *e) WUR;

/* ---- paged listings (store_page.c), for the HTTP API and OGC API - Features ----
 *
 * Records come in (end time, id) order, a page at a time: a page starts after a keyset position
 * (the last record of the previous page), never at an offset, so every page costs the same on a
 * store of any size. The query picks its index from the filters (docs/api.md, "Paging"). */
#define STORE_PAGE_CELLS_MAX 400 /* cells of 0.1 degree a bbox may cover to be read cell by
                                    cell; a larger one is read in time order (store_page.c) */
#define STORE_PAGE_CELLS_FALLBACK 2500 /* a larger bbox of at most this many cells is read in
                                          time order for STORE_PAGE_TIME_BUDGET SQLite VM
                                          operations, then cell by cell if the page is not full */
#define STORE_PAGE_TIME_BUDGET 200000LL /* about 1.5 ms, some 35,000 index entries */

struct store_page {
    struct store_filter f;  /* from/to, party, clause, region, kind; f.limit rows (> 0) */
    bool has_bbox;          /* the placed centre within bbox (edges included) */
    struct geo_bbox bbox;   /* WGS84 degrees, min <= max */
    bool has_after;         /* keyset: only records after (after_t_ms, after_id) */
    int64_t after_t_ms, after_id;
    int64_t id;             /* > 0: only the record with this id */
    long long cells_max;    /* 0: STORE_PAGE_CELLS_MAX; < 0: never cell by cell (tests) */
    long long time_budget;  /* 0: STORE_PAGE_TIME_BUDGET (tests set less) */
};
void store_page_init(struct store_page *p);

/* One record of a page: its id, end time (ms UTC), placed centre (NAN when it has none) and the
 * record as one JSON object, the same object store_obs_list / store_findings_list give. Valid
 * for the duration of the callback. */
struct store_item {
    int64_t id, t_ms;
    double lon, lat;
    const char *json;
};
/* Calls cb with each observation of page p in (end time, id) order. A non-zero return of cb
 * stops the listing and is returned. */
int store_obs_page(struct store *s, const struct store_page *p,
                   int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                   struct errbuf *e) WUR;
/* The same for findings; a finding's place is its observation's placed centre. */
int store_findings_page(struct store *s, const struct store_page *p,
                        int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                        struct errbuf *e) WUR;
/* The same for incidents (truce incidents): a page at a time in (end time, id) order, each at its
 * location (lon, lat), its JSON the incident object; party, region, bbox and time filters
 * (f.kind and f.clause are not used). */
int store_incidents_page(struct store *s, const struct store_page *p,
                         int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                         struct errbuf *e) WUR;
/* Writes the query plans store_obs_page (findings: store_findings_page) would use for p into
 * out, one "EXPLAIN QUERY PLAN" detail per line (for tests and benchmarks). */
int store_page_plan(struct store *s, const struct store_page *p, bool findings, struct buf *out,
                    struct errbuf *e) WUR;

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

/* ---- incidents (src/fusion, docs/fusion.md): derived from the fire observations ---- */

/* Calls cb with the id and raw record of every stored fire or detection observation, in id
 * order (fusion re-reads them). */
int store_fire_obs_each(struct store *s,
                        int (*cb)(void *ctx, int64_t id, const char *raw, size_t len), void *ctx,
                        struct errbuf *e) WUR;

/* One incident as stored: the columns listings and reports filter on, and its JSON. */
struct store_incident {
    int64_t id, t_start_ms, t_end_ms;
    const char *region; /* NULL outside the regions */
    long long count;
    const char *party, *grade, *origin_method, *loc_method;
    double lon, lat;
    const char *json; /* the NDJSON object of docs/fusion.md */
    const char *counts; /* reconciled count per event type in AGR_EVENT_TYPES order, comma-
                         * separated ("40,0,0,3,0,0,0,0,0"; -1 uncountable) */
    const char *finding_party; /* the party its fire finding names, NULL without a finding */
    const char *clauses;       /* the distinct clauses of its findings in their order, comma-
                                * separated, as in its JSON; NULL or "": no finding */
    double semi_major_m;       /* its ellipse's semi-major axis as in its JSON; NAN: none */
    int agreement_version;
    size_t n_evidence;
    const int64_t *evidence; /* observation ids */
    bool evidence_unchanged; /* skip rewriting the evidence rows */
};
/* Inserts or replaces incident inc->id with its evidence (inside the caller's transaction).
 * When its JSON is what is stored already nothing is written and *logged is false; otherwise the
 * new version is kept in incident_log under the next leaf index and *out is the record whose leaf
 * the caller must append to the transparency log. */
int store_incident_put(struct store *s, const struct store_incident *inc, bool *logged,
                       struct store_log_record *out, struct errbuf *e) WUR;
/* Deletes incident id (merged into another, or gone in a rebuild) and its evidence rows, and
 * logs the tombstone JSON given (party "undetermined", grade "merged") like a put; *logged is
 * false (nothing written or logged) when no incident id is stored. */
int store_incident_delete(struct store *s, int64_t id, const char *tombstone_json,
                          int agreement_version, bool *logged, struct store_log_record *out,
                          struct errbuf *e) WUR;
/* Calls cb with the id of every stored incident, ascending. */
int store_incident_ids(struct store *s, int (*cb)(void *ctx, int64_t id), void *ctx,
                       struct errbuf *e) WUR;
/* Deletes every incident (before `truce fuse` rebuilds them). */
int store_incidents_clear(struct store *s, struct errbuf *e) WUR;
/* Calls cb with the JSON of each incident matching f (time on the end, party, region, limit;
 * f may be NULL) or only incident id when id >= 0 (ERR_NOTFOUND when absent), in id order. */
int store_incidents_list(struct store *s, const struct store_filter *f, int64_t id,
                         int (*cb)(void *ctx, const char *json), void *ctx,
                         struct errbuf *e) WUR;
struct store_incident_row {
    int64_t id, t_end_ms;
    const char *region;
    long long count;
    const char *party, *grade, *json, *counts, *finding_party;
};
int store_report_incidents(struct store *s, int64_t from_ms, int64_t to_ms,
                           int (*cb)(void *ctx, const struct store_incident_row *r), void *ctx,
                           struct errbuf *e) WUR;

/* One located incident as the dashboard's map shows it (GET /api/v1/map/incidents). */
struct store_map_incident_row {
    int64_t id, t_end_ms;
    double lon, lat;
    const char *region;        /* NULL outside the regions */
    long long count;
    const char *party, *grade;
    const char *counts;        /* reconciled count per event type (struct store_incident) */
    const char *clauses;       /* the clauses of its findings, comma-separated, or NULL: none */
    double semi_major_m;       /* its error ellipse's semi-major axis (0: none) */
};
/* Calls cb with every located incident (only party's when party is not NULL), in id order,
 * reading only columns (the findings' clauses and the semi-major axis are kept as columns when
 * the incident is stored). */
int store_map_incidents(struct store *s, const char *party,
                        int (*cb)(void *ctx, const struct store_map_incident_row *r), void *ctx,
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

/* ---- API users and the audit trail (store_users.c) ---- */

#define STORE_USER_NAME_SIZE 65  /* bytes of a user name or party id, with the NUL */
#define STORE_ROLE_SIZE 16       /* bytes of a role name, with the NUL */
#define STORE_AUDIT_TEXT_MAX 1024 /* bytes of an audit entry's action, target or result */

/* One API user. Only the SHA-256 of the user's token is stored (hex, token_sha256). */
struct store_user {
    int64_t id, created_ms, revoked_ms; /* revoked_ms: TIME_NONE while the user is active */
    char name[STORE_USER_NAME_SIZE], role[STORE_ROLE_SIZE];
    char party[STORE_USER_NAME_SIZE]; /* "" unless the role is bound to a party */
};
/* Adds user u (id and revoked_ms ignored) with the token hash token_sha256_hex (64 hex digits).
 * Errors: ERR_CONFLICT (the name was used before, even by a revoked user; or the hash), ERR_DB. */
int store_user_add(struct store *s, const struct store_user *u, const char *token_sha256_hex,
                   struct errbuf *e) WUR;
/* SQLite's data version of the store (PRAGMA data_version): it changes whenever another
 * connection (another process, or this process's webhook thread) commits a change, and not for
 * this connection's own; caches of what the store holds compare it. */
int store_data_version(struct store *s, int64_t *out, struct errbuf *e) WUR;
/* The active (not revoked) user whose token hash is token_sha256_hex, into *out.
 * ERR_NOTFOUND when there is none. */
int store_user_by_token(struct store *s, const char *token_sha256_hex, struct store_user *out,
                        struct errbuf *e) WUR;
/* Marks user name revoked at now_ms: its token stops working at once. ERR_NOTFOUND when there is
 * no such user, ERR_CONFLICT when it was revoked already. */
int store_user_revoke(struct store *s, const char *name, int64_t now_ms, struct errbuf *e) WUR;
/* Calls cb with every user (revoked ones too) in the order they were added. */
int store_users_each(struct store *s, int (*cb)(void *ctx, const struct store_user *u), void *ctx,
                     struct errbuf *e) WUR;

/* One entry of the audit trail: who (actor: a user name, "cli:LOGIN" or "-" for nobody, and
 * role), when (t_ms), what (action: "POST /api/v1/observations", "user add", ...; target: the
 * path or the name acted on), and how it ended (status: the HTTP status, or 0 for success and
 * 1 for failure of a command; result: a short text). */
struct store_audit {
    int64_t id, t_ms;
    const char *actor, *role, *action, *target, *result;
    int status;
};
/* Appends entry a (its id is assigned; texts longer than STORE_AUDIT_TEXT_MAX are cut). Commits
 * at once when no transaction is open. */
int store_audit_add(struct store *s, const struct store_audit *a, struct errbuf *e) WUR;
/* Calls cb with the entries whose id is above after_id, oldest first, at most limit (0: all). */
int store_audit_each(struct store *s, int64_t after_id, long long limit,
                     int (*cb)(void *ctx, const struct store_audit *a), void *ctx,
                     struct errbuf *e) WUR;

/* ---- escalation (M7): alerts, subscribers and the webhook outbox ---- */

/* A finding with what escalation thresholds filter on. Weapons are "category US model US
 * calibre" triples (US = 0x1f, fields may be empty) joined by RS (0x1e): the sighting's weapon
 * and its fire events' weapons; zones are "zone US relation" pairs joined by RS. Strings are
 * valid for the callback only; NULL when there are none. */
struct store_esc_finding {
    int64_t id, obs_id, t_end_ms;
    const char *clause, *rule_kind, *result, *party, *region;
    const char *weapons, *zones;
};
/* Calls cb with each finding whose id is above after_id and whose end time is in [from, to)
 * (TIME_NONE: unbounded), in id order; weapons and zones only with details (else NULL). */
int store_esc_findings(struct store *s, int64_t after_id, int64_t from_ms, int64_t to_ms,
                       bool details, int (*cb)(void *ctx, const struct store_esc_finding *f),
                       void *ctx, struct errbuf *e) WUR;
/* The id of the last finding escalation has evaluated, and setting it (in the caller's
 * transaction). */
int store_esc_last_finding(struct store *s, int64_t *id, struct errbuf *e) WUR;
int store_esc_set_last_finding(struct store *s, int64_t id, struct errbuf *e) WUR;

struct store_alert {
    int64_t id, window_start_ms, window_end_ms, raised_ms, ack_ms, log_index;
    long long n_findings;
    int agreement_version;
    const char *threshold, *level, *region, *party, *text; /* region, party: "" for none */
    const char *finding_ids; /* JSON array of the ids counted (at most ESC_MAX_LISTED) */
    const char *ack_by;      /* NULL: not acknowledged */
};
/* True in *found when an alert of threshold for the group (region, party) has a window that
 * overlaps [from, to). */
int store_alert_overlaps(struct store *s, const char *threshold, const char *region,
                         const char *party, int64_t from_ms, int64_t to_ms, bool *found,
                         struct errbuf *e) WUR;
/* Inserts alert a (in the caller's transaction) with the next leaf index; writes its id and leaf
 * index into a. ERR_CONFLICT when the same (threshold, region, party, window start) exists. */
int store_alert_add(struct store *s, struct store_alert *a, struct errbuf *e) WUR;
/* Calls cb with alerts (id order; only `id` when id > 0; at most limit when limit > 0). */
int store_alerts_list(struct store *s, int64_t id, long long limit,
                      int (*cb)(void *ctx, const struct store_alert *a), void *ctx,
                      struct errbuf *e) WUR;
/* The same with filters: min_level an index of AGR_ESC_LEVEL_NAMES (-1: any), state "open" or
 * "acknowledged" (NULL: any), the window's end, and party (what a party user may see). */
struct store_alert_filter {
    int64_t id;
    long long limit;
    int min_level;
    const char *state;
    bool by_end;              /* only alerts whose window ends in (end_after, end_until] */
    int64_t end_after, end_until;
    const char *party; /* non-NULL: only alerts about this party or about no one party */
};
int store_alerts_select(struct store *s, const struct store_alert_filter *f,
                        int (*cb)(void *ctx, const struct store_alert *a), void *ctx,
                        struct errbuf *e) WUR;
/* Records the first acknowledgement of alert id by `by`; a later one changes nothing and sets
 * *already. ERR_NOTFOUND when there is no such alert. */
int store_alert_ack(struct store *s, int64_t id, const char *by, bool *already,
                    struct errbuf *e) WUR;

struct store_subscriber {
    const char *name, *url, *min_level, *party; /* party may be NULL */
    int64_t added_ms;
};
/* ERR_CONFLICT when the name exists. */
int store_subscriber_add(struct store *s, const struct store_subscriber *sub, struct errbuf *e) WUR;
/* ERR_NOTFOUND when there is no such subscriber. Its pending deliveries are dropped. */
int store_subscriber_remove(struct store *s, const char *name, struct errbuf *e) WUR;
int store_subscribers_list(struct store *s,
                           int (*cb)(void *ctx, const struct store_subscriber *sub), void *ctx,
                           struct errbuf *e) WUR;

/* One webhook delivery of an alert to a subscriber. state: pending, delivered, failed. */
struct store_outbox_row {
    int64_t id, alert_id, next_attempt_ms, delivered_ms, created_ms;
    long long attempts;
    const char *subscriber, *url, *state, *last_error;
};
/* Adds a pending delivery due now (in the caller's transaction). */
int store_outbox_add(struct store *s, int64_t alert_id, const char *subscriber, const char *url,
                     int64_t now_ms, struct errbuf *e) WUR;
/* Pending deliveries due at now_ms (next_attempt_ms <= now), oldest first, at most limit. */
int store_outbox_due(struct store *s, int64_t now_ms, long long limit,
                     int (*cb)(void *ctx, const struct store_outbox_row *r), void *ctx,
                     struct errbuf *e) WUR;
/* The deliveries of one alert (alert_id > 0) or of all, in id order. */
int store_outbox_list(struct store *s, int64_t alert_id,
                      int (*cb)(void *ctx, const struct store_outbox_row *r), void *ctx,
                      struct errbuf *e) WUR;
/* Records one attempt of delivery id: delivered (at now), or not (last_error, and either
 * retried at next_attempt_ms or, with give_up, failed for good). Its own transaction. */
int store_outbox_attempt(struct store *s, int64_t id, bool delivered, const char *last_error,
                         int64_t next_attempt_ms, bool give_up, int64_t now_ms,
                         struct errbuf *e) WUR;
/* Alerts by state and webhook deliveries by state, for metrics. */
struct store_esc_counts {
    long long alerts_open, alerts_acknowledged;
    long long deliveries_pending, deliveries_delivered, deliveries_failed;
};
int store_esc_counts(struct store *s, struct store_esc_counts *out, struct errbuf *e) WUR;
/* The earliest next_attempt_ms of pending deliveries (TIME_NONE when none). */
int store_outbox_next_due(struct store *s, int64_t *when_ms, struct errbuf *e) WUR;

#endif
