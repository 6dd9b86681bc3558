/* evaluate.c: scoring incidents (the NDJSON of `truce incidents --format ndjson`, docs/fusion.md
 * "Output: the incident object") against a simulator truth:
 * precision and recall of incidents, overall and for events reported by two or more observers,
 * location error, attribution per grade and the share left undetermined.
 *
 * The matching rule is the one docs/simulator.md states ("Matching"): an incident matches the
 * true event that holds a strict majority of its evidence; each event keeps only its best
 * incident, other incidents matching it are duplicates. This file does no I/O. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simulate/simulate.h"

const char *const SIM_MEANS_NAMES[SIM_N_MEANS] = {"patrol", "camera", "acoustic", "uav",
                                                  "satellite", "other", "mixed"};

const char *const SIM_GRADE_NAMES[SIM_N_GRADES] = {"confirmed", "probable", "possible",
                                                   "undetermined"};

#define PARTY_UNDETERMINED (-1)
#define PARTY_OTHER (-2) /* a party id the truth does not know: wrong whenever it is given */

struct scored_incident {
    long long id;
    long long event;        /* strict-majority event index, or -1 */
    long long plural_event; /* most frequent event index (ties: lowest), or -1 */
    size_t n_match;         /* evidence items of `event` */
    bool multi_observer;    /* evidence from two or more distinct observers */
    bool has_location, triangulated, has_origin, has_ellipse, has_origin_radius;
    struct geo_point location, origin;
    double semi_major_m, semi_minor_m, azimuth_deg, origin_radius_m;
    int party, grade;
    int means; /* SIM_MEANS_* of all its evidence, or SIM_MEANS_MIXED */
};

struct sim_eval {
    const struct sim_truth *t;
    struct scored_incident *v;
    size_t n, cap;
    long long unknown_evidence;
    long long *ev_buf; /* scratch for one incident's evidence */
    int *ob_buf;
    size_t buf_cap;
};

int sim_eval_new(const struct sim_truth *t, struct sim_eval **out)
{
    struct sim_eval *s = calloc(1, sizeof *s);
    if (!s)
        return ERR_NOMEM;
    s->t = t;
    *out = s;
    return 0;
}

void sim_eval_free(struct sim_eval *s)
{
    if (!s)
        return;
    free(s->v);
    free(s->ev_buf);
    free(s->ob_buf);
    free(s);
}

static int cmp_ll(const void *x, const void *y)
{
    long long a = *(const long long *)x, b = *(const long long *)y;
    return (a > b) - (a < b);
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* Fills the incident's event and observer summary from its evidence array. */
static int score_evidence(struct sim_eval *s, json_t *evidence, struct scored_incident *inc,
                          struct errbuf *e)
{
    size_t n = json_array_size(evidence);
    if (n > SIM_MAX_EVIDENCE)
        return errf(e, ERR_TOOBIG, "evidence: %zu client ids, more than %d", n, SIM_MAX_EVIDENCE);
    if (n > s->buf_cap) {
        s->buf_cap = n;
        s->ev_buf = xrealloc(s->ev_buf, n * sizeof *s->ev_buf);
        s->ob_buf = xrealloc(s->ob_buf, n * sizeof *s->ob_buf);
    }
    long long unknown = 0;
    inc->means = SIM_MEANS_OTHER;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(evidence, i);
        if (!json_is_string(c))
            return errf(e, ERR_INVAL, "evidence/%zu: must be a client id string", i);
        const struct sim_truth_report *r = sim_truth_find(s->t, json_string_value(c));
        s->ev_buf[i] = r ? r->event : -1;
        int m = r ? s->t->observer_means[r->observer] : SIM_MEANS_OTHER;
        inc->means = i == 0 ? m : inc->means == m ? m : SIM_MEANS_MIXED;
        s->ob_buf[i] = r ? r->observer : -1 - (int)(i % 1000000); /* unknown: each its own */
        unknown += !r;
    }
    if (n) { /* the buffers are NULL until the first non-empty evidence */
        qsort(s->ev_buf, n, sizeof *s->ev_buf, cmp_ll);
        qsort(s->ob_buf, n, sizeof *s->ob_buf, cmp_int);
    }
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || s->ob_buf[i] != s->ob_buf[i - 1];
    inc->multi_observer = distinct >= 2;
    /* Most frequent true event (a false report, -1, is not an event). */
    inc->event = inc->plural_event = -1;
    inc->n_match = 0;
    size_t best = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s->ev_buf[j] == s->ev_buf[i])
            j++;
        if (s->ev_buf[i] >= 0 && j - i > best) {
            best = j - i;
            inc->plural_event = s->ev_buf[i];
        }
        i = j;
    }
    if (inc->plural_event >= 0 && 2 * best > n) {
        inc->event = inc->plural_event;
        inc->n_match = best;
    }
    s->unknown_evidence += unknown;
    return 0;
}

int sim_eval_add(struct sim_eval *s, const char *line, size_t len, struct errbuf *e)
{
    if (len > SIM_INCIDENT_LINE_BYTES)
        return errf(e, ERR_TOOBIG, "incident: %zu bytes, more than %u", len,
                    SIM_INCIDENT_LINE_BYTES);
    if (s->n >= SIM_MAX_INCIDENTS)
        return errf(e, ERR_TOOBIG, "more than %d incidents", SIM_MAX_INCIDENTS);
    json_error_t jerr;
    json_t *j = json_loadb(line, len, 0, &jerr);
    if (!j)
        return errf(e, ERR_PARSE, "column %d: %s", jerr.column, jerr.text);
    struct scored_incident inc = {0};
    int rc = 0;
    json_t *id = json_object_get(j, "id"), *loc = json_object_get(j, "location"),
           *party = json_object_get(j, "party"), *grade = json_object_get(j, "grade"),
           *evidence = json_object_get(j, "evidence");
    if (!json_is_object(j)) {
        rc = errf(e, ERR_INVAL, "an incident must be a JSON object");
        goto out;
    }
    if (!json_is_integer(id)) {
        rc = errf(e, ERR_INVAL, "id: must be an integer");
        goto out;
    }
    inc.id = json_integer_value(id);
    if (loc && !json_is_null(loc)) {
        json_t *lon = json_object_get(loc, "lon"), *lat = json_object_get(loc, "lat"),
               *method = json_object_get(loc, "method");
        if (!json_is_number(lon) || !json_is_number(lat)) {
            rc = errf(e, ERR_INVAL, "location: needs numbers lon and lat");
            goto out;
        }
        inc.location = (struct geo_point){json_number_value(lon), json_number_value(lat)};
        if (!geo_point_valid(inc.location)) {
            rc = errf(e, ERR_INVAL, "location: not a position on Earth");
            goto out;
        }
        if (method && !json_is_string(method)) {
            rc = errf(e, ERR_INVAL, "location.method: must be a string");
            goto out;
        }
        json_t *ma = json_object_get(loc, "semi_major_m"), *mi = json_object_get(loc, "semi_minor_m"),
               *az = json_object_get(loc, "azimuth_deg");
        if (json_is_number(ma) && json_is_number(mi)) {
            inc.semi_major_m = json_number_value(ma);
            inc.semi_minor_m = json_number_value(mi);
            inc.azimuth_deg = json_is_number(az) ? json_number_value(az) : 0;
            inc.has_ellipse = inc.semi_major_m >= 0 && inc.semi_minor_m >= 0 &&
                              isfinite(inc.semi_major_m) && isfinite(inc.semi_minor_m) &&
                              isfinite(inc.azimuth_deg);
        }
        inc.has_location = true;
        inc.triangulated = method && !strcmp(json_string_value(method), "triangulated");
    }
    json_t *origin = json_object_get(j, "origin");
    if (origin && !json_is_null(origin)) {
        json_t *lon = json_object_get(origin, "lon"), *lat = json_object_get(origin, "lat");
        if (!json_is_number(lon) || !json_is_number(lat)) {
            rc = errf(e, ERR_INVAL, "origin: needs numbers lon and lat (or null)");
            goto out;
        }
        inc.origin = (struct geo_point){json_number_value(lon), json_number_value(lat)};
        if (!geo_point_valid(inc.origin)) {
            rc = errf(e, ERR_INVAL, "origin: not a position on Earth");
            goto out;
        }
        inc.has_origin = true;
        json_t *rad = json_object_get(origin, "radius_m");
        if (json_is_number(rad) && json_number_value(rad) >= 0 && isfinite(json_number_value(rad))) {
            inc.origin_radius_m = json_number_value(rad);
            inc.has_origin_radius = true;
        }
    }
    if (!json_is_string(party)) {
        rc = errf(e, ERR_INVAL, "party: must be a party id or \"undetermined\"");
        goto out;
    }
    inc.party = PARTY_OTHER;
    if (!strcmp(json_string_value(party), "undetermined"))
        inc.party = PARTY_UNDETERMINED;
    for (int k = 0; k < s->t->n_parties; k++)
        if (!strcmp(json_string_value(party), s->t->parties[k]))
            inc.party = k;
    inc.grade = -1;
    for (int k = 0; json_is_string(grade) && k < SIM_N_GRADES; k++)
        if (!strcmp(json_string_value(grade), SIM_GRADE_NAMES[k]))
            inc.grade = k;
    if (inc.grade < 0) {
        rc = errf(e, ERR_INVAL, "grade: must be confirmed, probable, possible or undetermined");
        goto out;
    }
    if (!json_is_array(evidence)) {
        rc = errf(e, ERR_INVAL, "evidence: must be an array of client ids");
        goto out;
    }
    rc = score_evidence(s, evidence, &inc, e);
    if (rc)
        goto out;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = inc;
out:
    json_decref(j);
    return rc;
}

/* True when p lies inside the ellipse of the incident (centre, half-axes in metres, major axis
 * azimuth clockwise from north), in a local plane around the centre. */
static bool inside_ellipse(const struct scored_incident *inc, struct geo_point p)
{
    double d, az;
    geo_inverse(inc->location, p, &d, &az);
    if (d <= 1.0)
        return true;
    double x = d * sin(az * M_PI / 180), y = d * cos(az * M_PI / 180);
    double a = inc->azimuth_deg * M_PI / 180;
    double u = x * sin(a) + y * cos(a), v = x * cos(a) - y * sin(a);
    double A = inc->semi_major_m, B = inc->semi_minor_m;
    if (A <= 0 || B <= 0)
        return false;
    return (u / A) * (u / A) + (v / B) * (v / B) <= 1.0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile of sorted v (p in (0, 1]); NAN for an empty set. */
static double percentile(const double *v, size_t n, double p)
{
    if (!n)
        return NAN;
    size_t k = (size_t)ceil(p * (double)n);
    return v[k ? k - 1 : 0];
}

static double ratio(long long a, long long b)
{
    return b ? (double)a / (double)b : NAN;
}

int sim_eval_finish(struct sim_eval *s, struct sim_scores *sc)
{
    const struct sim_truth *t = s->t;
    memset(sc, 0, sizeof *sc);
    sc->incidents = (long long)s->n;
    sc->true_events = (long long)t->n_events;
    sc->unknown_evidence = s->unknown_evidence;
    /* The best incident of each event: most evidence of that event, then the lowest id. */
    long long *best = malloc((t->n_events + 1) * sizeof *best);
    double *all = malloc((s->n + 1) * sizeof *all), *tri = malloc((s->n + 1) * sizeof *tri);
    double *org = malloc((s->n + 1) * sizeof *org);
    if (!best || !all || !tri || !org) {
        free(best);
        free(all);
        free(tri);
        free(org);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < t->n_events; i++)
        best[i] = -1;
    for (size_t i = 0; i < s->n; i++) {
        const struct scored_incident *inc = &s->v[i];
        if (inc->event < 0)
            continue;
        long long b = best[inc->event];
        if (b < 0 || inc->n_match > s->v[b].n_match ||
            (inc->n_match == s->v[b].n_match && inc->id < s->v[b].id))
            best[inc->event] = (long long)i;
    }
    for (size_t i = 0; i < t->n_events; i++) {
        bool multi = t->events[i].n_observers >= 2;
        sc->reported_events += t->events[i].n_observers >= 1;
        sc->multi_events += multi;
        sc->matched_events += best[i] >= 0;
        sc->multi_matched_events += multi && best[i] >= 0;
    }
    size_t n_all = 0, n_tri = 0, n_org = 0;
    long long undetermined = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct scored_incident *inc = &s->v[i];
        bool matched = inc->event >= 0 && best[inc->event] == (long long)i;
        bool in_multi = inc->multi_observer ||
                        (inc->plural_event >= 0 && t->events[inc->plural_event].n_observers >= 2);
        sc->matched_incidents += matched;
        sc->duplicate_incidents += inc->event >= 0 && !matched;
        sc->false_incidents += inc->event < 0;
        if (inc->event < 0)
            sc->false_by_means[inc->means]++;
        else if (!matched)
            sc->duplicate_by_means[inc->means]++;
        sc->multi_incidents += in_multi;
        sc->multi_matched_incidents += in_multi && matched;
        if (!matched)
            continue;
        const struct sim_truth_event *ev = &t->events[inc->event];
        if (inc->has_location) {
            double d = geo_distance_m(inc->location, ev->location);
            all[n_all++] = d;
            if (inc->triangulated)
                tri[n_tri++] = d;
        }
        if (inc->has_origin)
            org[n_org++] = geo_distance_m(inc->origin, ev->origin);
        if (inc->has_location && inc->has_ellipse) {
            sc->with_ellipse++;
            sc->inside_ellipse += inside_ellipse(inc, ev->location);
        }
        if (inc->has_origin && inc->has_origin_radius) {
            sc->with_origin_radius++;
            sc->inside_origin_radius += org[n_org - 1] <= inc->origin_radius_m;
        }
        struct sim_grade_score *g = &sc->grade[inc->grade];
        g->incidents++;
        if (inc->party == PARTY_UNDETERMINED)
            g->undetermined++;
        else if (inc->party == ev->party)
            g->correct++;
        else
            g->wrong++;
        undetermined += inc->party == PARTY_UNDETERMINED || inc->grade == SIM_GRADE_UNDETERMINED;
    }
    sc->precision = ratio(sc->matched_incidents, sc->incidents);
    sc->recall = ratio(sc->matched_events, sc->reported_events);
    sc->precision_multi = ratio(sc->multi_matched_incidents, sc->multi_incidents);
    sc->recall_multi = ratio(sc->multi_matched_events, sc->multi_events);
    qsort(all, n_all, sizeof *all, cmp_double);
    qsort(tri, n_tri, sizeof *tri, cmp_double);
    sc->located_all = (long long)n_all;
    sc->located_triangulated = (long long)n_tri;
    sc->loc_median_all_m = percentile(all, n_all, 0.5);
    sc->loc_p95_all_m = percentile(all, n_all, 0.95);
    sc->loc_median_tri_m = percentile(tri, n_tri, 0.5);
    sc->loc_p95_tri_m = percentile(tri, n_tri, 0.95);
    qsort(org, n_org, sizeof *org, cmp_double);
    sc->located_origin = (long long)n_org;
    sc->origin_median_m = percentile(org, n_org, 0.5);
    sc->origin_p95_m = percentile(org, n_org, 0.95);
    const struct sim_grade_score *c = &sc->grade[SIM_GRADE_CONFIRMED],
                                 *p = &sc->grade[SIM_GRADE_PROBABLE];
    sc->wrong_share_probable_or_better = ratio(c->wrong + p->wrong, c->incidents + p->incidents);
    sc->undetermined_share = ratio(undetermined, sc->matched_incidents);
    sc->met_precision = sc->precision_multi >= SIM_TARGET_PRECISION_MULTI;
    sc->met_recall = sc->recall_multi >= SIM_TARGET_RECALL_MULTI;
    sc->met_attribution = isnan(sc->wrong_share_probable_or_better) ||
                          sc->wrong_share_probable_or_better <= SIM_TARGET_WRONG_PROBABLE_SHARE;
    sc->met_location = sc->loc_median_tri_m <= SIM_TARGET_TRIANGULATED_MEDIAN_M;
    free(best);
    free(all);
    free(tri);
    free(org);
    return 0;
}

static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1e4) / 1e4);
}

int sim_scores_json(const struct sim_scores *sc, struct buf *b)
{
    json_t *grades = json_object();
    for (int k = 0; k < SIM_N_GRADES; k++) {
        const struct sim_grade_score *g = &sc->grade[k];
        json_object_set_new(grades, SIM_GRADE_NAMES[k],
                            json_pack("{s:I,s:I,s:I,s:I}", "incidents", (json_int_t)g->incidents,
                                      "correct", (json_int_t)g->correct, "wrong",
                                      (json_int_t)g->wrong, "undetermined",
                                      (json_int_t)g->undetermined));
    }
    json_t *j = json_pack(
        "{s:{s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},s:{s:o,s:o,s:I,s:I,s:I,s:I},"
        "s:{s:o,s:o,s:I,s:I,s:I,s:I},s:{s:{s:I,s:o,s:o},s:{s:I,s:o,s:o}},s:{s:I,s:o,s:o},"
        "s:{s:o,s:o,s:o},s:I,"
        "s:{s:b,s:b,s:b,s:b}}",
        "incidents", "total", (json_int_t)sc->incidents, "matched",
        (json_int_t)sc->matched_incidents, "duplicate", (json_int_t)sc->duplicate_incidents,
        "false", (json_int_t)sc->false_incidents, "multi_observer",
        (json_int_t)sc->multi_incidents, "events", "total", (json_int_t)sc->true_events,
        "reported", (json_int_t)sc->reported_events, "multi_observer",
        (json_int_t)sc->multi_events, "all", "precision", num(sc->precision), "recall",
        num(sc->recall), "incidents", (json_int_t)sc->incidents, "matched_incidents",
        (json_int_t)sc->matched_incidents, "events", (json_int_t)sc->reported_events,
        "matched_events", (json_int_t)sc->matched_events, "multi_observer", "precision",
        num(sc->precision_multi), "recall", num(sc->recall_multi), "incidents",
        (json_int_t)sc->multi_incidents, "matched_incidents",
        (json_int_t)sc->multi_matched_incidents, "events", (json_int_t)sc->multi_events,
        "matched_events", (json_int_t)sc->multi_matched_events, "location_error_m",
        "triangulated", "n", (json_int_t)sc->located_triangulated, "median",
        num(sc->loc_median_tri_m), "p95", num(sc->loc_p95_tri_m), "all", "n",
        (json_int_t)sc->located_all, "median", num(sc->loc_median_all_m), "p95",
        num(sc->loc_p95_all_m), "origin_error_m", "n", (json_int_t)sc->located_origin, "median",
        num(sc->origin_median_m), "p95", num(sc->origin_p95_m), "attribution", "grades", grades,
        "wrong_share_probable_or_better", num(sc->wrong_share_probable_or_better),
        "undetermined_share", num(sc->undetermined_share), "unknown_evidence", (json_int_t)sc->unknown_evidence,
        "targets", "precision_multi", sc->met_precision, "recall_multi", sc->met_recall,
        "attribution", sc->met_attribution, "location_triangulated", sc->met_location);
    if (!j)
        return ERR_NOMEM;
    json_t *dup = json_object(), *fls = json_object();
    for (int k = 0; k < SIM_N_MEANS; k++) {
        json_object_set_new(dup, SIM_MEANS_NAMES[k], json_integer(sc->duplicate_by_means[k]));
        json_object_set_new(fls, SIM_MEANS_NAMES[k], json_integer(sc->false_by_means[k]));
    }
    json_object_set_new(j, "diagnostics", json_pack("{s:o,s:o}", "duplicates_by_evidence", dup,
                                                    "false_by_evidence", fls));
    json_object_set_new(
        j, "calibration",
        json_pack("{s:{s:I,s:I,s:o},s:{s:I,s:I,s:o}}", "location_in_95_ellipse", "n",
                  (json_int_t)sc->with_ellipse, "inside", (json_int_t)sc->inside_ellipse, "share",
                  num(ratio(sc->inside_ellipse, sc->with_ellipse)), "origin_in_radius", "n",
                  (json_int_t)sc->with_origin_radius, "inside",
                  (json_int_t)sc->inside_origin_radius, "share",
                  num(ratio(sc->inside_origin_radius, sc->with_origin_radius))));
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text)
        return ERR_NOMEM;
    int rc = buf_printf(b, "%s\n", text);
    free(text);
    return rc;
}

static int fmt_share(struct buf *b, const char *label, double v, const char *target, bool met)
{
    if (isnan(v))
        return buf_printf(b, "  %-38s n/a%s%s\n", label, target ? "   " : "", target ? target : "");
    return buf_printf(b, "  %-38s %.4f%s%s%s\n", label, v, target ? "   " : "", target ? target : "",
                      target ? (met ? " met" : " MISSED") : "");
}

static int fmt_metres(struct buf *b, const char *label, double med, double p95, long long n,
                      const char *target, bool met)
{
    if (isnan(med))
        return buf_printf(b, "  %-38s n/a (no incident)%s%s\n", label, target ? "   " : "",
                          target ? target : "");
    return buf_printf(b, "  %-38s median %.0f m, 95th percentile %.0f m (n %lld)%s%s%s\n", label,
                      med, p95, n, target ? "   " : "", target ? target : "",
                      target ? (met ? " met" : " MISSED") : "");
}

int sim_scores_text(const struct sim_scores *sc, struct buf *b)
{
    int rc = buf_printf(b,
                        "events: %lld true, %lld reported, %lld by two or more observers\n"
                        "incidents: %lld: %lld matched, %lld duplicates, %lld false\n",
                        sc->true_events, sc->reported_events, sc->multi_events, sc->incidents,
                        sc->matched_incidents, sc->duplicate_incidents, sc->false_incidents);
    if (!rc)
        rc = fmt_share(b, "precision (all)", sc->precision, NULL, true);
    if (!rc)
        rc = fmt_share(b, "recall (all)", sc->recall, NULL, true);
    if (!rc)
        rc = fmt_share(b, "precision (two or more observers)", sc->precision_multi,
                       "target >= 0.95", sc->met_precision);
    if (!rc)
        rc = fmt_share(b, "recall (two or more observers)", sc->recall_multi, "target >= 0.95",
                       sc->met_recall);
    if (!rc)
        rc = fmt_metres(b, "location error (triangulated)", sc->loc_median_tri_m,
                        sc->loc_p95_tri_m, sc->located_triangulated, "target median <= 1000 m",
                        sc->met_location);
    if (!rc)
        rc = fmt_metres(b, "location error (all located)", sc->loc_median_all_m,
                        sc->loc_p95_all_m, sc->located_all, NULL, true);
    if (!rc)
        rc = fmt_metres(b, "origin error (firing position)", sc->origin_median_m,
                        sc->origin_p95_m, sc->located_origin, NULL, true);
    if (!rc)
        rc = buf_printf(b, "  %-38s %lld of %lld\n", "truth inside the stated 95 % ellipse",
                        sc->inside_ellipse, sc->with_ellipse);
    if (!rc)
        rc = buf_printf(b, "  %-38s %lld of %lld\n", "firing position inside origin radius",
                        sc->inside_origin_radius, sc->with_origin_radius);
    for (int k = 0; k < SIM_N_GRADES && !rc; k++) {
        const struct sim_grade_score *g = &sc->grade[k];
        rc = buf_printf(b, "  grade %-32s %lld incidents: %lld correct, %lld wrong, %lld undetermined\n",
                        SIM_GRADE_NAMES[k], g->incidents, g->correct, g->wrong, g->undetermined);
    }
    if (!rc)
        rc = fmt_share(b, "wrong at probable or better", sc->wrong_share_probable_or_better,
                       "target <= 0.01", sc->met_attribution);
    if (!rc)
        rc = fmt_share(b, "left undetermined", sc->undetermined_share, NULL, true);
    for (int pass = 0; pass < 2 && !rc; pass++) {
        const long long *v = pass ? sc->false_by_means : sc->duplicate_by_means;
        rc = buf_printf(b, "  %-38s", pass ? "false incidents by evidence" : "duplicates by evidence");
        for (int k = 0; k < SIM_N_MEANS && !rc; k++)
            if (v[k])
                rc = buf_printf(b, " %s %lld", SIM_MEANS_NAMES[k], v[k]);
        if (!rc)
            rc = buf_printf(b, "\n");
    }
    if (!rc && sc->unknown_evidence)
        rc = buf_printf(b, "warning: %lld evidence client ids are not in the truth file\n",
                        sc->unknown_evidence);
    return rc;
}
