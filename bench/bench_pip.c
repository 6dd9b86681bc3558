/* bench_pip.c: point-in-polygon speed of geo_area_contains against GEOS prepared geometry on
 * Ukraine's outline (data/geo/ukraine.geojson, 122 polygons): 1,000,000 random points (fixed
 * seed) in its bounding box, answers compared point by point. GEOS is asked
 * GEOSPreparedIntersects (boundary points inside, as in geo_area_contains; GEOS 3.11 has no
 * GEOSPreparedContainsXY, so each query builds a point with GEOSGeom_createPointFromXY_r,
 * which is counted in its time). Exits non-zero below a 5x speed ratio or on any mismatch. */
#include <geos_c.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/geo.h"

#define N_POINTS 1000000
#define TARGET_RATIO 5.0

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static double rnd01(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static json_t *geometry_of(json_t *root)
{
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!type) return NULL;
    if (!strcmp(type, "Feature")) return json_object_get(root, "geometry");
    if (!strcmp(type, "FeatureCollection"))
        return json_object_get(json_array_get(json_object_get(root, "features"), 0), "geometry");
    return root;
}

/* Adds the rings of one GeoJSON Polygon coordinate array to a. */
static int add_polygon(struct geo_area *a, json_t *poly)
{
    for (size_t r = 0; r < json_array_size(poly); r++) {
        json_t *ring = json_array_get(poly, r);
        size_t n = json_array_size(ring);
        struct geo_point *pts = malloc((n ? n : 1) * sizeof *pts);
        if (!pts) return -1;
        for (size_t i = 0; i < n; i++) {
            json_t *c = json_array_get(ring, i);
            pts[i].lon_deg = json_number_value(json_array_get(c, 0));
            pts[i].lat_deg = json_number_value(json_array_get(c, 1));
        }
        int rc = geo_area_add_ring(a, pts, n);
        free(pts);
        if (rc != 0) return -1;
    }
    return 0;
}

/* Loads a Polygon/MultiPolygon GeoJSON file into a geo_area and a GEOS geometry. */
static struct geo_area *load_area(const char *path, GEOSContextHandle_t h, GEOSGeometry **out)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return NULL;
    }
    json_t *geom = geometry_of(root);
    const char *type = json_string_value(json_object_get(geom, "type"));
    json_t *coords = json_object_get(geom, "coordinates");
    struct geo_area *a = geo_area_new();
    int rc = a && type ? 0 : -1;
    if (rc == 0 && !strcmp(type, "Polygon")) {
        rc = add_polygon(a, coords);
    } else if (rc == 0 && !strcmp(type, "MultiPolygon")) {
        for (size_t i = 0; rc == 0 && i < json_array_size(coords); i++)
            rc = add_polygon(a, json_array_get(coords, i));
    } else {
        rc = -1;
    }
    if (rc == 0) rc = geo_area_finish(a);
    char *text = json_dumps(geom, 0);
    GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(h);
    *out = text && rd ? GEOSGeoJSONReader_readGeometry_r(h, rd, text) : NULL;
    if (rd) GEOSGeoJSONReader_destroy_r(h, rd);
    free(text);
    json_decref(root);
    if (rc != 0 || !*out) {
        geo_area_free(a);
        return NULL;
    }
    return a;
}

int main(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSGeometry *g = NULL;
    double t0 = now_s();
    struct geo_area *a = load_area("data/geo/ukraine.geojson", h, &g);
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
        pts[i].lon_deg = bb.min_lon + rnd01() * (bb.max_lon - bb.min_lon);
        pts[i].lat_deg = bb.min_lat + rnd01() * (bb.max_lat - bb.min_lat);
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
