/* placement.h: where an observation was (capability M3): its location or region of
 * uncertainty, the report region, the control area it lies in or may lie in, the zones it lies
 * in, may lie in or lies near, the signed geodesic distance to each reference line, and the
 * nearest settlement phrased as monitors write it ("3 km SE of Avdiivka").
 *
 * Pure computation over an agreement and a struct obs; no I/O, no allocation. */
#ifndef TRUCE_PLACEMENT_H
#define TRUCE_PLACEMENT_H
#include "agreement/agreement.h"
#include "observation/observation.h"

#define PLACE_MAX_ZONES 32
#define PLACE_MAX_LINES LIMIT_AGREEMENT_LINES

/* Distances assumed when a report gives a bearing but no distance: how far such events are
 * heard or seen, by family (documented in docs/observation-format.md). */
#define PLACE_DEFAULT_EXPLOSION_KM 15.0
#define PLACE_DEFAULT_SMALL_ARMS_KM 3.0
#define PLACE_DEFAULT_VISUAL_KM 10.0

/* The distance assumed for o when it gives none: the largest default of its events (metres). */
double place_assumed_distance_m(const struct obs *o);

enum place_how {
    PLACE_LOCATED,  /* a located point or polygon with its accuracy */
    PLACE_SECTOR,   /* an annular sector from an observer's bearings and distance range */
    PLACE_CIRCLE,   /* an observer with a distance range but no bearing */
    PLACE_OBSERVER, /* only the observer's position is known */
};
extern const char *const PLACE_HOW_NAMES[4];

enum place_rel { PLACE_IN, PLACE_MAYBE_IN, PLACE_NEAR };
extern const char *const PLACE_REL_NAMES[3];

struct place_zone {
    int zone; /* index into agreement zones */
    enum place_rel rel;
    double distance_m; /* from the centre to the zone (0 inside) */
};

struct placement {
    enum place_how how;
    struct geo_point centre;
    double radius_m; /* every point of the region is within this distance of the centre */
    bool distance_assumed; /* the distance range was not reported and a default was used */
    int region;            /* index into agreement regions, -1 outside them */
    const char *control;   /* party controlling the centre, or NULL */
    bool control_uncertain; /* the region of uncertainty reaches into another control area */
    size_t n_zones;
    struct place_zone zones[PLACE_MAX_ZONES];
    size_t n_lines;
    double line_distance_m[PLACE_MAX_LINES]; /* signed, of the centre; + right of the line */
    int nearest_place;  /* index into agreement places, -1 when there is no gazetteer */
    char phrase[192];   /* "3 km SE of Avdiivka" */
};

/* Places o. Returns 0, or ERR_INVAL with e set when the observation's geometry cannot make a
 * region (for example an inverted distance range). */
int place_observation(const struct agreement *a, const struct obs *o, struct placement *p,
                      struct errbuf *e) WUR;

/* Places a bare point with an uncertainty radius (the `truce place` command). */
void place_point(const struct agreement *a, struct geo_point pt, double radius_m,
                 struct placement *p);

#endif
