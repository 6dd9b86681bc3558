/* test_fusion.c: the fusion engine on the real geography of the minsk-2015 agreement: two
 * observers' compass bearings on a known point near Donetsk triangulate within the 95 % ellipse,
 * counts are reconciled, arrival order does not change the incidents, an origin straddling the
 * line is undetermined, outgoing fire deep on one side is attributed to that side's party, and
 * incremental fusion through ingest equals `truce fuse`; the clauses and semi-major axis the map
 * reads from columns equal the incident's JSON, also when a schema-9 store is upgraded. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "fusion/fusion.h"
#include "ingest/ingest.h"
#include "placement/placement.h"
#include "t.h"

static struct agreement *agr;

/* Makes the fusion input of one observation written as JSON, the way ingest would. */
static bool make(const char *json, int64_t id, struct fusion_obs *fo, struct obs *o)
{
    struct errbuf e;
    struct placement p;
    if (obs_parse_json(json, strlen(json), agr, agr->time_zone, o, &e)) {
        fprintf(stderr, "  parse: %s\n", e.msg);
        return false;
    }
    if (place_observation(agr, o, &p, &e)) {
        fprintf(stderr, "  place: %s\n", e.msg);
        return false;
    }
    return fusion_obs_from(o, &p, id, fo);
}

/* A fire report from an observer at (lon, lat) with one bearing word and a distance range. */
static void fire_json(char *buf, size_t n, const char *id, const char *start, const char *end,
                      struct geo_point obsr, const char *bearing, double dmin_km, double dmax_km,
                      const char *events, const char *extra)
{
    snprintf(buf, n,
             "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\","
             "\"client_id\":\"%s\",\"time\":{\"start\":\"%s\",\"end\":\"%s\"},\"means\":\"patrol\","
             "\"observer\":{\"name\":\"observer\",\"coordinates\":[%.6f,%.6f]},\"bearings\":[\"%s\"],"
             "\"distance_km\":[%g,%g],\"events\":%s%s}}",
             id, start, end, obsr.lon_deg, obsr.lat_deg, bearing, dmin_km, dmax_km, events,
             extra ? extra : "");
}

static int add_json(struct fusion *f, const char *json, int64_t id, int64_t *inc)
{
    static struct obs o;
    struct fusion_obs fo;
    if (!make(json, id, &fo, &o))
        return -1;
    struct errbuf e;
    return fusion_add(f, &fo, inc, NULL, 0, NULL, &e);
}

/* Point b in metres east/north of a, in a's local frame. */
static void offset_m(struct geo_point a, struct geo_point b, double *x, double *y)
{
    double d, az;
    geo_inverse(a, b, &d, &az);
    *x = d * sin(az * M_PI / 180);
    *y = d * cos(az * M_PI / 180);
}

/* True when p lies inside the incident's 95 % ellipse. */
static bool in_ellipse(const struct fusion_incident *inc, struct geo_point p)
{
    double x, y;
    offset_m(inc->location, p, &x, &y);
    double t = inc->azimuth_deg * M_PI / 180; /* major axis, clockwise from north */
    double u = x * sin(t) + y * cos(t), v = x * cos(t) - y * sin(t);
    return (u * u) / (inc->semi_major_m * inc->semi_major_m) +
               (v * v) / (inc->semi_minor_m * inc->semi_minor_m) <=
           1.0;
}

static const char *compass_to(struct geo_point from, struct geo_point to)
{
    double d, az;
    geo_inverse(from, to, &d, &az);
    return geo_compass_word(az);
}

static void test_two_compass_bearings_triangulate_near_donetsk(void)
{
    /* an impact near Donetsk airport, heard from two positions 6 and 5 km away */
    struct geo_point truth = {37.7400, 48.0700};
    struct geo_point o1 = geo_direct(truth, 200, 6000); /* SSW of the point */
    struct geo_point o2 = geo_direct(truth, 115, 5000); /* ESE of it */
    struct fusion *f = fusion_new(agr);
    char j1[1024], j2[1024];
    fire_json(j1, sizeof j1, "tri-1", "2016-10-10T06:00:00Z", "2016-10-10T06:40:00Z", o1,
              compass_to(o1, truth), 4, 8, "[{\"type\":\"undetermined_explosion\",\"count\":40}]",
              NULL);
    fire_json(j2, sizeof j2, "tri-2", "2016-10-10T06:05:00Z", "2016-10-10T06:35:00Z", o2,
              compass_to(o2, truth), 3, 7, "[{\"type\":\"undetermined_explosion\",\"count\":38}]",
              NULL);
    int64_t i1, i2;
    CHECK_INT(add_json(f, j1, 1, &i1), 0);
    CHECK_INT(add_json(f, j2, 2, &i2), 0);
    CHECK_INT(i1, 1);
    CHECK_INT(i2, 1); /* the second report joined the first's incident */
    const int64_t *ids;
    CHECK_INT(fusion_incident_ids(f, &ids), 1);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, 1, &inc, &e), 0);
    CHECK_STR(FUSION_LOC_NAMES[inc.loc_method], "triangulated");
    CHECK(in_ellipse(&inc, truth));
    double err = geo_distance_m(inc.location, truth);
    CHECK(err < 1500);
    CHECK(inc.semi_major_m >= inc.semi_minor_m);
    CHECK(inc.semi_major_m < 5000);
    /* reconciled: 40 and 38 of the same explosions are 40, not 78 */
    CHECK_INT(inc.counts[agr_event_type_index("undetermined_explosion")], 40);
    CHECK_INT(inc.count, 40);
    CHECK_INT(inc.n_evidence, 2);
    CHECK_STR(inc.evidence_client_ids[0], "tri-1");
    CHECK_STR(inc.evidence_client_ids[1], "tri-2");
    fusion_free(f);
}

static void test_unrelated_reports_stay_apart(void)
{
    struct geo_point truth = {37.7400, 48.0700};
    struct geo_point o1 = geo_direct(truth, 200, 6000);
    struct fusion *f = fusion_new(agr);
    char j[1024];
    int64_t inc;
    /* same place, two hours later: another incident */
    fire_json(j, sizeof j, "t-1", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o1,
              compass_to(o1, truth), 4, 8, "[{\"type\":\"impact\",\"count\":5}]", NULL);
    CHECK_INT(add_json(f, j, 1, &inc), 0);
    fire_json(j, sizeof j, "t-2", "2016-10-10T08:30:00Z", "2016-10-10T08:50:00Z", o1,
              compass_to(o1, truth), 4, 8, "[{\"type\":\"impact\",\"count\":5}]", NULL);
    CHECK_INT(add_json(f, j, 2, &inc), 0);
    CHECK_INT(inc, 2);
    /* same time, the opposite direction: another place */
    fire_json(j, sizeof j, "t-3", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o1, "E", 4,
              8, "[{\"type\":\"impact\",\"count\":5}]", NULL);
    CHECK_INT(add_json(f, j, 3, &inc), 0);
    fire_json(j, sizeof j, "t-4", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o1, "SW", 4,
              8, "[{\"type\":\"impact\",\"count\":5}]", NULL);
    CHECK_INT(add_json(f, j, 4, &inc), 0);
    CHECK_INT(inc, 4);
    /* small-arms fire in the same sector and time is not the same event as shelling */
    fire_json(j, sizeof j, "t-5", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o1, "SW", 4,
              8, "[{\"type\":\"burst\",\"count\":3}]", NULL);
    CHECK_INT(add_json(f, j, 5, &inc), 0);
    CHECK_INT(inc, 5);
    const int64_t *ids;
    CHECK_INT(fusion_incident_ids(f, &ids), 5);
    fusion_free(f);
}

/* A deterministic scenario: events around the line, each reported by three observers. */
struct gen {
    char json[64][1024];
    size_t n;
};

static uint64_t rng = 88172645463325252ULL;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

#define SURVEY_JSON                                                                        \
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},"       \
    "\"properties\":{\"kind\":\"detection\",\"client_id\":\"ev%02d-survey\",\"time\":{\"start\":"  \
    "\"2016-10-09T20:00:00Z\",\"end\":\"2016-10-11T08:00:00Z\"},\"means\":\"uav\","               \
    "\"accuracy_m\":100,\"events\":[{\"type\":\"impact\",\"count\":4}]}}"

static void make_scenario(struct gen *g)
{
    g->n = 0;
    for (int ev = 0; ev < 16 && g->n + 3 <= 64; ev++) {
        struct geo_point p = {37.55 + 0.5 * urand(), 47.95 + 0.35 * urand()};
        int hour = ev; /* one event an hour */
        int count = 5 + (int)(urand() * 40);
        for (int k = 0; k < 3; k++) {
            double az = 360 * urand(), d = 3000 + 4000 * urand();
            struct geo_point o = geo_direct(p, az, d);
            char start[40], end[40], id[32], events[128];
            snprintf(start, sizeof start, "2016-10-10T%02d:%02d:00Z", hour, k * 2);
            snprintf(end, sizeof end, "2016-10-10T%02d:%02d:00Z", hour, 20 + k * 3);
            snprintf(id, sizeof id, "ev%02d-obs%d", ev, k);
            snprintf(events, sizeof events,
                     "[{\"type\":\"undetermined_explosion\",\"count\":%d}]", count - k);
            fire_json(g->json[g->n++], 1024, id, start, end, o, compass_to(o, p),
                      fmax(0, d / 1000 - 2), d / 1000 + 2, events, NULL);
        }
        if (ev % 3 == 0 && g->n < 64) {
            /* a survey of the craters the next morning, over a 36-hour window */
            snprintf(g->json[g->n++], 1024, SURVEY_JSON, p.lon_deg, p.lat_deg, ev);
        }
    }
}

/* Incidents as text keyed by evidence (ids differ with arrival order; the rest must not). */
static void incidents_text(struct fusion *f, char *out, size_t n)
{
    const int64_t *ids0;
    size_t k = fusion_incident_ids(f, &ids0);
    int64_t ids[64];
    memcpy(ids, ids0, k * sizeof *ids);
    char lines[64][512];
    for (size_t i = 0; i < k; i++) {
        struct fusion_incident inc;
        struct errbuf e;
        lines[i][0] = 0;
        if (fusion_incident_get(f, ids[i], &inc, &e))
            continue;
        size_t l = 0;
        for (size_t j = 0; j < inc.n_evidence; j++)
            l += (size_t)snprintf(lines[i] + l, 512 - l, "%s,", inc.evidence_client_ids[j]);
        snprintf(lines[i] + l, 512 - l, " %lld %s %.5f %.5f %.0f %s %s", inc.count,
                 FUSION_LOC_NAMES[inc.loc_method], inc.location.lon_deg, inc.location.lat_deg,
                 inc.semi_major_m, inc.party, FUSION_GRADE_NAMES[inc.grade]);
    }
    /* sort lines */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j], lines[j - 1]) < 0; j--) {
            char t[512];
            memcpy(t, lines[j], 512);
            memcpy(lines[j], lines[j - 1], 512);
            memcpy(lines[j - 1], t, 512);
        }
    size_t l = 0;
    out[0] = 0;
    for (size_t i = 0; i < k && l < n; i++)
        l += (size_t)snprintf(out + l, n - l, "%s\n", lines[i]);
}

static void test_order_does_not_change_incidents(void)
{
    static struct gen g;
    make_scenario(&g);
    static char a[32768], b[32768];
    struct fusion *f = fusion_new(agr);
    int64_t inc;
    for (size_t i = 0; i < g.n; i++)
        CHECK_INT(add_json(f, g.json[i], (int64_t)i + 1, &inc), 0);
    incidents_text(f, a, sizeof a);
    const int64_t *ids;
    size_t n_in_order = fusion_incident_ids(f, &ids);
    /* 16 events an hour apart, three reports each and a crater survey for every third: each
     * event one incident; the surveys (36-hour windows) are attached to their own event's
     * incident, which they then locate */
    CHECK_INT(n_in_order, 16);
    size_t with_survey = 0;
    for (size_t i = 0; i < n_in_order; i++) {
        struct fusion_incident x;
        struct errbuf e;
        CHECK_INT(fusion_incident_get(f, ids[i], &x, &e), 0);
        CHECK(x.n_evidence == 3 || x.n_evidence == 4);
        bool one_event = true;
        for (size_t j = 1; j < x.n_evidence; j++)
            one_event = one_event && !strncmp(x.evidence_client_ids[j], x.evidence_client_ids[0], 4);
        if (!one_event)
            for (size_t j = 0; j < x.n_evidence; j++)
                fprintf(stderr, "  incident %lld: %s\n", (long long)x.id, x.evidence_client_ids[j]);
        CHECK(one_event);
        with_survey += x.n_evidence == 4;
        CHECK_STR(FUSION_LOC_NAMES[x.loc_method], x.n_evidence == 4 ? "detection" : "triangulated");
        CHECK(x.t_end_ms - x.t_start_ms < 3600000); /* the survey's window does not count */
    }
    CHECK_INT(with_survey, 6);
    for (int round = 0; round < 3; round++) {
        size_t order[64];
        for (size_t i = 0; i < g.n; i++)
            order[i] = i;
        for (size_t i = g.n - 1; i > 0; i--) {
            size_t j = (size_t)(urand() * (double)(i + 1));
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        struct fusion *h = fusion_new(agr);
        for (size_t i = 0; i < g.n; i++)
            CHECK_INT(add_json(h, g.json[order[i]], (int64_t)i + 1, &inc), 0);
        incidents_text(h, b, sizeof b);
        CHECK_STR(b, a);
        fusion_free(h);
    }
    fusion_free(f);
}

/* The evidence of every incident of f, "a b;c d;" in the order of the incidents' first ids. */
static void groups_text(struct fusion *f, char *buf, size_t n)
{
    const int64_t *ids;
    size_t k = fusion_incident_ids(f, &ids), len = 0;
    int64_t copy[16];
    for (size_t i = 0; i < k && i < 16; i++)
        copy[i] = ids[i];
    char parts[16][128];
    for (size_t i = 0; i < k && i < 16; i++) {
        struct fusion_incident x;
        struct errbuf e;
        parts[i][0] = 0;
        if (fusion_incident_get(f, copy[i], &x, &e))
            continue;
        size_t l = 0;
        for (size_t j = 0; j < x.n_evidence; j++)
            l += (size_t)snprintf(parts[i] + l, sizeof parts[i] - l, "%s ", x.evidence_client_ids[j]);
    }
    /* sorted, so the text does not depend on the ids */
    for (size_t i = 1; i < k && i < 16; i++)
        for (size_t j = i; j > 0 && strcmp(parts[j], parts[j - 1]) < 0; j--) {
            char t[128];
            memcpy(t, parts[j], sizeof t);
            memcpy(parts[j], parts[j - 1], sizeof t);
            memcpy(parts[j - 1], t, sizeof t);
        }
    buf[0] = 0;
    for (size_t i = 0; i < k && i < 16; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s;", parts[i]);
}

/* Two events at once south-east of Popasna (simulator, seed 2016, day 22), each reported by the
 * Zolote camera and the Popasna acoustic sensor. The camera's bearing of one event crosses the
 * sensor's sector of the other, so the links chain all four reports; but each observer filed
 * two reports of explosions, telling the events apart: two incidents, in every arrival order. */
static void test_reports_one_observer_told_apart_stay_apart(void)
{
    static const char *const rec[4] = {
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"sim2016-00001238\",\"means\":\"camera\",\"report\":\"SIM 2016 day 22\",\"time\":{\"start\":\"2016-10-22T22:18:00+03:00\",\"end\":\"2016-10-22T22:40:00+03:00\"},\"observer\":{\"name\":\"SMM camera in Zolote\",\"coordinates\":[38.51512,48.698757]},\"bearings\":214,\"bearing_tolerance_deg\":5.0,\"events\":[{\"type\":\"undetermined_explosion\",\"count\":\"about 18\"}]}}",
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"sim2016-00001239\",\"means\":\"acoustic\",\"report\":\"SIM 2016 day 22\",\"time\":{\"start\":\"2016-10-22T22:16:15+03:00\",\"end\":\"2016-10-22T22:36:28+03:00\"},\"observer\":{\"name\":\"acoustic sensor near Popasna\",\"coordinates\":[38.37804,48.636877]},\"bearings\":100,\"bearing_tolerance_deg\":8.0,\"distance_km\":[4.6,5.8],\"events\":[{\"type\":\"undetermined_explosion\",\"count\":15}]}}",
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"sim2016-00001250\",\"means\":\"camera\",\"report\":\"SIM 2016 day 22\",\"time\":{\"start\":\"2016-10-22T22:33:00+03:00\",\"end\":\"2016-10-22T22:42:00+03:00\"},\"observer\":{\"name\":\"SMM camera in Zolote\",\"coordinates\":[38.51512,48.698757]},\"bearings\":194,\"bearing_tolerance_deg\":5.0,\"events\":[{\"type\":\"undetermined_explosion\",\"count\":9}]}}",
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"sim2016-00001251\",\"means\":\"acoustic\",\"report\":\"SIM 2016 day 22\",\"time\":{\"start\":\"2016-10-22T22:27:49+03:00\",\"end\":\"2016-10-22T22:35:45+03:00\"},\"observer\":{\"name\":\"acoustic sensor near Popasna\",\"coordinates\":[38.37804,48.636877]},\"bearings\":72,\"bearing_tolerance_deg\":8.0,\"distance_km\":[9.1,11.2],\"events\":[{\"type\":\"undetermined_explosion\",\"count\":8}]}}"};
    /* the chain: some report of one event links to a report of the other */
    bool chained = false;
    for (int a = 0; a < 2; a++)
        for (int b = 2; b < 4; b++) {
            struct fusion *f = fusion_new(agr);
            int64_t ia, ib;
            CHECK_INT(add_json(f, rec[a], 1, &ia), 0);
            CHECK_INT(add_json(f, rec[b], 2, &ib), 0);
            chained = chained || ia == ib;
            fusion_free(f);
        }
    CHECK(chained);
    static const int perm[24][4] = {
        {0, 1, 2, 3}, {0, 1, 3, 2}, {0, 2, 1, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}, {0, 3, 2, 1},
        {1, 0, 2, 3}, {1, 0, 3, 2}, {1, 2, 0, 3}, {1, 2, 3, 0}, {1, 3, 0, 2}, {1, 3, 2, 0},
        {2, 0, 1, 3}, {2, 0, 3, 1}, {2, 1, 0, 3}, {2, 1, 3, 0}, {2, 3, 0, 1}, {2, 3, 1, 0},
        {3, 0, 1, 2}, {3, 0, 2, 1}, {3, 1, 0, 2}, {3, 1, 2, 0}, {3, 2, 0, 1}, {3, 2, 1, 0}};
    for (int p = 0; p < 24; p++) {
        struct fusion *f = fusion_new(agr);
        int64_t inc;
        for (int i = 0; i < 4; i++)
            CHECK_INT(add_json(f, rec[perm[p][i]], i + 1, &inc), 0);
        char text[1024];
        groups_text(f, text, sizeof text);
        CHECK_STR(text, "sim2016-00001238 sim2016-00001239 ;sim2016-00001250 sim2016-00001251 ;");
        fusion_free(f);
    }
}

/* A point on the line of contact and one deep in the area of the armed formations. */
static struct geo_point on_the_line(void)
{
    size_t n;
    const struct geo_point *pts = geo_line_points(agr->lines[0].line);
    n = geo_line_vertex_count(agr->lines[0].line);
    /* a vertex near Donetsk (the line's closest vertex to 37.75, 48.1) */
    struct geo_point best = pts[0], near = {37.75, 48.10};
    for (size_t i = 0; i < n; i++)
        if (geo_distance_m(pts[i], near) < geo_distance_m(best, near))
            best = pts[i];
    return best;
}

static void test_outgoing_straddling_the_line_is_undetermined(void)
{
    struct geo_point line_pt = on_the_line();
    CHECK(fabs(geo_line_signed_distance_m(agr->lines[0].line, line_pt)) < 10);
    /* outgoing rounds 2-4 km east of an observer 3 km west of the line */
    struct geo_point o = geo_direct(line_pt, 270, 3000);
    char j[1024];
    fire_json(j, sizeof j, "s-1", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o,
              compass_to(o, line_pt), 2, 4, "[{\"type\":\"outgoing\",\"count\":6}]", NULL);
    struct fusion *f = fusion_new(agr);
    int64_t id;
    CHECK_INT(add_json(f, j, 1, &id), 0);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(inc.party, "undetermined");
    CHECK_STR(FUSION_GRADE_NAMES[inc.grade], "undetermined");
    CHECK_STR(FUSION_ORIGIN_NAMES[inc.origin_method], "outgoing_observed");
    CHECK(inc.n_reasons >= 2);
    CHECK_CONTAINS(inc.reasons[inc.n_reasons - 1], "straddles");
    fusion_free(f);
}

static void test_outgoing_on_one_side_is_that_party(void)
{
    /* Donetsk city centre, held by the armed formations ("af"), far from the line */
    struct geo_point launch = {37.8050, 47.9950};
    const char *ctl = agr_control_at(agr, launch);
    CHECK_STR(ctl, "af");
    CHECK(fabs(geo_line_signed_distance_m(agr->lines[0].line, launch)) > 8000);
    struct geo_point o = geo_direct(launch, 160, 2500);
    char j[1024];
    fire_json(j, sizeof j, "o-1", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o,
              compass_to(o, launch), 2, 3, "[{\"type\":\"outgoing\",\"count\":6}]", NULL);
    struct fusion *f = fusion_new(agr);
    int64_t id;
    CHECK_INT(add_json(f, j, 1, &id), 0);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(inc.party, "af");
    CHECK_STR(FUSION_GRADE_NAMES[inc.grade], "probable");
    CHECK_STR(FUSION_ORIGIN_NAMES[inc.origin_method], "outgoing_observed");
    CHECK(geo_distance_m(inc.origin, launch) < inc.origin_radius_m);
    /* a second viewpoint's outgoing bearing triangulates the launch point: confirmed */
    struct geo_point o2 = geo_direct(launch, 250, 3000);
    fire_json(j, sizeof j, "o-2", "2016-10-10T06:02:00Z", "2016-10-10T06:18:00Z", o2,
              compass_to(o2, launch), 2, 4, "[{\"type\":\"outgoing\",\"count\":5}]", NULL);
    CHECK_INT(add_json(f, j, 2, &id), 0);
    CHECK_INT(id, 1);
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(FUSION_ORIGIN_NAMES[inc.origin_method], "launch_triangulated");
    CHECK_STR(inc.party, "af");
    CHECK_STR(FUSION_GRADE_NAMES[inc.grade], "confirmed");
    CHECK_INT(inc.counts[agr_event_type_index("outgoing")], 6);
    /* the JSON carries the contract's fields */
    struct buf b;
    buf_init(&b);
    CHECK_INT(fusion_incident_json(&inc, &b), 0);
    CHECK_CONTAINS(b.p, "\"party\":\"af\"");
    CHECK_CONTAINS(b.p, "\"method\":\"launch_triangulated\"");
    CHECK_CONTAINS(b.p, "\"evidence\":[\"o-1\",\"o-2\"]");
    CHECK_CONTAINS(b.p, "\"events\":{\"outgoing\":6},\"uncountable\":[],\"count\":6");
    buf_reset(&b);
    fusion_free(f);
}

static void test_outgoing_near_the_line_is_only_possible(void)
{
    /* an observer 6 km from the line, hearing outgoing fire 2-3 km towards it: the sector is
     * clear of the line by more than the margin, but a misjudged distance could put the launch
     * at the line, so the grade stays possible */
    struct geo_point line_pt = on_the_line();
    struct geo_point o = line_pt;
    double best = 0;
    for (int az = 0; az < 360; az += 5) {
        struct geo_point q = geo_direct(line_pt, az, 6000);
        double d = fabs(geo_line_signed_distance_m(agr->lines[0].line, q));
        if (d > best) {
            best = d;
            o = q;
        }
    }
    CHECK(best > 5000);
    char j[1024];
    fire_json(j, sizeof j, "n-1", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o,
              compass_to(o, line_pt), 2, 3, "[{\"type\":\"outgoing\",\"count\":4}]", NULL);
    struct fusion *f = fusion_new(agr);
    int64_t id;
    CHECK_INT(add_json(f, j, 1, &id), 0);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(inc.party, agr_control_at(agr, o));
    CHECK_STR(FUSION_GRADE_NAMES[inc.grade], "possible");
    CHECK_CONTAINS(inc.reasons[inc.n_reasons - 1], "misjudged distance");
    fusion_free(f);
}

static void test_launch_and_landing(void)
{
    /* outgoing rounds seen in Donetsk (af), explosions heard 15 km away across the line in
     * government-held ground at the same time: one event; explosions on af's own side at the
     * same time are another event */
    struct geo_point launch = {37.8050, 47.9950};
    struct geo_point across = geo_direct(launch, 300, 15000);
    struct geo_point same_side = geo_direct(launch, 120, 6000);
    CHECK_STR(agr_control_at(agr, across), "ua");
    CHECK_STR(agr_control_at(agr, same_side), "af");
    struct geo_point o1 = geo_direct(launch, 160, 2500), o2 = geo_direct(across, 240, 4000),
                     o3 = geo_direct(same_side, 200, 3000);
    char j[1024];
    struct fusion *f = fusion_new(agr);
    int64_t id1, id2, id3;
    fire_json(j, sizeof j, "ll-launch", "2016-10-10T18:00:00Z", "2016-10-10T18:20:00Z", o1,
              compass_to(o1, launch), 2, 3, "[{\"type\":\"outgoing\",\"count\":8}]", NULL);
    CHECK_INT(add_json(f, j, 1, &id1), 0);
    fire_json(j, sizeof j, "ll-other", "2016-10-10T18:01:00Z", "2016-10-10T18:15:00Z", o3,
              compass_to(o3, same_side), 2, 4, "[{\"type\":\"undetermined_explosion\",\"count\":5}]",
              NULL);
    CHECK_INT(add_json(f, j, 2, &id2), 0);
    fire_json(j, sizeof j, "ll-landing", "2016-10-10T18:02:00Z", "2016-10-10T18:25:00Z", o2,
              compass_to(o2, across), 3, 5, "[{\"type\":\"undetermined_explosion\",\"count\":7}]",
              NULL);
    CHECK_INT(add_json(f, j, 3, &id3), 0);
    CHECK_INT(id2, 2); /* the same side: not the launch's landing */
    CHECK_INT(id3, 1); /* across the line: the landing joins the launch */
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, 1, &inc, &e), 0);
    CHECK_INT(inc.n_evidence, 2);
    CHECK(geo_distance_m(inc.location, across) < 3000);  /* located at the landing */
    CHECK(geo_distance_m(inc.origin, launch) < inc.origin_radius_m); /* origin at the launch */
    CHECK_STR(inc.party, "af");
    CHECK_CONTAINS(inc.reasons[0], "began with the explosions");
    /* an hour later the same reports would be another event */
    fire_json(j, sizeof j, "ll-late", "2016-10-10T19:10:00Z", "2016-10-10T19:25:00Z", o2,
              compass_to(o2, across), 3, 5, "[{\"type\":\"undetermined_explosion\",\"count\":7}]",
              NULL);
    CHECK_INT(add_json(f, j, 4, &id3), 0);
    CHECK_INT(id3, 4);
    fusion_free(f);
}

static void test_flight_direction_from_deep_inside(void)
{
    /* impacts in Avdiivka (government-controlled), fire reported coming from the east, where
     * the wedge up to 20 km crosses the line: undetermined, not guessed */
    struct geo_point impact = {37.7450, 48.1400};
    struct geo_point o = geo_direct(impact, 250, 2000);
    char j[1024];
    fire_json(j, sizeof j, "f-1", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o,
              compass_to(o, impact), 1, 3, "[{\"type\":\"impact\",\"count\":4}]",
              ",\"flight_direction\":{\"from\":\"east\",\"to\":\"west\"}");
    struct fusion *f = fusion_new(agr);
    int64_t id;
    CHECK_INT(add_json(f, j, 1, &id), 0);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(FUSION_ORIGIN_NAMES[inc.origin_method], "flight_direction");
    CHECK_STR(inc.party, "undetermined");
    fusion_free(f);
}

static void test_detection_keeps_its_accuracy(void)
{
    const char *j = "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                    "[37.70,48.00]},\"properties\":{\"kind\":\"detection\",\"client_id\":\"d-1\","
                    "\"time\":\"2016-10-10T06:10:00Z\",\"means\":\"radar\",\"accuracy_m\":250,"
                    "\"events\":[{\"type\":\"impact\",\"count\":2}]}}";
    struct fusion *f = fusion_new(agr);
    int64_t id;
    CHECK_INT(add_json(f, j, 7, &id), 0);
    struct fusion_incident inc;
    struct errbuf e;
    CHECK_INT(fusion_incident_get(f, id, &inc, &e), 0);
    CHECK_STR(FUSION_LOC_NAMES[inc.loc_method], "detection");
    CHECK_NEAR(inc.semi_major_m, 250, 1e-9);
    CHECK_NEAR(inc.location.lon_deg, 37.70, 1e-6);
    fusion_free(f);
}

static void test_unusable_region_is_refused_and_changes_nothing(void)
{
    struct fusion *f = fusion_new(agr);
    struct fusion_obs o;
    memset(&o, 0, sizeof o);
    o.id = 1;
    o.client_id = "bad";
    o.t_start_ms = o.t_end_ms = 1476079200000LL;
    o.centre = (struct geo_point){NAN, 48.0};
    o.radius_m = 1000;
    o.counts[0] = 3;
    int64_t id;
    struct errbuf e;
    CHECK_INT(fusion_add(f, &o, &id, NULL, 0, NULL, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "observation 1");
    CHECK_INT(fusion_obs_count(f), 0);
    o.centre.lon_deg = 37.7;
    o.t_end_ms = o.t_start_ms - 1; /* an inverted window */
    CHECK_INT(fusion_add(f, &o, &id, NULL, 0, NULL, &e), ERR_INVAL);
    o.t_end_ms = o.t_start_ms + 60000;
    CHECK_INT(fusion_add(f, &o, &id, NULL, 0, NULL, &e), 0);
    CHECK_INT(fusion_obs_count(f), 1);
    CHECK_INT(id, 1);
    fusion_free(f);
}

/* Incremental fusion through ingest stores the same incidents as a from-scratch rebuild. */
static int collect(void *ctx, const char *json)
{
    struct buf *b = ctx;
    return buf_printf(b, "%s\n", json);
}

static void test_ingest_fuses_like_a_rebuild(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/truce-fusion-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    struct store *st;
    struct store_agreements ag;
    struct errbuf e;
    CHECK_INT(store_open(dir, true, &st, &e), 0);
    CHECK_INT(store_agreement_add(st, agr, &e), 0);
    CHECK_INT(store_agreements_load(st, &ag, &e), 0);
    static struct gen g;
    make_scenario(&g);
    static char text[65536];
    size_t l = 0;
    for (size_t i = 0; i < g.n; i++)
        l += (size_t)snprintf(text + l, sizeof text - l, "%s\n", g.json[i]);
    struct fusion *f;
    CHECK_INT(fusion_load(st, &ag, &f, &e), 0);
    FILE *in = fmemopen(text, l, "r");
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = "test", .batch = 7, .fusion = f};
    struct ingest_stats stats;
    CHECK_INT(ingest_stream(st, &ag, in, &o, &stats, &e), 0);
    fclose(in);
    CHECK_INT(stats.accepted, (long long)g.n);
    struct buf inc1, inc2;
    buf_init(&inc1);
    buf_init(&inc2);
    CHECK_INT(store_incidents_list(st, NULL, -1, collect, &inc1, &e), 0);
    long long n_obs, n_inc, n_changed, n_skipped;
    CHECK_INT(fusion_rebuild(st, &ag, NULL, &n_obs, &n_inc, &n_changed, &n_skipped, &e), 0);
    CHECK_INT(n_skipped, 0);
    CHECK_INT(n_obs, (long long)g.n);
    CHECK_INT(n_inc, 16);
    CHECK_INT(n_changed, 0); /* incremental fusion left nothing to redo */
    CHECK_INT(n_skipped, 0);
    CHECK_INT(store_incidents_list(st, NULL, -1, collect, &inc2, &e), 0);
    CHECK(inc1.len > 0);
    CHECK_STR(inc1.p, inc2.p);
    buf_reset(&inc1);
    buf_reset(&inc2);
    fusion_free(f);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* The map's columns of each incident: "id clauses semi-major" lines. */
static int map_line(void *ctx, const struct store_map_incident_row *r)
{
    return buf_printf(ctx, "%lld %s %.1f\n", (long long)r->id, r->clauses ? r->clauses : "-",
                      r->semi_major_m);
}

/* The same lines made from each incident's JSON (its findings' distinct clauses in order). */
static int json_line(void *ctx, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    if (!j)
        return 1;
    char cl[512] = "";
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(json_object_get(j, "findings"), i, f)
    {
        const char *c = json_string_value(json_object_get(f, "clause"));
        char key[80];
        snprintf(key, sizeof key, ",%s,", c ? c : "");
        char have[520];
        snprintf(have, sizeof have, ",%s,", cl);
        if (c && !strstr(have, key))
            n += (size_t)snprintf(cl + n, sizeof cl - n, "%s%s", n ? "," : "", c);
    }
    json_t *semi = json_object_get(json_object_get(j, "location"), "semi_major_m");
    int rc = buf_printf(ctx, "%lld %s %.1f\n", (long long)json_integer_value(json_object_get(j, "id")),
                        n ? cl : "-", json_is_number(semi) ? json_number_value(semi) : 0.0);
    json_decref(j);
    return rc;
}

static void test_map_columns_equal_the_json(void)
{
    char dir[64], db[96];
    snprintf(dir, sizeof dir, "/tmp/truce-fusion-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/" STORE_DB_NAME, dir);
    struct store *st;
    struct store_agreements ag;
    struct errbuf e;
    CHECK_INT(store_open(dir, true, &st, &e), 0);
    CHECK_INT(store_agreement_add(st, agr, &e), 0);
    CHECK_INT(store_agreements_load(st, &ag, &e), 0);
    struct fusion *f;
    CHECK_INT(fusion_load(st, &ag, &f, &e), 0);
    FILE *in = fopen("examples/minsk-2015/observations.ndjson", "r");
    CHECK(in != NULL);
    struct ingest_opts o = {.format = OBS_FMT_NDJSON, .name = "demo", .batch = 5, .fusion = f};
    struct ingest_stats stats;
    CHECK_INT(ingest_stream(st, &ag, in, &o, &stats, &e), 0);
    fclose(in);
    /* and a radar detection near Mariupol, far from the line: an incident without a finding */
    static const char far[] =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[37.86727,"
        "47.0496]},\"properties\":{\"kind\":\"detection\",\"client_id\":\"far-1\",\"time\":"
        "\"2016-12-11T23:49:01Z\",\"means\":\"radar\",\"accuracy_m\":801,\"events\":[{\"type\":"
        "\"burst\",\"count\":3}]}}\n";
    in = fmemopen((void *)far, sizeof far - 1, "r");
    CHECK_INT(ingest_stream(st, &ag, in, &o, &stats, &e), 0);
    fclose(in);
    CHECK_INT(stats.accepted, 1);
    struct buf cols, want, migrated;
    buf_init(&cols);
    buf_init(&want);
    buf_init(&migrated);
    CHECK_INT(store_map_incidents(st, NULL, map_line, &cols, &e), 0);
    CHECK_INT(store_incidents_list(st, NULL, -1, json_line, &want, &e), 0);
    CHECK(cols.len > 0);
    CHECK_STR(cols.p, want.p);
    /* the demo has incidents with a finding and without, and ellipses of some size */
    CHECK(strstr(cols.p, " minsk2-1 ") != NULL);
    CHECK(strstr(cols.p, " - 801.0\n") != NULL);
    fusion_free(f);
    store_close(st);

    /* the store as truce wrote it before migration 10: no such columns, schema version 9 */
    sqlite3 *raw;
    CHECK_INT(sqlite3_open(db, &raw), SQLITE_OK);
    CHECK_INT(sqlite3_exec(raw, "ALTER TABLE incidents DROP COLUMN clauses;"
                                "ALTER TABLE incidents DROP COLUMN semi_major_m;"
                                "PRAGMA user_version=9;",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(raw);
    CHECK_INT(store_open(dir, false, &st, &e), 0);
    CHECK_INT(store_map_incidents(st, NULL, map_line, &migrated, &e), 0);
    CHECK_STR(migrated.p, want.p);
    buf_reset(&cols);
    buf_reset(&want);
    buf_reset(&migrated);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* A report bridging two incidents merges them: the later one is deleted from the store and its
 * tombstone logged; a rebuild then finds nothing to change. */
struct tomb_ctx {
    int incident_versions, tombstones;
    char last_tomb[128];
};

static int count_versions(void *ctx, const struct store_log_record *r)
{
    struct tomb_ctx *c = ctx;
    if (r->kind != STORE_LOG_INCIDENT)
        return 0;
    c->incident_versions++;
    if (!strcmp(r->grade, "merged")) {
        c->tombstones++;
        snprintf(c->last_tomb, sizeof c->last_tomb, "%.*s", (int)r->body_len, r->body);
    }
    return 0;
}

static void test_a_bridging_report_merges_incidents(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/truce-fusion-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    struct store *st;
    struct store_agreements ag;
    struct errbuf e;
    CHECK_INT(store_open(dir, true, &st, &e), 0);
    CHECK_INT(store_agreement_add(st, agr, &e), 0);
    CHECK_INT(store_agreements_load(st, &ag, &e), 0);
    struct fusion *f;
    CHECK_INT(fusion_load(st, &ag, &f, &e), 0);
    /* two craters 1.5 km apart (detections, 200 m accuracy): two incidents */
    struct geo_point x = {37.7000, 48.0000}, y = geo_direct(x, 90, 1500);
    char a[512], b[512], c[1024];
    snprintf(a, sizeof a,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},"
             "\"properties\":{\"kind\":\"detection\",\"client_id\":\"m-a\",\"time\":"
             "\"2016-10-10T06:10:00Z\",\"means\":\"radar\",\"accuracy_m\":200,\"events\":"
             "[{\"type\":\"impact\",\"count\":3}]}}",
             x.lon_deg, x.lat_deg);
    snprintf(b, sizeof b,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},"
             "\"properties\":{\"kind\":\"detection\",\"client_id\":\"m-b\",\"time\":"
             "\"2016-10-10T06:12:00Z\",\"means\":\"radar\",\"accuracy_m\":200,\"events\":"
             "[{\"type\":\"impact\",\"count\":2}]}}",
             y.lon_deg, y.lat_deg);
    /* a patrol 4 km south of the pair hears both, 3-6 km NNE/N/NE */
    struct geo_point mid = geo_direct(x, 90, 750), o = geo_direct(mid, 180, 4000);
    fire_json(c, sizeof c, "m-c", "2016-10-10T06:00:00Z", "2016-10-10T06:30:00Z", o,
              compass_to(o, mid), 2, 6, "[{\"type\":\"undetermined_explosion\",\"count\":5}]",
              NULL);
    static char text[4096];
    int len = snprintf(text, sizeof text, "%s\n%s\n", a, b);
    FILE *in = fmemopen(text, (size_t)len, "r");
    struct ingest_opts op = {.format = OBS_FMT_NDJSON, .name = "t", .fusion = f};
    struct ingest_stats stats;
    CHECK_INT(ingest_stream(st, &ag, in, &op, &stats, &e), 0);
    fclose(in);
    struct buf l1;
    buf_init(&l1);
    CHECK_INT(store_incidents_list(st, NULL, -1, collect, &l1, &e), 0);
    CHECK_CONTAINS(l1.p, "\"id\":1,");
    CHECK_CONTAINS(l1.p, "\"id\":2,");
    len = snprintf(text, sizeof text, "%s\n", c);
    in = fmemopen(text, (size_t)len, "r");
    CHECK_INT(ingest_stream(st, &ag, in, &op, &stats, &e), 0);
    fclose(in);
    CHECK_INT(stats.accepted, 1);
    struct buf l2;
    buf_init(&l2);
    CHECK_INT(store_incidents_list(st, NULL, -1, collect, &l2, &e), 0);
    CHECK_CONTAINS(l2.p, "\"id\":1,");
    CHECK(!strstr(l2.p, "\"id\":2,"));
    CHECK_CONTAINS(l2.p, "\"evidence\":[\"m-a\",\"m-b\",\"m-c\"]");
    CHECK_CONTAINS(l2.p, "\"impact\":3"); /* reconciled: the larger crater count */
    struct tomb_ctx tc = {0, 0, ""};
    CHECK_INT(store_log_records(st, 0, count_versions, &tc, &e), 0);
    CHECK_INT(tc.tombstones, 1);
    CHECK_STR(tc.last_tomb, "{\"id\":2,\"merged_into\":1}");
    CHECK_INT(tc.incident_versions, 4); /* 1, 2, the tombstone of 2, 1 again */
    long long n_obs, n_inc, n_changed, n_skipped;
    CHECK_INT(fusion_rebuild(st, &ag, NULL, &n_obs, &n_inc, &n_changed, &n_skipped, &e), 0);
    CHECK_INT(n_inc, 1);
    CHECK_INT(n_changed, 0);
    buf_reset(&l1);
    buf_reset(&l2);
    fusion_free(f);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Fusion's store and log work is done once per transaction: the same three reports in one batch
 * log one version of the one incident and no tombstone (incident 2 was made and merged inside the
 * transaction, never stored); a later batch that changes it logs one more version, however many
 * of its reports joined it. */
static void test_one_version_per_transaction(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/truce-fusion-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    struct store *st;
    struct store_agreements ag;
    struct errbuf e;
    CHECK_INT(store_open(dir, true, &st, &e), 0);
    CHECK_INT(store_agreement_add(st, agr, &e), 0);
    CHECK_INT(store_agreements_load(st, &ag, &e), 0);
    struct fusion *f;
    CHECK_INT(fusion_load(st, &ag, &f, &e), 0);
    struct geo_point x = {37.7000, 48.0000}, y = geo_direct(x, 90, 1500);
    struct geo_point mid = geo_direct(x, 90, 750), o = geo_direct(mid, 180, 4000);
    static char text[8192];
    size_t len = 0;
    const struct geo_point at[2] = {x, y};
    const char *ids[2] = {"m-a", "m-b"};
    for (int i = 0; i < 2; i++)
        len += (size_t)snprintf(
            text + len, sizeof text - len,
            "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},"
            "\"properties\":{\"kind\":\"detection\",\"client_id\":\"%s\",\"time\":"
            "\"2016-10-10T06:1%d:00Z\",\"means\":\"radar\",\"accuracy_m\":200,\"events\":"
            "[{\"type\":\"impact\",\"count\":%d}]}}\n",
            at[i].lon_deg, at[i].lat_deg, ids[i], 2 * i, 3 - i);
    char c[1024];
    fire_json(c, sizeof c, "m-c", "2016-10-10T06:00:00Z", "2016-10-10T06:30:00Z", o,
              compass_to(o, mid), 2, 6, "[{\"type\":\"undetermined_explosion\",\"count\":5}]",
              NULL);
    len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", c);
    FILE *in = fmemopen(text, len, "r");
    struct ingest_opts op = {.format = OBS_FMT_NDJSON, .name = "t", .fusion = f};
    struct ingest_stats stats;
    CHECK_INT(ingest_stream(st, &ag, in, &op, &stats, &e), 0);
    fclose(in);
    CHECK_INT(stats.accepted, 3);
    struct tomb_ctx tc = {0, 0, ""};
    CHECK_INT(store_log_records(st, 0, count_versions, &tc, &e), 0);
    CHECK_INT(tc.incident_versions, 1); /* was 4 when each report stored its incident */
    CHECK_INT(tc.tombstones, 0);
    struct buf l1;
    buf_init(&l1);
    CHECK_INT(store_incidents_list(st, NULL, -1, collect, &l1, &e), 0);
    CHECK_CONTAINS(l1.p, "\"evidence\":[\"m-a\",\"m-b\",\"m-c\"]");
    CHECK(!strstr(l1.p, "\"id\":2,"));
    /* a second batch: two more reports of the same event, one more version */
    len = 0;
    for (int i = 0; i < 2; i++) {
        char id[16];
        snprintf(id, sizeof id, "m-d%d", i);
        fire_json(c, sizeof c, id, "2016-10-10T06:00:00Z", "2016-10-10T06:30:00Z", o,
                  compass_to(o, mid), 2, 6, "[{\"type\":\"undetermined_explosion\",\"count\":5}]",
                  NULL);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", c);
    }
    in = fmemopen(text, len, "r");
    CHECK_INT(ingest_stream(st, &ag, in, &op, &stats, &e), 0);
    fclose(in);
    CHECK_INT(stats.accepted, 2);
    tc = (struct tomb_ctx){0, 0, ""};
    CHECK_INT(store_log_records(st, 0, count_versions, &tc, &e), 0);
    CHECK_INT(tc.incident_versions, 2);
    long long n_obs, n_inc, n_changed, n_skipped;
    CHECK_INT(fusion_rebuild(st, &ag, NULL, &n_obs, &n_inc, &n_changed, &n_skipped, &e), 0);
    CHECK_INT(n_obs, 5);
    CHECK_INT(n_changed, 0); /* the flushed incidents are what a rebuild makes */
    buf_reset(&l1);
    fusion_free(f);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Exact tests made while n copies of one report (new client ids, as a flood of one report
 * posted again and again) are fused; each copy must join the incident of the copies before it
 * until that incident holds FUSION_MAX_EVIDENCE reports, then start the next. */
static size_t flood_comparisons(size_t n)
{
    struct geo_point truth = {37.7400, 48.0700};
    struct geo_point o1 = geo_direct(truth, 200, 6000);
    char j[1024], cid[32];
    fire_json(j, sizeof j, "flood", "2016-10-10T06:00:00Z", "2016-10-10T06:20:00Z", o1,
              compass_to(o1, truth), 4, 8, "[{\"type\":\"impact\",\"count\":5}]", NULL);
    static struct obs o;
    struct fusion_obs fo;
    CHECK(make(j, 1, &fo, &o));
    struct fusion *f = fusion_new(agr);
    for (size_t i = 1; i <= n; i++) {
        snprintf(cid, sizeof cid, "flood-%zu", i);
        fo.client_id = cid;
        fo.id = (int64_t)i;
        int64_t inc;
        struct errbuf e;
        CHECK_INT(fusion_add(f, &fo, &inc, NULL, 0, NULL, &e), 0);
        CHECK_INT(inc, (int64_t)(1 + (i - 1) / FUSION_MAX_EVIDENCE * FUSION_MAX_EVIDENCE));
    }
    size_t c = fusion_comparisons(f);
    fusion_free(f);
    return c;
}

/* A flood of one report costs each add a bounded number of exact tests: reports of a full
 * incident are no longer tested, so 4n copies cost about 4 times n copies' work, not 16. */
static void test_a_flood_of_one_report_costs_linear_work(void)
{
    size_t n = 500;
    size_t c1 = flood_comparisons(n), c4 = flood_comparisons(4 * n);
    fprintf(stderr, "  exact tests: %zu for %zu copies, %zu for %zu\n", c1, n, c4, 4 * n);
    CHECK(c1 > 0);
    CHECK(c4 <= 5 * c1);                        /* linear (quadratic would be about 16 c1) */
    CHECK(c4 <= 4 * n * FUSION_MAX_EVIDENCE); /* at most one incident's reports per copy */
}

int main(void)
{
    struct errbuf e;
    if (agr_load_file("examples/minsk-2015/agreement.json", &agr, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    static const struct t_case tests[] = {
        T(test_two_compass_bearings_triangulate_near_donetsk),
        T(test_unrelated_reports_stay_apart),
        T(test_order_does_not_change_incidents),
        T(test_reports_one_observer_told_apart_stay_apart),
        T(test_outgoing_straddling_the_line_is_undetermined),
        T(test_outgoing_on_one_side_is_that_party),
        T(test_outgoing_near_the_line_is_only_possible),
        T(test_launch_and_landing),
        T(test_flight_direction_from_deep_inside),
        T(test_detection_keeps_its_accuracy),
        T(test_unusable_region_is_refused_and_changes_nothing),
        T(test_ingest_fuses_like_a_rebuild),
        T(test_map_columns_equal_the_json),
        T(test_a_bridging_report_merges_incidents),
        T(test_one_version_per_transaction),
        T(test_a_flood_of_one_report_costs_linear_work),
    };
    int rc = T_RUN(tests);
    agr_free(agr);
    return rc;
}
