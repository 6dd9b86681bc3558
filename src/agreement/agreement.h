/* agreement.h: a ceasefire agreement as data (capability M1): parties and their sides, the
 * agreement's time zone and daily report cut-off, report regions, reference lines per party,
 * control areas, named zones, weapon classes, rules with clause ids, and the gazetteer of named
 * places. Loaded from the documented JSON format (docs/agreement-format.md), validated with
 * errors that name the file, the JSON pointer and the reason.
 *
 * An agreement file may point at GeoJSON and CSV files next to it; agr_resolve() inlines them so
 * the stored version is self-contained. The loaded structure is read-only after loading. */
#ifndef TRUCE_AGREEMENT_H
#define TRUCE_AGREEMENT_H
#include <stdbool.h>
#include <stdint.h>

#include "geo/geo.h"
#include "util/util.h"

#define AGR_FORMAT "truce-agreement/1"
#define AGR_MAX_ID_BYTES 31 /* party ids travel in fixed fields of observations */

struct agr_party {
    char *id, *name, *side; /* side: "government", "non-government" or free text */
};

struct agr_region { /* a report region (an oblast): "In Donetsk region, ..." */
    char *id, *name;
    struct geo_area *area;
};

struct agr_line {
    char *id, *name;
    struct geo_line *line;
    char *right_party; /* party whose side is right of the line (walking first -> last) */
    char *left_party;
};

struct agr_control_area {
    char *party;
    struct geo_area *area;
};

/* A named zone. A point is inside when it is in any of `include` and in none of `exclude`. */
struct agr_zone {
    char *id, *name, *kind; /* kind: security_zone, demilitarised_zone, disengagement_area, ... */
    struct geo_area **include, **exclude;
    size_t n_include, n_exclude;
    double report_within_km; /* report events inside or within this distance (0: inside only) */
    bool illustrative;
};

struct agr_weapon_class {
    char *id, *name;
    char **categories; /* words such as "artillery", "mlrs", "tank", "mortar" */
    size_t n_categories;
    char **systems; /* model names such as "BM-21", "2S1 Gvozdika" */
    char **systems_lower; /* the same in ASCII lower case, for matching */
    size_t n_systems;
    double calibre_min_mm, calibre_max_mm; /* NAN when unbounded; min inclusive, max exclusive */
};

enum agr_rule_kind {
    AGR_RULE_FIRE_PROHIBITED,  /* any fire event is a ceasefire violation */
    AGR_RULE_WEAPON_WITHDRAWAL, /* weapon class within distance_km of its party's reference line */
    AGR_RULE_ARMED_PRESENCE,   /* any armed presence inside one of the zones */
};

struct agr_rule {
    char *clause, *text, *severity; /* severity: minor, major, critical */
    enum agr_rule_kind kind;
    int64_t effective_ms; /* TIME_NONE: from the agreement's effective time */
    int weapon_class;     /* index, withdrawal rules */
    double distance_km;   /* withdrawal rules */
    int *zones;           /* zone indices, armed presence rules */
    size_t n_zones;
    char **event_types; /* fire rules: the event types it covers (empty: all fire types) */
    size_t n_event_types;
};

/* Escalation (capability M7): levels in rising order; the highest is the guarantee trigger. */
enum agr_esc_level {
    AGR_ESC_NOTICE,
    AGR_ESC_WARNING,
    AGR_ESC_SERIOUS,
    AGR_ESC_GUARANTEE_TRIGGER,
};
#define AGR_ESC_N_LEVELS 4
extern const char *const AGR_ESC_LEVEL_NAMES[AGR_ESC_N_LEVELS];
/* Index of a level name ("notice", ..., "guarantee_trigger") or -1. */
int agr_esc_level_parse(const char *name);

/* How a threshold groups findings before counting them. */
enum agr_esc_per { AGR_ESC_PER_ALL, AGR_ESC_PER_REGION, AGR_ESC_PER_PARTY, AGR_ESC_PER_REGION_PARTY };
extern const char *const AGR_ESC_PER_NAMES[4];

#define AGR_ESC_MAX_THRESHOLDS 256      /* thresholds in one agreement */
#define AGR_ESC_MAX_WINDOW_HOURS 8760   /* one year */
#define AGR_ESC_MAX_MIN_FINDINGS 1000000
#define AGR_ESC_MAX_ID_BYTES 64

/* One escalation threshold: at least min_findings findings matching the filters, in one group,
 * inside one window, raise an alert of `level`. Windows are window_ms long and start every
 * step_ms from the agreement's first daily cut-off (docs/agreement-format.md, "escalation").
 * Empty filters match everything. */
struct agr_threshold {
    char *id, *text;
    enum agr_esc_level level;
    int64_t window_ms, step_ms;
    long min_findings;
    enum agr_esc_per per;
    unsigned rule_kinds;     /* bits 1 << enum agr_rule_kind; 0: any kind */
    unsigned results;        /* bit 1 violation, bit 2 undetermined (default: violation) */
    bool attributed_only;    /* only findings attributed to a party (not "undetermined") */
    int *rules;              /* clause filter: rule indices */
    size_t n_rules;
    int *classes;            /* weapon class filter: class indices */
    size_t n_classes;
    int *zones;              /* zone filter: zone indices */
    size_t n_zones;
    unsigned zone_relations; /* bits 1 << (in 0, maybe_in 1, near 2); default: in */
};

struct agr_place {
    char *name;
    char **alt_names;
    size_t n_alt;
    struct geo_point pt;
    long population;
    char *region;          /* admin code as in the gazetteer */
    double naming_bonus_km; /* preference for larger towns when naming a point (agreement.c) */
};

/* One key of the gazetteer's name index: a name or alternative spelling, normalised. */
struct agr_name_key {
    char *key;
    int place;
};

struct agreement {
    char *id, *title, *time_zone, *origin;
    int version;
    int64_t effective_ms;
    int cutoff_minutes; /* daily report cut-off, minutes after local midnight */
    bool illustrative;
    struct agr_party *parties;
    size_t n_parties;
    struct agr_region *regions;
    size_t n_regions;
    struct agr_line *lines;
    size_t n_lines;
    int *reference_line; /* per party: index into lines, or -1 */
    struct agr_control_area *control;
    size_t n_control;
    char *default_control; /* party holding the rest of the regions, or NULL */
    struct agr_zone *zones;
    size_t n_zones;
    struct agr_weapon_class *classes;
    size_t n_classes;
    struct agr_rule *rules;
    size_t n_rules;
    struct agr_threshold *thresholds; /* the optional "escalation" section */
    size_t n_thresholds;
    int64_t esc_anchor_ms; /* the first daily cut-off at or after the effective time */
    struct agr_place *places;
    size_t n_places;
    struct agr_name_key *name_index; /* sorted by key */
    size_t n_name_index;
    /* grid of places for agr_place_nearest: cell (i, j) lists place indices */
    double grid_lon0, grid_lat0, grid_cell_deg, max_bonus_km;
    int grid_nx, grid_ny;
    int *grid_off, *grid_idx;
    char *resolved_json; /* the self-contained canonical JSON this was loaded from */
};

/* Reads an agreement file, inlines the files it references (relative to its folder), validates
 * it and returns the loaded agreement in *out (free with agr_free). Errors name the file, the
 * JSON pointer and the reason. */
int agr_load_file(const char *path, struct agreement **out, struct errbuf *e) WUR;

/* Loads a self-contained (resolved) agreement JSON text, as stored. `source` names it in errors. */
int agr_load_json(const char *json, size_t len, const char *source, struct agreement **out,
                  struct errbuf *e) WUR;

void agr_free(struct agreement *a);

/* Index of a party by id, or -1. */
int agr_party_index(const struct agreement *a, const char *id);
/* Index of a zone by id, or -1. */
int agr_zone_index(const struct agreement *a, const char *id);
/* True when p is inside zone z. */
bool agr_zone_contains(const struct agr_zone *z, struct geo_point p);
/* Distance in metres from p to the zone's outline when outside (0 inside). */
double agr_zone_distance_m(const struct agr_zone *z, struct geo_point p);
/* The party controlling p: a control area's party, else default_control when p is inside a
 * region, else NULL. */
const char *agr_control_at(const struct agreement *a, struct geo_point p);
/* The region containing p, or -1. */
int agr_region_at(const struct agreement *a, struct geo_point p);

/* Finds a weapon class for a sighting: first a class listing the model among its systems, then
 * the first class whose categories include `category` and whose calibre range holds calibre_mm
 * (NAN: unknown calibre matches a class only when it has no calibre bounds). -1 if none. */
int agr_weapon_class_match(const struct agreement *a, const char *category, const char *model,
                           double calibre_mm);

/* Gazetteer lookup by name or alternative spelling, ignoring case, apostrophes, hyphens and
 * spaces. Returns the place index or -1. */
int agr_place_find(const struct agreement *a, const char *name);
/* Index of the place a monitor would name for p: the nearest, with larger towns preferred over
 * close hamlets (see agreement.c), or -1 when there are no places. */
int agr_place_nearest(const struct agreement *a, struct geo_point p);
/* The same answer by scanning every place (the reference the tests compare against). */
int agr_place_nearest_slow(const struct agreement *a, struct geo_point p);

/* The UTC window [from, to) of the daily report for local date y-m-d: the 24 hours ending at the
 * cut-off on that date in the agreement's time zone. */
int agr_report_window(const struct agreement *a, int y, int m, int d, int64_t *from_ms,
                      int64_t *to_ms) WUR;

/* The fire event types truce knows, in report order; explosions first. */
extern const char *const AGR_EVENT_TYPES[];
extern const int AGR_N_EVENT_TYPES;
/* The event types as words, singular and plural ("outgoing round", "outgoing rounds"). */
extern const char *const AGR_EVENT_NAMES_ONE[];
extern const char *const AGR_EVENT_NAMES_MANY[];
/* Index of an event type name or -1. */
int agr_event_type_index(const char *name);
/* True for the four explosion types (undetermined, impact, airburst, outgoing). */
bool agr_event_is_explosion(int type);

#endif
