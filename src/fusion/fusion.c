/* fusion.c: the fusion engine (see fusion.h and docs/fusion.md): the time-bucket x grid-cell
 * index, the "same event" test, union-find over observations, and the summary of an incident
 * (reconciled counts, location, origin and attribution). */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

const char *const FUSION_LOC_NAMES[5] = {"triangulated", "detection", "sector", "circle",
                                         "observer"};
const char *const FUSION_ORIGIN_NAMES[5] = {"none", "outgoing_observed", "launch_triangulated",
                                            "flight_direction", "impact_side"};
const char *const FUSION_GRADE_NAMES[4] = {"confirmed", "probable", "possible", "undetermined"};

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
    int64_t min_id;        /* at roots: the incident id */
    uint32_t stamp;
    unsigned groups;
    bool fusable;
};

/* One report in one key of the index, with what the first, cheap test needs (so the scan of a
 * key reads one contiguous array): times in whole minutes, widened outwards, and the centre and
 * radius in single precision (the test adds FUSION_CAND_SLACK_M). */
struct cand {
    uint32_t obs;
    int32_t t0_min, t1_min;
    float lon, lat, radius_m;
    uint32_t groups;
};
#define FUSION_CAND_SLACK_M 20.0

struct key_vec {
    struct cand *v;
    uint32_t n, cap;
};

struct fusion {
    const struct agreement *a;
    const struct store_agreements *versions;
    struct fobs *v;
    size_t n, cap;
    struct buf names; /* client ids, NUL-separated */
    /* open-addressing table: key -> head entry (UINT32_MAX empty) */
    uint64_t *keys;
    uint32_t *heads;
    size_t tcap, tused;
    struct key_vec *vecs; /* heads[] holds an index into vecs */
    size_t n_vecs, vecs_cap;
    uint32_t stamp;
    bool ids_ascending;
    size_t skipped;
    /* scratch for listings and summaries */
    int64_t *ids;
    size_t ids_cap;
    uint32_t *members;
    size_t members_cap;
    int64_t *ev_ids;
    const char **ev_names;
    size_t ev_cap;
};

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
        /* placement assumed 0 .. the family's default distance */
        f->dist_min_m = 0;
        f->dist_max_m = p->radius_m > 0 ? fmax(f->dist_max_m, 0) : 0;
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

void fusion_free(struct fusion *f)
{
    if (!f)
        return;
    free(f->v);
    buf_reset(&f->names);
    free(f->keys);
    free(f->heads);
    for (size_t i = 0; i < f->n_vecs; i++)
        free(f->vecs[i].v);
    free(f->vecs);
    free(f->ids);
    free(f->members);
    free(f->ev_ids);
    free(f->ev_names);
    free(f);
}

size_t fusion_obs_count(const struct fusion *f) { return f->n; }

void fusion_count_skipped(struct fusion *f) { f->skipped++; }

size_t fusion_skipped(const struct fusion *f) { return f->skipped; }

void fusion_clear(struct fusion *f)
{
    f->skipped = 0;
    f->n = 0;
    f->names.len = 0;
    for (size_t i = 0; i < f->n_vecs; i++)
        free(f->vecs[i].v);
    f->n_vecs = 0;
    f->tused = 0;
    for (size_t i = 0; i < f->tcap; i++)
        f->heads[i] = UINT32_MAX;
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

static int table_rehash(struct fusion *f)
{
    size_t nc = f->tcap ? f->tcap * 2 : 4096;
    uint64_t *nk = malloc(nc * sizeof *nk);
    uint32_t *nh = malloc(nc * sizeof *nh);
    if (!nk || !nh) {
        free(nk);
        free(nh);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < nc; i++)
        nh[i] = UINT32_MAX;
    for (size_t i = 0; i < f->tcap; i++) {
        if (f->heads[i] == UINT32_MAX)
            continue;
        size_t h = key_hash(f->keys[i], nc);
        while (nh[h] != UINT32_MAX)
            h = (h + 1) & (nc - 1);
        nk[h] = f->keys[i];
        nh[h] = f->heads[i];
    }
    free(f->keys);
    free(f->heads);
    f->keys = nk;
    f->heads = nh;
    f->tcap = nc;
    return 0;
}

/* The slot of key k (inserting an empty one when `create`); SIZE_MAX when absent. */
static size_t table_slot(struct fusion *f, uint64_t k, bool create)
{
    if (!f->tcap) {
        if (!create || table_rehash(f))
            return SIZE_MAX;
    }
    size_t h = key_hash(k, f->tcap);
    while (f->heads[h] != UINT32_MAX) {
        if (f->keys[h] == k)
            return h;
        h = (h + 1) & (f->tcap - 1);
    }
    if (!create)
        return SIZE_MAX;
    if ((f->tused + 1) * 2 > f->tcap) {
        if (table_rehash(f))
            return SIZE_MAX;
        return table_slot(f, k, true);
    }
    f->keys[h] = k;
    f->tused++;
    return h;
}

/* Metres per degree of latitude and longitude at latitude lat (WGS84, series). */
static void m_per_deg(double lat, double *mlat, double *mlon)
{
    double p = lat * DEG;
    *mlat = 111132.954 - 559.822 * cos(2 * p) + 1.175 * cos(4 * p);
    *mlon = 111412.84 * cos(p) - 93.5 * cos(3 * p);
}

/* The index keys of o: every bucket of [start, end + tolerance] times every cell of the bounding
 * box of its region. Returns their number, or 0 when o is not indexed. */
static size_t keys_of(const struct fusion_obs *o, uint64_t *out)
{
    double mlat, mlon;
    m_per_deg(o->centre.lat_deg, &mlat, &mlon);
    double r = o->radius_m + FUSION_SPACE_TOLERANCE_M;
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

/* ---- the "same place" test in a local plane (metres east and north of a reference) ---- */

struct xy {
    double x, y;
};

#define SHAPE_MAX 40
struct shape {
    size_t n;
    struct xy p[SHAPE_MAX];
};

static struct xy to_xy(struct geo_point p, struct geo_point ref, double mlat, double mlon)
{
    return (struct xy){(p.lon_deg - ref.lon_deg) * mlon, (p.lat_deg - ref.lat_deg) * mlat};
}

/* The outline of o's region: its annular sector, or a 16-gon around its circle. */
static void shape_of(const struct fusion_obs *o, struct geo_point ref, double mlat, double mlon,
                     struct shape *s)
{
    s->n = 0;
    if (o->has_bearing && o->has_observer) {
        struct xy c = to_xy(o->observer, ref, mlat, mlon);
        const int k = 8;
        double a0 = (o->bearing_deg - o->half_width_deg) * DEG;
        double a1 = (o->bearing_deg + o->half_width_deg) * DEG;
        /* the outer arc is pushed out so the chords do not cut the true arc */
        double step = (a1 - a0) / k;
        double rout = o->dist_max_m / cos(step / 2);
        /* the arc's unit vectors by rotation: one sincos for the start, one for the step */
        double us[9], uc[9], ss = sin(step), cs = cos(step);
        us[0] = sin(a0);
        uc[0] = cos(a0);
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
    m = fmin(m, seg_point_dist2(a, b, d));
    m = fmin(m, seg_point_dist2(c, d, a));
    return fmin(m, seg_point_dist2(c, d, b));
}

/* True when the two shapes come within tol metres of each other. */
static bool shapes_near(const struct shape *s, const struct shape *t, double tol)
{
    double sx0 = INFINITY, sx1 = -INFINITY, sy0 = INFINITY, sy1 = -INFINITY;
    double tx0 = INFINITY, tx1 = -INFINITY, ty0 = INFINITY, ty1 = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        sx0 = fmin(sx0, s->p[i].x), sx1 = fmax(sx1, s->p[i].x);
        sy0 = fmin(sy0, s->p[i].y), sy1 = fmax(sy1, s->p[i].y);
    }
    for (size_t i = 0; i < t->n; i++) {
        tx0 = fmin(tx0, t->p[i].x), tx1 = fmax(tx1, t->p[i].x);
        ty0 = fmin(ty0, t->p[i].y), ty1 = fmax(ty1, t->p[i].y);
    }
    if (sx0 - tol > tx1 || tx0 - tol > sx1 || sy0 - tol > ty1 || ty0 - tol > sy1)
        return false;
    if (in_shape(s, t->p[0]) || in_shape(t, s->p[0]))
        return true;
    double tol2 = tol * tol;
    for (size_t i = 0, j = s->n - 1; i < s->n; j = i++) {
        /* skip edges of s whose box is farther than tol from t's box */
        struct xy a = s->p[j], b = s->p[i];
        if (fmin(a.x, b.x) - tol > tx1 || fmax(a.x, b.x) + tol < tx0 ||
            fmin(a.y, b.y) - tol > ty1 || fmax(a.y, b.y) + tol < ty0)
            continue;
        for (size_t k = 0, l = t->n - 1; k < t->n; l = k++) {
            struct xy c = t->p[l], d = t->p[k];
            if (fmin(a.x, b.x) - tol > fmax(c.x, d.x) || fmin(c.x, d.x) - tol > fmax(a.x, b.x) ||
                fmin(a.y, b.y) - tol > fmax(c.y, d.y) || fmin(c.y, d.y) - tol > fmax(a.y, b.y))
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
    const struct fobs *x;
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

static bool outlines_meet(struct probe *p, const struct fobs *b)
{
    bool sb = b->o.has_bearing && b->o.has_observer;
    if (!p->sector && !sb)
        return true; /* two circles: the distance test was exact */
    if (!p->shaped) {
        shape_of(&p->x->o, p->x->o.centre, p->mlat, p->mlon, &p->s);
        p->shaped = true;
    }
    struct shape t;
    shape_of(&b->o, p->x->o.centre, p->mlat, p->mlon, &t);
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
    f->v[ri].min_id = keep;
    uint32_t t = f->v[ri].next; /* splice the circular member lists */
    f->v[ri].next = f->v[rj].next;
    f->v[rj].next = t;
    return ri;
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
    x->groups = groups_of(o->counts);
    x->fusable = x->groups && o->t_end_ms - o->t_start_ms <= FUSION_MAX_WINDOW_S * 1000LL &&
                 o->radius_m <= FUSION_MAX_RADIUS_M;
    f->n++;
    uint32_t root = me;
    if (x->fusable) {
        uint64_t keys[FUSION_MAX_KEYS];
        size_t nk = keys_of(o, keys);
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
                size_t slot = table_slot(f, keys[k], false);
                if (slot == SIZE_MAX)
                    continue;
                const struct key_vec *kv = &f->vecs[f->heads[slot]];
                for (uint32_t c = 0; c < kv->n; c++) {
                    const struct cand *cd = &kv->v[c];
                    if (!(cd->groups & x->groups))
                        continue;
                    int64_t lo = a0 > cd->t0_min ? a0 : cd->t0_min;
                    int64_t hi = a1 < cd->t1_min ? a1 : cd->t1_min;
                    int64_t dur_b = cd->t1_min - cd->t0_min;
                    int64_t shorter = (dur_a < dur_b ? dur_a : dur_b) - 2;
                    if (hi - lo + tol_min < 0 || (hi - lo + tol_min) * FUSION_MIN_OVERLAP_DIV < shorter)
                        continue;
                    double dx = (o->centre.lon_deg - cd->lon) * pr.mlon;
                    double dy = (o->centre.lat_deg - cd->lat) * pr.mlat;
                    double reach = o->radius_m + cd->radius_m + FUSION_SPACE_TOLERANCE_M +
                                   FUSION_CAND_SLACK_M;
                    if (dx * dx + dy * dy > reach * reach)
                        continue;
                    uint32_t j = cd->obs;
                    if (f->v[j].stamp == f->stamp)
                        continue;
                    f->v[j].stamp = f->stamp;
                    if (!near_enough(&pr, &f->v[j]))
                        continue;
                    uint32_t rj = find(f, j), rme = find(f, me);
                    if (rj == rme || f->v[rj].size + f->v[rme].size > FUSION_MAX_EVIDENCE ||
                        !outlines_meet(&pr, &f->v[j]))
                        continue;
                    int64_t gone;
                    root = join(f, me, j, &gone);
                    if (gone >= 0 && n_merged && *n_merged < max_merged && merged_away &&
                        gone != o->id)
                        merged_away[(*n_merged)++] = gone;
                }
            }
            struct cand mine = {me, a0, a1, (float)o->centre.lon_deg, (float)o->centre.lat_deg,
                                (float)o->radius_m, x->groups};
            for (size_t k = 0; k < nk; k++) {
                size_t slot = table_slot(f, keys[k], true);
                if (slot == SIZE_MAX)
                    return errf(e, ERR_NOMEM, "fusion: out of memory");
                if (f->heads[slot] == UINT32_MAX) {
                    if (grow((void **)&f->vecs, &f->vecs_cap, f->n_vecs + 1, sizeof *f->vecs))
                        return errf(e, ERR_NOMEM, "fusion: out of memory");
                    f->vecs[f->n_vecs] = (struct key_vec){NULL, 0, 0};
                    f->heads[slot] = (uint32_t)f->n_vecs++;
                }
                struct key_vec *kv = &f->vecs[f->heads[slot]];
                if (kv->n == kv->cap) {
                    uint32_t nc = kv->cap ? kv->cap * 2 : 4;
                    struct cand *nv = realloc(kv->v, nc * sizeof *nv);
                    if (!nv)
                        return errf(e, ERR_NOMEM, "fusion: out of memory");
                    kv->v = nv;
                    kv->cap = nc;
                }
                kv->v[kv->n++] = mine;
            }
        }
    }
    *incident = f->v[find(f, root)].min_id;
    return 0;
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
        if (f->v[i].parent == i)
            f->ids[n++] = f->v[i].min_id;
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
static const struct fusion *sort_ctx;
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

/* A local azimuthal equidistant frame around ref through PROJ geodesics. */
static struct xy geo_xy(struct geo_point ref, struct geo_point p)
{
    double d, az;
    geo_inverse(ref, p, &d, &az);
    return (struct xy){d * sin(az * DEG), d * cos(az * DEG)};
}

static struct geo_point xy_geo(struct geo_point ref, struct xy q)
{
    double d = hypot(q.x, q.y);
    if (d == 0)
        return ref;
    return geo_direct(ref, atan2(q.x, q.y) / DEG, d);
}

/* The 95 % ellipse of covariance (cxx, cxy, cyy). */
static void ellipse(double cxx, double cxy, double cyy, double *major, double *minor,
                    double *azimuth)
{
    double m = (cxx + cyy) / 2, d = sqrt(((cxx - cyy) / 2) * ((cxx - cyy) / 2) + cxy * cxy);
    double l1 = m + d, l2 = fmax(m - d, 0);
    *major = FUSION_ELLIPSE_95 * sqrt(l1);
    *minor = FUSION_ELLIPSE_95 * sqrt(l2);
    double phi = 0.5 * atan2(2 * cxy, cxx - cyy); /* from east, counter-clockwise */
    double az = 90.0 - phi / DEG;
    az = fmod(az + 360.0, 180.0);
    *azimuth = az;
}

/* Least-squares intersection of the bearing lines of members m[0..n) (those with bearings).
 * Returns true with the point and its 95 % ellipse when at least two viewpoints FUSION_MIN_
 * BASELINE_M apart cross at FUSION_MIN_CROSSING_DEG or more and the point lies ahead of every
 * observer. *viewpoints gets the number of distinct viewpoints. */
static bool triangulate(const struct fusion *f, const uint32_t *m, size_t n,
                        struct geo_point *out, double *major, double *minor, double *azimuth,
                        size_t *viewpoints)
{
    const struct fusion_obs *use[FUSION_MAX_EVIDENCE];
    size_t k = 0;
    for (size_t i = 0; i < n && k < FUSION_MAX_EVIDENCE; i++) {
        const struct fusion_obs *o = &f->v[m[i]].o;
        if (o->has_bearing && o->has_observer)
            use[k++] = o;
    }
    *viewpoints = 0;
    if (k < 2)
        return false;
    /* distinct viewpoints and the widest crossing angle between them */
    bool crossing = false;
    size_t views = 0;
    for (size_t i = 0; i < k; i++) {
        bool distinct = true;
        for (size_t j = 0; j < i; j++) {
            double d = geo_distance_m(use[i]->observer, use[j]->observer);
            if (d < FUSION_MIN_BASELINE_M) {
                distinct = false;
                continue;
            }
            double da = fabs(fmod(use[i]->bearing_deg - use[j]->bearing_deg + 540.0, 360.0) - 180.0);
            double cross = fmin(da, 180.0 - da);
            if (cross >= FUSION_MIN_CROSSING_DEG)
                crossing = true;
        }
        if (distinct)
            views++;
    }
    *viewpoints = views;
    if (views < 2 || !crossing)
        return false;
    struct geo_point ref = use[0]->observer;
    struct xy P[FUSION_MAX_EVIDENCE];
    double range[FUSION_MAX_EVIDENCE], sig[FUSION_MAX_EVIDENCE];
    for (size_t i = 0; i < k; i++) {
        P[i] = geo_xy(ref, use[i]->observer);
        range[i] = use[i]->dist_max_m > 0 ? (use[i]->dist_min_m + use[i]->dist_max_m) / 2 : 5000;
        /* the word's interval read as uniform (sd hw / sqrt 3), plus the observer's own error */
        double q = use[i]->half_width_deg / sqrt(3.0);
        sig[i] = sqrt(q * q + FUSION_BEARING_SD_DEG * FUSION_BEARING_SD_DEG) * DEG;
    }
    struct xy X = {0, 0};
    double cxx = 0, cxy = 0, cyy = 0;
    for (int iter = 0; iter < 4; iter++) {
        double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
        for (size_t i = 0; i < k; i++) {
            double th = use[i]->bearing_deg * DEG;
            double nx = cos(th), ny = -sin(th); /* normal of the line */
            double sp = fmax(sig[i] * range[i], 50.0);
            double w = 1.0 / (sp * sp);
            double c = nx * P[i].x + ny * P[i].y;
            a11 += w * nx * nx;
            a12 += w * nx * ny;
            a22 += w * ny * ny;
            b1 += w * nx * c;
            b2 += w * ny * c;
        }
        double det = a11 * a22 - a12 * a12;
        if (!(fabs(det) > 1e-30))
            return false;
        X.x = (a22 * b1 - a12 * b2) / det;
        X.y = (a11 * b2 - a12 * b1) / det;
        cxx = a22 / det;
        cyy = a11 / det;
        cxy = -a12 / det;
        for (size_t i = 0; i < k; i++) {
            double th = use[i]->bearing_deg * DEG;
            double ahead = (X.x - P[i].x) * sin(th) + (X.y - P[i].y) * cos(th);
            if (ahead <= 0)
                return false;
            range[i] = fmax(hypot(X.x - P[i].x, X.y - P[i].y), 100.0);
        }
    }
    /* Gauss-Newton with the reported distance ranges as well: the middle of each range, its
     * half-width as one standard deviation (sound is a poor range-finder); assumed ranges are
     * left out */
    for (int iter = 0; iter < 6; iter++) {
        double a11 = 0, a12 = 0, a22 = 0, g1 = 0, g2 = 0;
        bool ranged = false;
        for (size_t i = 0; i < k; i++) {
            double th = use[i]->bearing_deg * DEG;
            double nx = cos(th), ny = -sin(th);
            double sp = fmax(sig[i] * range[i], 50.0), w = 1.0 / (sp * sp);
            double res = nx * (P[i].x - X.x) + ny * (P[i].y - X.y);
            a11 += w * nx * nx;
            a12 += w * nx * ny;
            a22 += w * ny * ny;
            g1 += w * nx * res;
            g2 += w * ny * res;
            if (use[i]->distance_assumed || !(use[i]->dist_max_m > use[i]->dist_min_m))
                continue;
            double dx = X.x - P[i].x, dy = X.y - P[i].y, r = hypot(dx, dy);
            if (r < 1)
                continue;
            double ux = dx / r, uy = dy / r;
            double sr = fmax((use[i]->dist_max_m - use[i]->dist_min_m) / 2, 200.0);
            double wr = 1.0 / (sr * sr), rr = (use[i]->dist_min_m + use[i]->dist_max_m) / 2 - r;
            a11 += wr * ux * ux;
            a12 += wr * ux * uy;
            a22 += wr * uy * uy;
            g1 += wr * ux * rr;
            g2 += wr * uy * rr;
            ranged = true;
        }
        if (!ranged)
            break;
        double det = a11 * a22 - a12 * a12;
        if (!(fabs(det) > 1e-30))
            break;
        double sx = (a22 * g1 - a12 * g2) / det, sy = (a11 * g2 - a12 * g1) / det;
        X.x += sx;
        X.y += sy;
        cxx = a22 / det;
        cyy = a11 / det;
        cxy = -a12 / det;
        for (size_t i = 0; i < k; i++)
            range[i] = fmax(hypot(X.x - P[i].x, X.y - P[i].y), 100.0);
        if (hypot(sx, sy) < 1.0)
            break;
    }
    for (size_t i = 0; i < k; i++) {
        double th = use[i]->bearing_deg * DEG;
        if ((X.x - P[i].x) * sin(th) + (X.y - P[i].y) * cos(th) <= 0)
            return false;
    }
    /* the point must be compatible with the reported distance ranges (with their own slack) */
    for (size_t i = 0; i < k; i++) {
        if (use[i]->distance_assumed || use[i]->dist_max_m <= 0)
            continue;
        double r = hypot(X.x - P[i].x, X.y - P[i].y);
        double slack = 0.5 * use[i]->dist_max_m + 1000.0;
        if (r > use[i]->dist_max_m + slack || r < use[i]->dist_min_m - slack)
            return false;
    }
    *out = xy_geo(ref, X);
    ellipse(cxx, cxy, cyy, major, minor, azimuth);
    return true;
}

/* Location of members m[0..n): detections, triangulation, the smallest region. */
static void locate(const struct fusion *f, const uint32_t *m, size_t n,
                   enum fusion_loc_method *method, struct geo_point *loc, double *major,
                   double *minor, double *azimuth, size_t *viewpoints)
{
    *viewpoints = 0;
    /* located detections, weighted by accuracy (the accuracy read as a 95 % radius) */
    double sw = 0;
    struct geo_point ref = {0, 0};
    struct xy acc = {0, 0};
    size_t nd = 0;
    double only_acc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fusion_obs *o = &f->v[m[i]].o;
        if (o->how != PLACE_LOCATED)
            continue;
        if (!nd)
            ref = o->centre;
        double s = fmax(o->radius_m, 10.0) / FUSION_ELLIPSE_95;
        double w = 1 / (s * s);
        struct xy q = geo_xy(ref, o->centre);
        acc.x += w * q.x;
        acc.y += w * q.y;
        sw += w;
        only_acc = o->radius_m;
        nd++;
    }
    if (nd) {
        *method = FUSION_LOC_DETECTION;
        *loc = xy_geo(ref, (struct xy){acc.x / sw, acc.y / sw});
        *major = *minor = nd == 1 ? only_acc : FUSION_ELLIPSE_95 / sqrt(sw);
        *azimuth = 0;
        return;
    }
    if (triangulate(f, m, n, loc, major, minor, azimuth, viewpoints)) {
        *method = FUSION_LOC_TRIANGULATED;
        return;
    }
    /* the smallest region: a sector first, then a circle, then an observer */
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct fusion_obs *o = &f->v[m[i]].o;
        int rank = o->how == PLACE_SECTOR ? 0 : o->how == PLACE_CIRCLE ? 1 : 2;
        if (best < 0)
            best = (int)i;
        const struct fusion_obs *b = &f->v[m[best]].o;
        int brank = b->how == PLACE_SECTOR ? 0 : b->how == PLACE_CIRCLE ? 1 : 2;
        if (rank < brank || (rank == brank && o->radius_m < b->radius_m))
            best = (int)i;
    }
    const struct fusion_obs *b = &f->v[m[best]].o;
    *method = b->how == PLACE_SECTOR ? FUSION_LOC_SECTOR
              : b->how == PLACE_CIRCLE ? FUSION_LOC_CIRCLE
                                       : FUSION_LOC_OBSERVER;
    *loc = b->centre;
    *major = *minor = b->radius_m; /* every point of the region is within it */
    *azimuth = 0;
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

static void phrase_at(const struct agreement *a, struct geo_point p, char *buf, size_t n)
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
static bool stretched_same_side(const struct agreement *a, const struct fusion_obs *o,
                                const char *party)
{
    if (!o->has_bearing || !o->has_observer)
        return false;
    struct geo_sector s = {.observer = o->observer, .n_bearings = 1};
    s.azi_deg[0] = o->bearing_deg;
    s.half_width_deg[0] = fmin(o->half_width_deg + FUSION_BEARING_SLACK_DEG, 180.0);
    s.dist_min_m = fmax(0, o->dist_min_m / FUSION_RANGE_STRETCH - 1000.0);
    s.dist_max_m = o->dist_max_m * FUSION_RANGE_STRETCH + 1000.0;
    const char *why;
    /* samples are about 1/20 of the sector apart: half the far arc's spacing covers the gaps */
    double gap = s.dist_max_m * (s.half_width_deg[0] * M_PI / 180) / 10;
    const char *p = side_of_sector(a, &s, fmin(gap, 2000.0), NULL, NULL, &why);
    return p && !strcmp(p, party);
}

static void attribute(const struct fusion *f, const uint32_t *m, size_t n,
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
        locate(f, out_m, n_out, &lm, &inc->origin, &major, &minor, &az, &views);
        inc->origin_radius_m = major;
        bool assumed = false;
        for (size_t i = 0; i < n_out; i++)
            assumed = assumed || (f->v[out_m[i]].o.distance_assumed && lm != FUSION_LOC_TRIANGULATED);
        inc->origin_method = lm == FUSION_LOC_TRIANGULATED ? FUSION_ORIGIN_LAUNCH_TRIANG
                                                           : FUSION_ORIGIN_OUTGOING;
        phrase_at(a, inc->origin, where, sizeof where);
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
            const struct fusion_obs *best = NULL;
            for (size_t i = 0; i < n_out; i++) {
                const struct fusion_obs *o = &f->v[out_m[i]].o;
                if (o->how == PLACE_SECTOR && (!best || o->radius_m < best->radius_m))
                    best = o;
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
static void judge(const struct agreement *a, struct fusion_incident *inc)
{
    inc->n_findings = 0;
    inc->agreement_version = a->version;
    if (inc->t_start_ms < a->effective_ms || agr_region_at(a, inc->location) < 0)
        return;
    char where[192];
    phrase_at(a, inc->location, where, sizeof where);
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

static int summarise(struct fusion *f, uint32_t root, struct fusion_incident *inc,
                     struct errbuf *e)
{
    size_t n = f->v[root].size;
    size_t names_cap = f->ev_cap;
    if (grow((void **)&f->members, &f->members_cap, n, sizeof *f->members) ||
        grow((void **)&f->ev_names, &names_cap, n, sizeof *f->ev_names) ||
        grow((void **)&f->ev_ids, &f->ev_cap, n, sizeof *f->ev_ids))
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    size_t k = 0;
    uint32_t i = root;
    do {
        f->members[k++] = i;
        i = f->v[i].next;
    } while (i != root && k < n);
    sort_ctx = f;
    qsort(f->members, k, sizeof *f->members, cmp_member);
    memset(inc, 0, sizeof *inc);
    inc->id = f->v[root].min_id;
    inc->t_start_ms = INT64_MAX;
    inc->t_end_ms = INT64_MIN;
    for (size_t j = 0; j < k; j++) {
        const struct fobs *x = &f->v[f->members[j]];
        f->ev_ids[j] = x->o.id;
        f->ev_names[j] = name_of(f, f->members[j]);
        if (x->o.t_start_ms < inc->t_start_ms)
            inc->t_start_ms = x->o.t_start_ms;
        if (x->o.t_end_ms > inc->t_end_ms)
            inc->t_end_ms = x->o.t_end_ms;
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
        locate(f, impact, ni, &inc->loc_method, &inc->location, &inc->semi_major_m,
               &inc->semi_minor_m, &inc->azimuth_deg, &views);
    else
        locate(f, f->members, k, &inc->loc_method, &inc->location, &inc->semi_major_m,
               &inc->semi_minor_m, &inc->azimuth_deg, &views);
    free(impact);
    attribute(f, f->members, k, inc);
    judge(f->versions ? store_agreement_at(f->versions, inc->t_start_ms) : f->a, inc);
    return 0;
}

int fusion_incident_get(struct fusion *f, int64_t id, struct fusion_incident *out,
                        struct errbuf *e)
{
    uint32_t i = slot_of_id(f, id);
    if (i == UINT32_MAX || f->v[find(f, i)].min_id != id)
        return errf(e, ERR_NOTFOUND, "incident %lld: not found", (long long)id);
    return summarise(f, find(f, i), out, e);
}

static int json_num(struct buf *b, const char *key, double v, const char *fmt)
{
    if (!isfinite(v))
        return buf_printf(b, ",\"%s\":null", key);
    int rc = buf_printf(b, ",\"%s\":", key);
    return rc ? rc : buf_printf(b, fmt, v);
}

int fusion_incident_json(const struct fusion_incident *inc, struct buf *b)
{
    char t0[40], t1[40];
    time_format_utc(inc->t_start_ms, t0, sizeof t0);
    time_format_utc(inc->t_end_ms, t1, sizeof t1);
    int rc = buf_printf(b, "{\"id\":%lld,\"start\":\"%s\",\"end\":\"%s\",\"events\":{",
                        (long long)inc->id, t0, t1);
    /* counted types as numbers; types no report could count are listed apart */
    bool first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (inc->counts[t] <= 0)
            continue;
        rc = buf_printf(b, "%s\"%s\":%lld", first ? "" : ",", AGR_EVENT_TYPES[t], inc->counts[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, "},\"uncountable\":[");
    first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (inc->counts[t] >= 0)
            continue;
        rc = buf_printf(b, "%s\"%s\"", first ? "" : ",", AGR_EVENT_TYPES[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, "],\"count\":%lld,\"location\":{\"lon\":%.6f,\"lat\":%.6f,"
                           "\"method\":\"%s\"",
                        inc->count, inc->location.lon_deg, inc->location.lat_deg,
                        FUSION_LOC_NAMES[inc->loc_method]);
    if (!rc)
        rc = json_num(b, "semi_major_m", inc->semi_major_m, "%.1f");
    if (!rc)
        rc = json_num(b, "semi_minor_m", inc->semi_minor_m, "%.1f");
    if (!rc)
        rc = json_num(b, "azimuth_deg", inc->azimuth_deg, "%.1f");
    if (!rc && inc->origin_method != FUSION_ORIGIN_NONE && inc->origin_method !=
                                                               FUSION_ORIGIN_IMPACT_SIDE) {
        rc = buf_printf(b, "},\"origin\":{\"lon\":%.6f,\"lat\":%.6f", inc->origin.lon_deg,
                        inc->origin.lat_deg);
        if (!rc)
            rc = json_num(b, "radius_m", inc->origin_radius_m, "%.1f");
        if (!rc)
            rc = buf_printf(b, ",\"method\":\"%s\"}", FUSION_ORIGIN_NAMES[inc->origin_method]);
    } else if (!rc) {
        rc = buf_printf(b, "},\"origin\":null");
    }
    if (!rc)
        rc = buf_printf(b, ",\"attribution_method\":\"%s\",\"party\":",
                        FUSION_ORIGIN_NAMES[inc->origin_method]);
    if (!rc)
        rc = buf_json_str(b, inc->party);
    if (!rc)
        rc = buf_printf(b, ",\"grade\":\"%s\",\"reasons\":[", FUSION_GRADE_NAMES[inc->grade]);
    for (size_t i = 0; i < inc->n_reasons && !rc; i++) {
        if (i)
            rc = buf_printf(b, ",");
        if (!rc)
            rc = buf_json_str(b, inc->reasons[i]);
    }
    if (!rc)
        rc = buf_printf(b, "],\"agreement_version\":%d,\"findings\":[", inc->agreement_version);
    for (size_t i = 0; i < inc->n_findings && !rc; i++) {
        const struct fusion_finding *fd = &inc->findings[i];
        rc = buf_printf(b, "%s{\"clause\":", i ? "," : "");
        rc = rc || buf_json_str(b, fd->clause);
        rc = rc || buf_printf(b, ",\"result\":\"violation\",\"party\":");
        rc = rc || buf_json_str(b, fd->party);
        rc = rc || buf_printf(b, ",\"severity\":");
        rc = rc || buf_json_str(b, fd->severity ? fd->severity : "");
        rc = rc || buf_printf(b, ",\"reasons\":");
        rc = rc || buf_json_str(b, fd->reasons);
        rc = rc || buf_printf(b, "}");
    }
    if (!rc)
        rc = buf_printf(b, "],\"evidence\":[");
    for (size_t i = 0; i < inc->n_evidence && !rc; i++) {
        if (i)
            rc = buf_printf(b, ",");
        if (!rc)
            rc = buf_json_str(b, inc->evidence_client_ids[i]);
    }
    if (!rc)
        rc = buf_printf(b, "]}");
    return rc;
}

int fusion_incident_text(const struct fusion_incident *inc, const struct agreement *a,
                         struct buf *b)
{
    char t0[40], t1[40], where[192];
    time_format_local(inc->t_start_ms, a->time_zone, t0, sizeof t0);
    time_format_local(inc->t_end_ms, a->time_zone, t1, sizeof t1);
    phrase_at(a, inc->location, where, sizeof where);
    int rc = buf_printf(b, "incident %lld  %s .. %s\n  ", (long long)inc->id, t0, t1);
    bool first = true;
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++) {
        if (!inc->counts[t])
            continue;
        if (inc->counts[t] < 0)
            rc = buf_printf(b, "%suncountable %s", first ? "" : ", ", AGR_EVENT_NAMES_MANY[t]);
        else
            rc = buf_printf(b, "%s%lld %s", first ? "" : ", ", inc->counts[t],
                            inc->counts[t] == 1 ? AGR_EVENT_NAMES_ONE[t] : AGR_EVENT_NAMES_MANY[t]);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, " (reconciled from %zu report%s)\n  location: %s (%s, 95%% ellipse "
                           "%.1f x %.1f km, major axis %.0f deg)\n  fired by: %s (%s)\n",
                        inc->n_evidence, inc->n_evidence == 1 ? "" : "s", where,
                        FUSION_LOC_NAMES[inc->loc_method], inc->semi_major_m / 1000,
                        inc->semi_minor_m / 1000, inc->azimuth_deg, inc->party,
                        FUSION_GRADE_NAMES[inc->grade]);
    for (size_t i = 0; i < inc->n_reasons && !rc; i++)
        rc = buf_printf(b, "    - %s\n", inc->reasons[i]);
    for (size_t i = 0; i < inc->n_findings && !rc; i++)
        rc = buf_printf(b, "  finding: clause %s, violation, %s\n    %s\n", inc->findings[i].clause,
                        inc->findings[i].party, inc->findings[i].reasons);
    if (!rc)
        rc = buf_printf(b, "  evidence:");
    for (size_t i = 0; i < inc->n_evidence && !rc; i++)
        rc = buf_printf(b, " %s", inc->evidence_client_ids[i][0] ? inc->evidence_client_ids[i]
                                                                 : "(no client id)");
    if (!rc)
        rc = buf_printf(b, "\n");
    return rc;
}
