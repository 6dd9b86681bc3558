/* fusion.c: the fusion engine (see fusion.h and docs/fusion.md): conversion of a placed report,
 * the time-bucket x grid-cell index, the "same event" test, union-find over reports, and the
 * summary of an incident (reconciled counts; location in fusion_locate.c, attribution in
 * fusion_attribute.c, output in fusion_json.c). */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion_int.h"

const char *const FUSION_LOC_NAMES[5] = {"triangulated", "detection", "sector", "circle",
                                         "observer"};
const char *const FUSION_ORIGIN_NAMES[5] = {"none", "outgoing_observed", "launch_triangulated",
                                            "flight_direction", "impact_side"};
const char *const FUSION_GRADE_NAMES[4] = {"confirmed", "probable", "possible", "undetermined"};

/* ---- conversion ---- */

static unsigned groups_of(const long long *counts)
{
    unsigned g = 0;
    int burst = agr_event_type_index("burst"), shot = agr_event_type_index("shot");
    for (int t = 0; t < AGR_N_EVENT_TYPES && t < FUSION_N_EVENT_TYPES; t++) {
        if (!counts[t])
            continue;
        g |= (t == burst || t == shot) ? FUSION_G_SMALL_ARMS : FUSION_G_HEAVY;
    }
    return g;
}

static uint8_t role_of(const long long *counts)
{
    int outgoing = agr_event_type_index("outgoing");
    bool launch = outgoing >= 0 && counts[outgoing] != 0, lands = false;
    for (int t = 0; t < AGR_N_EVENT_TYPES && t < FUSION_N_EVENT_TYPES; t++)
        if (t != outgoing && counts[t] != 0 && agr_event_is_explosion(t))
            lands = true;
    return lands ? FUSION_ROLE_EXPLOSIVE : launch ? FUSION_ROLE_LAUNCH : FUSION_ROLE_OTHER;
}

/* The bearings as one arc: the smallest arc holding every bearing interval (the complement of
 * the largest gap between them). False when the intervals cover the whole circle. */
static bool bearings_arc(const struct obs *o, double *centre, double *half)
{
    size_t n = o->n_bearings;
    double lo[GEO_SECTOR_MAX_BEARINGS], hi[GEO_SECTOR_MAX_BEARINGS];
    for (size_t i = 0; i < n; i++) {
        lo[i] = fmod(o->bearing_deg[i] - o->bearing_half_width_deg[i] + 720.0, 360.0);
        hi[i] = lo[i] + 2 * o->bearing_half_width_deg[i];
        if (2 * o->bearing_half_width_deg[i] >= 360.0)
            return false;
    }
    /* sort by start */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && lo[j] < lo[j - 1]; j--) {
            double t = lo[j]; lo[j] = lo[j - 1]; lo[j - 1] = t;
            t = hi[j]; hi[j] = hi[j - 1]; hi[j - 1] = t;
        }
    /* the largest gap between the end of the covered run and the next start, circularly */
    double best_gap = -1, gap_end = 0;
    double reach = hi[0];
    for (size_t i = 1; i <= n; i++) {
        double next = i < n ? lo[i] : lo[0] + 360.0;
        if (next > reach && next - reach > best_gap) {
            best_gap = next - reach;
            gap_end = next;
        }
        if (i < n && hi[i] > reach)
            reach = hi[i];
    }
    if (best_gap <= 0)
        return false;
    double span = 360.0 - best_gap;
    *half = span / 2;
    *centre = fmod(gap_end + span / 2, 360.0);
    return true;
}

bool fusion_obs_from(const struct obs *o, const struct placement *p, int64_t id,
                     struct fusion_obs *f)
{
    if ((o->kind != OBS_FIRE && o->kind != OBS_DETECTION) || !o->n_events)
        return false;
    memset(f, 0, sizeof *f);
    f->id = id;
    f->client_id = o->client_id;
    f->t_start_ms = o->t_start_ms;
    f->t_end_ms = o->t_end_ms;
    f->kind = o->kind;
    f->means = o->means;
    f->how = p->how;
    f->centre = p->centre;
    f->radius_m = p->radius_m;
    f->has_observer = o->has_observer && !o->has_location;
    f->observer = o->observer;
    f->distance_assumed = p->distance_assumed;
    f->dist_min_m = isnan(o->dist_min_m) ? 0 : o->dist_min_m;
    f->dist_max_m = isnan(o->dist_max_m) ? (p->how == PLACE_SECTOR || p->how == PLACE_CIRCLE
                                                ? p->radius_m : 0)
                                         : o->dist_max_m;
    if (p->how == PLACE_SECTOR && p->distance_assumed) {
        /* placement assumed 0 .. the family's default distance (the sector reaches that far,
         * not only as far as the radius of its bounding circle) */
        f->dist_min_m = 0;
        f->dist_max_m = place_assumed_distance_m(o);
    }
    f->has_bearing = p->how == PLACE_SECTOR && bearings_arc(o, &f->bearing_deg, &f->half_width_deg);
    bool any = false;
    for (size_t i = 0; i < o->n_events; i++) {
        int t = o->events[i].type;
        if (t < 0 || t >= FUSION_N_EVENT_TYPES)
            continue;
        long long c = o->events[i].qualifier == OBS_Q_UNCOUNTABLE ? -1 : o->events[i].count;
        if (c == 0)
            continue;
        any = true;
        /* several rows of one type in one report add up (different weapons) */
        if (c < 0) {
            if (!f->counts[t])
                f->counts[t] = -1;
        } else {
            f->counts[t] = (f->counts[t] > 0 ? f->counts[t] : 0) + c;
        }
    }
    if (!any)
        return false;
    f->flight_from_deg = NAN;
    f->flight_half_deg = NAN;
    if (o->flight_from[0]) {
        double az, hw;
        if (!geo_compass_parse(o->flight_from, &az, &hw)) {
            f->flight_from_deg = az;
            f->flight_half_deg = hw;
        }
    }
    return true;
}

/* ---- the engine ---- */

struct fusion *fusion_new(const struct agreement *a)
{
    if (AGR_N_EVENT_TYPES > FUSION_N_EVENT_TYPES)
        return NULL;
    struct fusion *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->a = a;
    buf_init(&f->names);
    return f;
}

static void table_clear(struct key_table *t);
static void table_free(struct key_table *t);

void fusion_free(struct fusion *f)
{
    if (!f)
        return;
    free(f->v);
    buf_reset(&f->names);
    table_free(&f->ix);
    table_free(&f->launch_ix);
    table_free(&f->landing_ix);
    free(f->observers.keys);
    free(f->observers.slot);
    free(f->links.keys);
    free(f->links.linked);
    free(f->ids);
    free(f->members);
    free(f->ev_ids);
    free(f->ev_names);
    free(f->dirty);
    free(f);
}

size_t fusion_obs_count(const struct fusion *f) { return f->n; }

void fusion_count_skipped(struct fusion *f) { f->skipped++; }

size_t fusion_skipped(const struct fusion *f) { return f->skipped; }

size_t fusion_comparisons(const struct fusion *f) { return f->comparisons; }

void fusion_clear(struct fusion *f)
{
    f->skipped = 0;
    f->comparisons = 0;
    f->n_dirty = 0;
    f->n = 0;
    f->names.len = 0;
    table_clear(&f->ix);
    table_clear(&f->launch_ix);
    table_clear(&f->landing_ix);
    f->observers.used = 0;
    for (size_t i = 0; i < f->observers.cap; i++)
        f->observers.slot[i] = UINT32_MAX;
    f->links.used = 0;
    if (f->links.keys)
        memset(f->links.keys, 0, f->links.cap * sizeof *f->links.keys);
}

const struct agreement *fusion_agreement(const struct fusion *f) { return f->a; }

void fusion_set_versions(struct fusion *f, const struct store_agreements *ag) { f->versions = ag; }

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return ERR_NOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

static uint64_t key_of(int64_t bucket, int cx, int cy)
{
    return ((uint64_t)(uint32_t)bucket << 32) | ((uint64_t)(uint16_t)cx << 16) | (uint16_t)cy;
}

static size_t key_hash(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static int table_rehash(struct key_table *t)
{
    size_t nc = t->tcap ? t->tcap * 2 : 4096;
    uint64_t *nk = malloc(nc * sizeof *nk);
    uint32_t *nh = malloc(nc * sizeof *nh);
    if (!nk || !nh) {
        free(nk);
        free(nh);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        nh[i] = UINT32_MAX;
    for (size_t i = 0; i < t->tcap; i++) {
        if (t->heads[i] == UINT32_MAX)
            continue;
        size_t h = key_hash(t->keys[i], nc);
        while (nh[h] != UINT32_MAX)
            h = (h + 1) & (nc - 1);
        nk[h] = t->keys[i];
        nh[h] = t->heads[i];
    }
    free(t->keys);
    free(t->heads);
    t->keys = nk;
    t->heads = nh;
    t->tcap = nc;
    return 0;
}

/* The slot of key k (inserting an empty one when `create`); SIZE_MAX when absent. */
static size_t table_slot(struct key_table *t, uint64_t k, bool create)
{
    if (!t->tcap) {
        if (!create || table_rehash(t))
            return SIZE_MAX;
    }
    size_t h = key_hash(k, t->tcap);
    while (t->heads[h] != UINT32_MAX) {
        if (t->keys[h] == k)
            return h;
        h = (h + 1) & (t->tcap - 1);
    }
    if (!create)
        return SIZE_MAX;
    if ((t->tused + 1) * 2 > t->tcap) {
        if (table_rehash(t))
            return SIZE_MAX;
        return table_slot(t, k, true);
    }
    t->keys[h] = k;
    t->tused++;
    return h;
}

/* The reports filed under key k, or NULL. */
static struct key_vec *table_get(const struct key_table *t, uint64_t k)
{
    if (!t->tcap)
        return NULL;
    size_t h = key_hash(k, t->tcap);
    while (t->heads[h] != UINT32_MAX) {
        if (t->keys[h] == k)
            return &t->vecs[t->heads[h]];
        h = (h + 1) & (t->tcap - 1);
    }
    return NULL;
}

/* Files c under key k. */
static int table_push(struct key_table *t, uint64_t k, const struct cand *c)
{
    size_t slot = table_slot(t, k, true);
    if (slot == SIZE_MAX)
        return ERR_NOMEM;
    if (t->heads[slot] == UINT32_MAX) {
        if (grow((void **)&t->vecs, &t->vecs_cap, t->n_vecs + 1, sizeof *t->vecs))
            return ERR_NOMEM;
        t->vecs[t->n_vecs] = (struct key_vec){NULL, NULL, 0, 0, 0, 0};
        t->heads[slot] = (uint32_t)t->n_vecs++;
    }
    struct key_vec *kv = &t->vecs[t->heads[slot]];
    if (kv->n == kv->cap) {
        uint32_t nc = kv->cap ? kv->cap * 2 : 4;
        struct cand *nv = realloc(kv->v, nc * sizeof *nv);
        if (!nv)
            return ERR_NOMEM;
        kv->v = nv;
        kv->cap = nc;
    }
    kv->v[kv->n++] = *c;
    return 0;
}

/* Copies candidate c of kv to its full list and marks it gone from v (unpark_gaps removes the
 * marks); false, and nothing changed, without memory (the candidate then just stays). */
static bool park(struct key_vec *kv, uint32_t c)
{
    if (kv->n_full == kv->full_cap) {
        uint32_t nc = kv->full_cap ? kv->full_cap * 2 : 4;
        struct cand *nv = realloc(kv->full, nc * sizeof *nv);
        if (!nv)
            return false;
        kv->full = nv;
        kv->full_cap = nc;
    }
    kv->full[kv->n_full++] = kv->v[c];
    kv->v[c].obs = UINT32_MAX;
    kv->v[c].groups = 0; /* passes no later test of this scan */
    return true;
}

/* Removes the candidates park marked from kv->v, keeping the others' order. */
static void unpark_gaps(struct key_vec *kv)
{
    uint32_t w = 0;
    for (uint32_t c = 0; c < kv->n; c++)
        if (kv->v[c].obs != UINT32_MAX)
            kv->v[w++] = kv->v[c];
    kv->n = w;
}

static void table_clear(struct key_table *t)
{
    for (size_t i = 0; i < t->n_vecs; i++) {
        free(t->vecs[i].v);
        free(t->vecs[i].full);
    }
    t->n_vecs = 0;
    t->tused = 0;
    for (size_t i = 0; i < t->tcap; i++)
        t->heads[i] = UINT32_MAX;
}

static void table_free(struct key_table *t)
{
    table_clear(t);
    free(t->keys);
    free(t->heads);
    free(t->vecs);
}

/* Metres per degree of latitude and longitude at latitude lat (WGS84, series). */
static void m_per_deg(double lat, double *mlat, double *mlon)
{
    /* cos 2p, 4p and 3p from cos p by the multiple-angle identities: one cosine, not four */
    double c = cos(lat * DEG);
    double c2 = 2 * c * c - 1, c4 = 2 * c2 * c2 - 1, c3 = (4 * c * c - 3) * c;
    *mlat = 111132.954 - 559.822 * c2 + 1.175 * c4;
    *mlon = 111412.84 * c - 93.5 * c3;
}

/* The index keys of o: every bucket of [start, end + tolerance] times every cell of the bounding
 * box of its region. Returns their number, or 0 when o is not indexed. */
static size_t keys_of(const struct fusion_obs *o, double extra_m, uint64_t *out)
{
    double mlat, mlon;
    m_per_deg(o->centre.lat_deg, &mlat, &mlon);
    double r = o->radius_m + FUSION_SPACE_TOLERANCE_M + extra_m;
    double dlat = r / mlat, dlon = r / fmax(mlon, 1000.0);
    int x0 = (int)floor((o->centre.lon_deg - dlon + 180.0) / FUSION_CELL_DEG);
    int x1 = (int)floor((o->centre.lon_deg + dlon + 180.0) / FUSION_CELL_DEG);
    int y0 = (int)floor((o->centre.lat_deg - dlat + 90.0) / FUSION_CELL_DEG);
    int y1 = (int)floor((o->centre.lat_deg + dlat + 90.0) / FUSION_CELL_DEG);
    int64_t b0 = o->t_start_ms / (FUSION_BUCKET_S * 1000LL);
    int64_t b1 = (o->t_end_ms + FUSION_TIME_TOLERANCE_S * 1000LL) / (FUSION_BUCKET_S * 1000LL);
    size_t n = 0;
    for (int64_t b = b0; b <= b1; b++)
        for (int x = x0; x <= x1; x++)
            for (int y = y0; y <= y1; y++) {
                if (n == FUSION_MAX_KEYS)
                    return 0;
                out[n++] = key_of(b, x, y);
            }
    return n;
}

/* The keys of the launch and landing tables: (10 minutes of the start, 0.25 degree cell).
 * With `query`, every key a partner can be filed under: the start buckets within
 * FUSION_LAUNCH_START_S, the cells within FUSION_MAX_FIRE_RANGE_M plus both regions; else the
 * one key of the report itself. */
#define FUSION_PAIR_BUCKET_S 600
#define FUSION_PAIR_CELL_DEG 2.0
static size_t pair_keys(const struct fusion_obs *o, bool query, uint64_t *out)
{
    int64_t b0 = o->t_start_ms / (FUSION_PAIR_BUCKET_S * 1000LL), b1 = b0;
    double r = 0;
    if (query) {
        b0 = (o->t_start_ms - FUSION_LAUNCH_START_S * 1000LL - 60000) / (FUSION_PAIR_BUCKET_S * 1000LL);
        b1 = (o->t_start_ms + FUSION_LAUNCH_START_S * 1000LL + 60000) / (FUSION_PAIR_BUCKET_S * 1000LL);
        r = FUSION_MAX_FIRE_RANGE_M + o->radius_m + FUSION_PAIR_MAX_RADIUS_M + 100.0;
    }
    double mlat, mlon;
    m_per_deg(o->centre.lat_deg, &mlat, &mlon);
    double dlat = r / mlat, dlon = r / fmax(mlon, 1000.0);
    int x0 = (int)floor((o->centre.lon_deg - dlon + 180.0) / FUSION_PAIR_CELL_DEG);
    int x1 = (int)floor((o->centre.lon_deg + dlon + 180.0) / FUSION_PAIR_CELL_DEG);
    int y0 = (int)floor((o->centre.lat_deg - dlat + 90.0) / FUSION_PAIR_CELL_DEG);
    int y1 = (int)floor((o->centre.lat_deg + dlat + 90.0) / FUSION_PAIR_CELL_DEG);
    size_t n = 0;
    for (int64_t b = b0; b <= b1; b++)
        for (int x = x0; x <= x1; x++)
            for (int y = y0; y <= y1; y++)
                if (n < FUSION_MAX_KEYS)
                    out[n++] = key_of(b, x, y);
    return n;
}

/* ---- the "same place" test in a local plane (metres east and north of a reference) ---- */

#define SHAPE_MAX 40
struct shape {
    size_t n;
    struct xy p[SHAPE_MAX];
};

static struct xy to_xy(struct geo_point p, struct geo_point ref, double mlat, double mlon)
{
    return (struct xy){(p.lon_deg - ref.lon_deg) * mlon, (p.lat_deg - ref.lat_deg) * mlat};
}

/* The per-report half of an outline (struct fobs's arc and box), made once, on the report's
 * first outline test: the sine and cosine of the sector's first angle and of its step, the pushed-out outer
 * radius, and the box of the outline's offsets from its anchor (the observer of a sector, the
 * centre of a circle) in single precision rounded outwards. */
static void outline_prepare(struct fobs *x)
{
    const struct fusion_obs *o = &x->o;
    x->outlined = true;
    double lo_x = 0, hi_x = 0, lo_y = 0, hi_y = 0;
    if (o->has_bearing && o->has_observer) {
        const int k = 8;
        double a0 = (o->bearing_deg - o->half_width_deg) * DEG;
        double a1 = (o->bearing_deg + o->half_width_deg) * DEG;
        /* the outer arc is pushed out so the chords do not cut the true arc */
        double step = (a1 - a0) / k;
        x->arc[0] = sin(a0);
        x->arc[1] = cos(a0);
        x->arc[2] = sin(step);
        x->arc[3] = cos(step);
        x->arc[4] = o->dist_max_m / cos(step / 2);
        double us = x->arc[0], uc = x->arc[1];
        for (int i = 0; i <= k; i++) {
            if (i) {
                double ns = us * x->arc[3] + uc * x->arc[2];
                uc = uc * x->arc[3] - us * x->arc[2];
                us = ns;
            }
            double r[2] = {x->arc[4], o->dist_min_m > 0 ? o->dist_min_m : 0};
            for (int q = 0; q < 2; q++) {
                lo_x = fmin(lo_x, r[q] * us), hi_x = fmax(hi_x, r[q] * us);
                lo_y = fmin(lo_y, r[q] * uc), hi_y = fmax(hi_y, r[q] * uc);
            }
        }
    } else {
        double r = o->radius_m / 0.98078528040323043;
        lo_x = lo_y = -r;
        hi_x = hi_y = r;
    }
    x->box[0] = nextafterf((float)lo_x, -INFINITY);
    x->box[1] = nextafterf((float)hi_x, INFINITY);
    x->box[2] = nextafterf((float)lo_y, -INFINITY);
    x->box[3] = nextafterf((float)hi_y, INFINITY);
}

/* Where x's outline is anchored: its observer (a sector) or its centre. */
static struct geo_point outline_anchor(const struct fobs *x)
{
    return x->o.has_bearing && x->o.has_observer ? x->o.observer : x->o.centre;
}

/* The outline of x's region: its annular sector, or a 16-gon around its circle (the same
 * arithmetic as from the bearing itself: the trigonometry is outline_prepare's). */
static void shape_of(const struct fobs *x, struct geo_point ref, double mlat, double mlon,
                     struct shape *s)
{
    const struct fusion_obs *o = &x->o;
    s->n = 0;
    if (o->has_bearing && o->has_observer) {
        struct xy c = to_xy(o->observer, ref, mlat, mlon);
        const int k = 8;
        double rout = x->arc[4];
        /* the arc's unit vectors by rotation from the first, one step at a time */
        double us[9], uc[9], ss = x->arc[2], cs = x->arc[3];
        us[0] = x->arc[0];
        uc[0] = x->arc[1];
        for (int i = 1; i <= k; i++) {
            us[i] = us[i - 1] * cs + uc[i - 1] * ss;
            uc[i] = uc[i - 1] * cs - us[i - 1] * ss;
        }
        for (int i = 0; i <= k; i++)
            s->p[s->n++] = (struct xy){c.x + rout * us[i], c.y + rout * uc[i]};
        if (o->dist_min_m > 0) {
            for (int i = k; i >= 0; i--)
                s->p[s->n++] = (struct xy){c.x + o->dist_min_m * us[i], c.y + o->dist_min_m * uc[i]};
        } else {
            s->p[s->n++] = c;
        }
        return;
    }
    static const double S16[16] = {0, 0.38268343236508978, 0.70710678118654757,
                                   0.92387953251128674, 1, 0.92387953251128674,
                                   0.70710678118654757, 0.38268343236508978, 0,
                                   -0.38268343236508978, -0.70710678118654757,
                                   -0.92387953251128674, -1, -0.92387953251128674,
                                   -0.70710678118654757, -0.38268343236508978};
    struct xy c = to_xy(o->centre, ref, mlat, mlon);
    double r = o->radius_m / 0.98078528040323043; /* cos(pi/16): circumscribed */
    for (int i = 0; i < 16; i++)
        s->p[s->n++] = (struct xy){c.x + r * S16[i], c.y + r * S16[(i + 4) % 16]};
}

static bool in_shape(const struct shape *s, struct xy q)
{
    bool in = false;
    for (size_t i = 0, j = s->n - 1; i < s->n; j = i++) {
        struct xy a = s->p[i], b = s->p[j];
        if ((a.y > q.y) != (b.y > q.y) && q.x < (b.x - a.x) * (q.y - a.y) / (b.y - a.y) + a.x)
            in = !in;
    }
    return in;
}

/* Minimum and maximum of two coordinates, which are never NaN here: plain comparisons that the
 * compiler keeps inline (fmin and fmax are library calls, for their NaN rules). */
static inline double dmin(double a, double b) { return a < b ? a : b; }
static inline double dmax(double a, double b) { return a > b ? a : b; }

static double seg_point_dist2(struct xy a, struct xy b, struct xy p)
{
    double dx = b.x - a.x, dy = b.y - a.y;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
    return ex * ex + ey * ey;
}

static double cross3(struct xy a, struct xy b, struct xy c)
{
    return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

static double seg_seg_dist2(struct xy a, struct xy b, struct xy c, struct xy d)
{
    double d1 = cross3(a, b, c), d2 = cross3(a, b, d), d3 = cross3(c, d, a), d4 = cross3(c, d, b);
    if (((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)))
        return 0;
    double m = seg_point_dist2(a, b, c);
    m = dmin(m, seg_point_dist2(a, b, d));
    m = dmin(m, seg_point_dist2(c, d, a));
    return dmin(m, seg_point_dist2(c, d, b));
}

/* True when the two shapes come within tol metres of each other. */
static bool shapes_near(const struct shape *s, const struct shape *t, double tol)
{
    double sx0 = INFINITY, sx1 = -INFINITY, sy0 = INFINITY, sy1 = -INFINITY;
    double tx0 = INFINITY, tx1 = -INFINITY, ty0 = INFINITY, ty1 = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        sx0 = dmin(sx0, s->p[i].x), sx1 = dmax(sx1, s->p[i].x);
        sy0 = dmin(sy0, s->p[i].y), sy1 = dmax(sy1, s->p[i].y);
    }
    for (size_t i = 0; i < t->n; i++) {
        tx0 = dmin(tx0, t->p[i].x), tx1 = dmax(tx1, t->p[i].x);
        ty0 = dmin(ty0, t->p[i].y), ty1 = dmax(ty1, t->p[i].y);
    }
    if (sx0 - tol > tx1 || tx0 - tol > sx1 || sy0 - tol > ty1 || ty0 - tol > sy1)
        return false;
    if (in_shape(s, t->p[0]) || in_shape(t, s->p[0]))
        return true;
    double tol2 = tol * tol;
    for (size_t i = 0, j = s->n - 1; i < s->n; j = i++) {
        /* skip edges of s whose box is farther than tol from t's box */
        struct xy a = s->p[j], b = s->p[i];
        if (dmin(a.x, b.x) - tol > tx1 || dmax(a.x, b.x) + tol < tx0 ||
            dmin(a.y, b.y) - tol > ty1 || dmax(a.y, b.y) + tol < ty0)
            continue;
        for (size_t k = 0, l = t->n - 1; k < t->n; l = k++) {
            struct xy c = t->p[l], d = t->p[k];
            if (dmin(a.x, b.x) - tol > dmax(c.x, d.x) || dmin(c.x, d.x) - tol > dmax(a.x, b.x) ||
                dmin(a.y, b.y) - tol > dmax(c.y, d.y) || dmin(c.y, d.y) - tol > dmax(a.y, b.y))
                continue;
            if (seg_seg_dist2(a, b, c, d) <= tol2)
                return true;
        }
    }
    return false;
}

/* The "same event" relation: compatible types, windows overlapping within the tolerance,
 * regions within the space tolerance. Symmetric, so the components do not depend on order.
 * Tested in two steps for speed: the cheap tests against a probe made once per new report, then
 * the outlines. */
struct probe {
    struct fobs *x;
    double mlat, mlon;
    bool sector, shaped;
    struct shape s;
};

static bool near_enough(const struct probe *p, const struct fobs *b)
{
    const struct fobs *a = p->x;
    if (!(a->groups & b->groups))
        return false;
    /* the windows, widened by the tolerance, must share at least half the shorter one: a
     * report of 06:00-06:40 and one of 06:35-07:15 are two stretches of fire, not one event */
    const int64_t tol = FUSION_TIME_TOLERANCE_S * 1000LL;
    int64_t lo = a->o.t_start_ms > b->o.t_start_ms ? a->o.t_start_ms : b->o.t_start_ms;
    int64_t hi = a->o.t_end_ms < b->o.t_end_ms ? a->o.t_end_ms : b->o.t_end_ms;
    int64_t da = a->o.t_end_ms - a->o.t_start_ms, db = b->o.t_end_ms - b->o.t_start_ms;
    int64_t shorter = da < db ? da : db;
    if (hi - lo + tol < 0 || (hi - lo + tol) * FUSION_MIN_OVERLAP_DIV < shorter)
        return false;
    double dx = (a->o.centre.lon_deg - b->o.centre.lon_deg) * p->mlon;
    double dy = (a->o.centre.lat_deg - b->o.centre.lat_deg) * p->mlat;
    double reach = a->o.radius_m + b->o.radius_m + FUSION_SPACE_TOLERANCE_M;
    return dx * dx + dy * dy <= reach * reach;
}

static bool outlines_meet(struct probe *p, struct fobs *b)
{
    bool sb = b->o.has_bearing && b->o.has_observer;
    if (!p->sector && !sb)
        return true; /* two circles: the distance test was exact */
    if (!p->x->outlined)
        outline_prepare(p->x);
    if (!b->outlined)
        outline_prepare(b);
    /* first the boxes from the offsets made once (outline_prepare): boxes apart by more than
     * the tolerance and a metre (for the rounding) are outlines apart, without drawing them */
    struct xy ca = to_xy(outline_anchor(p->x), p->x->o.centre, p->mlat, p->mlon);
    struct xy cb = to_xy(outline_anchor(b), p->x->o.centre, p->mlat, p->mlon);
    const double gap = FUSION_SPACE_TOLERANCE_M + 1.0;
    if (ca.x + p->x->box[0] - gap > cb.x + b->box[1] || cb.x + b->box[0] - gap > ca.x + p->x->box[1] ||
        ca.y + p->x->box[2] - gap > cb.y + b->box[3] || cb.y + b->box[2] - gap > ca.y + p->x->box[3])
        return false;
    if (!p->shaped) {
        shape_of(p->x, p->x->o.centre, p->mlat, p->mlon, &p->s);
        p->shaped = true;
    }
    struct shape t;
    shape_of(b, p->x->o.centre, p->mlat, p->mlon, &t);
    return shapes_near(&p->s, &t, FUSION_SPACE_TOLERANCE_M);
}

static uint32_t find(struct fusion *f, uint32_t i)
{
    while (f->v[i].parent != i) {
        f->v[i].parent = f->v[f->v[i].parent].parent;
        i = f->v[i].parent;
    }
    return i;
}

/* Joins the components of i and j; returns the root, and the id of the incident that ceased. */
static uint32_t join(struct fusion *f, uint32_t i, uint32_t j, int64_t *gone)
{
    uint32_t ri = find(f, i), rj = find(f, j);
    *gone = -1;
    if (ri == rj)
        return ri;
    if (f->v[ri].size < f->v[rj].size) {
        uint32_t t = ri;
        ri = rj;
        rj = t;
    }
    int64_t keep = f->v[ri].min_id < f->v[rj].min_id ? f->v[ri].min_id : f->v[rj].min_id;
    *gone = f->v[ri].min_id < f->v[rj].min_id ? f->v[rj].min_id : f->v[ri].min_id;
    f->v[rj].parent = ri;
    f->v[ri].size += f->v[rj].size;
    f->v[ri].n_shared += f->v[rj].n_shared;
    f->v[ri].parted = f->v[ri].parted || f->v[rj].parted;
    f->v[ri].min_id = keep;
    uint32_t t = f->v[ri].next; /* splice the circular member lists */
    f->v[ri].next = f->v[rj].next;
    f->v[rj].next = t;
    return ri;
}

/* Which side of the line a report's region lies on (cached): +1 right, -1 left of the nearest
 * line that names its parties, 0 when the region reaches across it or there is no such line. */
static int side_of(struct fusion *f, uint32_t i)
{
    struct fobs *x = &f->v[i];
    if (x->side != 2)
        return x->side;
    double best = INFINITY, d_best = 0;
    for (size_t k = 0; k < f->a->n_lines; k++) {
        const struct agr_line *l = &f->a->lines[k];
        if (!l->right_party || !l->left_party)
            continue;
        double d = geo_line_signed_distance_m(l->line, x->o.centre);
        if (fabs(d) < best) {
            best = fabs(d);
            d_best = d;
        }
    }
    x->side = !isfinite(best) || best <= x->o.radius_m ? 0 : d_best > 0 ? 1 : -1;
    return x->side;
}

/* The launch-and-landing relation (see FUSION_LAUNCH_START_S): a and b are one launch-only and
 * one explosions report, neither a survey. */
static bool launch_and_landing(struct fusion *f, uint32_t a, uint32_t b)
{
    const struct fobs *x = &f->v[a], *y = &f->v[b];
    if (x->survey || y->survey)
        return false;
    int64_t ds = x->o.t_start_ms - y->o.t_start_ms;
    if (ds > FUSION_LAUNCH_START_S * 1000LL || -ds > FUSION_LAUNCH_START_S * 1000LL)
        return false;
    const int64_t tol = FUSION_TIME_TOLERANCE_S * 1000LL;
    if (x->o.t_start_ms - tol > y->o.t_end_ms || y->o.t_start_ms - tol > x->o.t_end_ms)
        return false;
    double mlat, mlon;
    m_per_deg(x->o.centre.lat_deg, &mlat, &mlon);
    double dx = (x->o.centre.lon_deg - y->o.centre.lon_deg) * mlon;
    double dy = (x->o.centre.lat_deg - y->o.centre.lat_deg) * mlat;
    double reach = FUSION_MAX_FIRE_RANGE_M + x->o.radius_m + y->o.radius_m;
    if (dx * dx + dy * dy > reach * reach)
        return false;
    /* fire crosses the line: a landing clearly on the launch's own side is another event */
    return side_of(f, a) * side_of(f, b) <= 0;
}

/* Does survey sv fit report a better than report b: the crater nearer the middle of the
 * report's region (its distance from the region's centre over the region's radius), then the
 * smaller client id (a total order that does not depend on arrival). */
static bool fits_better(const struct fusion *f, uint32_t sv, uint32_t a, uint32_t b)
{
    const struct fusion_obs *s = &f->v[sv].o, *x = &f->v[a].o, *y = &f->v[b].o;
    double mlat, mlon;
    m_per_deg(s->centre.lat_deg, &mlat, &mlon);
    double dxa = (x->centre.lon_deg - s->centre.lon_deg) * mlon;
    double dya = (x->centre.lat_deg - s->centre.lat_deg) * mlat;
    double dxb = (y->centre.lon_deg - s->centre.lon_deg) * mlon;
    double dyb = (y->centre.lat_deg - s->centre.lat_deg) * mlat;
    double ra = fmax(x->radius_m, 100.0), rb = fmax(y->radius_m, 100.0);
    double qa = (dxa * dxa + dya * dya) / (ra * ra), qb = (dxb * dxb + dyb * dyb) / (rb * rb);
    if (qa != qb)
        return qa < qb;
    /* two reports with the same region (one observer's): the smaller client id, which does not
     * depend on arrival as the store's ids do */
    int c = strcmp(f->names.p + f->v[a].client_off, f->names.p + f->v[b].client_off);
    if (c)
        return c < 0;
    if (x->t_start_ms != y->t_start_ms)
        return x->t_start_ms < y->t_start_ms;
    return x->id < y->id;
}

static void attach(struct fusion *f, uint32_t sv, uint32_t report)
{
    f->v[sv].attached = report;
    f->v[sv].att_next = f->v[report].att_head;
    f->v[report].att_head = sv;
}

static void detach(struct fusion *f, uint32_t sv)
{
    uint32_t *link = &f->v[f->v[sv].attached].att_head;
    while (*link != UINT32_MAX && *link != sv)
        link = &f->v[*link].att_next;
    if (*link == sv)
        *link = f->v[sv].att_next;
    f->v[sv].attached = f->v[sv].att_next = UINT32_MAX;
}

/* ---- parting a component: reports one observer told apart are two incidents ---- */

/* The incident report i is in: the component's smallest id, or its part's in a parted one. */
static int64_t inc_of(struct fusion *f, uint32_t i)
{
    uint32_t r = find(f, i);
    return f->v[r].parted ? f->v[i].inc_id : f->v[r].min_id;
}

static void note_old(struct fusion *f, int64_t id)
{
    for (size_t q = 0; q < f->n_old; q++)
        if (f->old_ids[q] == id)
            return;
    if (f->n_old < FUSION_MAX_CHANGED)
        f->old_ids[f->n_old++] = id;
}

/* Notes the incidents of the component of j, about to be joined to the new report's. */
static void note_absorbed(struct fusion *f, uint32_t j)
{
    uint32_t r = find(f, j);
    bool parted = f->v[r].parted;
    if (!parted)
        note_old(f, f->v[r].min_id);
    else
        f->old_parted = true;
    /* the members' incidents, for repartition to see which parts stayed as they were: a walk
     * over the members, made only where parting may follow (a parted component, or one with a
     * shared observer, or a new report with one); a member not walked counts as changed */
    uint32_t me = (uint32_t)(f->n - 1);
    if (!parted && !f->v[r].n_shared && !f->v[me].shared)
        return;
    uint32_t i = r;
    do {
        f->v[i].prev_inc = parted ? f->v[i].inc_id : f->v[r].min_id;
        f->v[i].prev_of = me;
        if (parted)
            note_old(f, f->v[i].inc_id);
        i = f->v[i].next;
    } while (i != r);
}

/* A hash of the observer identity of told_apart: means, role and position. */
static uint64_t observer_key(const struct fobs *x)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL, w[2];
    memcpy(&w[0], &x->o.observer.lon_deg, 8);
    memcpy(&w[1], &x->o.observer.lat_deg, 8);
    h ^= (uint64_t)x->o.means * 0x100000001b3ULL + x->role;
    for (int i = 0; i < 2; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    return h;
}

/* Files report me under its observer; marks it and the first report of the same observer
 * shared (a 64-bit hash: a collision only costs the exact test). */
static int note_observer(struct fusion *f, uint32_t me)
{
    struct fobs *x = &f->v[me];
    if (!x->o.has_observer || x->survey)
        return 0;
    if ((f->observers.used + 1) * 2 > f->observers.cap) {
        size_t nc = f->observers.cap ? f->observers.cap * 2 : 1024;
        uint64_t *nk = malloc(nc * sizeof *nk);
        uint32_t *ns = malloc(nc * sizeof *ns);
        if (!nk || !ns) {
            free(nk);
            free(ns);
            return ERR_NOMEM;
        }
        for (size_t i = 0; i < nc; i++)
            ns[i] = UINT32_MAX;
        for (size_t i = 0; i < f->observers.cap; i++) {
            if (f->observers.slot[i] == UINT32_MAX)
                continue;
            size_t h = (size_t)f->observers.keys[i] & (nc - 1);
            while (ns[h] != UINT32_MAX)
                h = (h + 1) & (nc - 1);
            nk[h] = f->observers.keys[i];
            ns[h] = f->observers.slot[i];
        }
        free(f->observers.keys);
        free(f->observers.slot);
        f->observers.keys = nk;
        f->observers.slot = ns;
        f->observers.cap = nc;
    }
    uint64_t k = observer_key(x);
    size_t h = (size_t)k & (f->observers.cap - 1);
    while (f->observers.slot[h] != UINT32_MAX && f->observers.keys[h] != k)
        h = (h + 1) & (f->observers.cap - 1);
    if (f->observers.slot[h] == UINT32_MAX) {
        f->observers.keys[h] = k;
        f->observers.slot[h] = me;
        f->observers.used++;
        return 0;
    }
    uint32_t first = f->observers.slot[h];
    x->shared = true;
    x->n_shared = 1;
    if (!f->v[first].shared) {
        f->v[first].shared = true;
        f->v[find(f, first)].n_shared++;
    }
    return 0;
}

/* Two reports of one observer (the same means at the same position) telling of the same part of
 * an event (both launches, both explosions, or both other fire) in directions that do not
 * overlap: the observer told two events apart, so they are never one incident. The same
 * observer's reports in overlapping directions (a report sent again under another id, or
 * without a bearing) are not told apart. Surveys are not linked and never conflict. */
static bool told_apart(const struct fobs *x, const struct fobs *y)
{
    if (x->survey || y->survey || !x->o.has_observer || !y->o.has_observer ||
        x->o.means != y->o.means || x->role != y->role ||
        x->o.observer.lon_deg != y->o.observer.lon_deg ||
        x->o.observer.lat_deg != y->o.observer.lat_deg || !x->o.has_bearing ||
        !y->o.has_bearing)
        return false;
    double d = fabs(fmod(x->o.bearing_deg - y->o.bearing_deg + 540.0, 360.0) - 180.0);
    return d > x->o.half_width_deg + y->o.half_width_deg;
}

/* An order on the observer identity of told_apart, so a sort finds two reports told apart. */
static int cmp_observer(const void *p, const void *q)
{
    const struct fobs *x = *(const struct fobs *const *)p, *y = *(const struct fobs *const *)q;
    if (x->o.means != y->o.means)
        return x->o.means < y->o.means ? -1 : 1;
    if (x->role != y->role)
        return x->role < y->role ? -1 : 1;
    if (x->o.observer.lon_deg != y->o.observer.lon_deg)
        return x->o.observer.lon_deg < y->o.observer.lon_deg ? -1 : 1;
    if (x->o.observer.lat_deg != y->o.observer.lat_deg)
        return x->o.observer.lat_deg < y->o.observer.lat_deg ? -1 : 1;
    return 0;
}

/* A probe for member a, to test its links to several others (its scale and outline made once). */
static void probe_of(struct fusion *f, uint32_t a, struct probe *pr)
{
    struct fobs *x = &f->v[a];
    pr->x = x;
    pr->sector = x->o.has_bearing && x->o.has_observer;
    pr->shaped = false;
    m_per_deg(x->o.centre.lat_deg, &pr->mlat, &pr->mlon);
}

/* The link of fusion_add between members a and b of one component, tested again; pr is a's
 * probe (probe_of). */
static bool linked(struct fusion *f, struct probe *pr, uint32_t a, uint32_t b)
{
    const struct fobs *x = &f->v[a];
    struct fobs *y = &f->v[b];
    if (x->survey || y->survey)
        return false;
    if ((x->role == FUSION_ROLE_LAUNCH && y->role == FUSION_ROLE_EXPLOSIVE) ||
        (x->role == FUSION_ROLE_EXPLOSIVE && y->role == FUSION_ROLE_LAUNCH))
        return x->o.radius_m <= FUSION_PAIR_MAX_RADIUS_M &&
               y->o.radius_m <= FUSION_PAIR_MAX_RADIUS_M && launch_and_landing(f, a, b);
    return near_enough(pr, y) && outlines_meet(pr, y);
}

/* The most pairs the link memo holds (16 MB of keys): when full it starts again empty. */
#define FUSION_LINK_MEMO_MAX (1u << 21)

/* Where pair key k (first report << 32 | second) starts its probe in a memo of cap slots: the
 * pairs of one first report within 64 slots of each other, so that repartition's row of
 * lookups for one report touches a few cache lines, not one per pair. */
static size_t link_hash(uint64_t k, size_t cap)
{
    uint64_t a = (k >> 32) * 0x9e3779b97f4a7c15ULL, b = (k & 0xffffffffu) * 0xff51afd7ed558ccdULL;
    return (size_t)((a >> 20) + (b >> 58)) & (cap - 1);
}

/* The slot of pair key k in the link memo (grown or emptied first when needed); SIZE_MAX when
 * there is no memory, and the caller tests the link itself. */
static size_t link_slot(struct fusion *f, uint64_t k)
{
    if ((f->links.used + 1) * 2 > f->links.cap) {
        if (f->links.cap >= FUSION_LINK_MEMO_MAX) {
            memset(f->links.keys, 0, f->links.cap * sizeof *f->links.keys);
            f->links.used = 0;
        } else {
            size_t nc = f->links.cap ? f->links.cap * 2 : 4096;
            uint64_t *nk = calloc(nc, sizeof *nk);
            uint8_t *nl = malloc(nc);
            if (!nk || !nl) {
                free(nk);
                free(nl);
                return SIZE_MAX;
            }
            for (size_t i = 0; i < f->links.cap; i++) {
                if (!f->links.keys[i])
                    continue;
                size_t h = link_hash(f->links.keys[i], nc);
                while (nk[h])
                    h = (h + 1) & (nc - 1);
                nk[h] = f->links.keys[i];
                nl[h] = f->links.linked[i];
            }
            free(f->links.keys);
            free(f->links.linked);
            f->links.keys = nk;
            f->links.linked = nl;
            f->links.cap = nc;
        }
    }
    size_t h = link_hash(k, f->links.cap);
    while (f->links.keys[h] && f->links.keys[h] != k)
        h = (h + 1) & (f->links.cap - 1);
    return h;
}

/* linked(a, b), with the outlines' answer remembered: the same answer, the outlines of a pair
 * compared once (the cheap tests before them are made again: they read members already in
 * cache, where a memo lookup would miss it). */
static bool linked_memo(struct fusion *f, struct probe *pr, uint32_t a, uint32_t b)
{
    const struct fobs *x = &f->v[a];
    struct fobs *y = &f->v[b];
    if (x->survey || y->survey)
        return false;
    if ((x->role == FUSION_ROLE_LAUNCH && y->role == FUSION_ROLE_EXPLOSIVE) ||
        (x->role == FUSION_ROLE_EXPLOSIVE && y->role == FUSION_ROLE_LAUNCH))
        return linked(f, pr, a, b);
    if (!near_enough(pr, y))
        return false;
    if (!pr->sector && !(y->o.has_bearing && y->o.has_observer))
        return true; /* two circles: the distance test was exact */
    uint64_t k = (uint64_t)(a + 1) << 32 | b; /* never 0, the empty slot's key */
    size_t h = link_slot(f, k);
    if (h == SIZE_MAX)
        return outlines_meet(pr, y);
    if (f->links.keys[h] == k)
        return f->links.linked[h];
    bool l = outlines_meet(pr, y);
    f->links.keys[h] = k;
    f->links.linked[h] = l;
    f->links.used++;
    return l;
}

struct part_edge {
    int64_t gap_ms; /* how far apart the two windows start and end */
    uint8_t a, b;   /* ranks of the members in the component's sorted order */
};

static int cmp_edge(const void *p, const void *q)
{
    const struct part_edge *x = p, *y = q;
    if (x->gap_ms != y->gap_ms)
        return x->gap_ms < y->gap_ms ? -1 : 1;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    return (x->b > y->b) - (x->b < y->b);
}

static const struct fusion *sort_ctx;
static int cmp_member(const void *a, const void *b);

/* Parts the component of member me into incidents and sets every member's inc_id (and the
 * root's parted). The incidents its components were before this add are in f->old_ids. Without two
 * reports told apart the component is one incident. Otherwise its links are taken closest in
 * time first (the start and end gaps summed; then the members' order by client id) and a link
 * is skipped when it would put two reports told apart into one incident: a function of the
 * component alone, so the incidents do not depend on arrival order. Incidents that ceased go to
 * merged_away, incidents other than me's that changed to f->changed. */
static void repartition(struct fusion *f, uint32_t me, int64_t *merged_away, size_t max_merged,
                        size_t *n_merged)
{
    uint32_t m[FUSION_MAX_EVIDENCE];
    size_t k = 0;
    uint32_t root = find(f, me), i = root;
    do {
        if (k < FUSION_MAX_EVIDENCE)
            m[k++] = i;
        i = f->v[i].next;
    } while (i != root);
    const int64_t *old = f->old_ids;
    size_t n_old = f->n_old;
    /* any two reports told apart? When the new report joined one component at most, the
     * pairs within it were tested when it was made (a pair told apart there parted it, and a
     * component with such a pair is always parted: both its reports are shared, so it was
     * repartitioned when they met; join keeps the flag), so only the new report's own pairs are
     * new: k tests. Otherwise a sort by observer: k log k, not k squared. */
    bool any = false;
    if (k > 1 && f->joins <= 1) {
        any = f->v[root].parted;
        for (size_t a = 0; a < k && !any; a++)
            any = m[a] != me && told_apart(&f->v[me], &f->v[m[a]]);
    } else if (k > 1) {
        const struct fobs *byobs[FUSION_MAX_EVIDENCE];
        size_t nb = 0;
        for (size_t a = 0; a < k; a++)
            if (f->v[m[a]].o.has_observer && !f->v[m[a]].survey)
                byobs[nb++] = &f->v[m[a]];
        if (nb > 1)
            qsort(byobs, nb, sizeof *byobs, cmp_observer);
        /* every pair within a run of one observer (runs are short) */
        for (size_t a = 0; a < nb && !any; a++)
            for (size_t b = a + 1; b < nb && !any && !cmp_observer(&byobs[a], &byobs[b]); b++)
                any = told_apart(byobs[a], byobs[b]);
    }
    uint8_t part[FUSION_MAX_EVIDENCE];
    for (size_t a = 0; a < k; a++)
        part[a] = 0;
    if (any) {
        /* conflicts as bit masks over the members, in the order of their client ids */
        uint64_t conflict[FUSION_MAX_EVIDENCE];
        sort_ctx = f;
        qsort(m, k, sizeof *m, cmp_member);
        /* reports told apart share an observer: test the pairs within each run of one
         * observer (cmp_observer), not all k squared */
        struct ranked { const struct fobs *x; size_t rank; } byrank[FUSION_MAX_EVIDENCE];
        for (size_t a = 0; a < k; a++) {
            conflict[a] = 0;
            byrank[a] = (struct ranked){&f->v[m[a]], a};
        }
        qsort(byrank, k, sizeof *byrank, cmp_observer); /* x first: compared as a fobs ** */
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k && !cmp_observer(&byrank[a], &byrank[b]); b++) {
                size_t ra = byrank[a].rank, rb = byrank[b].rank;
                if (told_apart(byrank[a].x, byrank[b].x))
                    conflict[ra] |= 1ULL << rb;
                if (told_apart(byrank[b].x, byrank[a].x))
                    conflict[rb] |= 1ULL << ra;
            }
        struct part_edge *edges = malloc(k * k / 2 * sizeof *edges + sizeof *edges);
        size_t ne = 0;
        uint64_t members[FUSION_MAX_EVIDENCE], against[FUSION_MAX_EVIDENCE];
        for (size_t a = 0; a < k; a++) {
            part[a] = (uint8_t)a;
            members[a] = 1ULL << a;
            against[a] = conflict[a];
        }
        for (size_t a = 0; edges && a < k; a++) {
            struct probe pr;
            probe_of(f, m[a], &pr);
            for (size_t b = a + 1; b < k; b++) {
                if (conflict[a] & (1ULL << b) || !linked_memo(f, &pr, m[a], m[b]))
                    continue;
                const struct fusion_obs *x = &f->v[m[a]].o, *y = &f->v[m[b]].o;
                int64_t g = llabs(x->t_start_ms - y->t_start_ms) + llabs(x->t_end_ms - y->t_end_ms);
                edges[ne++] = (struct part_edge){g, (uint8_t)a, (uint8_t)b};
            }
        }
        if (edges)
            qsort(edges, ne, sizeof *edges, cmp_edge);
        for (size_t q = 0; q < ne; q++) {
            uint8_t pa = part[edges[q].a], pb = part[edges[q].b];
            if (pa == pb || (members[pa] & against[pb]))
                continue;
            /* the lower label takes the other part */
            uint8_t lo = pa < pb ? pa : pb, hi = pa < pb ? pb : pa;
            members[lo] |= members[hi];
            against[lo] |= against[hi];
            for (size_t a = 0; a < k; a++)
                if (part[a] == hi)
                    part[a] = lo;
        }
        free(edges);
        /* without memory to weigh the links each report stays its own incident: still a
         * function of the component, and never two reports told apart together */
    }
    /* each part's id is its smallest report id */
    int64_t pid[FUSION_MAX_EVIDENCE];
    for (size_t a = 0; a < k; a++)
        pid[a] = INT64_MAX;
    for (size_t a = 0; a < k; a++)
        if (f->v[m[a]].o.id < pid[part[a]])
            pid[part[a]] = f->v[m[a]].o.id;
    bool several = false;
    for (size_t a = 0; a < k; a++) {
        f->v[m[a]].inc_id = pid[part[a]];
        several = several || part[a] != 0;
    }
    f->v[root].parted = several;
    int64_t mine = f->v[me].inc_id;
    for (size_t q = 0; q < n_old; q++) {
        bool alive = false;
        for (size_t a = 0; a < k && !alive; a++)
            alive = pid[a] == old[q];
        if (!alive && n_merged && merged_away && *n_merged < max_merged)
            merged_away[(*n_merged)++] = old[q];
    }
    for (size_t a = 0; a < k; a++) {
        if (pid[a] == INT64_MAX || pid[a] == mine)
            continue;
        /* a part that is exactly an incident of before (the same reports, so the same summary)
         * did not change: the new report's own part and the others did */
        bool same = true;
        for (size_t b = 0; b < k && same; b++)
            same = (part[b] == a) == (f->v[m[b]].prev_of == me && f->v[m[b]].prev_inc == pid[a]);
        if (same)
            continue;
        bool dup = false;
        for (size_t q = 0; q < f->n_changed && !dup; q++)
            dup = f->changed[q] == pid[a];
        if (!dup && f->n_changed < FUSION_MAX_CHANGED)
            f->changed[f->n_changed++] = pid[a];
    }
}

int fusion_add(struct fusion *f, const struct fusion_obs *o, int64_t *incident,
               int64_t *merged_away, size_t max_merged, size_t *n_merged, struct errbuf *e)
{
    if (n_merged)
        *n_merged = 0;
    if (!geo_point_valid(o->centre) || !isfinite(o->radius_m) || o->radius_m < 0 ||
        o->t_end_ms < o->t_start_ms)
        return errf(e, ERR_INVAL, "observation %lld: no valid region or time window for fusion",
                    (long long)o->id);
    if (f->n >= UINT32_MAX - 1)
        return errf(e, ERR_TOOBIG, "fusion: too many observations in one engine");
    if (grow((void **)&f->v, &f->cap, f->n + 1, sizeof *f->v))
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    uint32_t me = (uint32_t)f->n;
    struct fobs *x = &f->v[me];
    memset(x, 0, sizeof *x);
    x->o = *o;
    x->client_off = f->names.len;
    if (buf_append(&f->names, o->client_id ? o->client_id : "",
                   strlen(o->client_id ? o->client_id : "") + 1))
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    x->o.client_id = NULL; /* resolved from client_off: the arena moves */
    f->ids_ascending = me == 0 ? true : f->ids_ascending && f->v[me - 1].o.id < o->id;
    x->parent = me;
    x->next = me;
    x->size = 1;
    x->min_id = o->id;
    x->inc_id = o->id;
    x->prev_inc = -1;
    x->prev_of = UINT32_MAX;
    x->n_shared = 0;
    x->parted = x->shared = false;
    x->attached = x->att_next = x->att_head = UINT32_MAX;
    x->groups = groups_of(o->counts);
    x->role = role_of(o->counts);
    x->side = 2;
    int64_t window = o->t_end_ms - o->t_start_ms;
    x->survey = window > FUSION_MAX_WINDOW_S * 1000LL && o->how == PLACE_LOCATED &&
                o->radius_m <= FUSION_SURVEY_MAX_RADIUS_M &&
                window <= FUSION_SURVEY_MAX_WINDOW_S * 1000LL;
    x->fusable = x->groups && (window <= FUSION_MAX_WINDOW_S * 1000LL || x->survey) &&
                 o->radius_m <= FUSION_MAX_RADIUS_M;
    f->n_changed = 0;
    f->n_old = 0;
    f->old_parted = false;
    f->joins = 0;
    f->n++;
    if (x->fusable && note_observer(f, me))
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    uint32_t best = UINT32_MAX;           /* a new survey: the report it fits best */
    uint32_t surveys[FUSION_MAX_EVIDENCE]; /* a new report: surveys it may take over */
    size_t n_surveys = 0;
    if (x->fusable) {
        uint64_t keys[FUSION_MAX_KEYS];
        size_t nk = keys_of(o, 0, keys);
        if (!nk) {
            x->fusable = false;
        } else {
            f->stamp++;
            struct probe pr = {.x = &f->v[me], .sector = o->has_bearing && o->has_observer};
            m_per_deg(o->centre.lat_deg, &pr.mlat, &pr.mlon);
            /* the cheap test on the index's own copy, conservative (minutes rounded outwards,
             * single-precision centres with a slack); the exact tests follow on survivors */
            const int64_t tol_min = FUSION_TIME_TOLERANCE_S / 60 + 1;
            int32_t a0 = (int32_t)(o->t_start_ms / 60000), a1 = (int32_t)(o->t_end_ms / 60000) + 1;
            int64_t dur_a = a1 - a0;
            for (size_t k = 0; k < nk; k++) {
                struct key_vec *kv = table_get(&f->ix, keys[k]);
                uint32_t parked = 0;
                /* pass 0: the reports that may be linked; pass 1 (a survey only): those of
                 * full incidents, to which a survey may still be attached */
                for (int pass = 0; kv && pass < (x->survey ? 2 : 1); pass++)
                for (uint32_t c = 0; c < (pass ? kv->n_full : kv->n); c++) {
                    const struct cand *cd = pass ? &kv->full[c] : &kv->v[c];
                    if (!(cd->groups & x->groups & 15u))
                        continue;
                    /* a launch and a landing are matched through their own tables (below),
                     * never by overlapping regions */
                    unsigned crole = cd->groups >> 4;
                    if ((x->role == FUSION_ROLE_LAUNCH && crole == FUSION_ROLE_EXPLOSIVE) ||
                        (x->role == FUSION_ROLE_EXPLOSIVE && crole == FUSION_ROLE_LAUNCH))
                        continue;
                    int64_t lo = a0 > cd->t0_min ? a0 : cd->t0_min;
                    int64_t hi = a1 < cd->t1_min ? a1 : cd->t1_min;
                    int64_t dur_b = cd->t1_min - cd->t0_min;
                    int64_t shorter = (dur_a < dur_b ? dur_a : dur_b) - 2;
                    if (hi - lo + tol_min < 0 ||
                        (hi - lo + tol_min) * FUSION_MIN_OVERLAP_DIV < shorter)
                        continue;
                    double dx = (o->centre.lon_deg - cd->lon) * pr.mlon;
                    double dy = (o->centre.lat_deg - cd->lat) * pr.mlat;
                    double reach = o->radius_m + cd->radius_m + FUSION_SPACE_TOLERANCE_M +
                                   FUSION_CAND_SLACK_M;
                    if (dx * dx + dy * dy > reach * reach)
                        continue;
                    uint32_t j = cd->obs;
                    /* a report of a full incident is never linked again: park it, once, out
                     * of the scan of later reports (before any exact test) */
                    if (!pass && !f->v[j].survey &&
                        f->v[find(f, j)].size >= FUSION_MAX_EVIDENCE && park(kv, c)) {
                        parked++;
                        if (!x->survey)
                            continue;
                    }
                    if (f->v[j].stamp == f->stamp)
                        continue;
                    f->v[j].stamp = f->stamp;
                    f->comparisons++;
                    if (!near_enough(&pr, &f->v[j]))
                        continue;
                    if (x->survey || f->v[j].survey) {
                        /* surveys are attached, never linked (and not to each other) */
                        if ((x->survey && f->v[j].survey) || !outlines_meet(&pr, &f->v[j]))
                            continue;
                        if (x->survey && (best == UINT32_MAX || fits_better(f, me, j, best)))
                            best = j;
                        else if (!x->survey && n_surveys < FUSION_MAX_EVIDENCE)
                            surveys[n_surveys++] = j;
                        continue;
                    }
                    uint32_t rj = find(f, j), rme = find(f, me);
                    if (rj == rme || f->v[rj].size + f->v[rme].size > FUSION_MAX_EVIDENCE ||
                        !outlines_meet(&pr, &f->v[j]))
                        continue;
                    int64_t gone;
                    note_absorbed(f, j);
                    join(f, me, j, &gone);
                    f->joins++;
                }
                if (parked)
                    unpark_gaps(kv);
            }
            struct cand mine = {me, a0, a1, (float)o->centre.lon_deg, (float)o->centre.lat_deg,
                                (float)o->radius_m, x->groups | (unsigned)x->role << 4};
            for (size_t k = 0; k < nk; k++)
                if (table_push(&f->ix, keys[k], &mine))
                    return errf(e, ERR_NOMEM, "fusion: out of memory");
            /* launch and landing: a launch looks among the landings that started within
             * FUSION_LAUNCH_START_S and FUSION_MAX_FIRE_RANGE_M, and a landing among the
             * launches; each is filed under one key of its own start and centre */
            bool pairable = !x->survey && o->radius_m <= FUSION_PAIR_MAX_RADIUS_M &&
                            (x->role == FUSION_ROLE_LAUNCH || x->role == FUSION_ROLE_EXPLOSIVE);
            if (pairable) {
                struct key_table *other = x->role == FUSION_ROLE_LAUNCH ? &f->landing_ix
                                                                        : &f->launch_ix;
                struct key_table *own = x->role == FUSION_ROLE_LAUNCH ? &f->launch_ix
                                                                      : &f->landing_ix;
                uint64_t pk[FUSION_MAX_KEYS];
                size_t np = pair_keys(o, true, pk);
                for (size_t k = 0; k < np; k++) {
                    const struct key_vec *kv = table_get(other, pk[k]);
                    for (uint32_t c = 0; kv && c < kv->n; c++) {
                        const struct cand *cd = &kv->v[c];
                        int64_t ds = (int64_t)a0 - cd->t0_min;
                        if (ds > FUSION_LAUNCH_START_S / 60 + 1 ||
                            -ds > FUSION_LAUNCH_START_S / 60 + 1)
                            continue;
                        double dx = (o->centre.lon_deg - cd->lon) * pr.mlon;
                        double dy = (o->centre.lat_deg - cd->lat) * pr.mlat;
                        double reach = FUSION_MAX_FIRE_RANGE_M + o->radius_m + cd->radius_m +
                                       FUSION_CAND_SLACK_M;
                        if (dx * dx + dy * dy > reach * reach)
                            continue;
                        uint32_t j = cd->obs;
                        uint32_t rj = find(f, j), rme = find(f, me);
                        if (rj == rme || f->v[rj].size + f->v[rme].size > FUSION_MAX_EVIDENCE ||
                            !launch_and_landing(f, me, j))
                            continue;
                        int64_t gone;
                        note_absorbed(f, j);
                        join(f, me, j, &gone);
                        f->joins++;
                    }
                }
                if (pair_keys(o, false, pk) != 1 || table_push(own, pk[0], &mine))
                    return errf(e, ERR_NOMEM, "fusion: out of memory");
            }
        }
    }
    if (x->survey && best != UINT32_MAX)
        attach(f, me, best);
    for (size_t i = 0; i < n_surveys; i++) {
        uint32_t sv = surveys[i], cur = f->v[sv].attached;
        if (cur != UINT32_MAX && !fits_better(f, sv, me, cur))
            continue;
        if (cur == UINT32_MAX) {
            /* the survey's own incident ends in this one */
            if (n_merged && *n_merged < max_merged && merged_away)
                merged_away[(*n_merged)++] = f->v[sv].o.id;
        } else {
            detach(f, sv);
            uint32_t old = find(f, cur);
            if (old != find(f, me) && f->n_changed < FUSION_MAX_CHANGED)
                f->changed[f->n_changed++] = inc_of(f, cur);
            else if (old == find(f, me))
                f->v[cur].prev_inc = -1; /* its part lost the survey: repartition reports it */
        }
        attach(f, sv, me);
    }
    if (x->survey) {
        *incident = best != UINT32_MAX ? inc_of(f, best) : o->id;
    } else if (f->v[find(f, me)].n_shared >= 2 || f->old_parted) {
        /* two reports of one observer may be in the component: part it (repartition) */
        repartition(f, me, merged_away, max_merged, n_merged);
        *incident = inc_of(f, me);
    } else {
        /* one incident: the components it absorbed ceased */
        *incident = f->v[find(f, me)].min_id;
        for (size_t q = 0; q < f->n_old; q++)
            if (f->old_ids[q] != *incident && merged_away && n_merged &&
                *n_merged < max_merged)
                merged_away[(*n_merged)++] = f->old_ids[q];
    }
    return 0;
}

size_t fusion_also_changed(const struct fusion *f, int64_t *out, size_t max)
{
    size_t n = f->n_changed < max ? f->n_changed : max;
    memcpy(out, f->changed, n * sizeof *out);
    return n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

size_t fusion_incident_ids(struct fusion *f, const int64_t **ids)
{
    size_t n = 0;
    if (grow((void **)&f->ids, &f->ids_cap, f->n + 1, sizeof *f->ids)) {
        *ids = NULL;
        return 0;
    }
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].attached == UINT32_MAX && inc_of(f, (uint32_t)i) == f->v[i].o.id)
            f->ids[n++] = f->v[i].o.id;
    qsort(f->ids, n, sizeof *f->ids, cmp_i64);
    *ids = f->ids;
    return n;
}

/* ---- summaries ---- */

static const char *name_of(const struct fusion *f, uint32_t i)
{
    return f->names.p + f->v[i].client_off;
}

/* qsort has no context argument: the engine being summarised (an engine is used from one
 * thread at a time, fusion.h). */
static int cmp_member(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    int c = strcmp(name_of(sort_ctx, i), name_of(sort_ctx, j));
    if (c)
        return c;
    const struct fusion_obs *x = &sort_ctx->v[i].o, *y = &sort_ctx->v[j].o;
    if (x->t_start_ms != y->t_start_ms)
        return x->t_start_ms < y->t_start_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The engine slot of store id `id`: binary search while ids arrived in ascending order (as
 * they do from the store), else a scan. */
static uint32_t slot_of_id(const struct fusion *f, int64_t id)
{
    if (f->ids_ascending) {
        size_t lo = 0, hi = f->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (f->v[mid].o.id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < f->n && f->v[lo].o.id == id ? (uint32_t)lo : UINT32_MAX;
    }
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].o.id == id)
            return (uint32_t)i;
    return UINT32_MAX;
}

int fusion_note_dirty(struct fusion *f, int64_t id)
{
    if (f->n_dirty && f->dirty[f->n_dirty - 1] == id)
        return 0; /* reports of one event arrive together: the common repeat */
    if (grow((void **)&f->dirty, &f->dirty_cap, f->n_dirty + 1, sizeof *f->dirty))
        return ERR_NOMEM;
    f->dirty[f->n_dirty++] = id;
    return 0;
}

int64_t fusion_incident_of(struct fusion *f, int64_t id)
{
    uint32_t i = slot_of_id(f, id);
    if (i == UINT32_MAX)
        return -1;
    return inc_of(f, f->v[i].attached != UINT32_MAX ? f->v[i].attached : i);
}

static int summarise(struct fusion *f, uint32_t root, int64_t id, struct fusion_incident *inc,
                     struct errbuf *e)
{
    /* the reports of incident id (its part of the component) and the surveys attached to them */
    size_t n = 0;
    bool parted = f->v[root].parted;
    {
        uint32_t i = root;
        do {
            if (!parted || f->v[i].inc_id == id) {
                n++;
                for (uint32_t sv = f->v[i].att_head; sv != UINT32_MAX; sv = f->v[sv].att_next)
                    n++;
            }
            i = f->v[i].next;
        } while (i != root);
    }
    size_t names_cap = f->ev_cap;
    if (grow((void **)&f->members, &f->members_cap, n, sizeof *f->members) ||
        grow((void **)&f->ev_names, &names_cap, n, sizeof *f->ev_names) ||
        grow((void **)&f->ev_ids, &f->ev_cap, n, sizeof *f->ev_ids))
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    size_t k = 0;
    uint32_t i = root;
    do {
        if (!parted || f->v[i].inc_id == id) {
            f->members[k++] = i;
            for (uint32_t sv = f->v[i].att_head; sv != UINT32_MAX && k < n;
                 sv = f->v[sv].att_next)
                f->members[k++] = sv;
        }
        i = f->v[i].next;
    } while (i != root && k < n);
    sort_ctx = f;
    qsort(f->members, k, sizeof *f->members, cmp_member);
    memset(inc, 0, sizeof *inc);
    inc->id = id;
    inc->t_start_ms = INT64_MAX;
    inc->t_end_ms = INT64_MIN;
    /* the time is the reports' of the moment, not the surveys' of the morning after */
    bool timed = false;
    for (size_t j = 0; j < k && !timed; j++)
        timed = !f->v[f->members[j]].survey;
    for (size_t j = 0; j < k; j++) {
        const struct fobs *x = &f->v[f->members[j]];
        f->ev_ids[j] = x->o.id;
        f->ev_names[j] = name_of(f, f->members[j]);
        if (!(timed && x->survey)) {
            if (x->o.t_start_ms < inc->t_start_ms)
                inc->t_start_ms = x->o.t_start_ms;
            if (x->o.t_end_ms > inc->t_end_ms)
                inc->t_end_ms = x->o.t_end_ms;
        }
        inc->groups |= x->groups;
        /* reconciled: the largest count of each type over the reports, not their sum */
        for (int t = 0; t < FUSION_N_EVENT_TYPES; t++) {
            long long c = x->o.counts[t];
            if (c > inc->counts[t] || (c < 0 && inc->counts[t] == 0))
                inc->counts[t] = c;
        }
    }
    for (int t = 0; t < FUSION_N_EVENT_TYPES; t++)
        if (inc->counts[t] > 0)
            inc->count += inc->counts[t];
    inc->n_evidence = k;
    inc->evidence_ids = f->ev_ids;
    inc->evidence_client_ids = f->ev_names;
    /* locate the events from the reports that are not only launch reports, when there are */
    int outgoing = agr_event_type_index("outgoing");
    uint32_t *impact = malloc(k * sizeof *impact);
    if (!impact)
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    size_t ni = 0;
    for (size_t j = 0; j < k; j++) {
        const struct fusion_obs *o = &f->v[f->members[j]].o;
        bool launch_only = outgoing >= 0 && o->counts[outgoing] != 0;
        for (int t = 0; t < FUSION_N_EVENT_TYPES && launch_only; t++)
            if (t != outgoing && o->counts[t] != 0 && agr_event_is_explosion(t))
                launch_only = false;
        if (!launch_only)
            impact[ni++] = f->members[j];
    }
    size_t views;
    if (ni)
        fusion_locate(f, impact, ni, &inc->loc_method, &inc->location, &inc->semi_major_m,
               &inc->semi_minor_m, &inc->azimuth_deg, &views);
    else
        fusion_locate(f, f->members, k, &inc->loc_method, &inc->location, &inc->semi_major_m,
               &inc->semi_minor_m, &inc->azimuth_deg, &views);
    free(impact);
    fusion_attribute(f, f->members, k, inc);
    fusion_judge(f->versions ? store_agreement_at(f->versions, inc->t_start_ms) : f->a, inc);
    return 0;
}

int fusion_incident_get(struct fusion *f, int64_t id, struct fusion_incident *out,
                        struct errbuf *e)
{
    uint32_t i = slot_of_id(f, id);
    if (i == UINT32_MAX || f->v[i].attached != UINT32_MAX || inc_of(f, i) != id)
        return errf(e, ERR_NOTFOUND, "incident %lld: not found", (long long)id);
    return summarise(f, find(f, i), id, out, e);
}

