/* fusion_attribute.c: where the fire came from and who fired: the side of the reference lines
 * (and control areas) holding the whole origin region, the grades and their reasons in words,
 * and the incident's findings under the agreement's fire clauses (docs/fusion.md). */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion_int.h"
#include "rules/rules.h"

static void add_reason(struct fusion_incident *inc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_reason(struct fusion_incident *inc, const char *fmt, ...)
{
    if (inc->n_reasons >= FUSION_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inc->reasons[inc->n_reasons++], FUSION_REASON_BYTES, fmt, ap);
    va_end(ap);
}

/* Which side of the lines a circle lies on: the party, or NULL with why set. The whole circle
 * plus RULES_CONTROL_MARGIN_M must be on one side of every line that names its parties, and the
 * control area at the centre must agree. *dist_m gets the distance to the nearest line. */
static const char *side_of_circle(const struct agreement *a, struct geo_point c, double r,
                                  double *dist_m, const char **why)
{
    const char *party = NULL;
    double nearest = INFINITY;
    *why = NULL;
    for (size_t i = 0; i < a->n_lines; i++) {
        const struct agr_line *l = &a->lines[i];
        if (!l->right_party || !l->left_party)
            continue;
        double d = geo_line_signed_distance_m(l->line, c);
        if (fabs(d) < r) {
            *why = "straddles";
            *dist_m = fabs(d);
            return NULL;
        }
        if (fabs(d) < r + RULES_CONTROL_MARGIN_M) {
            *why = "near";
            *dist_m = fabs(d);
            return NULL;
        }
        if (fabs(d) < nearest) {
            nearest = fabs(d);
            party = d > 0 ? l->right_party : l->left_party;
        }
    }
    *dist_m = nearest;
    const char *ctl = agr_control_at(a, c);
    if (!party)
        party = ctl;
    if (!party) {
        *why = "nocontrol";
        return NULL;
    }
    if (ctl && strcmp(ctl, party)) {
        *why = "disagree";
        return NULL;
    }
    return party;
}

static const char *why_words(const char *why)
{
    if (!why)
        return "";
    if (!strcmp(why, "straddles"))
        return "straddles the line";
    if (!strcmp(why, "near"))
        return "comes within the 1 km margin of the line";
    if (!strcmp(why, "disagree"))
        return "lies where the line and the control areas disagree";
    return "lies in no party's control area";
}

static const char *other_party(const struct agreement *a, const char *p)
{
    for (size_t i = 0; i < a->n_lines; i++) {
        const struct agr_line *l = &a->lines[i];
        if (l->right_party && l->left_party) {
            if (!strcmp(l->right_party, p))
                return l->left_party;
            if (!strcmp(l->left_party, p))
                return l->right_party;
        }
    }
    return NULL;
}

void fusion_phrase_at(const struct agreement *a, struct geo_point p, char *buf, size_t n)
{
    int pl = agr_place_nearest(a, p);
    if (pl >= 0)
        geo_phrase_relative(buf, n, p, a->places[pl].pt, a->places[pl].name);
    else
        snprintf(buf, n, "%.4f N %.4f E", p.lat_deg, p.lon_deg);
}

/* Origin from a reported flight direction: the wedge behind the impact area along the
 * direction the fire came from. Every sample of the wedge must lie on one side, clear of the
 * margin plus the location's own uncertainty. */
static const char *side_of_sector(const struct agreement *a, const struct geo_sector *s,
                                  double extra_r, struct geo_point *centre, double *radius,
                                  const char **why)
{
    static _Thread_local struct geo_region reg;
    *why = "nocontrol";
    if (geo_sector_region(s, &reg))
        return NULL;
    if (centre)
        *centre = reg.centre;
    if (radius)
        *radius = reg.radius_m;
    const char *party = NULL;
    for (size_t i = 0; i < reg.n_samples; i++) {
        double d;
        const char *w;
        /* the sample spacing is covered by extra_r plus the margin */
        const char *p = side_of_circle(a, reg.samples[i], extra_r, &d, &w);
        if (!p) {
            *why = w;
            return NULL;
        }
        if (party && strcmp(party, p)) {
            *why = "straddles";
            return NULL;
        }
        party = p;
    }
    *why = NULL;
    return party;
}

static const char *side_of_wedge(const struct agreement *a, struct geo_point loc, double loc_r,
                                 double az, double hw, struct geo_point *centre, double *radius,
                                 const char **why)
{
    struct geo_sector s = {.observer = loc, .n_bearings = 1, .dist_min_m = 0,
                           .dist_max_m = FUSION_FLIGHT_RANGE_M};
    s.azi_deg[0] = az;
    s.half_width_deg[0] = hw;
    return side_of_sector(a, &s, loc_r, centre, radius, why);
}

/* One viewpoint's outgoing report: would a misjudged distance (the range stretched to
 * [near / FUSION_RANGE_STRETCH - 1 km, far x FUSION_RANGE_STRETCH + 1 km]) or a bearing
 * FUSION_BEARING_SLACK_DEG further out put the launch across the line? */
#define FUSION_RANGE_STRETCH 1.5
#define FUSION_BEARING_SLACK_DEG 5.0
static bool stretched_same_side(const struct agreement *a, struct fobs *x, const char *party)
{
    const struct fusion_obs *o = &x->o;
    if (!o->has_bearing || !o->has_observer)
        return false;
    /* a function of the report alone: worked out once, then remembered */
    if (x->stretched_known)
        return x->stretched && !strcmp(x->stretched, party);
    struct geo_sector s = {.observer = o->observer, .n_bearings = 1};
    s.azi_deg[0] = o->bearing_deg;
    s.half_width_deg[0] = fmin(o->half_width_deg + FUSION_BEARING_SLACK_DEG, 180.0);
    s.dist_min_m = fmax(0, o->dist_min_m / FUSION_RANGE_STRETCH - 1000.0);
    s.dist_max_m = o->dist_max_m * FUSION_RANGE_STRETCH + 1000.0;
    const char *why;
    /* samples are about 1/20 of the sector apart: half the far arc's spacing covers the gaps */
    double gap = s.dist_max_m * (s.half_width_deg[0] * M_PI / 180) / 10;
    const char *p = side_of_sector(a, &s, fmin(gap, 2000.0), NULL, NULL, &why);
    x->stretched = p;
    x->stretched_known = true;
    return p && !strcmp(p, party);
}

void fusion_attribute(struct fusion *f, const uint32_t *m, size_t n,
                      struct fusion_incident *inc)
{
    const struct agreement *a = f->a;
    int outgoing = agr_event_type_index("outgoing");
    uint32_t out_m[FUSION_MAX_EVIDENCE];
    size_t n_out = 0, n_flight = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fusion_obs *o = &f->v[m[i]].o;
        if (outgoing >= 0 && o->counts[outgoing] != 0 && n_out < FUSION_MAX_EVIDENCE)
            out_m[n_out++] = m[i];
        if (!isnan(o->flight_from_deg))
            n_flight++;
    }
    str_copy(inc->party, sizeof inc->party, "undetermined");
    inc->grade = FUSION_UNDETERMINED;
    inc->origin_method = FUSION_ORIGIN_NONE;
    char where[192];
    if (n_out) {
        enum fusion_loc_method lm;
        double major, minor, az;
        size_t views;
        fusion_locate(f, out_m, n_out, &lm, &inc->origin, &major, &minor, &az, &views);
        inc->origin_radius_m = major;
        bool assumed = false;
        for (size_t i = 0; i < n_out; i++)
            assumed = assumed || (f->v[out_m[i]].o.distance_assumed && lm != FUSION_LOC_TRIANGULATED);
        inc->origin_method = lm == FUSION_LOC_TRIANGULATED ? FUSION_ORIGIN_LAUNCH_TRIANG
                                                           : FUSION_ORIGIN_OUTGOING;
        if (n_out < n)
            add_reason(inc, "the outgoing fire began with the explosions %.0f km away across the "
                            "line (within %d min): one event",
                       geo_distance_m(inc->origin, inc->location) / 1000,
                       FUSION_LAUNCH_START_S / 60);
        fusion_phrase_at(a, inc->origin, where, sizeof where);
        double d;
        const char *why;
        const char *party = side_of_circle(a, inc->origin, major, &d, &why);
        if (lm == FUSION_LOC_TRIANGULATED)
            add_reason(inc, "outgoing fire reported by %zu viewpoints; their bearings meet %s "
                            "(95%% ellipse %.1f x %.1f km)",
                       views, where, major / 1000, minor / 1000);
        else
            add_reason(inc, "outgoing fire reported from one viewpoint; the launch area is %s "
                            "(%s, within %.1f km)%s",
                       where, FUSION_LOC_NAMES[lm], major / 1000,
                       assumed ? ", with an assumed distance" : "");
        if (!party) {
            add_reason(inc, "the launch area %s, so the firing party is undetermined",
                       why_words(why));
            return;
        }
        str_copy(inc->party, sizeof inc->party, party);
        inc->grade = lm == FUSION_LOC_TRIANGULATED ? FUSION_CONFIRMED
                     : assumed || lm == FUSION_LOC_CIRCLE || lm == FUSION_LOC_OBSERVER
                         ? FUSION_POSSIBLE
                         : FUSION_PROBABLE;
        add_reason(inc, "the whole launch area lies on %s's side, %.1f km from the line (margin "
                        "%.0f km)",
                   party, d / 1000, RULES_CONTROL_MARGIN_M / 1000);
        if (inc->grade == FUSION_PROBABLE) {
            /* the report the sector came from: the smallest sector among them */
            struct fobs *best = NULL;
            for (size_t i = 0; i < n_out; i++) {
                struct fobs *x = &f->v[out_m[i]];
                if (x->o.how == PLACE_SECTOR && (!best || x->o.radius_m < best->o.radius_m))
                    best = x;
            }
            if (!best || !stretched_same_side(a, best, party)) {
                inc->grade = FUSION_POSSIBLE;
                add_reason(inc, "but a misjudged distance (x%.1f) or bearing (%.0f degrees) could "
                                "put the launch across the line: possible, not probable",
                           FUSION_RANGE_STRETCH, FUSION_BEARING_SLACK_DEG);
            }
        }
        return;
    }
    if (n_flight) {
        /* the flight directions of the members, as one mean direction when they agree */
        double sx = 0, sy = 0, hw = 0;
        size_t views = 0;
        for (size_t i = 0; i < n; i++) {
            const struct fusion_obs *o = &f->v[m[i]].o;
            if (isnan(o->flight_from_deg))
                continue;
            sx += sin(o->flight_from_deg * DEG);
            sy += cos(o->flight_from_deg * DEG);
            hw = fmax(hw, o->flight_half_deg);
            views++;
        }
        double spread = 1 - hypot(sx, sy) / (double)views; /* 0 when all agree */
        double az = fmod(atan2(sx, sy) / DEG + 360.0, 360.0);
        add_reason(inc, "%zu report%s the fire coming from the %s; the origin lies on the "
                        "back-bearing within %.0f km",
                   views, views == 1 ? " gives" : "s give", geo_compass_word(az),
                   FUSION_FLIGHT_RANGE_M / 1000);
        if (spread > 1 - cos(45 * DEG)) {
            add_reason(inc, "the reported flight directions disagree by more than 45 degrees, so "
                            "the firing party is undetermined");
            return;
        }
        const char *why;
        const char *party = side_of_wedge(a, inc->location, inc->semi_major_m, az, hw + 0,
                                          &inc->origin, &inc->origin_radius_m, &why);
        inc->origin_method = FUSION_ORIGIN_FLIGHT;
        if (!party) {
            add_reason(inc, "that wedge %s, so the firing party is undetermined",
                       why_words(why));
            return;
        }
        str_copy(inc->party, sizeof inc->party, party);
        /* a longer-range weapon may have fired from beyond the wedge: never more than possible */
        inc->grade = FUSION_POSSIBLE;
        add_reason(inc, "the whole wedge lies on %s's side of the line; fire from beyond %.0f km "
                        "cannot be excluded, so possible at most",
                   party, FUSION_FLIGHT_RANGE_M / 1000);
        return;
    }
    /* impacts against the line: fire landing deep on one side is likely the other's (weak);
     * only for explosions (small arms are heard where they are fired) */
    bool explosions = false;
    for (int t = 0; t < AGR_N_EVENT_TYPES; t++)
        explosions = explosions || (inc->counts[t] != 0 && agr_event_is_explosion(t) &&
                                    t != agr_event_type_index("outgoing"));
    if (!explosions) {
        add_reason(inc, "no outgoing fire, flight direction or explosion was reported: the "
                        "origin is not estimated");
        return;
    }
    double d;
    const char *why;
    const char *side = side_of_circle(a, inc->location, inc->semi_major_m, &d, &why);
    const char *other = side ? other_party(a, side) : NULL;
    if (!other) {
        add_reason(inc, "no outgoing fire or flight direction was reported, and the impact area "
                        "%s: the origin is not estimated",
                   side ? "is on a side without an opposite party" : why_words(why));
        return;
    }
    inc->origin_method = FUSION_ORIGIN_IMPACT_SIDE;
    str_copy(inc->party, sizeof inc->party, other);
    inc->grade = FUSION_POSSIBLE;
    add_reason(inc, "no outgoing fire or flight direction was reported; the impact area lies "
                    "wholly on %s's side, %.1f km from the line, so fire from %s is possible "
                    "but not shown",
               side, d / 1000, other);
}

static bool rule_covers(const struct agr_rule *r, int type)
{
    if (!r->n_event_types)
        return true;
    for (size_t i = 0; i < r->n_event_types; i++)
        if (agr_event_type_index(r->event_types[i]) == type)
            return true;
    return false;
}

/* The incident judged by the fire clauses of agreement a: one finding per clause in force whose
 * event types it holds, inside the agreement's regions (as rules.c does for one report). */
void fusion_judge(const struct agreement *a, struct fusion_incident *inc)
{
    inc->n_findings = 0;
    inc->agreement_version = a->version;
    if (inc->t_start_ms < a->effective_ms || agr_region_at(a, inc->location) < 0)
        return;
    char where[192];
    fusion_phrase_at(a, inc->location, where, sizeof where);
    bool attributed = inc->grade == FUSION_CONFIRMED || inc->grade == FUSION_PROBABLE;
    for (size_t i = 0; i < a->n_rules && inc->n_findings < FUSION_MAX_FINDINGS; i++) {
        const struct agr_rule *r = &a->rules[i];
        if (r->kind != AGR_RULE_FIRE_PROHIBITED)
            continue;
        int64_t from = r->effective_ms != TIME_NONE ? r->effective_ms : a->effective_ms;
        if (inc->t_start_ms < from)
            continue;
        char events[256];
        size_t len = 0;
        events[0] = 0;
        for (int t = 0; t < AGR_N_EVENT_TYPES && len < sizeof events; t++) {
            if (!inc->counts[t] || !rule_covers(r, t))
                continue;
            if (inc->counts[t] < 0)
                len += (size_t)snprintf(events + len, sizeof events - len, "%suncountable %s",
                                        len ? ", " : "", AGR_EVENT_NAMES_MANY[t]);
            else
                len += (size_t)snprintf(events + len, sizeof events - len, "%s%lld %s",
                                        len ? ", " : "", inc->counts[t],
                                        inc->counts[t] == 1 ? AGR_EVENT_NAMES_ONE[t]
                                                            : AGR_EVENT_NAMES_MANY[t]);
        }
        if (!len)
            continue;
        struct fusion_finding *fd = &inc->findings[inc->n_findings++];
        fd->rule = (int)i;
        fd->clause = r->clause;
        fd->severity = r->severity;
        str_copy(fd->party, sizeof fd->party, attributed ? inc->party : "undetermined");
        char whose[160];
        if (attributed)
            snprintf(whose, sizeof whose, "Fired by %s (grade %s).", inc->party,
                     FUSION_GRADE_NAMES[inc->grade]);
        else if (strcmp(inc->party, "undetermined"))
            snprintf(whose, sizeof whose,
                     "The evidence points to %s only at grade %s: the finding names no party.",
                     inc->party, FUSION_GRADE_NAMES[inc->grade]);
        else
            snprintf(whose, sizeof whose, "The party that fired is undetermined.");
        snprintf(fd->reasons, sizeof fd->reasons,
                 "%s (reconciled from %zu report%s) %s (%s); clause %s prohibits this fire. %s",
                 events, inc->n_evidence, inc->n_evidence == 1 ? "" : "s", where,
                 FUSION_LOC_NAMES[inc->loc_method], r->clause, whose);
    }
}

