/* fusion_int.h: what the files of the fusion module share (not a public header): the engine's
 * state, its compact copy of each report, the local plane, and the location, attribution and
 * wording steps of an incident's summary. */
#ifndef TRUCE_FUSION_INT_H
#define TRUCE_FUSION_INT_H
#include <math.h>

#include "fusion/fusion.h"

#define DEG (M_PI / 180.0)
/* How far fire may have come along a reported flight direction (the origin wedge's length):
 * tube artillery and Grad reach about 20 km. */
#define FUSION_FLIGHT_RANGE_M 20000.0
/* The index cells one observation may cover (bigger regions are not fused anyway). */
#define FUSION_MAX_KEYS 1024

/* ---- the engine's compact copy of an observation ---- */
struct fobs {
    struct fusion_obs o; /* client_id points into the engine's string arena */
    size_t client_off;
    uint32_t parent, next; /* union-find parent; circular list of the component's members */
    uint32_t size;         /* at roots: members */
    int64_t min_id;        /* at roots: the smallest id of the component */
    int64_t inc_id;        /* in a parted component: the incident it is in (its part) */
    int64_t prev_inc;      /* the incident it was in before the add of report prev_of joined it
                            * (note_absorbed; repartition reports only the parts that changed) */
    uint32_t prev_of;
    uint32_t n_shared;     /* at roots: members whose observer another report shares */
    bool parted;           /* at roots: the component holds two or more incidents */
    bool shared;           /* another report in the engine has its observer (told_apart) */
    double arc[5];         /* a sector's outline: sin, cos of its first angle and of its step,
                            * the outer radius (outline_prepare) */
    float box[4];          /* the outline's box about its anchor: x min, max, y min, max (m) */
    bool outlined;         /* arc and box made (outline_prepare, on the first outline test) */
    const char *stretched; /* the side its stretched sector lies on (fusion_attribute), once
                            * stretched_known; NULL: none */
    bool stretched_known;
    uint32_t stamp;
    unsigned groups;
    bool fusable;
    bool survey;          /* a crater survey: attached to one report, never linked */
    uint8_t role;         /* FUSION_ROLE_*: launch only, explosions, other */
    int8_t side;          /* side of the line of its region (+1, -1, 0 straddles; 2 unknown) */
    uint32_t attached;    /* surveys: the report it is attached to (UINT32_MAX: none) */
    uint32_t att_next;    /* surveys: the next survey attached to the same report */
    uint32_t att_head;    /* reports: the first survey attached to it (UINT32_MAX: none) */
};

/* What a report tells of an event: its launch only (outgoing rounds, nothing landing), the
 * explosions where it landed, or other fire (small arms, flares, ...). */
enum { FUSION_ROLE_OTHER, FUSION_ROLE_LAUNCH, FUSION_ROLE_EXPLOSIVE };

/* One report in one key of the index, with what the first, cheap test needs (so the scan of a
 * key reads one contiguous array): times in whole minutes, widened outwards, and the centre and
 * radius in single precision (the test adds FUSION_CAND_SLACK_M). */
struct cand {
    uint32_t obs;
    int32_t t0_min, t1_min;
    float lon, lat, radius_m;
    uint32_t groups; /* compatibility groups, and the role << 4 */
};
#define FUSION_CAND_SLACK_M 20.0

/* A key's reports: v those that may still be linked, full those whose incident holds
 * FUSION_MAX_EVIDENCE reports already (moved there when a scan meets them: a component never
 * shrinks, so no new report links to them; only a new crater survey, which is attached, not
 * linked, still scans them). A flood of one report thus costs each add a bounded scan. */
struct key_vec {
    struct cand *v, *full;
    uint32_t n, cap, n_full, full_cap;
};

/* An open-addressing table from a key to a vector of reports. */
struct key_table {
    uint64_t *keys;
    uint32_t *heads; /* index into vecs; UINT32_MAX: empty slot */
    size_t tcap, tused;
    struct key_vec *vecs;
    size_t n_vecs, vecs_cap;
};

struct fusion {
    const struct agreement *a;
    const struct store_agreements *versions;
    struct fobs *v;
    size_t n, cap;
    struct buf names; /* client ids, NUL-separated */
    struct key_table ix;         /* every report: (half hour, 0.1 deg cell) of its extent */
    struct key_table launch_ix;  /* launch-only reports: (10 min of the start, 0.25 deg cell) */
    struct key_table landing_ix; /* explosion reports: the same keys, for launch and landing */
    uint32_t stamp;
    bool ids_ascending;
    struct { uint64_t *keys; uint32_t *slot; size_t cap, used; } observers; /* observer
                                 * identity -> first report with it (told_apart candidates) */
    int64_t old_ids[FUSION_MAX_CHANGED]; /* incidents the components absorbed in this add were */
    size_t n_old;
    bool old_parted;                     /* one of those components was parted */
    unsigned joins; /* components the report being added joined (repartition's shortcut) */
    int64_t changed[FUSION_MAX_CHANGED]; /* incidents the last fusion_add changed besides its own
                                          * (a survey moved out, a component split anew) */
    size_t n_changed;
    /* the links repartition tested (linked), remembered by ordered pair: a parted component
     * is parted again on every add, and its old pairs are linked as before (each report is
     * immutable once added). A cache: cleared when full, bypassed without memory. */
    struct { uint64_t *keys; uint8_t *linked; size_t cap, used; } links;
    size_t skipped;
    size_t comparisons; /* exact tests of a new report against a candidate (near_enough) */
    /* incidents changed (or merged away) since the last fusion_flush: ids, unsorted, may repeat */
    int64_t *dirty;
    size_t n_dirty, dirty_cap;
    /* scratch for listings and summaries */
    int64_t *ids;
    size_t ids_cap;
    uint32_t *members;
    size_t members_cap;
    int64_t *ev_ids;
    const char **ev_names;
    size_t ev_cap;
};

/* A point of a local plane: metres east and north of a reference. */
struct xy {
    double x, y;
};

/* The location of members m[0..n) of f's reports (fusion_locate.c): detections, triangulation
 * of bearings, else the smallest region; *viewpoints gets the distinct viewpoints used. */
void fusion_locate(const struct fusion *f, const uint32_t *m, size_t n,
                   enum fusion_loc_method *method, struct geo_point *loc, double *major,
                   double *minor, double *azimuth, size_t *viewpoints);

/* The origin, party, grade and reasons of an incident from its members (fusion_attribute.c). */
void fusion_attribute(struct fusion *f, const uint32_t *m, size_t n,
                      struct fusion_incident *inc);

/* The incident judged by agreement a's fire clauses: inc->findings (fusion_attribute.c). */
void fusion_judge(const struct agreement *a, struct fusion_incident *inc);

/* Notes incident (or report) id as changed since the last flush. */
int fusion_note_dirty(struct fusion *f, int64_t id);
/* The incident report `id` is in now (a survey: the incident of the report it is attached to);
 * -1 when the engine does not hold it. */
int64_t fusion_incident_of(struct fusion *f, int64_t id);

/* "3 km SE of Avdiivka" for p, or its coordinates without a gazetteer. */
void fusion_phrase_at(const struct agreement *a, struct geo_point p, char *buf, size_t n);

#endif
