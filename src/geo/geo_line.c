/* geo_line.c: polylines and the fast signed geodesic distance from a point to one, plus the slow
 * exact reference.
 *
 * Fast kernel, per query point p:
 *  1. Candidate search on Gauss's conformal sphere (conformal latitude chi, same longitude):
 *     point-to-great-circle-arc chord distances, with segments grouped in blocks of 4 under a
 *     bounding cap so far blocks are skipped. The map is conformal, so the ellipsoidal length of
 *     any path is its spherical length times the local scale m(phi) = N cos(phi) / cos(chi), and
 *     |d ln m / d phi| < 0.0034 everywhere; within an angle a of p, m is within a factor
 *     exp(+-0.0035 * 1.1 * a) of m at p. That bounds the ellipsoidal distance to every segment
 *     from both sides, so only segments that may be the nearest are kept (a margin of about 13 m
 *     at 100 km); usually one is, or two sharing the nearest vertex.
 *  2. For each candidate, one exact geod_inverse from an anchor on the segment (the nearer end
 *     vertex; for segments over 20 km the spherical foot point, found with geod_position) to p
 *     gives the distance s and the angle theta between the segment and the direction to p. The
 *     right-angled spherical triangle (radius = Gaussian radius sqrt(MN) at the anchor) then
 *     gives the cross-track distance, sin h = sin s sin theta, and the along-track position of
 *     the foot, tan x = tan s cos theta; x is clamped to the segment and the distance to the
 *     clamped point follows from cos d = cos h cos(x - xc). The anchor is within a few km of the
 *     foot, so the triangle is thin and the spherical model's error is centimetres (measured in
 *     bench_linedist and test_geo against the exact reference).
 *  Sign: the sign of h, i.e. the side of the nearest segment (extended beyond the ends of the
 *  line). At a vertex both adjacent segments agree on the side of points nearest to it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geo_int.h"

#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define DLNM 0.0035        /* bound on |d ln m / d lat| (true maximum 0.00336) */
#define BAND 1.1           /* latitude band half-width per unit of angle (path excursion) */
#define LONG_SEG_M 20000.0 /* longer segments are anchored at the spherical foot */
#define BLOCK 4
#define MAX_CAND 32

struct seg {
    double n[3];  /* unit normal of the great circle A x B */
    double ta[3]; /* n x A: tangent at A towards B */
    double eb[3]; /* B x n: positive on A's side of B */
    double len_m;
    double azi_a;      /* forward azimuth at A, degrees */
    double azi_b_back; /* azimuth at B towards A, degrees */
    int degen;         /* zero-length or antipodal: endpoints only */
};

struct block {
    double c[3];
    double r, cos_r, sin_r;
    uint32_t first, count; /* segments */
};

struct geo_line {
    struct geo_point *pts;
    size_t n, nseg, nblk;
    double (*v)[3];  /* unit vectors of the vertices */
    double *rg;      /* Gaussian radius of curvature at each vertex */
    struct seg *seg;
    struct block *blk;
    struct geod_geodesicline *gl; /* per segment, only when some segment is long */
};

static inline double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void cross3(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static inline double dist2(const double a[3], const double b[3])
{
    double x = a[0] - b[0], y = a[1] - b[1], z = a[2] - b[2];
    return x * x + y * y + z * z;
}

/* Unit vector of p on the conformal sphere; *scale (if not NULL) gets m(phi) in metres per
 * radian. sin chi = tanh psi, cos chi = 1 / cosh psi with psi the isometric latitude. */
static void unit_vec(struct geo_point p, double out[3], double *scale)
{
    const double e2 = WGS84_F * (2 - WGS84_F), e = sqrt(e2);
    double la = p.lat_deg * (M_PI / 180.0), lo = p.lon_deg * (M_PI / 180.0);
    double s = sin(la), cphi = cos(la);
    double sc, cc;
    if (cphi <= 0) {
        sc = s > 0 ? 1.0 : -1.0;
        cc = 0;
    } else {
        /* exp(psi) = sqrt((1+s)/(1-s)) * ((1-es)/(1+es))^(e/2) */
        double ep = sqrt((1 + s) / (1 - s)) * exp(0.5 * e * log((1 - e * s) / (1 + e * s)));
        double inv = 1.0 / ep;
        sc = (ep - inv) / (ep + inv);
        cc = 2.0 / (ep + inv);
    }
    out[0] = cc * cos(lo);
    out[1] = cc * sin(lo);
    out[2] = sc;
    if (scale) {
        double nrad = WGS84_A / sqrt(1 - e2 * s * s);
        *scale = cc > 0 ? nrad * cphi / cc
                         : WGS84_A / sqrt(1 - e2) * exp(0.5 * e * log((1 - e) / (1 + e)));
    }
}

static double gauss_radius(double lat_deg)
{
    double e2 = WGS84_F * (2 - WGS84_F), s = sin(lat_deg * (M_PI / 180.0));
    return WGS84_A * sqrt(1 - e2) / (1 - e2 * s * s);
}

/* chord length <-> angle on the unit sphere */
static inline double chord2_to_angle(double c2)
{
    double h = sqrt(c2) * 0.5;
    return 2.0 * asin(h > 1 ? 1 : h);
}

static inline double angle_to_chord2(double ang)
{
    if (ang >= M_PI) return 4.0;
    double s = 2.0 * sin(ang * 0.5);
    return s * s;
}

/* Copies the points, precomputes unit vectors, geodesic lengths and azimuths, and blocks. */
struct geo_line *geo_line_new(const struct geo_point *pts, size_t n)
{
    if (!pts || n < 2 || n > UINT32_MAX / 2) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!geo_point_valid(pts[i])) return NULL;
    const struct geod_geodesic *g = geo_wgs84();
    struct geo_line *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->n = n;
    l->nseg = n - 1;
    l->nblk = (l->nseg + BLOCK - 1) / BLOCK;
    l->pts = malloc(n * sizeof *l->pts);
    l->v = malloc(n * sizeof *l->v);
    l->rg = malloc(n * sizeof *l->rg);
    l->seg = calloc(l->nseg, sizeof *l->seg);
    l->blk = calloc(l->nblk, sizeof *l->blk);
    if (!l->pts || !l->v || !l->rg || !l->seg || !l->blk) {
        geo_line_free(l);
        return NULL;
    }
    memcpy(l->pts, pts, n * sizeof *pts);
    for (size_t i = 0; i < n; i++) {
        unit_vec(pts[i], l->v[i], NULL);
        l->rg[i] = gauss_radius(pts[i].lat_deg);
    }
    bool any_long = false;
    for (size_t k = 0; k < l->nseg; k++) {
        struct seg *s = &l->seg[k];
        const double *A = l->v[k], *B = l->v[k + 1];
        double s12 = 0, azi1 = 0, azi2 = 0;
        geod_inverse(g, pts[k].lat_deg, pts[k].lon_deg, pts[k + 1].lat_deg, pts[k + 1].lon_deg,
                     &s12, &azi1, &azi2);
        s->len_m = s12;
        s->azi_a = azi1;
        s->azi_b_back = azi2 + 180.0;
        cross3(A, B, s->n);
        double nn = sqrt(dot3(s->n, s->n));
        if (!(nn > 1e-15) || dot3(A, B) < -0.5) {
            s->degen = 1;
            memset(s->n, 0, sizeof s->n);
        } else {
            for (int j = 0; j < 3; j++) s->n[j] /= nn;
            cross3(s->n, A, s->ta);
            cross3(B, s->n, s->eb);
        }
        if (s12 > LONG_SEG_M && !s->degen) any_long = true;
    }
    if (any_long) {
        l->gl = calloc(l->nseg, sizeof *l->gl);
        if (!l->gl) {
            geo_line_free(l);
            return NULL;
        }
        for (size_t k = 0; k < l->nseg; k++)
            geod_lineinit(&l->gl[k], g, pts[k].lat_deg, pts[k].lon_deg, l->seg[k].azi_a,
                          GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_AZIMUTH | GEOD_DISTANCE_IN);
    }
    for (size_t b = 0; b < l->nblk; b++) {
        struct block *bk = &l->blk[b];
        bk->first = (uint32_t)(b * BLOCK);
        bk->count = (uint32_t)(l->nseg - b * BLOCK < BLOCK ? l->nseg - b * BLOCK : BLOCK);
        double c[3] = {0, 0, 0};
        for (size_t i = bk->first; i <= bk->first + bk->count; i++)
            for (int j = 0; j < 3; j++) c[j] += l->v[i][j];
        double cn = sqrt(dot3(c, c));
        double r = M_PI;
        if (cn > 1e-9) {
            for (int j = 0; j < 3; j++) c[j] /= cn;
            double mx = 0;
            for (size_t i = bk->first; i <= bk->first + bk->count; i++) {
                double ang = chord2_to_angle(dist2(c, l->v[i]));
                if (ang > mx) mx = ang;
            }
            r = mx < M_PI / 2 ? mx * (1 + 1e-9) + 1e-12 : M_PI;
        }
        memcpy(bk->c, c, sizeof c);
        bk->r = r;
        bk->cos_r = cos(r);
        bk->sin_r = sin(r);
    }
    return l;
}

/* Frees l; NULL is allowed. */
void geo_line_free(struct geo_line *l)
{
    if (!l) return;
    free(l->pts);
    free(l->v);
    free(l->rg);
    free(l->seg);
    free(l->blk);
    free(l->gl);
    free(l);
}

/* Number of vertices. */
size_t geo_line_vertex_count(const struct geo_line *l)
{
    return l->n;
}

/* The vertices (owned by l). */
const struct geo_point *geo_line_points(const struct geo_line *l)
{
    return l->pts;
}

/* Squared chord from P to the great-circle arc of segment k. */
static inline double seg_chord2(const struct geo_line *l, size_t k, const double P[3])
{
    const struct seg *s = &l->seg[k];
    if (!s->degen && dot3(P, s->ta) >= 0 && dot3(P, s->eb) >= 0) {
        double d = dot3(P, s->n), d2 = d * d;
        if (d2 > 1) d2 = 1;
        return 2.0 * d2 / (1.0 + sqrt(1.0 - d2));
    }
    double a = dist2(P, l->v[k]), b = dist2(P, l->v[k + 1]);
    return a < b ? a : b;
}

/* Search state: best spherical chord and the pruning threshold derived from it. */
struct sph_best {
    double c2;     /* best squared chord */
    double thr;    /* threshold angle: any segment beyond it is certainly farther */
    double thr_c2; /* threshold as squared chord */
    double cos_t, sin_t;
};

/* Candidates: angle a_k with a_k m_min <= a_best m_max, m within exp(+-DLNM BAND a) of m_p. */
static void sph_update(struct sph_best *b, double c2, double m_p)
{
    double ab = chord2_to_angle(c2);
    b->c2 = c2;
    double x = 2.0 * DLNM * BAND * (ab * 1.01 + 1e-6);
    b->thr = ab * (x <= 1 ? 1 + x + x * x : exp(x)) + 1.0 / m_p; /* 1+x+x^2 >= e^x on [0,1] */
    b->thr_c2 = angle_to_chord2(b->thr);
    b->cos_t = cos(b->thr);
    b->sin_t = sin(b->thr);
}

/* Lower bound in metres of the ellipsoidal distance for spherical angle a. */
static inline double lower_m(double a, double m_p)
{
    return a * m_p * (1 - DLNM * BAND * a); /* 1 - x <= e^-x */
}

static inline bool block_pruned(const struct block *bk, const double P[3], const struct sph_best *b)
{
    if (bk->r + b->thr >= M_PI) return false;
    return dot3(P, bk->c) < bk->cos_r * b->cos_t - bk->sin_r * b->sin_t;
}

/* Anchor-based distance to segment k (see the file comment); *side gets +1 right, -1 left. */
struct anchor_cache {
    size_t vertex; /* SIZE_MAX when empty */
    double s, azi;
};

static double seg_exact(const struct geo_line *l, size_t k, struct geo_point p, const double P[3],
                        struct anchor_cache *cache, double *side)
{
    const struct geod_geodesic *g = geo_wgs84();
    const struct seg *sg = &l->seg[k];
    double s, azp, alpha, xlo, xhi, R, dir = 1.0;
    if (l->gl && sg->len_m > LONG_SEG_M && !sg->degen) {
        double ang_ab = chord2_to_angle(dist2(l->v[k], l->v[k + 1]));
        double phi = atan2(dot3(P, sg->ta), dot3(P, l->v[k]));
        double t = ang_ab > 0 ? phi / ang_ab : 0;
        if (!(t > 0)) t = 0;
        if (t > 1) t = 1;
        double u0 = t * sg->len_m, lat, lon;
        geod_genposition(&l->gl[k], 0, u0, &lat, &lon, &alpha, NULL, NULL, NULL, NULL, NULL);
        geod_inverse(g, lat, lon, p.lat_deg, p.lon_deg, &s, &azp, NULL);
        xlo = -u0;
        xhi = sg->len_m - u0;
        R = gauss_radius(lat);
    } else {
        size_t vi = dot3(P, l->v[k]) >= dot3(P, l->v[k + 1]) ? k : k + 1;
        if (cache->vertex != vi) {
            geod_inverse(g, l->pts[vi].lat_deg, l->pts[vi].lon_deg, p.lat_deg, p.lon_deg,
                         &cache->s, &cache->azi, NULL);
            cache->vertex = vi;
        }
        s = cache->s;
        azp = cache->azi;
        if (vi == k) {
            alpha = sg->azi_a;
        } else {
            alpha = sg->azi_b_back;
            dir = -1.0;
        }
        xlo = 0;
        xhi = sg->len_m;
        R = l->rg[vi];
    }
    double th = (azp - alpha) * (M_PI / 180.0);
    double sig = s / R, ssig = sin(sig), csig = cos(sig);
    double sh = ssig * sin(th);
    if (sh > 1) sh = 1;
    if (sh < -1) sh = -1;
    double h = R * asin(sh);
    double x = R * atan2(ssig * cos(th), csig);
    double xc = x < xlo ? xlo : (x > xhi ? xhi : x);
    double d;
    *side = (h >= 0 ? 1.0 : -1.0) * dir;
    if (xc == x) {
        d = fabs(h);
    } else if (xc == 0) {
        d = s;
    } else {
        double a = sin(h / (2 * R)), b = sin((x - xc) / (2 * R));
        a *= a;
        b *= b;
        double q = a + b - 2 * a * b;
        d = 2 * R * asin(sqrt(q > 1 ? 1 : q));
    }
    return d;
}

struct cand {
    size_t k;
    double c2;
};

/* Core query: unsigned distance, *side the sign. Returns a lower bound >= give_up_m early when
 * the line is certainly that far. */
static double line_query(const struct geo_line *l, struct geo_point p, double give_up_m,
                         double *side)
{
    double P[3], m_p;
    unit_vec(p, P, &m_p);
    /* seed: the block whose centre is nearest */
    size_t seed = 0;
    double best_dot = -2;
    for (size_t b = 0; b < l->nblk; b++) {
        double dp = dot3(P, l->blk[b].c);
        if (dp > best_dot) best_dot = dp, seed = b;
    }
    struct sph_best sb;
    struct cand cand[MAX_CAND];
    size_t nc = 0;
    bool overflow = false;
    double c2 = 5.0;
    for (size_t k = l->blk[seed].first; k < l->blk[seed].first + l->blk[seed].count; k++) {
        double c = seg_chord2(l, k, P);
        if (c < c2) c2 = c;
        cand[nc++] = (struct cand){k, c};
    }
    sph_update(&sb, c2, m_p);
    for (size_t b = 0; b < l->nblk; b++) {
        const struct block *bk = &l->blk[b];
        if (b == seed || block_pruned(bk, P, &sb)) continue;
        double bc = sb.c2;
        for (size_t k = bk->first; k < bk->first + bk->count; k++) {
            double c = seg_chord2(l, k, P);
            if (c < bc) bc = c;
            if (c <= sb.thr_c2) {
                if (nc < MAX_CAND)
                    cand[nc++] = (struct cand){k, c};
                else
                    overflow = true;
            }
        }
        if (bc < sb.c2) sph_update(&sb, bc, m_p);
    }
    double lower = lower_m(chord2_to_angle(sb.c2), m_p);
    if (lower >= give_up_m) {
        *side = 1.0;
        return lower;
    }
    /* exact evaluation of the candidates, nearest first */
    struct anchor_cache cache = {SIZE_MAX, 0, 0};
    double best = INFINITY;
    *side = 1.0;
    if (!overflow) {
        size_t m = 0;
        for (size_t i = 0; i < nc; i++) {
            if (cand[i].c2 > sb.thr_c2) continue;
            struct cand t = cand[i];
            size_t j = m++;
            while (j > 0 && cand[j - 1].c2 > t.c2) {
                cand[j] = cand[j - 1];
                j--;
            }
            cand[j] = t;
        }
        for (size_t i = 0; i < m; i++) {
            if (best < INFINITY && lower_m(chord2_to_angle(cand[i].c2), m_p) > best) break;
            double sd, d = seg_exact(l, cand[i].k, p, P, &cache, &sd);
            if (d < best) best = d, *side = sd;
        }
        return best;
    }
    for (size_t b = 0; b < l->nblk; b++) {
        const struct block *bk = &l->blk[b];
        if (block_pruned(bk, P, &sb)) continue;
        for (size_t k = bk->first; k < bk->first + bk->count; k++) {
            double c = seg_chord2(l, k, P);
            if (c > sb.thr_c2) continue;
            if (best < INFINITY && lower_m(chord2_to_angle(c), m_p) > best) continue;
            double sd, d = seg_exact(l, k, p, P, &cache, &sd);
            if (d < best) best = d, *side = sd;
        }
    }
    return best;
}

/* Fast signed distance; NaN for an invalid point. */
double geo_line_signed_distance_m(const struct geo_line *l, struct geo_point p)
{
    if (!geo_point_valid(p)) return NAN;
    double side;
    double d = line_query(l, p, INFINITY, &side);
    return side * d;
}

/* Unsigned distance for the area edge distance, giving up early beyond give_up_m. */
double geo_line_distance_below_m(const struct geo_line *l, struct geo_point p, double give_up_m)
{
    if (!geo_point_valid(p)) return NAN;
    double side;
    return line_query(l, p, give_up_m, &side);
}

/* Exact distance to one geodesic segment by golden-section search over the arc length (the
 * distance along a geodesic segment from a point less than a quarter meridian away is unimodal),
 * plus the end points. */
static double seg_golden(const struct geod_geodesic *g, struct geo_point a, struct geo_point b,
                         struct geo_point p, double da, double db)
{
    double len = 0, azi = 0;
    geod_inverse(g, a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, &len, &azi, NULL);
    double best = da < db ? da : db;
    if (!(len > 0)) return best;
    struct geod_geodesicline gl;
    geod_lineinit(&gl, g, a.lat_deg, a.lon_deg, azi,
                  GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_DISTANCE_IN);
    const double gr = (sqrt(5.0) - 1) / 2;
    double lo = 0, hi = len;
    double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
    double f1, f2, lat, lon;
    geod_position(&gl, x1, &lat, &lon, NULL);
    geod_inverse(g, lat, lon, p.lat_deg, p.lon_deg, &f1, NULL, NULL);
    geod_position(&gl, x2, &lat, &lon, NULL);
    geod_inverse(g, lat, lon, p.lat_deg, p.lon_deg, &f2, NULL, NULL);
    while (hi - lo > 1e-4) {
        if (f1 < f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - gr * (hi - lo);
            geod_position(&gl, x1, &lat, &lon, NULL);
            geod_inverse(g, lat, lon, p.lat_deg, p.lon_deg, &f1, NULL, NULL);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + gr * (hi - lo);
            geod_position(&gl, x2, &lat, &lon, NULL);
            geod_inverse(g, lat, lon, p.lat_deg, p.lon_deg, &f2, NULL, NULL);
        }
    }
    if (f1 < best) best = f1;
    if (f2 < best) best = f2;
    return best;
}

/* Exact reference: golden-section search on every segment not excluded by the triangle-
 * inequality bound (d(p,a) + d(p,b) - len) / 2 >= best; NaN for an invalid point. */
double geo_line_distance_exact_m(const struct geo_line *l, struct geo_point p)
{
    if (!geo_point_valid(p)) return NAN;
    const struct geod_geodesic *g = geo_wgs84();
    double best = INFINITY;
    for (size_t i = 0; i < l->n; i++) {
        double d;
        geod_inverse(g, l->pts[i].lat_deg, l->pts[i].lon_deg, p.lat_deg, p.lon_deg, &d, NULL,
                     NULL);
        if (d < best) best = d;
    }
    double da;
    geod_inverse(g, l->pts[0].lat_deg, l->pts[0].lon_deg, p.lat_deg, p.lon_deg, &da, NULL, NULL);
    for (size_t k = 0; k < l->nseg; k++) {
        double db;
        geod_inverse(g, l->pts[k + 1].lat_deg, l->pts[k + 1].lon_deg, p.lat_deg, p.lon_deg, &db,
                     NULL, NULL);
        if ((da + db - l->seg[k].len_m) / 2 < best) {
            double d = seg_golden(g, l->pts[k], l->pts[k + 1], p, da, db);
            if (d < best) best = d;
        }
        da = db;
    }
    return best;
}
