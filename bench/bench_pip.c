/* bench_pip.c: point-in-polygon speed of geo_area_contains against GEOS prepared geometry on
 * Ukraine's outline (data/geo/ukraine.geojson, 122 polygons): 1,000,000 random points (fixed
 * seed) in its bounding box, answers compared point by point. GEOS is asked
 * GEOSPreparedIntersects (boundary points inside, as in geo_area_contains; GEOS 3.11 has no
 * GEOSPreparedContainsXY, so each query builds a point with GEOSGeom_createPointFromXY_r,
 * which is counted in its time). Exits non-zero below a 5x speed ratio or on any mismatch. */
#include <geos_c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "geo/geo.h"
#include "geo_fixtures.h"

#define N_POINTS 1000000
#define TARGET_RATIO 5.0

/* State of rnd01 (geo_fixtures.h), with this file's own seed. */
static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

int main(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSGeometry *g = NULL;
    double t0 = now_s();
    struct geo_area *a = load_area("data/geo/ukraine.geojson", 0, h, &g);
    if (!a) {
        fprintf(stderr, "bench_pip: cannot load data/geo/ukraine.geojson (run from the "
                        "repository root)\n");
        return 2;
    }
    double t_load = now_s() - t0;
    t0 = now_s();
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    struct geo_bbox bb = geo_area_bbox(a);
    struct geo_point *pts = malloc(N_POINTS * sizeof *pts);
    unsigned char *ours = malloc(N_POINTS), *theirs = malloc(N_POINTS);
    if (!pg || !pts || !ours || !theirs) return 2;
    for (size_t i = 0; i < N_POINTS; i++) {
        pts[i].lon_deg = bb.min_lon + rnd01(&rng_state) * (bb.max_lon - bb.min_lon);
        pts[i].lat_deg = bb.min_lat + rnd01(&rng_state) * (bb.max_lat - bb.min_lat);
    }
    /* warm up GEOS's lazily built index outside the timing */
    GEOSGeometry *w = GEOSGeom_createPointFromXY_r(h, 30.5, 50.45);
    GEOSPreparedIntersects_r(h, pg, w);
    GEOSGeom_destroy_r(h, w);

    t0 = now_s();
    for (size_t i = 0; i < N_POINTS; i++) ours[i] = geo_area_contains(a, pts[i]);
    double t_ours = now_s() - t0;
    t0 = now_s();
    for (size_t i = 0; i < N_POINTS; i++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, pts[i].lon_deg, pts[i].lat_deg);
        theirs[i] = GEOSPreparedIntersects_r(h, pg, pt) == 1;
        GEOSGeom_destroy_r(h, pt);
    }
    double t_geos = now_s() - t0;
    size_t mism = 0, n_in = 0, slow_mism = 0;
    for (size_t i = 0; i < N_POINTS; i++) {
        mism += ours[i] != theirs[i];
        n_in += ours[i];
        if (i % 1000 == 0) slow_mism += ours[i] != geo_area_contains_slow(a, pts[i]);
    }
    double r_ours = N_POINTS / t_ours, r_geos = N_POINTS / t_geos, ratio = r_ours / r_geos;
    printf("pip: ukraine.geojson %zu rings %zu vertices, load+index %.1f ms, %zu of %d random "
           "points inside, contains_slow disagrees on %zu of %d\n",
           geo_area_ring_count(a), geo_area_vertex_count(a), t_load * 1e3, n_in, N_POINTS,
           slow_mism, N_POINTS / 1000);
    printf("pip: truce %.1f Mpts/s, GEOS prepared %.2f Mpts/s, ratio %.1fx, mismatches %zu of "
           "%d\n",
           r_ours / 1e6, r_geos / 1e6, ratio, mism, N_POINTS);
    int rc = 0;
    if (ratio < TARGET_RATIO) {
        printf("pip: FAIL: ratio below %.0fx\n", TARGET_RATIO);
        rc = 1;
    }
    if (mism || slow_mism) {
        printf("pip: FAIL: answers differ\n");
        rc = 1;
    }
    GEOSPreparedGeom_destroy_r(h, pg);
    GEOSGeom_destroy_r(h, g);
    GEOS_finish_r(h);
    geo_area_free(a);
    free(pts);
    free(ours);
    free(theirs);
    return rc;
}
