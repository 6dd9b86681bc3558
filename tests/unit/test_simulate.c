/* test_simulate.c: the simulator on the real minsk-2015 agreement and geography: a seed
 * reproduces the files byte for byte, every generated record passes the observation parser,
 * events sit on their party's side of the line, the noise stays within the bounds
 * docs/simulator.md states; the truth parser's checks; and the scorer on hand-made incident
 * sets (perfect answer, merged events, split events, wrong party, unknown evidence). */
#include <stdlib.h>
#include <string.h>

#include "agreement/agreement.h"
#include "geo/geo.h"
#include "observation/observation.h"
#include "simulate/simulate.h"
#include "t.h"

static struct agreement *ag;

struct run {
    char *obs, *truth;
    size_t obs_len, truth_len;
    struct sim_stats st;
};

static int simulate(uint64_t seed, int days, int per_day, struct run *r)
{
    struct sim_params p = {.seed = seed, .days = days, .events_per_day = per_day,
                           .start_ms = TIME_NONE};
    sim_noise_default(&p.noise);
    FILE *fo = open_memstream(&r->obs, &r->obs_len), *ft = open_memstream(&r->truth, &r->truth_len);
    struct errbuf e;
    int rc = sim_run(ag, &p, fo, ft, NULL, NULL, &r->st, &e);
    fclose(fo);
    fclose(ft);
    if (rc)
        fprintf(stderr, "sim_run: %s\n", e.msg);
    return rc;
}

static void run_free(struct run *r)
{
    free(r->obs);
    free(r->truth);
}

static void test_rng_is_reproducible_and_plausible(void)
{
    struct sim_rng a, b;
    sim_rng_seed(&a, 42);
    sim_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        CHECK(sim_rng_next(&a) == sim_rng_next(&b));
    sim_rng_seed(&b, 43);
    CHECK(sim_rng_next(&a) != sim_rng_next(&b));
    double sum = 0, sum2 = 0, usum = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double z = sim_rng_normal(&a);
        sum += z;
        sum2 += z * z;
        double u = sim_rng_uniform(&a);
        CHECK(u >= 0 && u < 1);
        usum += u;
    }
    CHECK_NEAR(sum / n, 0, 0.02);
    CHECK_NEAR(sqrt(sum2 / n), 1, 0.02);
    CHECK_NEAR(usum / n, 0.5, 0.01);
    long long ps = 0;
    for (int i = 0; i < n; i++)
        ps += sim_rng_poisson(&a, 2.5);
    CHECK_NEAR((double)ps / n, 2.5, 0.05);
}

static void test_same_seed_same_files(void)
{
    struct run a = {0}, b = {0}, c = {0};
    CHECK_INT(simulate(7, 3, 30, &a), 0);
    CHECK_INT(simulate(7, 3, 30, &b), 0);
    CHECK_INT(simulate(8, 3, 30, &c), 0);
    CHECK(a.obs_len > 1000);
    CHECK_INT(a.obs_len, b.obs_len);
    CHECK(a.obs_len == b.obs_len && !memcmp(a.obs, b.obs, a.obs_len));
    CHECK(a.truth_len == b.truth_len && !memcmp(a.truth, b.truth, a.truth_len));
    CHECK(a.obs_len != c.obs_len || memcmp(a.obs, c.obs, a.obs_len));
    CHECK_INT(a.st.events, 90);
    run_free(&a);
    run_free(&b);
    run_free(&c);
}

static void test_parameters_are_checked(void)
{
    struct sim_params p = {.seed = 1, .days = 0, .events_per_day = 5, .start_ms = TIME_NONE};
    sim_noise_default(&p.noise);
    struct errbuf e;
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(sim_run(ag, &p, f, f, NULL, NULL, NULL, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "days: 0 is not from 1 to 366");
    p.days = 366;
    p.events_per_day = 100000;
    CHECK_INT(sim_run(ag, &p, f, f, NULL, NULL, NULL, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "is over 2000000");
    fclose(f);
    free(buf);
}

static struct obs rec; /* large: kept off the stack */

static void test_every_observation_parses_and_is_in_the_truth(void)
{
    struct run r = {0};
    CHECK_INT(simulate(11, 5, 40, &r), 0);
    struct sim_truth *t = NULL;
    struct errbuf e;
    CHECK_INT(sim_truth_parse(r.truth, r.truth_len, &t, &e), 0);
    if (!t) {
        fprintf(stderr, "%s\n", e.msg);
        run_free(&r);
        return;
    }
    CHECK_INT(t->n_events, 200);
    CHECK_INT(t->n_reports, r.st.observations);
    long long n = 0, bad = 0, missing = 0, false_reports = 0;
    for (char *line = r.obs, *end; line < r.obs + r.obs_len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(r.obs + r.obs_len - line));
        if (!end)
            break;
        n++;
        if (obs_parse_json(line, (size_t)(end - line), ag, ag->time_zone, &rec, &e)) {
            if (bad++ < 3)
                fprintf(stderr, "record %lld: %s\n", n, e.msg);
            continue;
        }
        const struct sim_truth_report *rep = sim_truth_find(t, rec.client_id);
        if (!rep)
            missing++;
        else
            false_reports += rep->event < 0;
    }
    CHECK_INT(n, r.st.observations);
    CHECK_INT(bad, 0);
    CHECK_INT(missing, 0);
    CHECK_INT(false_reports, r.st.false_reports);
    /* Some events are reported by several observers, some by none. */
    long long multi = 0, none = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        multi += t->events[i].n_observers >= 2;
        none += t->events[i].n_observers == 0;
    }
    CHECK_INT(multi, r.st.multi_events);
    CHECK(multi > 40);
    CHECK(none > 10);
    sim_truth_free(t);
    run_free(&r);
}

static void test_events_sit_on_their_party_side(void)
{
    struct run r = {0};
    CHECK_INT(simulate(5, 4, 50, &r), 0);
    struct sim_truth *t = NULL;
    struct errbuf e;
    CHECK_INT(sim_truth_parse(r.truth, r.truth_len, &t, &e), 0);
    if (!t) {
        run_free(&r);
        return;
    }
    const struct agr_line *l = &ag->lines[0];
    int per_party[2] = {0, 0};
    long long wrong = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const struct sim_truth_event *ev = &t->events[i];
        const char *party = t->parties[ev->party];
        double side = !strcmp(party, l->right_party) ? 1 : -1;
        double so = geo_line_signed_distance_m(l->line, ev->origin) * side;
        double si = geo_line_signed_distance_m(l->line, ev->impact) * side;
        wrong += so <= 0 || (!strcmp(ev->type, "impact") && si >= 0);
        /* the origin is held by its party */
        const char *ctl = agr_control_at(ag, ev->origin);
        wrong += ctl && strcmp(ctl, party);
        per_party[!strcmp(party, "af")]++;
        /* firing positions are behind the line at plausible distances (at most 18 km) */
        wrong += so > 18500;
    }
    CHECK_INT(wrong, 0);
    CHECK(per_party[0] > 60 && per_party[1] > 60);
    sim_truth_free(t);
    run_free(&r);
}

struct noise_stats {
    long long n_patrol, patrol_in, n_cam, cam_in, n_dist, dist_in, n_sdist, sdist_in;
    long long n_count, count_ok, count_exactish, n_time, time_10, time_5, time_max_min;
    long long n_det, det_in, false_reports;
};

/* Compares every report of run r with its true event. */
static void measure_noise(const struct run *r, const struct sim_truth *t, struct noise_stats *ns)
{
    struct errbuf e;
    memset(ns, 0, sizeof *ns);
    for (char *line = r->obs, *end; line < r->obs + r->obs_len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(r->obs + r->obs_len - line));
        if (!end || obs_parse_json(line, (size_t)(end - line), ag, ag->time_zone, &rec, &e))
            break;
        const struct sim_truth_report *rep = sim_truth_find(t, rec.client_id);
        if (!rep || rep->event < 0) {
            ns->false_reports++;
            continue;
        }
        const struct sim_truth_event *ev = &t->events[rep->event];
        if (rec.kind == OBS_DETECTION) {
            ns->n_det++;
            ns->det_in += geo_distance_m(rec.location, ev->impact) <= rec.accuracy_m;
            continue;
        }
        bool outgoing = rec.events[0].type == agr_event_type_index("outgoing");
        struct geo_point target = outgoing ? ev->origin : ev->location;
        double d, az;
        geo_inverse(rec.observer, target, &d, &az);
        bool in = false;
        for (size_t k = 0; k < rec.n_bearings; k++) {
            double diff = fabs(fmod(az - rec.bearing_deg[k] + 540.0, 360.0) - 180.0);
            in = in || diff <= rec.bearing_half_width_deg[k];
        }
        if (rec.means == OBS_M_PATROL) {
            ns->n_patrol++;
            ns->patrol_in += in;
        } else {
            ns->n_cam++;
            ns->cam_in += in;
        }
        if (!isnan(rec.dist_min_m) && rec.means == OBS_M_PATROL) {
            ns->n_dist++;
            ns->dist_in += d >= rec.dist_min_m && d <= rec.dist_max_m;
        } else if (!isnan(rec.dist_min_m) && rec.means == OBS_M_ACOUSTIC) {
            ns->n_sdist++;
            ns->sdist_in += d >= rec.dist_min_m && d <= rec.dist_max_m;
        }
        if (rec.events[0].count > 0) {
            ns->n_count++;
            double ratio = (double)rec.events[0].count / (double)ev->count;
            ns->count_ok += ratio >= 0.6 && ratio <= 1.6;
            ns->count_exactish += ratio >= 0.9 && ratio <= 1.1;
        }
        ns->n_time++;
        long long dt_min = llabs((long long)(rec.t_start_ms - ev->start_ms)) / 60000;
        ns->time_10 += dt_min <= 10;
        ns->time_5 += dt_min < 5;
        if (dt_min > ns->time_max_min)
            ns->time_max_min = dt_min;
    }
}

/* The share of fire reports whose stated bearing covers the true direction, whose distance
 * range holds the true distance, and so on, against the bounds in docs/simulator.md. */
static void test_noise_within_documented_bounds(void)
{
    struct run r = {0};
    CHECK_INT(simulate(3, 20, 60, &r), 0);
    struct sim_truth *t = NULL;
    struct errbuf e;
    CHECK_INT(sim_truth_parse(r.truth, r.truth_len, &t, &e), 0);
    if (!t) {
        run_free(&r);
        return;
    }
    struct noise_stats ns;
    measure_noise(&r, t, &ns);
    fprintf(stderr, "  patrol bearings %lld/%lld, camera+sensor %lld/%lld, distances %lld/%lld, "
                    "sensor distances %lld/%lld, counts %lld/%lld, times %lld/%lld (max %lld min), "
                    "detections %lld/%lld\n",
            ns.patrol_in, ns.n_patrol, ns.cam_in, ns.n_cam, ns.dist_in, ns.n_dist, ns.sdist_in,
            ns.n_sdist, ns.count_ok, ns.n_count, ns.time_10, ns.n_time, ns.time_max_min,
            ns.det_in, ns.n_det);
    CHECK(ns.n_patrol > 500 && ns.n_cam > 300 && ns.n_det > 100);
    /* docs/simulator.md, "Noise": the documented bounds */
    CHECK((double)ns.patrol_in / ns.n_patrol >= 0.90);
    CHECK((double)ns.cam_in / ns.n_cam >= 0.98);
    CHECK((double)ns.dist_in / ns.n_dist >= 0.70 && (double)ns.dist_in / ns.n_dist <= 0.95);
    CHECK(ns.n_sdist > 100 && (double)ns.sdist_in / ns.n_sdist >= 0.85);
    CHECK((double)ns.count_ok / ns.n_count >= 0.95);
    CHECK((double)ns.count_exactish / ns.n_count < 0.9); /* the counts are noisy */
    CHECK((double)ns.time_10 / ns.n_time >= 0.97);
    CHECK(ns.time_max_min <= 20);
    CHECK((double)ns.det_in / ns.n_det >= 0.90);
    CHECK_INT(ns.false_reports, r.st.false_reports);
    CHECK(ns.false_reports > 0);
    sim_truth_free(t);
    run_free(&r);
}

/* With the noise scaled to zero every report is consistent with the truth: the bearing words
 * and distance ranges hold it, counts are exact but for "about" rounding, times are only
 * rounded to the observer's resolution, and nothing spurious is reported. */
static void test_noise_scale_zero_reports_the_truth(void)
{
    struct sim_params p = {.seed = 3, .days = 5, .events_per_day = 60, .start_ms = TIME_NONE};
    sim_noise_default(&p.noise);
    sim_noise_scale(&p.noise, 0);
    struct run r = {0};
    FILE *fo = open_memstream(&r.obs, &r.obs_len), *ft = open_memstream(&r.truth, &r.truth_len);
    struct errbuf e;
    CHECK_INT(sim_run(ag, &p, fo, ft, NULL, NULL, &r.st, &e), 0);
    fclose(fo);
    fclose(ft);
    struct sim_truth *t = NULL;
    CHECK_INT(sim_truth_parse(r.truth, r.truth_len, &t, &e), 0);
    if (!t) {
        run_free(&r);
        return;
    }
    struct noise_stats ns;
    measure_noise(&r, t, &ns);
    CHECK(ns.n_patrol > 50 && ns.n_dist > 50);
    CHECK_INT(ns.patrol_in, ns.n_patrol);
    CHECK_INT(ns.cam_in, ns.n_cam);
    CHECK_INT(ns.dist_in, ns.n_dist);
    CHECK_INT(ns.sdist_in, ns.n_sdist);
    CHECK_INT(ns.count_exactish, ns.n_count);
    CHECK_INT(ns.time_5, ns.n_time);
    CHECK_INT(ns.false_reports, 0);
    CHECK_INT(r.st.false_reports, 0);
    sim_truth_free(t);
    run_free(&r);
}

/* ---- the truth parser ---- */

#define TRUTH_HEAD                                                                              \
    "{\"format\":\"truce-sim-truth/1\",\"parties\":[\"ua\",\"af\"],\"observers\":[{\"id\":"  \
    "\"patrol-a\"},{\"id\":\"patrol-b\",\"means\":\"patrol\"},{\"id\":\"camera-c\","     \
    "\"means\":\"camera\"},{\"id\":\"uav\"}],"
#define EV(id, lon, lat, party, reports)                                                        \
    "{\"id\":" #id ",\"start\":\"2016-10-01T18:00:00Z\",\"end\":\"2016-10-01T18:10:00Z\","    \
    "\"type\":\"impact\",\"count\":10,\"party\":\"" party "\",\"location\":[" #lon "," #lat   \
    "],\"impact\":[" #lon "," #lat "],\"origin\":[37.7,48.1],\"reports\":[" reports "]}"
#define REP(cid, ob) "{\"client_id\":\"" cid "\",\"observer\":\"" ob "\"}"

/* Four events: 1 and 2 seen by two observers each, 3 by one, 4 by none; one false report. */
static const char HAND_TRUTH[] =
    TRUTH_HEAD "\"events\":["
    EV(1, 37.80, 48.10, "af", REP("a1", "patrol-a") "," REP("b1", "patrol-b") "," REP("c1", "camera-c")) ","
    EV(2, 37.90, 48.20, "ua", REP("a2", "patrol-a") "," REP("c2", "camera-c")) ","
    EV(3, 38.00, 48.30, "af", REP("b3", "patrol-b")) ","
    EV(4, 38.10, 48.40, "ua", "")
    "],\"false_reports\":[" REP("f1", "patrol-b") "]}";

static struct sim_truth *hand_truth(void)
{
    struct sim_truth *t = NULL;
    struct errbuf e;
    if (sim_truth_parse(HAND_TRUTH, strlen(HAND_TRUTH), &t, &e))
        fprintf(stderr, "hand truth: %s\n", e.msg);
    return t;
}

static void test_truth_parses_and_counts_observers(void)
{
    struct sim_truth *t = hand_truth();
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_INT(t->n_events, 4);
    CHECK_INT(t->n_reports, 7);
    CHECK_INT(t->events[0].n_observers, 3);
    CHECK_INT(t->events[1].n_observers, 2);
    CHECK_INT(t->events[3].n_observers, 0);
    CHECK_INT(sim_truth_find(t, "f1")->event, -1);
    CHECK_INT(sim_truth_find(t, "c2")->event, 1);
    CHECK(sim_truth_find(t, "zz") == NULL);
    sim_truth_free(t);
}

/* The same document with spaces, tabs and line ends between its tokens reads the same. */
static void test_truth_layout_does_not_matter(void)
{
    struct buf b;
    buf_init(&b);
    for (const char *p = HAND_TRUTH; *p; p++) /* no string of HAND_TRUTH holds a comma */
        CHECK_INT(*p == ',' ? buf_printf(&b, " ,\r\n\t") : buf_append(&b, p, 1), 0);
    struct sim_truth *t = NULL;
    struct errbuf e;
    CHECK_INT(sim_truth_parse(b.p, b.len, &t, &e), 0);
    if (t) {
        CHECK_INT(t->n_events, 4);
        CHECK_INT(t->n_reports, 7);
        CHECK_INT(t->events[0].n_observers, 3);
        CHECK_INT(t->observer_means[2], SIM_MEANS_CAMERA);
    }
    sim_truth_free(t);
    buf_reset(&b);
}

static void expect_truth_error(const char *text, const char *msg)
{
    struct sim_truth *t = NULL;
    struct errbuf e;
    int rc = sim_truth_parse(text, strlen(text), &t, &e);
    CHECK(rc != 0);
    if (rc)
        CHECK_CONTAINS(e.msg, msg);
    sim_truth_free(t);
}

static void test_truth_errors_name_the_field(void)
{
    expect_truth_error("{\"format\":\"x\"}", "/format: must be \"truce-sim-truth/1\"");
    expect_truth_error("[1", "truth file: must be a JSON object");
    expect_truth_error("{\"format\":\n [1", "truth file: line 2 column 4: ']' expected near end of file");
    expect_truth_error("{\"format\":\"truce-sim-truth/1\" \"x\":1}", "expected ',' or '}'");
    expect_truth_error(TRUTH_HEAD "\"events\":[],\"false_reports\":[]} x", "end of text expected");
    expect_truth_error(TRUTH_HEAD "\"events\":[],\"false_reports\":[],\"events\":[]}",
                       "/events: given twice");
    expect_truth_error("{\"events\":[],\"false_reports\":[],\"format\":\"truce-sim-truth/1\"}",
                       "/format: must be \"truce-sim-truth/1\" (before /events)");
    expect_truth_error(TRUTH_HEAD "\"events\":[],\"false_reports\":[],\"parties\":[\"x\"]}",
                       "/parties: given twice");
    expect_truth_error(TRUTH_HEAD "\"false_reports\":[]}", "/events: must be an array");
    expect_truth_error(TRUTH_HEAD "\"events\":{}}", "/events: must be an array");
    expect_truth_error(TRUTH_HEAD "\"events\":[" EV(1, 37.8, 48.1, "xx", "") "],\"false_reports\":[]}",
                       "/events/0/party: must be one of /parties");
    expect_truth_error(TRUTH_HEAD "\"events\":[" EV(1, 37.8, 95, "ua", "") "],\"false_reports\":[]}",
                       "/events/0/location: not a position on Earth");
    expect_truth_error(TRUTH_HEAD "\"events\":[" EV(1, 37.8, 48, "ua", REP("a", "nobody"))
                                  "],\"false_reports\":[]}",
                       "/events/0/reports/0/observer: \"nobody\" is not in /observers");
    expect_truth_error(TRUTH_HEAD "\"events\":[" EV(1, 37.8, 48, "ua", REP("a", "uav"))
                                  "],\"false_reports\":[" REP("a", "uav") "]}",
                       "client id \"a\" is given twice");
    expect_truth_error(TRUTH_HEAD "\"events\":[" EV(2, 37.8, 48, "ua", "") "," EV(2, 37.8, 48, "ua", "")
                                  "],\"false_reports\":[]}",
                       "/events/1/id: ids must increase");
}

/* ---- the scorer ---- */

static struct sim_scores score(const struct sim_truth *t, const char *const *lines, size_t n)
{
    struct sim_eval *ev = NULL;
    struct sim_scores sc;
    memset(&sc, 0, sizeof sc);
    if (sim_eval_new(t, &ev))
        return sc;
    struct errbuf e;
    for (size_t i = 0; i < n; i++)
        if (sim_eval_add(ev, lines[i], strlen(lines[i]), &e)) {
            fprintf(stderr, "incident %zu: %s\n", i, e.msg);
            t_failed_checks++;
        }
    if (sim_eval_finish(ev, &sc))
        t_failed_checks++;
    sim_eval_free(ev);
    return sc;
}

#define INC(id, lon, lat, method, party, grade, evidence)                                         \
    "{\"id\":" #id ",\"location\":{\"lon\":" #lon ",\"lat\":" #lat ",\"method\":\"" method        \
    "\"},\"party\":\"" party "\",\"grade\":\"" grade "\",\"evidence\":[" evidence "]}"

static void test_perfect_answer_scores_one(void)
{
    struct sim_truth *t = hand_truth();
    if (!t)
        return;
    const char *inc[] = {
        INC(1, 37.80, 48.10, "triangulated", "af", "confirmed", "\"a1\",\"b1\",\"c1\""),
        INC(2, 37.90, 48.20, "triangulated", "ua", "probable", "\"a2\",\"c2\""),
        INC(3, 38.00, 48.30, "sector", "undetermined", "undetermined", "\"b3\""),
        /* the firing position (37.7, 48.1) given 0.01 degree of latitude north */
        "{\"id\":4,\"location\":null,\"origin\":{\"lon\":37.7,\"lat\":48.11,\"radius_m\":900},"
        "\"party\":\"af\",\"grade\":\"possible\",\"evidence\":[\"f1\"]}",
    };
    struct sim_scores sc = score(t, inc, 3);
    CHECK_INT(sc.located_origin, 0);
    sc = score(t, inc, 4); /* the fourth is a false incident: not measured */
    CHECK_INT(sc.located_origin, 0);
    CHECK_INT(sc.false_incidents, 1);
    const char *with_origin[] = {
        "{\"id\":1,\"location\":{\"lon\":37.8,\"lat\":48.1,\"method\":\"triangulated\"},"
        "\"origin\":{\"lon\":37.7,\"lat\":48.11,\"radius_m\":900},\"party\":\"af\","
        "\"grade\":\"probable\",\"evidence\":[\"a1\",\"b1\"]}",
    };
    sc = score(t, with_origin, 1);
    CHECK_INT(sc.located_origin, 1);
    CHECK_NEAR(sc.origin_median_m, 1112, 5);
    sc = score(t, inc, 3);
    CHECK_NEAR(sc.precision, 1, 0);
    CHECK_NEAR(sc.recall, 1, 0);
    CHECK_NEAR(sc.precision_multi, 1, 0);
    CHECK_NEAR(sc.recall_multi, 1, 0);
    CHECK_INT(sc.reported_events, 3);
    CHECK_INT(sc.multi_events, 2);
    CHECK_NEAR(sc.loc_median_tri_m, 0, 0.01);
    CHECK_INT(sc.located_triangulated, 2);
    CHECK_INT(sc.grade[SIM_GRADE_CONFIRMED].correct, 1);
    CHECK_INT(sc.grade[SIM_GRADE_PROBABLE].correct, 1);
    CHECK_NEAR(sc.wrong_share_probable_or_better, 0, 0);
    CHECK_NEAR(sc.undetermined_share, 1.0 / 3, 1e-9);
    CHECK(sc.met_precision && sc.met_recall && sc.met_attribution && sc.met_location);
    sim_truth_free(t);
}

static void test_merged_events_drop_precision_and_recall(void)
{
    struct sim_truth *t = hand_truth();
    if (!t)
        return;
    /* events 1 and 2 fused into one incident, two reports each: no strict majority */
    const char *inc[] = {
        INC(1, 37.85, 48.15, "triangulated", "af", "probable", "\"a1\",\"b1\",\"a2\",\"c2\""),
        INC(2, 38.00, 48.30, "sector", "af", "possible", "\"b3\""),
    };
    struct sim_scores sc = score(t, inc, 2);
    CHECK_INT(sc.false_incidents, 1);
    CHECK_NEAR(sc.precision, 0.5, 1e-9);
    CHECK_NEAR(sc.precision_multi, 0, 0);
    CHECK_NEAR(sc.recall_multi, 0, 0);
    CHECK_NEAR(sc.recall, 1.0 / 3, 1e-9);
    CHECK(!sc.met_precision && !sc.met_recall);
    CHECK(!sc.met_location); /* no matched triangulated incident */
    /* The majority decides: three of event 1 and one of event 2 match event 1. */
    const char *inc2[] = {
        INC(1, 37.80, 48.11, "triangulated", "af", "probable", "\"a1\",\"b1\",\"c1\",\"c2\""),
    };
    sc = score(t, inc2, 1);
    CHECK_INT(sc.matched_incidents, 1);
    CHECK_NEAR(sc.loc_median_tri_m, 1112, 5); /* 0.01 degree of latitude */
    CHECK_NEAR(sc.recall_multi, 0.5, 1e-9);
    sim_truth_free(t);
}

/* The truth (37.80, 48.10) lies 1112 m south of the incident's centre: inside an ellipse whose
 * 2 km major axis runs north-south, outside one whose 500 m minor axis does. */
static void test_ellipse_and_origin_calibration(void)
{
    struct sim_truth *t = hand_truth();
    if (!t)
        return;
    const char *inc[] = {
        "{\"id\":1,\"location\":{\"lon\":37.8,\"lat\":48.11,\"method\":\"triangulated\","
        "\"semi_major_m\":2000,\"semi_minor_m\":500,\"azimuth_deg\":0},\"origin\":{\"lon\":37.7,"
        "\"lat\":48.11,\"radius_m\":1200},\"party\":\"af\",\"grade\":\"probable\",\"evidence\":"
        "[\"a1\",\"b1\",\"c1\"]}",
        "{\"id\":2,\"location\":{\"lon\":37.9,\"lat\":48.21,\"method\":\"triangulated\","
        "\"semi_major_m\":2000,\"semi_minor_m\":500,\"azimuth_deg\":90},\"origin\":{\"lon\":37.7,"
        "\"lat\":48.11,\"radius_m\":900},\"party\":\"ua\",\"grade\":\"probable\",\"evidence\":"
        "[\"a2\",\"c2\"]}",
    };
    struct sim_scores sc = score(t, inc, 2);
    CHECK_INT(sc.with_ellipse, 2);
    CHECK_INT(sc.inside_ellipse, 1);
    CHECK_INT(sc.with_origin_radius, 2);
    CHECK_INT(sc.inside_origin_radius, 1);
    sim_truth_free(t);
}

static void test_split_event_is_a_duplicate(void)
{
    struct sim_truth *t = hand_truth();
    if (!t)
        return;
    const char *inc[] = {
        INC(1, 37.80, 48.10, "triangulated", "af", "probable", "\"a1\",\"b1\""),
        INC(2, 37.80, 48.10, "sector", "af", "possible", "\"c1\""),
        INC(3, 37.90, 48.20, "triangulated", "ua", "probable", "\"a2\",\"c2\""),
    };
    struct sim_scores sc = score(t, inc, 3);
    CHECK_INT(sc.duplicate_incidents, 1);
    CHECK_INT(sc.duplicate_by_means[SIM_MEANS_CAMERA], 1);
    CHECK_INT(sc.matched_incidents, 2);
    CHECK_NEAR(sc.precision, 2.0 / 3, 1e-9);
    CHECK_NEAR(sc.precision_multi, 2.0 / 3, 1e-9); /* the duplicate's event had two observers */
    CHECK_NEAR(sc.recall_multi, 1, 0);
    sim_truth_free(t);
}

static void test_wrong_party_is_counted_per_grade(void)
{
    struct sim_truth *t = hand_truth();
    if (!t)
        return;
    const char *inc[] = {
        INC(1, 37.80, 48.10, "triangulated", "ua", "probable", "\"a1\",\"b1\",\"c1\""),
        INC(2, 37.90, 48.20, "triangulated", "ua", "probable", "\"a2\",\"c2\""),
        INC(3, 38.00, 48.30, "sector", "ua", "possible", "\"b3\""),
        INC(4, 38.20, 48.30, "sector", "ua", "possible", "\"f1\""),
    };
    struct sim_scores sc = score(t, inc, 4);
    CHECK_INT(sc.grade[SIM_GRADE_PROBABLE].wrong, 1);
    CHECK_INT(sc.grade[SIM_GRADE_PROBABLE].correct, 1);
    CHECK_INT(sc.grade[SIM_GRADE_POSSIBLE].wrong, 1);
    CHECK_INT(sc.grade[SIM_GRADE_POSSIBLE].incidents, 1); /* the false incident is not graded */
    CHECK_NEAR(sc.wrong_share_probable_or_better, 0.5, 1e-9);
    CHECK(!sc.met_attribution);
    CHECK_INT(sc.false_incidents, 1);
    CHECK_INT(sc.false_by_means[SIM_MEANS_PATROL], 1);
    sim_truth_free(t);
}

static void test_scorer_rejects_malformed_incidents(void)
{
    struct sim_truth *t = hand_truth();
    struct sim_eval *ev = NULL;
    if (!t || sim_eval_new(t, &ev)) {
        sim_truth_free(t);
        return;
    }
    struct errbuf e;
    const char *bad[][2] = {
        {"{\"id\":1,\"party\":\"ua\",\"grade\":\"sure\",\"evidence\":[]}", "grade: must be"},
        {"{\"id\":\"x\",\"party\":\"ua\",\"grade\":\"possible\",\"evidence\":[]}", "id: must be"},
        {"{\"id\":1,\"party\":\"ua\",\"grade\":\"possible\",\"evidence\":[3]}", "evidence/0"},
        {"{\"id\":1,\"party\":\"ua\",\"grade\":\"possible\"}", "evidence: must be an array"},
        {"{\"id\":1,\"location\":{\"lon\":1},\"party\":\"ua\",\"grade\":\"possible\","
         "\"evidence\":[]}", "location: needs numbers lon and lat"},
        {"{\"id\":1,", "column"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sim_eval_add(ev, bad[i][0], strlen(bad[i][0]), &e);
        CHECK(rc != 0);
        if (rc)
            CHECK_CONTAINS(e.msg, bad[i][1]);
    }
    /* an incident without evidence is a false incident */
    const char *empty = "{\"id\":8,\"location\":null,\"party\":\"ua\",\"grade\":\"possible\","
                        "\"evidence\":[]}";
    CHECK_INT(sim_eval_add(ev, empty, strlen(empty), &e), 0);
    /* evidence the truth does not know is counted, and is not an event */
    const char *ok = INC(9, 37.8, 48.1, "circle", "ua", "possible", "\"nope\",\"a1\",\"b1\"");
    CHECK_INT(sim_eval_add(ev, ok, strlen(ok), &e), 0);
    struct sim_scores sc;
    CHECK_INT(sim_eval_finish(ev, &sc), 0);
    CHECK_INT(sc.incidents, 2);
    CHECK_INT(sc.false_incidents, 1);
    CHECK_INT(sc.unknown_evidence, 1);
    CHECK_INT(sc.matched_incidents, 1);
    struct buf b;
    buf_init(&b);
    CHECK_INT(sim_scores_json(&sc, &b), 0);
    CHECK_CONTAINS(b.p, "\"unknown_evidence\":1");
    buf_reset(&b);
    sim_eval_free(ev);
    sim_truth_free(t);
}

/* The perfect answer built from a real simulated truth scores 1, and each observation on its
 * own (no fusion) does not. */
static void test_scorer_on_a_simulated_truth(void)
{
    struct run r = {0};
    CHECK_INT(simulate(21, 3, 40, &r), 0);
    struct sim_truth *t = NULL;
    struct errbuf e;
    CHECK_INT(sim_truth_parse(r.truth, r.truth_len, &t, &e), 0);
    struct sim_eval *perfect = NULL, *naive = NULL;
    if (!t || sim_eval_new(t, &perfect) || sim_eval_new(t, &naive))
        goto out;
    struct buf b;
    buf_init(&b);
    long long id = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const struct sim_truth_event *ev = &t->events[i];
        b.len = 0;
        CHECK_INT(buf_printf(&b, "{\"id\":%zu,\"location\":{\"lon\":%.6f,\"lat\":%.6f,\"method\":"
                                 "\"triangulated\"},\"party\":\"%s\",\"grade\":\"probable\","
                                 "\"evidence\":[",
                             i + 1, ev->location.lon_deg, ev->location.lat_deg,
                             t->parties[ev->party]),
                  0);
        bool any = false;
        for (size_t k = 0; k < t->n_reports; k++)
            if (t->reports[k].event == (long long)i) {
                CHECK_INT(buf_printf(&b, "%s\"%s\"", any ? "," : "", t->reports[k].client_id), 0);
                any = true;
            }
        CHECK_INT(buf_printf(&b, "]}"), 0);
        if (any)
            CHECK_INT(sim_eval_add(perfect, b.p, b.len, &e), 0);
    }
    for (size_t k = 0; k < t->n_reports; k++) {
        b.len = 0;
        CHECK_INT(buf_printf(&b, "{\"id\":%lld,\"location\":null,\"party\":\"undetermined\","
                                 "\"grade\":\"undetermined\",\"evidence\":[\"%s\"]}",
                             ++id, t->reports[k].client_id),
                  0);
        CHECK_INT(sim_eval_add(naive, b.p, b.len, &e), 0);
    }
    buf_reset(&b);
    struct sim_scores p, n;
    CHECK_INT(sim_eval_finish(perfect, &p), 0);
    CHECK_INT(sim_eval_finish(naive, &n), 0);
    CHECK_NEAR(p.precision_multi, 1, 0);
    CHECK_NEAR(p.recall_multi, 1, 0);
    CHECK_NEAR(n.recall, 1, 0);          /* every reported event has its incidents */
    CHECK(n.precision_multi < 0.6);      /* but split across observers */
    CHECK(!n.met_precision && !n.met_location);
out:
    sim_eval_free(perfect);
    sim_eval_free(naive);
    sim_truth_free(t);
    run_free(&r);
}

int main(void)
{
    struct errbuf e;
    if (agr_load_file("examples/minsk-2015/agreement.json", &ag, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    static const struct t_case cases[] = {
        T(test_rng_is_reproducible_and_plausible),
        T(test_same_seed_same_files),
        T(test_parameters_are_checked),
        T(test_every_observation_parses_and_is_in_the_truth),
        T(test_events_sit_on_their_party_side),
        T(test_noise_within_documented_bounds),
        T(test_noise_scale_zero_reports_the_truth),
        T(test_truth_parses_and_counts_observers),
        T(test_truth_errors_name_the_field),
        T(test_truth_layout_does_not_matter),
        T(test_perfect_answer_scores_one),
        T(test_merged_events_drop_precision_and_recall),
        T(test_split_event_is_a_duplicate),
        T(test_ellipse_and_origin_calibration),
        T(test_wrong_party_is_counted_per_grade),
        T(test_scorer_rejects_malformed_incidents),
        T(test_scorer_on_a_simulated_truth),
    };
    int rc = T_RUN(cases);
    agr_free(ag);
    return rc;
}
