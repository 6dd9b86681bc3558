/* simulate.c: the scenario generator: a seeded generator, the observers (gazetteer places near
 * the reference line), true events on both sides of the line, and each observer's noisy
 * SMM-style report of them, written as observation NDJSON plus the truth document.
 *
 * Every random draw comes from one xoshiro256** stream in a fixed order, so a seed reproduces
 * the files byte for byte on the same platform. The noise levels are parameters
 * (struct sim_noise) documented in docs/simulator.md; nothing here reads the store. */
#include "simulate/simulate.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geo.h"

#define DEG2RAD (M_PI / 180.0)
#define MS_PER_MIN 60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY 86400000LL
#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* ---- generator: splitmix64 seeding, xoshiro256** (Blackman and Vigna, public domain) ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sim_rng_uniform(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

double sim_rng_range(struct sim_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sim_rng_uniform(r);
}

double sim_rng_normal(struct sim_rng *r)
{
    double u1 = 1.0 - sim_rng_uniform(r); /* (0, 1] */
    double u2 = sim_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int sim_rng_poisson(struct sim_rng *r, double lambda)
{
    if (!(lambda > 0))
        return 0;
    if (lambda > 30)
        lambda = 30;
    double l = exp(-lambda), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= sim_rng_uniform(r);
    } while (p > l);
    return k - 1;
}

/* ---- noise ---- */

void sim_noise_default(struct sim_noise *n)
{
    *n = (struct sim_noise){
        .patrol_bearing_sd_deg = 4.0,
        .patrol_two_words_deg = 4.0,
        .camera_bearing_sd_deg = 1.5,
        .camera_tolerance_deg = 5.0,
        .sensor_bearing_sd_deg = 2.5,
        .sensor_tolerance_deg = 8.0,
        .distance_log_sd = 0.2,
        .sensor_distance_log_sd = 0.05,
        .distance_unknown_p = 0.15,
        .count_log_sd = 0.15,
        .count_about_p = 0.4,
        .clock_skew_sd_min = 2.0,
        .time_jitter_sd_min = 1.0,
        .explosion_near_km = 3.0,
        .explosion_far_km = 15.0,
        .explosion_near_p = 0.95,
        .smallarms_near_km = 0.5,
        .smallarms_far_km = 3.0,
        .smallarms_near_p = 0.9,
        .outgoing_near_km = 2.0,
        .outgoing_far_km = 6.0,
        .outgoing_near_p = 0.85,
        .flight_direction_p = 0.4,
        .flight_direction_km = 4.0,
        .flight_direction_sd_deg = 12.0,
        .patrol_available_p = 0.85,
        .uav_p = 0.25,
        .uav_accuracy_m = {50, 100, 200},
        .satellite_p = 0.05,
        .satellite_accuracy_m = 20,
        .false_reports_per_day = 0.05,
    };
}

void sim_noise_scale(struct sim_noise *n, double f)
{
    n->patrol_bearing_sd_deg *= f;
    n->patrol_two_words_deg *= f;
    n->camera_bearing_sd_deg *= f;
    n->sensor_bearing_sd_deg *= f;
    n->distance_log_sd *= f;
    n->sensor_distance_log_sd *= f;
    n->count_log_sd *= f;
    n->clock_skew_sd_min *= f;
    n->time_jitter_sd_min *= f;
    n->flight_direction_sd_deg *= f;
    n->false_reports_per_day *= f;
}

/* ---- observers ---- */

enum site_kind { SITE_PATROL, SITE_POST, SITE_CAMERA, SITE_ACOUSTIC };
static const char *const SITE_KIND_NAMES[] = {"patrol", "post", "camera", "acoustic"};

struct site_spec {
    enum site_kind kind;
    const char *place;  /* gazetteer name, or NULL with coordinates */
    const char *label;  /* observer name in the record, NULL for patrols at a place */
    double lon, lat;    /* when place is NULL */
};

/* SMM-like positions along the 2015-2022 line of contact: day patrols at settlements on both
 * sides, observation posts and cameras where the SMM kept them, and acoustic sensors. Names
 * the gazetteer lacks, or that lie more than SITE_MAX_LINE_KM from the line, are skipped. */
static const struct site_spec SITES[] = {
    {SITE_PATROL, "Avdiivka", NULL, 0, 0},
    {SITE_PATROL, "Yasynuvata", NULL, 0, 0},
    {SITE_PATROL, "Pisky", NULL, 0, 0},
    {SITE_PATROL, "Spartak", NULL, 0, 0},
    {SITE_PATROL, "Marinka", NULL, 0, 0},
    {SITE_PATROL, "Krasnohorivka", NULL, 0, 0},
    {SITE_PATROL, "Dokuchaievsk", NULL, 0, 0},
    {SITE_PATROL, "Olenivka", NULL, 0, 0},
    {SITE_PATROL, "Horlivka", NULL, 0, 0},
    {SITE_PATROL, "Svitlodarsk", NULL, 0, 0},
    {SITE_PATROL, "Debaltseve", NULL, 0, 0},
    {SITE_PATROL, "Novoluhanske", NULL, 0, 0},
    {SITE_PATROL, "Verkhnotoretske", NULL, 0, 0},
    {SITE_PATROL, "Popasna", NULL, 0, 0},
    {SITE_PATROL, "Zolote", NULL, 0, 0},
    {SITE_PATROL, "Katerynivka", NULL, 0, 0},
    {SITE_PATROL, "Trokhizbenka", NULL, 0, 0},
    {SITE_PATROL, "Krymske", NULL, 0, 0},
    {SITE_PATROL, "Novotoshkivske", NULL, 0, 0},
    {SITE_PATROL, "Shyrokyne", NULL, 0, 0},
    {SITE_PATROL, "Talakivka", NULL, 0, 0},
    {SITE_PATROL, "Hranitne", NULL, 0, 0},
    {SITE_PATROL, "Vodiane", NULL, 0, 0},
    {SITE_POST, NULL, "SMM observation post at the Donetsk central railway station", 37.745, 48.05},
    {SITE_POST, "Shchastia", "SMM observation post in Shchastia", 0, 0},
    {SITE_POST, "Stanytsia Luhanska", "SMM observation post in Stanytsia Luhanska", 0, 0},
    {SITE_POST, "Horlivka", "SMM forward patrol base in Horlivka", 0, 0},
    {SITE_CAMERA, "Shyrokyne", "SMM camera in Shyrokyne", 0, 0},
    {SITE_CAMERA, NULL, "SMM camera at the Donetsk Filtration Station", 37.7765, 48.1052},
    {SITE_CAMERA, "Marinka", "SMM camera in Marinka", 0, 0},
    {SITE_CAMERA, "Stanytsia Luhanska", "SMM camera at the Stanytsia Luhanska bridge", 0, 0},
    {SITE_CAMERA, "Shchastia", "SMM camera in Shchastia", 0, 0},
    {SITE_CAMERA, "Zolote", "SMM camera in Zolote", 0, 0},
    {SITE_CAMERA, "Svitlodarsk", "SMM camera in Svitlodarsk", 0, 0},
    {SITE_ACOUSTIC, "Krasnohorivka", "acoustic sensor near Krasnohorivka", 0, 0},
    {SITE_ACOUSTIC, "Popasna", "acoustic sensor near Popasna", 0, 0},
    {SITE_ACOUSTIC, "Talakivka", "acoustic sensor near Talakivka", 0, 0},
    {SITE_ACOUSTIC, "Novoluhanske", "acoustic sensor near Novoluhanske", 0, 0},
};
#define N_SITES (sizeof SITES / sizeof SITES[0])
#define SITE_MAX_LINE_KM 15.0
#define SITE_OFFSET_M 400.0      /* cameras and sensors stand this far north of the place */
#define PATROL_FROM_HOUR 8       /* day patrols are out from 08:00 to 17:00 local */
#define PATROL_TO_HOUR 17

struct observer {
    enum site_kind kind;
    const char *place; /* NULL: coordinates in the record */
    const char *label;
    struct geo_point pt;
    char id[SIM_ID_BYTES];
    double skew_ms;
    bool on_duty_today;
};

/* ---- weapons ---- */

struct weapon_spec {
    const char *category, *model;
    double calibre_mm;                   /* NAN: not given */
    double behind_min_km, behind_max_km; /* firing position behind the line */
    double across_min_km, across_max_km; /* impacts beyond the line */
    int count_min, count_max;            /* rounds (or bursts) per event */
    double dur_min_min, dur_max_min;     /* duration in minutes */
    double weight;
    bool small_arms;
};

static const struct weapon_spec WEAPONS[] = {
    {"mortar", NULL, 82, 0.5, 2.5, 0.3, 2.0, 1, 30, 1, 20, 0.22, false},
    {"mortar", NULL, 120, 1.0, 4.5, 0.3, 3.0, 1, 30, 1, 25, 0.20, false},
    {"artillery", "D-30", 122, 4.0, 12.0, 0.5, 4.0, 1, 25, 2, 30, 0.13, false},
    {"artillery", "2A65 Msta-B", 152, 6.0, 15.0, 0.5, 4.0, 1, 20, 2, 30, 0.05, false},
    {"mlrs", "BM-21 Grad", 122, 8.0, 18.0, 0.5, 5.0, 10, 40, 1, 5, 0.05, false},
    {"tank", NULL, 125, 1.0, 3.0, 0.3, 3.0, 1, 10, 1, 15, 0.05, false},
    {"small_arms", NULL, NAN, 0.1, 0.6, 0.1, 0.4, 1, 40, 1, 15, 0.30, true},
};
#define N_WEAPONS (sizeof WEAPONS / sizeof WEAPONS[0])

/* ---- state ---- */

struct pending {
    int64_t t_ms;
    long long seq;
    char *json;
};

struct sim {
    const struct agreement *a;
    const struct sim_params *p;
    const struct sim_noise *nz;
    struct sim_rng rng;
    const struct agr_line *line;
    int right_party, left_party; /* indices into a->parties */
    struct observer *obs;
    size_t n_obs;     /* ground observers */
    size_t uav_index; /* obs[uav_index] is "uav", then "satellite" */
    FILE *obs_out, *truth_out;
    struct pending *pend;
    size_t n_pend, cap_pend;
    long long seq, next_client, next_event;
    json_t *false_reports;
    struct sim_stats st;
    bool first_event;
    struct errbuf *e;
};

static double deg_norm(double d)
{
    d = fmod(d, 360.0);
    return d < 0 ? d + 360.0 : d;
}

static json_t *point_json(struct geo_point p)
{
    /* 6 decimals (0.1 m) keep the files short and exact to read back. */
    return json_pack("[ff]", round(p.lon_deg * 1e6) / 1e6, round(p.lat_deg * 1e6) / 1e6);
}

static void slug(char *out, size_t n, const char *prefix, const char *name)
{
    size_t k = 0;
    for (const char *s = prefix; *s && k + 1 < n; s++)
        out[k++] = *s;
    if (k + 1 < n)
        out[k++] = '-';
    for (const char *s = name; *s && k + 1 < n; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '-';
        out[k++] = c;
    }
    out[k] = 0;
}

static int setup_observers(struct sim *s)
{
    const struct agreement *a = s->a;
    s->obs = xcalloc(N_SITES + 2, sizeof *s->obs);
    for (size_t i = 0; i < N_SITES; i++) {
        const struct site_spec *sp = &SITES[i];
        struct observer *o = &s->obs[s->n_obs];
        o->kind = sp->kind;
        o->label = sp->label;
        if (sp->place) {
            int k = agr_place_find(a, sp->place);
            if (k < 0)
                continue;
            o->pt = a->places[k].pt;
            if (sp->kind == SITE_CAMERA || sp->kind == SITE_ACOUSTIC) {
                o->pt = geo_direct(o->pt, 0.0, SITE_OFFSET_M); /* given as coordinates */
                o->place = NULL;
            } else {
                o->place = sp->place;
            }
        } else {
            o->pt = (struct geo_point){sp->lon, sp->lat};
        }
        if (fabs(geo_line_signed_distance_m(s->line->line, o->pt)) > SITE_MAX_LINE_KM * 1000)
            continue;
        slug(o->id, sizeof o->id, SITE_KIND_NAMES[sp->kind], sp->place ? sp->place : sp->label);
        s->n_obs++;
    }
    if (s->n_obs < 2)
        return errf(s->e, ERR_INVAL,
                    "the agreement's gazetteer has fewer than two of the observer places within "
                    "%.0f km of line %s (docs/simulator.md lists them)",
                    SITE_MAX_LINE_KM, s->line->id);
    s->uav_index = s->n_obs;
    str_copy(s->obs[s->n_obs].id, SIM_ID_BYTES, "uav");
    str_copy(s->obs[s->n_obs + 1].id, SIM_ID_BYTES, "satellite");
    /* Clock skew per observer, clamped to 3 standard deviations. */
    for (size_t i = 0; i < s->n_obs; i++) {
        double z = sim_rng_normal(&s->rng);
        if (z > 3)
            z = 3;
        if (z < -3)
            z = -3;
        s->obs[i].skew_ms = z * s->nz->clock_skew_sd_min * MS_PER_MIN;
    }
    return 0;
}

/* The point of the line nearest to p (planar within a segment, good to metres at these
 * scales) and the azimuth of the segment there. */
static void line_nearest(const struct geo_line *l, struct geo_point p, struct geo_point *out,
                         double *azi)
{
    const struct geo_point *v = geo_line_points(l);
    size_t n = geo_line_vertex_count(l);
    double kx = cos(p.lat_deg * DEG2RAD) * 111320.0, ky = 110540.0;
    double best = INFINITY;
    size_t best_i = 0;
    double best_t = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        double ax = (v[i].lon_deg - p.lon_deg) * kx, ay = (v[i].lat_deg - p.lat_deg) * ky;
        double bx = (v[i + 1].lon_deg - p.lon_deg) * kx, by = (v[i + 1].lat_deg - p.lat_deg) * ky;
        double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
        if (t < 0)
            t = 0;
        if (t > 1)
            t = 1;
        double x = ax + t * dx, y = ay + t * dy, d2 = x * x + y * y;
        if (d2 < best) {
            best = d2;
            best_i = i;
            best_t = t;
        }
    }
    const struct geo_point *a = &v[best_i], *b = &v[best_i + 1];
    *out = (struct geo_point){a->lon_deg + best_t * (b->lon_deg - a->lon_deg),
                              a->lat_deg + best_t * (b->lat_deg - a->lat_deg)};
    double d;
    geo_inverse(*a, *b, &d, azi);
}

/* ---- records ---- */

static int64_t day_start_ms(const struct sim *s, int day)
{
    /* Local midnight of the day: the local date at noon of the nominal day, then its midnight
     * (days are 23 or 25 hours long around DST changes). */
    char buf[40];
    time_format_local(s->p->start_ms + (int64_t)day * MS_PER_DAY + 12 * MS_PER_HOUR,
                      s->a->time_zone, buf, sizeof buf);
    int y = 0, m = 0, d = 0;
    int64_t t;
    if (sscanf(buf, "%d-%d-%d", &y, &m, &d) != 3 ||
        time_local_to_utc(y, m, d, 0, 0, s->a->time_zone, &t))
        return s->p->start_ms + (int64_t)day * MS_PER_DAY;
    return t;
}

static json_t *time_json(const struct sim *s, int64_t t)
{
    char buf[40];
    time_format_local(t, s->a->time_zone, buf, sizeof buf);
    return json_string(buf);
}

static int emit(struct sim *s, json_t *feature, int64_t t)
{
    char *text = json_dumps(feature, JSON_FLAGS);
    json_decref(feature);
    if (!text)
        return errf(s->e, ERR_NOMEM, "out of memory writing a record");
    if (s->n_pend == s->cap_pend) {
        s->cap_pend = s->cap_pend ? s->cap_pend * 2 : 1024;
        s->pend = xrealloc(s->pend, s->cap_pend * sizeof *s->pend);
    }
    s->pend[s->n_pend++] = (struct pending){t, s->seq++, text};
    s->st.observations++;
    return 0;
}

static int cmp_pending(const void *x, const void *y)
{
    const struct pending *a = x, *b = y;
    if (a->t_ms != b->t_ms)
        return a->t_ms < b->t_ms ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Writes the pending records that start before `before` in time order. */
static int flush_pending(struct sim *s, int64_t before)
{
    qsort(s->pend, s->n_pend, sizeof *s->pend, cmp_pending);
    size_t k = 0, i = 0;
    for (; i < s->n_pend && s->pend[i].t_ms < before; i++) {
        if (fputs(s->pend[i].json, s->obs_out) == EOF || fputc('\n', s->obs_out) == EOF)
            return errf(s->e, ERR_IO, "cannot write the observations");
        free(s->pend[i].json);
    }
    for (; i < s->n_pend; i++)
        s->pend[k++] = s->pend[i];
    s->n_pend = k;
    return 0;
}

static void new_client_id(struct sim *s, char *out, size_t n)
{
    snprintf(out, n, "sim%llu-%08lld", (unsigned long long)s->p->seed, ++s->next_client);
}

/* A reported count: log-normal around the true one, sometimes "about N". */
static json_t *count_json(struct sim *s, long long truth)
{
    double f = exp(s->nz->count_log_sd * sim_rng_normal(&s->rng));
    long long c = llround((double)truth * f);
    if (c < 1)
        c = 1;
    if (c > 10 && sim_rng_uniform(&s->rng) < s->nz->count_about_p) {
        if (c > 20)
            c = (c + 2) / 5 * 5;
        char buf[40];
        snprintf(buf, sizeof buf, "about %lld", c);
        return json_string(buf);
    }
    return json_integer(c);
}

/* Probability of noticing an event at distance d: near_p up to near_km, then falling linearly
 * to 0 at far_km. */
static double detect_p(double d_km, double near_km, double far_km, double near_p)
{
    if (d_km <= near_km)
        return near_p;
    if (d_km >= far_km)
        return 0;
    return near_p * (far_km - d_km) / (far_km - near_km);
}

static void add_bearing(struct sim *s, const struct observer *o, json_t *props, double az)
{
    const struct sim_noise *nz = s->nz;
    if (o->kind == SITE_PATROL || o->kind == SITE_POST) {
        double b = deg_norm(az + nz->patrol_bearing_sd_deg * sim_rng_normal(&s->rng));
        json_t *arr = json_array();
        json_array_append_new(arr, json_string(geo_compass_word(b)));
        /* Near a boundary between two points the monitor names both. */
        double rel = fmod(b + 11.25, 22.5); /* 0 at a boundary below, 22.5 at the one above */
        if (rel < nz->patrol_two_words_deg)
            json_array_append_new(arr, json_string(geo_compass_word(b - 22.5)));
        else if (22.5 - rel < nz->patrol_two_words_deg)
            json_array_append_new(arr, json_string(geo_compass_word(b + 22.5)));
        json_object_set_new(props, "bearings", arr);
    } else {
        double sd = o->kind == SITE_CAMERA ? nz->camera_bearing_sd_deg : nz->sensor_bearing_sd_deg;
        double tol = o->kind == SITE_CAMERA ? nz->camera_tolerance_deg : nz->sensor_tolerance_deg;
        long long b = llround(deg_norm(az + sd * sim_rng_normal(&s->rng)));
        if (b >= 360)
            b -= 360;
        json_object_set_new(props, "bearings", json_integer(b));
        json_object_set_new(props, "bearing_tolerance_deg", json_real(tol));
    }
}

static void add_distance(struct sim *s, const struct observer *o, json_t *props, double d_m)
{
    const struct sim_noise *nz = s->nz;
    if (o->kind == SITE_CAMERA)
        return; /* a camera cannot judge distance: "at an undetermined distance" */
    if (o->kind != SITE_ACOUSTIC && sim_rng_uniform(&s->rng) < nz->distance_unknown_p)
        return;
    double sd = o->kind == SITE_ACOUSTIC ? nz->sensor_distance_log_sd : nz->distance_log_sd;
    double km = d_m / 1000.0 * exp(sd * sim_rng_normal(&s->rng));
    double lo, hi;
    if (o->kind == SITE_ACOUSTIC) { /* to 0.1 km, +-10 % */
        lo = floor(km * 0.9 * 10) / 10;
        hi = ceil(km * 1.1 * 10) / 10;
    } else { /* whole km, +-25 %: "2-7km" */
        lo = floor(km * 0.75);
        hi = ceil(km * 1.25);
        if (hi <= lo)
            hi = lo + 1;
    }
    if (hi > 100)
        hi = 100;
    if (lo > hi)
        lo = hi;
    json_object_set_new(props, "distance_km", json_pack("[ff]", lo, hi));
}

/* The reported window of an event seen by o: the true one shifted by the observer's clock skew
 * and jitter, widened to the observer's time resolution. */
static json_t *window_json(struct sim *s, const struct observer *o, int64_t t0, int64_t t1,
                           int64_t *reported_start)
{
    double j0 = s->nz->time_jitter_sd_min * MS_PER_MIN * sim_rng_normal(&s->rng);
    double j1 = s->nz->time_jitter_sd_min * MS_PER_MIN * sim_rng_normal(&s->rng);
    int64_t a = t0 + (int64_t)(o->skew_ms + j0), b = t1 + (int64_t)(o->skew_ms + j1);
    int64_t res = o->kind == SITE_ACOUSTIC ? 1000 : o->kind == SITE_CAMERA ? MS_PER_MIN
                                                                             : 5 * MS_PER_MIN;
    a = a / res * res;
    b = (b + res - 1) / res * res;
    if (b < a)
        b = a;
    *reported_start = a;
    return json_pack("{s:o,s:o}", "start", time_json(s, a), "end", time_json(s, b));
}

static json_t *observer_json(const struct observer *o)
{
    if (o->place)
        return json_pack("{s:s}", "place", o->place);
    return json_pack("{s:s,s:o}", "name", o->label, "coordinates", point_json(o->pt));
}

static json_t *weapon_json(const struct weapon_spec *w)
{
    json_t *j = json_pack("{s:s}", "category", w->category);
    if (!isnan(w->calibre_mm))
        json_object_set_new(j, "calibre_mm", json_real(w->calibre_mm));
    return j;
}

static const char *means_of(const struct observer *o)
{
    return o->kind == SITE_CAMERA ? "camera" : o->kind == SITE_ACOUSTIC ? "acoustic" : "patrol";
}

struct true_event {
    long long id;
    int64_t t0, t1;
    const struct weapon_spec *w;
    long long count;
    int party;
    struct geo_point origin, impact, location;
    int day;
};

/* One ground observer's report of the event: bearing and distance to `target`, events of
 * `type`. Returns 0 or an error. */
static int report_fire(struct sim *s, const struct observer *o, const struct true_event *ev,
                       struct geo_point target, const char *type, bool outgoing, json_t *reports)
{
    double d_m, az;
    geo_inverse(o->pt, target, &d_m, &az);
    char cid[SIM_ID_BYTES], ref[64];
    new_client_id(s, cid, sizeof cid);
    snprintf(ref, sizeof ref, "SIM %llu day %d", (unsigned long long)s->p->seed, ev->day + 1);
    json_t *props = json_object();
    json_object_set_new(props, "kind", json_string("fire"));
    json_object_set_new(props, "client_id", json_string(cid));
    json_object_set_new(props, "means", json_string(means_of(o)));
    json_object_set_new(props, "report", json_string(ref));
    int64_t t_rep;
    json_object_set_new(props, "time", window_json(s, o, ev->t0, ev->t1, &t_rep));
    json_object_set_new(props, "observer", observer_json(o));
    add_bearing(s, o, props, az);
    add_distance(s, o, props, d_m);
    json_t *event = json_pack("{s:s,s:o}", "type", type, "count", count_json(s, ev->count));
    /* The weapon is assessed only from close by; a spurious report (id 0) has none. */
    bool spurious = ev->id == 0;
    double d_org = geo_distance_m(o->pt, ev->origin);
    if (spurious)
        ;
    else if (!ev->w->small_arms && d_org < 3000 && sim_rng_uniform(&s->rng) < (outgoing ? 0.5 : 0.2))
        json_object_set_new(event, "weapon", weapon_json(ev->w));
    else if (ev->w->small_arms)
        json_object_set_new(event, "weapon", json_string("small_arms"));
    json_object_set_new(props, "events", json_pack("[o]", event));
    if (!ev->w->small_arms && !spurious) {
        double d_imp = geo_distance_m(o->pt, ev->impact);
        double near = s->nz->flight_direction_km * 1000;
        if ((d_org < near || d_imp < near) && sim_rng_uniform(&s->rng) < s->nz->flight_direction_p) {
            double d, fly;
            geo_inverse(ev->origin, ev->impact, &d, &fly);
            fly += s->nz->flight_direction_sd_deg * sim_rng_normal(&s->rng);
            json_object_set_new(props, "flight_direction",
                                json_pack("{s:s,s:s}", "from", geo_compass_word(fly + 180), "to",
                                          geo_compass_word(fly)));
        }
    }
    json_t *f = json_pack("{s:s,s:n,s:o}", "type", "Feature", "geometry", "properties", props);
    json_array_append_new(reports, json_pack("{s:s,s:s}", "client_id", cid, "observer", o->id));
    return emit(s, f, t_rep);
}

/* A located detection of the craters by UAV or satellite imagery the next morning. */
static int report_detection(struct sim *s, const struct true_event *ev, bool satellite,
                            json_t *reports)
{
    const struct sim_noise *nz = s->nz;
    double acc = satellite ? nz->satellite_accuracy_m
                           : nz->uav_accuracy_m[sim_rng_next(&s->rng) % 3];
    /* 2-D normal error with 95 % of positions within acc: sigma = acc / sqrt(-2 ln 0.05). */
    double sigma = acc / 2.4477;
    double r = sigma * sqrt(-2.0 * log(1.0 - sim_rng_uniform(&s->rng)));
    struct geo_point p = geo_direct(ev->impact, sim_rng_range(&s->rng, 0, 360), r);
    int64_t morning = day_start_ms(s, (int)((ev->t0 - s->p->start_ms) / MS_PER_DAY) + 1);
    if (morning <= ev->t1)
        morning = day_start_ms(s, (int)((ev->t0 - s->p->start_ms) / MS_PER_DAY) + 2);
    int64_t t_det = morning + (satellite ? 10 * MS_PER_HOUR + 30 * MS_PER_MIN
                                         : 7 * MS_PER_HOUR + (int64_t)sim_rng_range(
                                                                  &s->rng, 0, 4 * MS_PER_HOUR));
    t_det = t_det / 1000 * 1000;
    int64_t since = t_det - (satellite ? 72 : 36) * MS_PER_HOUR;
    long long craters = llround((double)ev->count * sim_rng_range(&s->rng, 0.4, 0.9));
    if (craters < 1)
        craters = 1;
    char cid[SIM_ID_BYTES], cnt[48];
    new_client_id(s, cid, sizeof cid);
    snprintf(cnt, sizeof cnt, "at least %lld", craters);
    json_t *props = json_pack(
        "{s:s,s:s,s:s,s:f,s:{s:o,s:o},s:[{s:s,s:s}]}", "kind", "detection", "client_id", cid,
        "means", satellite ? "satellite" : "uav", "accuracy_m", acc, "time", "start",
        time_json(s, since), "end", time_json(s, t_det), "events", "type", "impact", "count", cnt);
    json_t *f = json_pack("{s:s,s:{s:s,s:o},s:o}", "type", "Feature", "geometry", "type", "Point",
                          "coordinates", point_json(p), "properties", props);
    json_array_append_new(reports, json_pack("{s:s,s:s}", "client_id", cid, "observer",
                                             s->obs[s->uav_index + (satellite ? 1 : 0)].id));
    return emit(s, f, t_det); /* it arrives when the imagery is read */
}

/* A spurious report: explosions nobody fired (misheard, or another event out of the scenario). */
static int report_false(struct sim *s, const struct observer *o, int64_t t)
{
    struct true_event ev = {.t0 = t, .t1 = t + 2 * MS_PER_MIN, .w = &WEAPONS[0], .count = 2,
                            .day = (int)((t - s->p->start_ms) / MS_PER_DAY)};
    struct geo_point target =
        geo_direct(o->pt, sim_rng_range(&s->rng, 0, 360), sim_rng_range(&s->rng, 1000, 8000));
    ev.origin = ev.impact = target;
    json_t *reports = json_array();
    int rc = report_fire(s, o, &ev, target, "undetermined_explosion", false, reports);
    json_array_extend(s->false_reports, reports);
    json_decref(reports);
    s->st.false_reports++;
    return rc;
}

/* Places a true event of weapon w fired by `party` near a random ground observer. */
static int place_event(struct sim *s, const struct weapon_spec *w, int party,
                       struct true_event *ev)
{
    const struct agreement *a = s->a;
    double sign = party == s->right_party ? 1.0 : -1.0;
    for (int attempt = 0; attempt < 200; attempt++) {
        const struct observer *anchor = &s->obs[sim_rng_next(&s->rng) % s->n_obs];
        struct geo_point near = geo_direct(anchor->pt, sim_rng_range(&s->rng, 0, 360),
                                           sim_rng_range(&s->rng, 0, 7000));
        struct geo_point on;
        double az;
        line_nearest(s->line->line, near, &on, &az);
        double behind = sim_rng_range(&s->rng, w->behind_min_km, w->behind_max_km) * 1000;
        double across = sim_rng_range(&s->rng, w->across_min_km, w->across_max_km) * 1000;
        ev->origin = geo_direct(on, az + 90 * sign, behind);
        ev->impact = geo_direct(on, az - 90 * sign, across);
        double so = geo_line_signed_distance_m(s->line->line, ev->origin) * sign;
        double si = geo_line_signed_distance_m(s->line->line, ev->impact) * sign;
        /* The origin must be on its party's side by most of the distance drawn, and held by
         * that party (the control areas are drawn independently of the line); the impact on
         * the other side. */
        if (so < 0.8 * behind || si > -0.5 * across)
            continue;
        const char *ctl = agr_control_at(a, ev->origin);
        if (ctl && strcmp(ctl, a->parties[party].id))
            continue;
        ev->location = w->small_arms ? ev->origin : ev->impact;
        return 0;
    }
    return errf(s->e, ERR_INVAL, "cannot place events on line %s: no position behind it was "
                "held by party %s", s->line->id, a->parties[party].id);
}

static int write_truth_event(struct sim *s, const struct true_event *ev, json_t *reports,
                             int n_observers)
{
    json_t *w = weapon_json(ev->w);
    if (ev->w->model)
        json_object_set_new(w, "model", json_string(ev->w->model));
    json_t *j = json_pack("{s:I,s:o,s:o,s:s,s:o,s:I,s:s,s:o,s:o,s:o,s:i,s:o}", "id",
                          (json_int_t)ev->id, "start", time_json(s, ev->t0), "end",
                          time_json(s, ev->t1), "type", ev->w->small_arms ? "burst" : "impact",
                          "weapon", w, "count", (json_int_t)ev->count, "party",
                          s->a->parties[ev->party].id, "location", point_json(ev->location),
                          "impact", point_json(ev->impact), "origin", point_json(ev->origin),
                          "observers", n_observers, "reports", reports);
    char *text = json_dumps(j, JSON_FLAGS);
    json_decref(j);
    if (!text)
        return errf(s->e, ERR_NOMEM, "out of memory writing the truth");
    int rc = fprintf(s->truth_out, "%s\n%s", s->first_event ? "" : ",", text) < 0 ? -1 : 0;
    s->first_event = false;
    free(text);
    return rc ? errf(s->e, ERR_IO, "cannot write the truth file") : 0;
}

static const struct weapon_spec *pick_weapon(struct sim *s)
{
    double total = 0;
    for (size_t i = 0; i < N_WEAPONS; i++)
        total += WEAPONS[i].weight;
    double x = sim_rng_uniform(&s->rng) * total;
    for (size_t i = 0; i < N_WEAPONS; i++) {
        if (x < WEAPONS[i].weight)
            return &WEAPONS[i];
        x -= WEAPONS[i].weight;
    }
    return &WEAPONS[N_WEAPONS - 1];
}

static bool on_duty(const struct observer *o, int64_t t, int64_t day0)
{
    if (o->kind != SITE_PATROL)
        return true;
    int64_t off = t - day0;
    return o->on_duty_today && off >= PATROL_FROM_HOUR * MS_PER_HOUR &&
           off < PATROL_TO_HOUR * MS_PER_HOUR;
}

static int simulate_event(struct sim *s, int day, int64_t day0)
{
    const struct sim_noise *nz = s->nz;
    struct true_event ev = {.id = ++s->next_event, .day = day};
    /* Time: 60 % in the evening and night (17:00 to 02:00 local), the rest at any hour. */
    int64_t off = sim_rng_uniform(&s->rng) < 0.6
                      ? 17 * MS_PER_HOUR + (int64_t)sim_rng_range(&s->rng, 0, 9 * MS_PER_HOUR)
                      : (int64_t)sim_rng_range(&s->rng, 0, 24 * MS_PER_HOUR);
    ev.t0 = (day0 + off) / 1000 * 1000;
    ev.w = pick_weapon(s);
    ev.t1 = ev.t0 + (int64_t)(sim_rng_range(&s->rng, ev.w->dur_min_min, ev.w->dur_max_min) *
                              MS_PER_MIN) / 1000 * 1000;
    ev.count = ev.w->count_min +
               (long long)(sim_rng_next(&s->rng) % (uint64_t)(ev.w->count_max - ev.w->count_min + 1));
    ev.party = sim_rng_uniform(&s->rng) < 0.5 ? s->right_party : s->left_party;
    int rc = place_event(s, ev.w, ev.party, &ev);
    if (rc)
        return rc;

    json_t *reports = json_array();
    int n_observers = 0;
    for (size_t i = 0; i < s->n_obs && !rc; i++) {
        const struct observer *o = &s->obs[i];
        if (!on_duty(o, ev.t0, day0))
            continue;
        bool reported = false;
        double range = o->kind == SITE_ACOUSTIC ? 1.5 : 1.0;
        if (ev.w->small_arms) {
            double d = geo_distance_m(o->pt, ev.origin) / 1000;
            if (sim_rng_uniform(&s->rng) < detect_p(d, nz->smallarms_near_km * range,
                                                   nz->smallarms_far_km * range,
                                                   nz->smallarms_near_p)) {
                rc = report_fire(s, o, &ev, ev.origin, "burst", false, reports);
                reported = true;
            }
        } else {
            double d = geo_distance_m(o->pt, ev.impact) / 1000;
            if (sim_rng_uniform(&s->rng) < detect_p(d, nz->explosion_near_km * range,
                                                   nz->explosion_far_km * range,
                                                   nz->explosion_near_p)) {
                const char *type = d < 5 && sim_rng_uniform(&s->rng) < 0.4
                                       ? "impact" : "undetermined_explosion";
                rc = report_fire(s, o, &ev, ev.impact, type, false, reports);
                reported = true;
            }
            double dorg = geo_distance_m(o->pt, ev.origin) / 1000;
            if (!rc && sim_rng_uniform(&s->rng) < detect_p(dorg, nz->outgoing_near_km,
                                                          nz->outgoing_far_km,
                                                          nz->outgoing_near_p)) {
                rc = report_fire(s, o, &ev, ev.origin, "outgoing", true, reports);
                reported = true;
            }
        }
        n_observers += reported;
    }
    if (!rc && !ev.w->small_arms && sim_rng_uniform(&s->rng) < nz->uav_p) {
        rc = report_detection(s, &ev, false, reports);
        n_observers++;
    }
    if (!rc && !ev.w->small_arms && sim_rng_uniform(&s->rng) < nz->satellite_p) {
        rc = report_detection(s, &ev, true, reports);
        n_observers++;
    }
    s->st.events++;
    s->st.reported_events += n_observers >= 1;
    s->st.multi_events += n_observers >= 2;
    if (!rc)
        rc = write_truth_event(s, &ev, reports, n_observers);
    else
        json_decref(reports);
    return rc;
}

static int simulate_day(struct sim *s, int day)
{
    int64_t day0 = day_start_ms(s, day), day1 = day_start_ms(s, day + 1);
    for (size_t i = 0; i < s->n_obs; i++)
        s->obs[i].on_duty_today = s->obs[i].kind != SITE_PATROL ||
                                  sim_rng_uniform(&s->rng) < s->nz->patrol_available_p;
    int rc = 0;
    for (int k = 0; k < s->p->events_per_day && !rc; k++)
        rc = simulate_event(s, day, day0);
    /* Spurious reports of observers on duty. */
    for (size_t i = 0; i < s->n_obs && !rc; i++) {
        const struct observer *o = &s->obs[i];
        if (!o->on_duty_today)
            continue;
        int n = sim_rng_poisson(&s->rng, s->nz->false_reports_per_day);
        for (int k = 0; k < n && !rc; k++) {
            int64_t t = o->kind == SITE_PATROL
                            ? day0 + PATROL_FROM_HOUR * MS_PER_HOUR +
                                  (int64_t)sim_rng_range(&s->rng, 0, (PATROL_TO_HOUR - PATROL_FROM_HOUR -
                                                                      1) * MS_PER_HOUR)
                            : day0 + (int64_t)sim_rng_range(&s->rng, 0, 23 * MS_PER_HOUR);
            rc = report_false(s, o, t / 1000 * 1000);
        }
    }
    if (!rc)
        rc = flush_pending(s, day1);
    return rc;
}

static int write_truth_head(struct sim *s)
{
    const struct sim_noise *nz = s->nz;
    json_t *noise = json_pack(
        "{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "patrol_bearing_sd_deg",
        nz->patrol_bearing_sd_deg, "patrol_two_words_deg", nz->patrol_two_words_deg,
        "camera_bearing_sd_deg", nz->camera_bearing_sd_deg, "sensor_bearing_sd_deg",
        nz->sensor_bearing_sd_deg, "distance_log_sd", nz->distance_log_sd, "sensor_distance_log_sd",
        nz->sensor_distance_log_sd, "distance_unknown_p",
        nz->distance_unknown_p, "count_log_sd", nz->count_log_sd, "clock_skew_sd_min",
        nz->clock_skew_sd_min, "time_jitter_sd_min", nz->time_jitter_sd_min, "uav_p", nz->uav_p,
        "satellite_p", nz->satellite_p, "false_reports_per_day", nz->false_reports_per_day);
    json_t *parties = json_array();
    for (size_t i = 0; i < s->a->n_parties; i++)
        json_array_append_new(parties, json_string(s->a->parties[i].id));
    json_t *observers = json_array();
    for (size_t i = 0; i < s->n_obs + 2; i++) {
        const struct observer *o = &s->obs[i];
        json_t *j = json_pack("{s:s}", "id", o->id);
        if (i < s->n_obs) {
            json_object_set_new(j, "means", json_string(means_of(o)));
            json_object_set_new(j, "name", json_string(o->label ? o->label : o->place));
            json_object_set_new(j, "position", point_json(o->pt));
            json_object_set_new(j, "hours", json_string(o->kind == SITE_PATROL ? "08:00-17:00"
                                                                               : "00:00-24:00"));
        } else {
            json_object_set_new(j, "means", json_string(i == s->n_obs ? "uav" : "satellite"));
        }
        json_array_append_new(observers, j);
    }
    json_t *h = json_pack("{s:s,s:s,s:I,s:o,s:i,s:i,s:s,s:o,s:o,s:o}", "format",
                          "truce-sim-truth/1", "agreement", s->a->id, "seed",
                          (json_int_t)s->p->seed, "start", time_json(s, s->p->start_ms), "days",
                          s->p->days, "events_per_day", s->p->events_per_day, "line",
                          s->line->id, "parties", parties, "noise", noise, "observers",
                          observers);
    char *text = json_dumps(h, JSON_FLAGS);
    json_decref(h);
    if (!text)
        return errf(s->e, ERR_NOMEM, "out of memory writing the truth");
    size_t n = strlen(text);
    text[n - 1] = 0; /* drop the closing brace: events follow */
    int rc = fprintf(s->truth_out, "%s,\"events\":[", text) < 0;
    free(text);
    return rc ? errf(s->e, ERR_IO, "cannot write the truth file") : 0;
}

static int write_truth_tail(struct sim *s)
{
    char *text = json_dumps(s->false_reports, JSON_FLAGS);
    if (!text)
        return errf(s->e, ERR_NOMEM, "out of memory writing the truth");
    int rc = fprintf(s->truth_out, "\n],\"false_reports\":%s}\n", text) < 0;
    free(text);
    if (!rc)
        rc = fflush(s->truth_out) != 0;
    return rc ? errf(s->e, ERR_IO, "cannot write the truth file") : 0;
}

int sim_run(const struct agreement *a, const struct sim_params *p, FILE *obs_out,
            FILE *truth_out, sim_progress_fn progress, void *ctx, struct sim_stats *stats,
            struct errbuf *e)
{
    if (p->days < 1 || p->days > SIM_MAX_DAYS)
        return errf(e, ERR_INVAL, "days: %d is not from 1 to %d", p->days, SIM_MAX_DAYS);
    if (p->events_per_day < 1 || p->events_per_day > SIM_MAX_EVENTS_PER_DAY)
        return errf(e, ERR_INVAL, "events per day: %d is not from 1 to %d", p->events_per_day,
                    SIM_MAX_EVENTS_PER_DAY);
    if ((long long)p->days * p->events_per_day > SIM_MAX_TOTAL_EVENTS)
        return errf(e, ERR_INVAL, "days x events per day: %lld is over %lld",
                    (long long)p->days * p->events_per_day, SIM_MAX_TOTAL_EVENTS);
    if (a->n_lines < 1 || !a->lines[0].right_party || !a->lines[0].left_party)
        return errf(e, ERR_INVAL, "agreement %s: the simulator needs a line with a party on each "
                    "side (right_party, left_party)", a->id);
    struct sim s = {.a = a, .p = p, .nz = &p->noise, .line = &a->lines[0], .obs_out = obs_out,
                    .truth_out = truth_out, .first_event = true, .e = e};
    struct sim_params defaults;
    if (p->start_ms == TIME_NONE) {
        defaults = *p;
        if (time_local_to_utc(2016, 10, 1, 0, 0, a->time_zone, &defaults.start_ms))
            return errf(e, ERR_INVAL, "agreement time zone %s is unknown", a->time_zone);
        s.p = &defaults;
        s.nz = &defaults.noise;
    }
    s.right_party = agr_party_index(a, s.line->right_party);
    s.left_party = agr_party_index(a, s.line->left_party);
    if (s.right_party < 0 || s.left_party < 0 || s.right_party == s.left_party)
        return errf(e, ERR_INVAL, "line %s needs two different parties on its sides", s.line->id);
    sim_rng_seed(&s.rng, p->seed);
    s.false_reports = json_array();
    int rc = setup_observers(&s);
    if (!rc)
        rc = write_truth_head(&s);
    for (int d = 0; d < s.p->days && !rc; d++) {
        rc = simulate_day(&s, d);
        if (!rc && progress)
            progress(ctx, d + 1, s.p->days, s.st.observations);
    }
    if (!rc)
        rc = flush_pending(&s, INT64_MAX);
    if (!rc && fflush(obs_out))
        rc = errf(e, ERR_IO, "cannot write the observations");
    if (!rc)
        rc = write_truth_tail(&s);
    s.st.observers = s.n_obs + 2;
    if (stats)
        *stats = s.st;
    for (size_t i = 0; i < s.n_pend; i++)
        free(s.pend[i].json);
    free(s.pend);
    free(s.obs);
    json_decref(s.false_reports);
    return rc;
}
