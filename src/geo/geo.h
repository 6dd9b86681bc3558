/* geo.h: pure geometry on the WGS84 ellipsoid for truce: geodesic distance and azimuth (PROJ's
 * geodesic.h), point-in-polygon with a grid index, signed geodesic distance from a point to a
 * polyline, annular-sector uncertainty regions, compass words and the "3 km SE of X" phrase.
 *
 * Coordinates are WGS84 degrees, longitude first as in GeoJSON; distances are metres; azimuths
 * are degrees clockwise from true north in [0, 360). This module knows nothing of agreements,
 * observations, JSON or the store, and allocates only in the *_new / *_add functions. */
#ifndef TRUCE_GEO_H
#define TRUCE_GEO_H
#include <stdbool.h>
#include <stddef.h>

struct geo_point {
    double lon_deg;
    double lat_deg;
};

struct geo_bbox {
    double min_lon, min_lat, max_lon, max_lat;
};

/* Geodesic distance in metres between a and b on WGS84 (geod_inverse). */
double geo_distance_m(struct geo_point a, struct geo_point b);

/* Geodesic inverse problem: distance in metres and forward azimuth at a, in degrees [0,360). */
void geo_inverse(struct geo_point a, struct geo_point b, double *dist_m, double *azi_deg);

/* Geodesic direct problem: the point reached from a after dist_m along azimuth azi_deg. */
struct geo_point geo_direct(struct geo_point a, double azi_deg, double dist_m);

/* True when p is a valid WGS84 position (finite, |lat| <= 90, |lon| <= 180). */
bool geo_point_valid(struct geo_point p);

/* ---- polygons: a set of rings (outer rings and holes) tested with the even-odd rule ---- */

/* An area: one or more polygons, each an outer ring with optional holes, as read from a GeoJSON
 * Polygon or MultiPolygon. Containment uses the even-odd rule over all rings, which is exact for
 * valid (OGC simple) polygons. Points on an edge count as inside. After the last ring is added,
 * geo_area_finish builds the grid index; geo_area_contains may then be called from any thread. */
struct geo_area;

/* Allocates an empty area. Returns NULL on allocation failure. */
struct geo_area *geo_area_new(void);
/* Adds one closed or open ring of n >= 3 points (copied). Returns 0, or -1 on allocation failure
 * or n < 3. Rings may be outer rings or holes; orientation does not matter. */
int geo_area_add_ring(struct geo_area *a, const struct geo_point *pts, size_t n);
/* Builds the index. Returns 0 or -1 on allocation failure. Must be called once, after the rings. */
int geo_area_finish(struct geo_area *a);
/* True when p lies inside the area (or on its boundary). Requires geo_area_finish. */
bool geo_area_contains(const struct geo_area *a, struct geo_point p);
/* Reference answer without the index (plain even-odd crossing test over every edge), for tests. */
bool geo_area_contains_slow(const struct geo_area *a, struct geo_point p);
/* Bounding box of all rings. */
struct geo_bbox geo_area_bbox(const struct geo_area *a);
/* Number of rings and total vertices (for diagnostics and limits). */
size_t geo_area_ring_count(const struct geo_area *a);
size_t geo_area_vertex_count(const struct geo_area *a);
/* Ring i's points and count (the area owns them). */
const struct geo_point *geo_area_ring(const struct geo_area *a, size_t i, size_t *n);
/* Geodesic distance in metres from p to the nearest edge of the area (0 is never returned for
 * points inside; callers combine with geo_area_contains). Accurate to about 1 m. */
double geo_area_edge_distance_m(const struct geo_area *a, struct geo_point p);
/* True when some point of the area's outline lies within radius_m of p (geodesic, about 1 m
 * accurate). Much cheaper than geo_area_edge_distance_m when the outline is far: the grid
 * answers most queries without any distance computation. */
bool geo_area_edge_within(const struct geo_area *a, struct geo_point p, double radius_m);
void geo_area_free(struct geo_area *a);

/* ---- polylines ---- */

/* A polyline (a reference line such as a line of contact) with an index for fast distance
 * queries. Segments are geodesics between consecutive vertices. */
struct geo_line;

/* Copies n >= 2 points and builds the index. Returns NULL on allocation failure or n < 2. */
struct geo_line *geo_line_new(const struct geo_point *pts, size_t n);
void geo_line_free(struct geo_line *l);
size_t geo_line_vertex_count(const struct geo_line *l);
const struct geo_point *geo_line_points(const struct geo_line *l);

/* Signed geodesic distance in metres from p to the line: the minimum distance to any geodesic
 * segment, positive when p lies to the right of the line walking from its first vertex to its
 * last, negative on the left. At most 1 m from geo_line_distance_exact_m for points within
 * 1000 km of the line; meant to run at over a million points per second. */
double geo_line_signed_distance_m(const struct geo_line *l, struct geo_point p);

/* The exact reference: minimum over segments of the geodesic distance to the segment, found by
 * iterating with geod_inverse and geod_direct. Unsigned. Slow: for tests and benchmarks. */
double geo_line_distance_exact_m(const struct geo_line *l, struct geo_point p);

/* ---- compass ---- */

/* The 16 compass points: "N", "NNE", ..., "NNW". Index i covers azimuth i*22.5 +- 11.25 deg. */
extern const char *const GEO_COMPASS16[16];

/* Parses a compass word into its azimuth in degrees and half-width tolerance (11.25 deg for a
 * 16-point word). Accepts abbreviations ("NNE") and words in any case with hyphens or spaces
 * ("north-north-east", "North East", "northeast"). Returns 0, or -1 when s is not a compass
 * direction. */
int geo_compass_parse(const char *s, double *azi_deg, double *half_width_deg);

/* The 16-point abbreviation ("NNE") nearest to an azimuth in degrees (any real value). */
const char *geo_compass_word(double azi_deg);

/* ---- uncertainty regions ---- */

/* Limits of one sector description. */
#define GEO_SECTOR_MAX_BEARINGS 16
#define GEO_SECTOR_MAX_POINTS 512

/* The region where an event heard or seen from an observer may be: the union, over a set of
 * bearings (each a centre azimuth and a half-width in degrees), of the annular sectors between
 * dist_min_m and dist_max_m from the observer. */
struct geo_sector {
    struct geo_point observer;
    size_t n_bearings;
    double azi_deg[GEO_SECTOR_MAX_BEARINGS];
    double half_width_deg[GEO_SECTOR_MAX_BEARINGS];
    double dist_min_m, dist_max_m;
};

/* A summary of a region for placement: a representative point (the geodesic centroid of the
 * region's area, approximated by averaging sample points weighted by area), the radius in metres
 * of the smallest circle around that point found to contain every sample, and sample points that
 * lie on the region's outline and inside it (at most GEO_SECTOR_MAX_POINTS) for classification
 * against polygons. */
struct geo_region {
    struct geo_point centre;
    double radius_m;
    size_t n_samples;
    struct geo_point samples[GEO_SECTOR_MAX_POINTS];
};

/* Fills r for sector s. Returns 0, or -1 when s is invalid (no bearings, too many, a negative or
 * inverted distance range, a half-width outside (0, 180]). A zero-width distance range and a
 * single bearing are valid. */
int geo_sector_region(const struct geo_sector *s, struct geo_region *r);

/* The centre and radius of sector s without sampling it: the area-weighted centroid of its
 * annular sectors (closed form) and the distance from there to its farthest outline point,
 * widened like geo_sector_region's. Same validity rules as geo_sector_region. */
int geo_sector_summary(const struct geo_sector *s, struct geo_point *centre, double *radius_m);

/* Fills r for a circle of radius_m around c (a located detection with its accuracy). */
void geo_circle_region(struct geo_point c, double radius_m, struct geo_region *r);

/* ---- phrases ---- */

/* Writes the phrase people use for p relative to a place into buf of size n: "in Avdiivka" when
 * p is under 1 km from the place, else "3 km SE of Avdiivka" (distance rounded to whole km, the
 * 16-point direction of the azimuth from the place to p). Returns the snprintf result. */
int geo_phrase_relative(char *buf, size_t n, struct geo_point p, struct geo_point place,
                        const char *place_name);

#endif
