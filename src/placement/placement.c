/* placement.c: placing observations against an agreement's geography (docs/architecture.md).
 *
 * The region of uncertainty is summarised by a centre and a radius; the samples of the region
 * (outline and interior) are consulted only when the circle of that radius reaches across an
 * area's outline, so a typical observation costs a few point-in-polygon tests, one distance to
 * each line and a few distances to outlines. */
#include "placement/placement.h"

#include <math.h>
#include <string.h>

const char *const PLACE_HOW_NAMES[4] = {"located", "sector", "circle", "observer"};
const char *const PLACE_REL_NAMES[3] = {"in", "maybe_in", "near"};

/* The largest default distance of the events in o: explosions are heard furthest. */
double place_assumed_distance_m(const struct obs *o)
{
    double km = 0;
    for (size_t i = 0; i < o->n_events; i++) {
        int t = o->events[i].type;
        double d = agr_event_is_explosion(t)                    ? PLACE_DEFAULT_EXPLOSION_KM
                   : (t == agr_event_type_index("burst") ||
                      t == agr_event_type_index("shot"))          ? PLACE_DEFAULT_SMALL_ARMS_KM
                                                                  : PLACE_DEFAULT_VISUAL_KM;
        if (d > km)
            km = d;
    }
    if (km == 0)
        km = PLACE_DEFAULT_VISUAL_KM;
    return km * 1000;
}

/* The samples of a region, made on first use: a located point's circle needs them only when it
 * reaches an outline, which most do not. */
struct lazy_region {
    struct geo_region *r;
    bool ready;
    const struct geo_sector *sector; /* a sector, or NULL for the circle below */
    struct geo_point circle_centre;
    double circle_radius_m;
};

static const struct geo_region *samples(struct lazy_region *lr)
{
    if (!lr->ready) {
        if (!lr->sector || geo_sector_region(lr->sector, lr->r))
            geo_circle_region(lr->circle_centre, lr->circle_radius_m, lr->r);
        lr->ready = true;
    }
    return lr->r;
}

/* Classifies the region against a point predicate: 1 all inside, 0 all outside, 2 mixed. */
static int classify(struct lazy_region *lr, bool (*in)(const void *, struct geo_point),
                    const void *ctx)
{
    const struct geo_region *r = samples(lr);
    bool any_in = false, any_out = false;
    for (size_t i = 0; i < r->n_samples && !(any_in && any_out); i++) {
        if (in(ctx, r->samples[i]))
            any_in = true;
        else
            any_out = true;
    }
    return any_in && any_out ? 2 : any_in ? 1 : 0;
}

static bool zone_pred(const void *z, struct geo_point p)
{
    return agr_zone_contains(z, p);
}

struct control_ctx {
    const struct agreement *a;
    const char *party;
};

static bool control_pred(const void *c, struct geo_point p)
{
    const struct control_ctx *cc = c;
    const char *q = agr_control_at(cc->a, p);
    return q == cc->party || (q && cc->party && !strcmp(q, cc->party));
}

static bool circle_overlaps_bbox(struct geo_point c, double radius_m, struct geo_bbox b)
{
    double dlat = radius_m / 110574.0 + 1e-9;
    double dlon = radius_m / (111320.0 * fmax(cos(c.lat_deg * M_PI / 180), 0.01)) + 1e-9;
    return !(c.lon_deg + dlon < b.min_lon || c.lon_deg - dlon > b.max_lon ||
             c.lat_deg + dlat < b.min_lat || c.lat_deg - dlat > b.max_lat);
}

/* True when the circle (centre, radius) reaches across the area's outline, so that samples of
 * the region must decide; otherwise the centre alone decides. */
static bool straddles(const struct geo_area *area, struct geo_point c, double radius_m)
{
    return radius_m > 0 && geo_area_edge_within(area, c, radius_m);
}

static bool zone_straddles(const struct agr_zone *z, struct geo_point c, double radius_m)
{
    for (size_t j = 0; j < z->n_include; j++)
        if (straddles(z->include[j], c, radius_m))
            return true;
    for (size_t j = 0; j < z->n_exclude; j++)
        if (straddles(z->exclude[j], c, radius_m))
            return true;
    return false;
}

static void place_common(const struct agreement *a, struct lazy_region *reg,
                         struct placement *p)
{
    p->region = agr_region_at(a, p->centre);
    p->control = agr_control_at(a, p->centre);
    p->control_uncertain = false;
    p->n_lines = a->n_lines < PLACE_MAX_LINES ? a->n_lines : PLACE_MAX_LINES;
    for (size_t i = 0; i < p->n_lines; i++)
        p->line_distance_m[i] = geo_line_signed_distance_m(a->lines[i].line, p->centre);
    if (reg && p->radius_m > 0) {
        /* Control changes only across a control area's outline or a region's edge (where the
         * default control ends). */
        bool check = false;
        for (size_t i = 0; i < a->n_control && !check; i++)
            check = straddles(a->control[i].area, p->centre, p->radius_m);
        for (size_t i = 0; i < a->n_regions && !check && a->default_control; i++)
            check = straddles(a->regions[i].area, p->centre, p->radius_m);
        if (check) {
            struct control_ctx cc = {a, p->control};
            p->control_uncertain = classify(reg, control_pred, &cc) != 1;
        }
    }
    p->n_zones = 0;
    for (size_t z = 0; z < a->n_zones && p->n_zones < PLACE_MAX_ZONES; z++) {
        const struct agr_zone *zone = &a->zones[z];
        double reach_m = p->radius_m + zone->report_within_km * 1000;
        bool overlap = false;
        for (size_t j = 0; j < zone->n_include && !overlap; j++)
            overlap = circle_overlaps_bbox(p->centre, reach_m, geo_area_bbox(zone->include[j]));
        if (!overlap)
            continue;
        bool centre_in = agr_zone_contains(zone, p->centre);
        int cls = centre_in ? 1 : 0;
        if (reg && zone_straddles(zone, p->centre, p->radius_m))
            cls = classify(reg, zone_pred, zone);
        struct place_zone pz = {(int)z, PLACE_IN, 0};
        if (cls == 1 && centre_in) {
            pz.rel = PLACE_IN;
        } else if (cls != 0 || centre_in) {
            pz.rel = PLACE_MAYBE_IN;
            pz.distance_m = centre_in ? 0 : agr_zone_distance_m(zone, p->centre);
        } else {
            if (zone->report_within_km <= 0)
                continue;
            pz.distance_m = agr_zone_distance_m(zone, p->centre);
            if (pz.distance_m > zone->report_within_km * 1000)
                continue;
            pz.rel = PLACE_NEAR;
        }
        p->zones[p->n_zones++] = pz;
    }
    p->nearest_place = agr_place_nearest(a, p->centre);
    if (p->nearest_place >= 0)
        geo_phrase_relative(p->phrase, sizeof p->phrase, p->centre, a->places[p->nearest_place].pt,
                            a->places[p->nearest_place].name);
    else
        snprintf(p->phrase, sizeof p->phrase, "%.4f N %.4f E", p->centre.lat_deg,
                 p->centre.lon_deg);
}

int place_observation(const struct agreement *a, const struct obs *o, struct placement *p,
                      struct errbuf *e)
{
    static _Thread_local struct geo_region reg;
    struct geo_sector s;
    struct lazy_region lr = {&reg, false, NULL, {0, 0}, 0};
    memset(p, 0, sizeof *p);
    p->nearest_place = -1;
    if (o->has_location) {
        p->how = PLACE_LOCATED;
        if (o->location_is_polygon) {
            /* The polygon's own vertices are the outline samples. */
            size_t n = o->n_polygon < GEO_SECTOR_MAX_POINTS - 1 ? o->n_polygon
                                                                : GEO_SECTOR_MAX_POINTS - 1;
            memcpy(reg.samples, o->polygon, n * sizeof *reg.samples);
            reg.samples[n] = o->location;
            reg.n_samples = n + 1;
            reg.centre = o->location;
            reg.radius_m = o->accuracy_m;
            lr.ready = true;
        } else {
            lr.circle_centre = o->location;
            lr.circle_radius_m = o->accuracy_m;
        }
        p->centre = o->location;
        p->radius_m = o->accuracy_m;
    } else if (o->has_observer && o->n_bearings) {
        s = (struct geo_sector){.observer = o->observer, .n_bearings = o->n_bearings};
        memcpy(s.azi_deg, o->bearing_deg, o->n_bearings * sizeof(double));
        memcpy(s.half_width_deg, o->bearing_half_width_deg, o->n_bearings * sizeof(double));
        if (isnan(o->dist_max_m)) {
            s.dist_min_m = 0;
            s.dist_max_m = place_assumed_distance_m(o);
            p->distance_assumed = true;
        } else {
            s.dist_min_m = o->dist_min_m;
            s.dist_max_m = o->dist_max_m;
        }
        /* Centre and radius in closed form; the samples only if an outline is within reach. */
        if (geo_sector_summary(&s, &p->centre, &p->radius_m))
            return errf(e, ERR_INVAL, "bearings: cannot form a region of uncertainty");
        lr.sector = &s;
        lr.circle_centre = p->centre;
        lr.circle_radius_m = p->radius_m;
        p->how = PLACE_SECTOR;
    } else if (o->has_observer) {
        double r = isnan(o->dist_max_m) ? place_assumed_distance_m(o) : o->dist_max_m;
        p->distance_assumed = isnan(o->dist_max_m);
        p->how = isnan(o->dist_max_m) && o->kind != OBS_FIRE ? PLACE_OBSERVER : PLACE_CIRCLE;
        if (p->how == PLACE_OBSERVER)
            r = 0;
        lr.circle_centre = o->observer;
        lr.circle_radius_m = r;
        p->centre = o->observer;
        p->radius_m = r;
    } else {
        return errf(e, ERR_INVAL, "observer: the observation has no position");
    }
    place_common(a, &lr, p);
    return 0;
}

void place_point(const struct agreement *a, struct geo_point pt, double radius_m,
                 struct placement *p)
{
    static _Thread_local struct geo_region reg;
    struct lazy_region lr = {&reg, false, NULL, pt, radius_m};
    memset(p, 0, sizeof *p);
    p->how = PLACE_LOCATED;
    p->centre = pt;
    p->radius_m = radius_m;
    place_common(a, &lr, p);
}
