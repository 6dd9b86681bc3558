/* fusion_locate.c: where an incident happened: located detections weighted by their accuracy,
 * bearings of several viewpoints triangulated by least squares (with the reported distance
 * ranges) in a local azimuthal-equidistant plane through PROJ geodesics and a 95 % error ellipse
 * from the covariance, else the smallest region (docs/fusion.md, "Location"). */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion_int.h"

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
    /* the observers in the local plane (PROJ geodesics from the first) */
    struct geo_point ref = use[0]->observer;
    struct xy P[FUSION_MAX_EVIDENCE];
    for (size_t i = 0; i < k; i++)
        P[i] = geo_xy(ref, use[i]->observer);
    /* distinct viewpoints and the widest crossing angle between them */
    bool crossing = false;
    size_t views = 0;
    for (size_t i = 0; i < k; i++) {
        bool distinct = true;
        for (size_t j = 0; j < i; j++) {
            double d = hypot(P[i].x - P[j].x, P[i].y - P[j].y);
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
    double range[FUSION_MAX_EVIDENCE], sig[FUSION_MAX_EVIDENCE];
    for (size_t i = 0; i < k; i++) {
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
void fusion_locate(const struct fusion *f, const uint32_t *m, size_t n,
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

