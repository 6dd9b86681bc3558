/* fusion.h: from scattered reports to located, attributed incidents (capabilities M4 and M5,
 * docs/fusion.md). Fire observations whose time windows overlap (within a tolerance), whose
 * regions of uncertainty intersect and whose event types are compatible are one incident: its
 * counts reconciled (the largest count per event type, not the sum), its location triangulated
 * from bearings or taken from the best region, the origin of the fire estimated and the firing
 * party attributed with a grade and reasons in words.
 *
 * The engine is incremental (fusion_add links one observation to what it overlaps through a
 * time-bucket x grid-cell index; no quadratic step) and deterministic: incidents are the
 * connected components of the "same event" relation, which does not depend on arrival order,
 * and an incident's summary is computed from its members sorted by client id. In memory only;
 * the store persists the results. One thread uses an engine at a time. */
#ifndef TRUCE_FUSION_H
#define TRUCE_FUSION_H
#include <stdbool.h>
#include <stdint.h>

#include "agreement/agreement.h"
#include "observation/observation.h"
#include "log/log.h"
#include "placement/placement.h"
#include "store/store.h"
#include "util/util.h"

/* Two windows are the same time when they overlap after widening by this (clock skew, reported
 * times rounded to 5 minutes; 240 s scored best against the simulator, docs/fusion.md). */
#define FUSION_TIME_TOLERANCE_S 240
/* ... and share, so widened, at least 1/FUSION_MIN_OVERLAP_DIV of the shorter window. */
#define FUSION_MIN_OVERLAP_DIV 2
/* Two regions are the same place when they intersect after this margin. */
#define FUSION_SPACE_TOLERANCE_M 300.0
/* A report over a longer window summarises many events and is not fused (its own incident). */
#define FUSION_MAX_WINDOW_S (3 * 3600)
/* ... except a located detection of craters (a UAV or satellite survey of the morning after):
 * one with at most this accuracy is fused over a window up to FUSION_SURVEY_MAX_WINDOW_S. Over so
 * long a window it may match reports of several events, so it does not link them: it is
 * attached to the one report it fits best (nearest the middle of the report's region, relative
 * to the region's radius; then the smallest id), whose incident it joins; it does not set the
 * incident's time. */
#define FUSION_SURVEY_MAX_RADIUS_M 1000.0
#define FUSION_SURVEY_MAX_WINDOW_S (96 * 3600)
/* A region wider than this (radius) cannot locate one event and is not fused. */
#define FUSION_MAX_RADIUS_M 30000.0
/* The index: one time bucket and one grid cell (degrees). */
#define FUSION_BUCKET_S 1800
#define FUSION_CELL_DEG 0.1
/* A report of outgoing rounds only (the launch) and a report of explosions (the landing) are
 * one event when they start within FUSION_LAUNCH_START_S of each other, their regions are
 * within FUSION_MAX_FIRE_RANGE_M, and the landing is not on the launch's side of the line. */
#define FUSION_LAUNCH_START_S 300
#define FUSION_MAX_FIRE_RANGE_M 20000.0
/* Reports with wider regions (assumed distances) are not matched as launch and landing. */
#define FUSION_PAIR_MAX_RADIUS_M 12000.0
/* Two observers closer than this are one viewpoint for triangulation. */
#define FUSION_MIN_BASELINE_M 500.0
/* A person's bearing is off by this much (standard deviation, degrees) before it is rounded to
 * a compass word or a tolerance: added to the word's own spread in triangulation. */
#define FUSION_BEARING_SD_DEG 5.0
/* Bearing lines crossing at less than this angle do not triangulate. */
#define FUSION_MIN_CROSSING_DEG 15.0
/* Reports in one incident (a named limit on untrusted input: each new report re-summarises its
 * incident). A report that would grow an incident beyond it starts or joins another; below the
 * limit incidents do not depend on arrival order, at it the split does. */
#define FUSION_MAX_EVIDENCE 64
/* Reasons kept per incident. */
#define FUSION_MAX_REASONS 6
#define FUSION_REASON_BYTES 320
/* Event types the engine counts (the agreement's list must fit). */
#define FUSION_N_EVENT_TYPES 12
/* 95 % of a 2-D normal lies within sqrt(chi2(2, 0.95)) = 2.4477 standard deviations. */
#define FUSION_ELLIPSE_95 2.447746830680816

/* Compatibility groups of event types: reports fuse only when they share a group. */
enum fusion_group {
    FUSION_G_HEAVY = 1,      /* explosions, outgoing, projectiles in flight, flares, muzzle flashes */
    FUSION_G_SMALL_ARMS = 2, /* bursts and shots */
};

enum fusion_loc_method {
    FUSION_LOC_TRIANGULATED, /* bearings of two or more observers, least squares */
    FUSION_LOC_DETECTION,    /* located detections, weighted by their accuracy */
    FUSION_LOC_SECTOR,       /* the smallest annular sector (one observer's bearing and range) */
    FUSION_LOC_CIRCLE,       /* an observer and a distance range, no bearing */
    FUSION_LOC_OBSERVER,     /* only the observer's position */
};
extern const char *const FUSION_LOC_NAMES[5];

enum fusion_origin_method {
    FUSION_ORIGIN_NONE,
    FUSION_ORIGIN_OUTGOING,       /* outgoing rounds seen or heard: the region is the launch area */
    FUSION_ORIGIN_LAUNCH_TRIANG,  /* launch point triangulated from several observers */
    FUSION_ORIGIN_FLIGHT,         /* back-bearing of the reported flight direction */
    FUSION_ORIGIN_IMPACT_SIDE,    /* impacts against the line (weak) */
};
extern const char *const FUSION_ORIGIN_NAMES[5];

enum fusion_grade { FUSION_CONFIRMED, FUSION_PROBABLE, FUSION_POSSIBLE, FUSION_UNDETERMINED };
extern const char *const FUSION_GRADE_NAMES[4];

/* One fire observation as the engine sees it (made by fusion_obs_from). */
struct fusion_obs {
    int64_t id;            /* the store's id: incidents are named by their smallest */
    const char *client_id; /* copied by fusion_add; may be "" */
    int64_t t_start_ms, t_end_ms;
    enum obs_kind kind;
    enum obs_means means;
    enum place_how how;
    struct geo_point centre; /* the placement's region of uncertainty */
    double radius_m;
    bool has_observer;
    struct geo_point observer;
    bool has_bearing; /* the bearings as one arc: centre azimuth and half-width */
    double bearing_deg, half_width_deg;
    double dist_min_m, dist_max_m; /* the sector's range (assumed ranges included) */
    bool distance_assumed;
    long long counts[FUSION_N_EVENT_TYPES]; /* per event type: 0 none, -1 uncountable */
    double flight_from_deg, flight_half_deg; /* NAN when no flight direction was reported */
};

/* Fills f from a validated, placed observation. Returns false when the observation is not fused
 * (not fire or a detection, no fire event). */
bool fusion_obs_from(const struct obs *o, const struct placement *p, int64_t id,
                     struct fusion_obs *f);

/* The finding an incident makes under one fire clause: the attributed party only at grade
 * probable or better, "undetermined" otherwise. */
#define FUSION_MAX_FINDINGS 8
struct fusion_finding {
    int rule; /* index into the judging agreement's rules */
    const char *clause, *severity;
    char party[32];
    char reasons[640];
};

/* An incident as summarised from its members. */
struct fusion_incident {
    int64_t id; /* the smallest store id of its evidence */
    int64_t t_start_ms, t_end_ms;
    long long counts[FUSION_N_EVENT_TYPES]; /* reconciled; -1 uncountable only */
    long long count;                        /* sum of the positive counts */
    unsigned groups;
    enum fusion_loc_method loc_method;
    struct geo_point location;
    double semi_major_m, semi_minor_m, azimuth_deg; /* 95 % ellipse */
    enum fusion_origin_method origin_method;
    struct geo_point origin; /* when origin_method != NONE */
    double origin_radius_m;
    char party[32]; /* a party id or "undetermined" */
    enum fusion_grade grade;
    size_t n_reasons;
    char reasons[FUSION_MAX_REASONS][FUSION_REASON_BYTES];
    int agreement_version; /* the version in force at the start, which judged it */
    size_t n_findings;
    struct fusion_finding findings[FUSION_MAX_FINDINGS];
    size_t n_evidence;
    const int64_t *evidence_ids;   /* sorted by client id (valid until the next engine call) */
    const char *const *evidence_client_ids;
};

struct fusion;

/* A new engine judging attribution against agreement a (borrowed; its lines and control
 * areas). NULL when out of memory or the agreement has more event types than the engine counts. */
struct fusion *fusion_new(const struct agreement *a);
void fusion_free(struct fusion *f);

/* Adds one observation: links it to every observation it overlaps and merges their incidents.
 * *incident gets the id of the incident it is now in; *merged_away (may be NULL) gets the ids of
 * up to max_merged incidents that ceased to exist by merging into it and *n_merged their count. */
int fusion_add(struct fusion *f, const struct fusion_obs *o, int64_t *incident,
               int64_t *merged_away, size_t max_merged, size_t *n_merged, struct errbuf *e) WUR;

size_t fusion_obs_count(const struct fusion *f);
/* Incidents other than fusion_add's *incident that its last call changed (a survey moved to a
 * report it fits better, a component whose reports were parted anew): up to max ids into out;
 * returns their number (at most FUSION_MAX_CHANGED). */
#define FUSION_MAX_CHANGED (2 * FUSION_MAX_EVIDENCE)
size_t fusion_also_changed(const struct fusion *f, int64_t *out, size_t max);
/* Reports left out of fusion (stored records that no longer validate or place, regions or
 * windows fusion cannot use), counted by the callers that skip them. */
void fusion_count_skipped(struct fusion *f);
size_t fusion_skipped(const struct fusion *f);
/* Exact tests made of a new report against a candidate of the index since fusion_new or
 * fusion_clear: a deterministic measure of the work of fusion_add (for tests). A report of an
 * incident that holds FUSION_MAX_EVIDENCE reports is not tested again, so a flood of one
 * report costs each add a bounded number of tests. */
size_t fusion_comparisons(const struct fusion *f);
/* Forgets every observation (the memory is kept for reuse). */
void fusion_clear(struct fusion *f);
/* The agreement the engine attributes by. */
const struct agreement *fusion_agreement(const struct fusion *f);
/* Every agreement version (borrowed): an incident's findings are judged by the version in force
 * at its start. Without it, by the engine's agreement. */
void fusion_set_versions(struct fusion *f, const struct store_agreements *ag);

/* Ids of every incident in ascending order; *ids owned by the engine, valid until the next call. */
size_t fusion_incident_ids(struct fusion *f, const int64_t **ids);

/* Summarises incident id into *out. ERR_NOTFOUND when there is no such incident. */
int fusion_incident_get(struct fusion *f, int64_t id, struct fusion_incident *out,
                        struct errbuf *e) WUR;

/* The incident as one NDJSON object (docs/fusion.md) appended to b, without a newline. */
int fusion_incident_json(const struct fusion_incident *inc, struct buf *b) WUR;
/* Human-readable lines appended to b. */
int fusion_incident_text(const struct fusion_incident *inc, const struct agreement *a,
                         struct buf *b) WUR;

/* ---- with the store (fusion_store.c) ---- */

/* A new engine (attribution by the latest agreement) fed every stored fire observation in id
 * order: each raw record is validated and placed again as ingest did. */
int fusion_load(struct store *s, const struct store_agreements *ag, struct fusion **out,
                struct errbuf *e) WUR;

/* Empties f and feeds it the stored fire observations again (after a rolled-back batch). */
int fusion_reload(struct fusion *f, struct store *s, const struct store_agreements *ag,
                  struct errbuf *e) WUR;

/* Writes incident id in the store's open transaction when it changed, and deletes the n_merged
 * incidents merged into it (each leaves a tombstone version). Every version written is appended
 * to log (may be NULL: the store still assigns the leaf indices; for measurements only). */
int fusion_store_incident(struct fusion *f, struct store *s, struct truce_log *log, int64_t id,
                          const int64_t *merged, size_t n_merged, struct errbuf *e) WUR;

/* `truce fuse`: fuses every stored fire observation from scratch and brings the stored
 * incidents in line in one transaction: changed incidents are rewritten, vanished ones deleted,
 * unchanged ones left alone (so a re-run on an up-to-date store writes and logs nothing). The
 * log's leaves are synced before the commit. *n_obs, *n_incidents, *n_changed and *n_skipped
 * (stored fire reports left out, see fusion_skipped) get counts. */
int fusion_rebuild(struct store *s, const struct store_agreements *ag, struct truce_log *log,
                   long long *n_obs, long long *n_incidents, long long *n_changed,
                   long long *n_skipped, struct errbuf *e) WUR;

/* Adds stored observation id (o placed as p) to the engine (linking, in memory) and notes the
 * incidents it changed or merged away; a no-op for observations fusion does not use. Nothing is
 * written until fusion_flush. */
int fusion_ingest(struct fusion *f, const struct obs *o, const struct placement *p, int64_t id,
                  struct errbuf *e) WUR;

/* Writes, in the store's open transaction, every incident fusion_ingest changed since the last
 * flush, once each (summarised, stored and appended to log when its JSON differs), and the
 * tombstones of those merged away (when they were stored). Call it before the log sync and the
 * commit (ingest_commit does); after a failure roll back and fusion_reload. *n_written (may be
 * NULL) gets the number of versions written. */
int fusion_flush(struct fusion *f, struct store *s, struct truce_log *log, long long *n_written,
                 struct errbuf *e) WUR;

#endif
