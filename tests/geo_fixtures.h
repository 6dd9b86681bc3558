/* geo_fixtures.h: fixtures shared by the geo unit test (tests/unit/test_geo.c) and the geo
 * benchmarks (bench/bench_pip.c, bench/bench_linedist.c). It loads data/geo GeoJSON files with
 * jansson into a geo_area (Polygon or MultiPolygon, optionally also as a GEOS geometry) or a
 * geo_line (LineString), widens a bounding box by every coordinate of a file, draws uniform
 * numbers from a splitmix64 generator whose state the caller owns (so each file keeps its own
 * seed) and reads a monotonic clock. Paths are relative to the repository root, where the test
 * and the benchmarks run. Every function is static inline, so a file that uses only some of
 * them still builds under -Wunused-function -Werror. */
#ifndef TRUCE_GEO_FIXTURES_H
#define TRUCE_GEO_FIXTURES_H
#include <geos_c.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo/geo.h"
#include "splitmix.h"

/* Advances the splitmix64 generator *state and returns a uniform double in [0, 1). */
static inline double rnd01(uint64_t *state) { return splitmix01(state); }

/* Returns the CLOCK_MONOTONIC time in seconds. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Returns the geometry object of a GeoJSON document: a Feature's geometry, the geometry of
 * feature number `feature` of a FeatureCollection, or the document itself when it is a bare
 * geometry; NULL when the document has no type. */
static inline json_t *geometry_of(json_t *root, size_t feature)
{
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!type) return NULL;
    if (!strcmp(type, "Feature")) return json_object_get(root, "geometry");
    if (!strcmp(type, "FeatureCollection"))
        return json_object_get(json_array_get(json_object_get(root, "features"), feature),
                               "geometry");
    return root;
}

/* Adds the rings of one GeoJSON Polygon coordinate array to a; returns 0 or -1. */
static inline int add_polygon(struct geo_area *a, json_t *poly)
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

/* Loads feature `feature` of a Polygon/MultiPolygon GeoJSON file into a finished geo_area. When
 * out is not NULL, *out also gets the same geometry as GEOS (context h) reads it, and failing to
 * read it there fails the load. Returns NULL on any failure, with *out left NULL; a file that
 * cannot be read or parsed is reported on stderr. */
static inline struct geo_area *load_area(const char *path, size_t feature, GEOSContextHandle_t h,
                                         GEOSGeometry **out)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return NULL;
    }
    json_t *geom = geometry_of(root, feature);
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
    if (out) {
        char *text = json_dumps(geom, 0);
        GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(h);
        *out = text && rd ? GEOSGeoJSONReader_readGeometry_r(h, rd, text) : NULL;
        if (rd) GEOSGeoJSONReader_destroy_r(h, rd);
        free(text);
        if (!*out) rc = -1;
    }
    json_decref(root);
    if (rc != 0) {
        if (out && *out) {
            GEOSGeom_destroy_r(h, *out);
            *out = NULL;
        }
        geo_area_free(a);
        return NULL;
    }
    return a;
}

/* Loads the LineString of a GeoJSON file (its first feature, if a FeatureCollection) into a
 * geo_line; returns NULL on failure, reporting a file that cannot be read or parsed on stderr. */
static inline struct geo_line *load_line(const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return NULL;
    }
    json_t *coords = json_object_get(geometry_of(root, 0), "coordinates");
    size_t n = json_array_size(coords);
    struct geo_point *pts = calloc(n ? n : 1, sizeof *pts);
    for (size_t i = 0; pts && i < n; i++) {
        json_t *c = json_array_get(coords, i);
        pts[i].lon_deg = json_number_value(json_array_get(c, 0));
        pts[i].lat_deg = json_number_value(json_array_get(c, 1));
    }
    struct geo_line *l = pts ? geo_line_new(pts, n) : NULL;
    free(pts);
    json_decref(root);
    return l;
}

/* Widens bb by every coordinate pair found under the JSON value j. */
static inline void bbox_walk(json_t *j, struct geo_bbox *bb)
{
    if (!json_is_array(j)) return;
    if (json_array_size(j) >= 2 && json_is_number(json_array_get(j, 0))) {
        double x = json_number_value(json_array_get(j, 0));
        double y = json_number_value(json_array_get(j, 1));
        if (x < bb->min_lon) bb->min_lon = x;
        if (x > bb->max_lon) bb->max_lon = x;
        if (y < bb->min_lat) bb->min_lat = y;
        if (y > bb->max_lat) bb->max_lat = y;
        return;
    }
    for (size_t i = 0; i < json_array_size(j); i++) bbox_walk(json_array_get(j, i), bb);
}

/* Widens bb by every coordinate of the geometry of a GeoJSON file (its first feature, if a
 * FeatureCollection); returns 0, or -1 after reporting a file that cannot be read or parsed. */
static inline int widen_bbox(const char *path, struct geo_bbox *bb)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return -1;
    }
    bbox_walk(json_object_get(geometry_of(root, 0), "coordinates"), bb);
    json_decref(root);
    return 0;
}

#endif
