/* test_geo.c: unit tests of src/geo on real data (data/geo): geodesic distances against known
 * values and an independent Vincenty implementation, point-in-polygon against GEOS prepared
 * geometry, the fast line distance against the exact reference, compass words, phrases and
 * uncertainty regions. */
#include <geos_c.h>
#include <stdint.h>
#include <stdlib.h>

#include "geo/geo.h"
#include "geo_fixtures.h"
#include "t.h"

/* ---- helpers ---- */

/* State of rnd01 (geo_fixtures.h), with this file's own seed. */
static uint64_t rng_state = 12345;

static double rnd(double lo, double hi)
{
    return lo + rnd01(&rng_state) * (hi - lo);
}

static struct geo_point P(double lon, double lat)
{
    return (struct geo_point){lon, lat};
}

/* Position of a place from data/geo/donbas-places.csv (name,lat,lon,...); (NaN, NaN) if absent. */
static struct geo_point place(const char *name)
{
    struct geo_point r = {NAN, NAN};
    FILE *f = fopen("data/geo/donbas-places.csv", "r");
    char line[1024];
    size_t nl = strlen(name);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, name, nl) == 0 && line[nl] == ',') {
            char *end;
            r.lat_deg = strtod(line + nl + 1, &end);
            r.lon_deg = strtod(end + 1, NULL);
            break;
        }
    }
    if (f) fclose(f);
    return r;
}

/* Independent Vincenty (1975) inverse on WGS84, for cross-checking geo_distance_m away from
 * near-antipodal pairs. */
static double vincenty_m(struct geo_point p1, struct geo_point p2)
{
    const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
    const double d2r = M_PI / 180.0;
    double L = (p2.lon_deg - p1.lon_deg) * d2r;
    double U1 = atan((1 - f) * tan(p1.lat_deg * d2r)), U2 = atan((1 - f) * tan(p2.lat_deg * d2r));
    double sU1 = sin(U1), cU1 = cos(U1), sU2 = sin(U2), cU2 = cos(U2);
    double lam = L, lamp, ss, cs, sig, ca2, c2sm;
    int it = 0;
    do {
        double sl = sin(lam), cl = cos(lam);
        double t = cU1 * sU2 - sU1 * cU2 * cl;
        ss = sqrt((cU2 * sl) * (cU2 * sl) + t * t);
        if (ss == 0) return 0;
        cs = sU1 * sU2 + cU1 * cU2 * cl;
        sig = atan2(ss, cs);
        double sa = cU1 * cU2 * sl / ss;
        ca2 = 1 - sa * sa;
        c2sm = ca2 != 0 ? cs - 2 * sU1 * sU2 / ca2 : 0;
        double C = f / 16 * ca2 * (4 + f * (4 - 3 * ca2));
        lamp = lam;
        lam = L + (1 - C) * f * sa * (sig + C * ss * (c2sm + C * cs * (-1 + 2 * c2sm * c2sm)));
    } while (fabs(lam - lamp) > 1e-13 && ++it < 200);
    double u2 = ca2 * (a * a - b * b) / (b * b);
    double A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
    double B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
    double k = B / 6 * c2sm * (-3 + 4 * ss * ss) * (-3 + 4 * c2sm * c2sm);
    double ds = B * ss * (c2sm + B / 4 * (cs * (-1 + 2 * c2sm * c2sm) - k));
    return b * A * (sig - ds);
}

/* ---- geodesics ---- */

static void test_distance_known_values(void)
{
    /* one degree of latitude and of longitude at the equator on WGS84 */
    CHECK_NEAR(geo_distance_m(P(0, 0), P(0, 1)), 110574.4, 0.5);
    CHECK_NEAR(geo_distance_m(P(0, 0), P(1, 0)), 111319.49, 0.01);
    /* Donetsk - Svitlodarsk: SMM descriptors give about 56 km */
    double d = geo_distance_m(P(37.803, 48.016), P(38.228, 48.434));
    CHECK(d > 56000 * 0.9 && d < 56000 * 1.1);
    /* Kyiv - Kharkiv: about 409 km */
    double kk = geo_distance_m(P(30.5234, 50.4501), P(36.2304, 49.9935));
    CHECK_NEAR(kk, vincenty_m(P(30.5234, 50.4501), P(36.2304, 49.9935)), 0.001);
    CHECK(kk > 405000 && kk < 413000);
    CHECK_NEAR(geo_distance_m(P(37.8, 48.0), P(37.8, 48.0)), 0, 1e-9);
}

static void test_distance_vs_vincenty(void)
{
    for (int i = 0; i < 2000; i++) {
        struct geo_point a = P(rnd(-180, 180), rnd(-80, 80));
        struct geo_point b = P(a.lon_deg + rnd(-60, 60), rnd(-80, 80));
        if (b.lon_deg > 180) b.lon_deg -= 360;
        if (b.lon_deg < -180) b.lon_deg += 360;
        CHECK_NEAR(geo_distance_m(a, b), vincenty_m(a, b), 0.001);
    }
}

static void test_symmetry_triangle_direct(void)
{
    for (int i = 0; i < 1000; i++) {
        struct geo_point a = P(rnd(22, 41), rnd(44, 53)), b = P(rnd(22, 41), rnd(44, 53));
        struct geo_point c = P(rnd(22, 41), rnd(44, 53));
        double ab = geo_distance_m(a, b), ba = geo_distance_m(b, a);
        CHECK_NEAR(ab, ba, 1e-6);
        CHECK(geo_distance_m(a, c) <= ab + geo_distance_m(b, c) + 1e-6);
        double dist, azi;
        geo_inverse(a, b, &dist, &azi);
        CHECK(azi >= 0 && azi < 360);
        struct geo_point b2 = geo_direct(a, azi, dist);
        CHECK(geo_distance_m(b, b2) < 1e-6);
    }
    double dist, azi;
    geo_inverse(P(0, 0), P(1, 0), &dist, &azi);
    CHECK_NEAR(azi, 90, 1e-9);
    geo_inverse(P(0, 1), P(0, 0), &dist, &azi);
    CHECK_NEAR(azi, 180, 1e-9);
    geo_inverse(P(1, 0), P(0, 0), &dist, &azi);
    CHECK_NEAR(azi, 270, 1e-9);
}

static void test_point_valid(void)
{
    CHECK(geo_point_valid(P(37.8, 48.0)));
    CHECK(geo_point_valid(P(-180, -90)));
    CHECK(!geo_point_valid(P(181, 0)));
    CHECK(!geo_point_valid(P(0, 90.5)));
    CHECK(!geo_point_valid(P(NAN, 0)));
    CHECK(!geo_point_valid(P(0, INFINITY)));
}

/* ---- point in polygon ---- */

/* Compares contains, contains_slow and GEOS prepared intersects on n random points in the
 * bounding box and on every vertex; returns mismatches. */
static size_t pip_cross_check(const char *path, size_t n)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSGeometry *g = NULL;
    struct geo_area *a = load_area(path, 0, h, &g);
    CHECK(a != NULL);
    if (!a) {
        GEOS_finish_r(h);
        return 1;
    }
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g);
    struct geo_bbox bb = geo_area_bbox(a);
    size_t mism = 0, slow_mism = 0, inside = 0;
    for (size_t i = 0; i < n; i++) {
        struct geo_point p = P(rnd(bb.min_lon - 0.1, bb.max_lon + 0.1),
                               rnd(bb.min_lat - 0.1, bb.max_lat + 0.1));
        bool ours = geo_area_contains(a, p);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, p.lon_deg, p.lat_deg);
        bool theirs = GEOSPreparedIntersects_r(h, pg, pt) == 1;
        GEOSGeom_destroy_r(h, pt);
        mism += ours != theirs;
        if (i % 4 == 0) slow_mism += ours != geo_area_contains_slow(a, p);
        inside += ours;
    }
    CHECK(inside > n / 20);
    /* every vertex, and edge midpoints, are on the boundary: inside */
    size_t bad_vertex = 0;
    for (size_t r = 0; r < geo_area_ring_count(a); r++) {
        size_t m;
        const struct geo_point *pts = geo_area_ring(a, r, &m);
        for (size_t i = 0; i < m; i++) {
            bad_vertex += !geo_area_contains(a, pts[i]);
            bad_vertex += !geo_area_contains_slow(a, pts[i]);
        }
    }
    CHECK_INT(bad_vertex, 0);
    CHECK_INT(slow_mism, 0);
    GEOSPreparedGeom_destroy_r(h, pg);
    GEOSGeom_destroy_r(h, g);
    GEOS_finish_r(h);
    geo_area_free(a);
    return mism;
}

static void test_pip_ukraine_vs_geos(void)
{
    CHECK_INT(pip_cross_check("data/geo/ukraine.geojson", 100000), 0);
}

static void test_pip_ngca_vs_geos(void)
{
    CHECK_INT(pip_cross_check("data/geo/donbas-ngca-2015-approx.geojson", 100000), 0);
}

static void test_pip_known_places(void)
{
    struct geo_area *ua = load_area("data/geo/ukraine.geojson", 0, NULL, NULL);
    struct geo_area *ngca = load_area("data/geo/donbas-ngca-2015-approx.geojson", 0, NULL, NULL);
    CHECK(ua && ngca);
    if (!ua || !ngca) return;
    CHECK_INT(geo_area_ring_count(ua), 122);
    CHECK_INT(geo_area_vertex_count(ua), 12878 - 122); /* closing points dropped */
    CHECK(geo_area_contains(ua, P(30.5234, 50.4501)));  /* Kyiv */
    CHECK(!geo_area_contains(ua, P(37.62, 55.75)));     /* Moscow */
    CHECK(!geo_area_contains(ua, P(27.56, 53.90)));     /* Minsk */
    CHECK(geo_area_contains(ua, P(34.10, 44.95)));      /* Simferopol (Crimea) */
    CHECK(geo_area_contains(ngca, place("Donetsk")));
    CHECK(geo_area_contains(ngca, place("Luhansk")));
    CHECK(geo_area_contains(ngca, place("Horlivka")));
    CHECK(!geo_area_contains(ngca, place("Mariupol")));
    CHECK(!geo_area_contains(ngca, place("Kramatorsk")));
    CHECK(!geo_area_contains(ngca, place("Avdiivka")));
    CHECK(!geo_area_contains(ngca, P(NAN, 48)));
    geo_area_free(ua);
    geo_area_free(ngca);
}

static void test_pip_small_rings(void)
{
    /* a 2x2 square with a 1x1 hole, clockwise outer ring, closed */
    struct geo_point outer[5] = {P(0, 0), P(0, 2), P(2, 2), P(2, 0), P(0, 0)};
    struct geo_point hole[4] = {P(0.5, 0.5), P(1.5, 0.5), P(1.5, 1.5), P(0.5, 1.5)};
    struct geo_area *a = geo_area_new();
    CHECK(a != NULL);
    CHECK_INT(geo_area_add_ring(a, outer, 2), -1);
    CHECK_INT(geo_area_add_ring(a, outer, 5), 0);
    CHECK_INT(geo_area_add_ring(a, hole, 4), 0);
    CHECK_INT(geo_area_finish(a), 0);
    CHECK_INT(geo_area_vertex_count(a), 8);
    struct geo_bbox bb = geo_area_bbox(a);
    CHECK_NEAR(bb.max_lon, 2, 0);
    CHECK(geo_area_contains(a, P(0.25, 0.25)));
    CHECK(!geo_area_contains(a, P(1, 1)));     /* in the hole */
    CHECK(geo_area_contains(a, P(0.5, 1)));    /* on the hole's edge */
    CHECK(geo_area_contains(a, P(2, 1)));      /* on the outer edge */
    CHECK(geo_area_contains(a, P(2, 2)));      /* corner */
    CHECK(!geo_area_contains(a, P(2.0000001, 1)));
    CHECK(!geo_area_contains(a, P(-1, 1)));
    for (int i = 0; i < 20000; i++) {
        struct geo_point p = P(rnd(-0.5, 2.5), rnd(-0.5, 2.5));
        bool want = p.lon_deg >= 0 && p.lon_deg <= 2 && p.lat_deg >= 0 && p.lat_deg <= 2 &&
                    !(p.lon_deg > 0.5 && p.lon_deg < 1.5 && p.lat_deg > 0.5 && p.lat_deg < 1.5);
        CHECK(geo_area_contains(a, p) == want);
        CHECK(geo_area_contains_slow(a, p) == want);
    }
    /* edge distance from the hole's centre: nearest is its south edge, a geodesic that bulges
     * about 2 m north of the parallel 0.5 N, so slightly under the 55287 m meridian arc */
    struct geo_point hole_closed[5] = {hole[0], hole[1], hole[2], hole[3], hole[0]};
    struct geo_line *hl = geo_line_new(hole_closed, 5);
    double dh = geo_area_edge_distance_m(a, P(1, 1));
    CHECK_NEAR(dh, geo_line_distance_exact_m(hl, P(1, 1)), 0.01);
    CHECK(dh < geo_distance_m(P(1, 1), P(1, 0.5)) && dh > geo_distance_m(P(1, 1), P(1, 0.5)) - 5);
    geo_line_free(hl);
    geo_area_free(a);
}

/* ---- line distance ---- */

static void test_line_fast_vs_exact(void)
{
    struct geo_line *l = load_line("data/geo/contact-line-2015.geojson");
    CHECK(l != NULL);
    if (!l) return;
    CHECK_INT(geo_line_vertex_count(l), 76);
    double max_err = 0;
    /* the two oblasts' box, then a box reaching about 1000 km from the line */
    for (int i = 0; i < 3000; i++) {
        struct geo_point p = i < 2500 ? P(rnd(36.5, 40.2), rnd(46.8, 50.1))
                                      : P(rnd(27, 50), rnd(40, 56));
        double fast = geo_line_signed_distance_m(l, p), exact = geo_line_distance_exact_m(l, p);
        if (exact > 1000e3) continue;
        double e = fabs(fabs(fast) - exact);
        if (e > max_err) max_err = e;
    }
    CHECK(max_err <= 1.0);
    CHECK(max_err <= 0.05); /* what it achieves; see bench_linedist */
    /* on the line */
    const struct geo_point *v = geo_line_points(l);
    CHECK_NEAR(geo_line_signed_distance_m(l, v[10]), 0, 1e-6);
    CHECK(isnan(geo_line_signed_distance_m(l, P(200, 0))));
    geo_line_free(l);
}

static void test_line_sign(void)
{
    struct geo_line *l = load_line("data/geo/contact-line-2015.geojson");
    CHECK(l != NULL);
    if (!l) return;
    /* ngca_side is "right": non-government side positive */
    CHECK(geo_line_signed_distance_m(l, P(37.803, 48.016)) > 0);  /* Donetsk */
    CHECK(geo_line_signed_distance_m(l, P(37.556, 48.739)) < 0);  /* Kramatorsk */
    CHECK(geo_line_signed_distance_m(l, P(37.543, 47.097)) < 0);  /* Mariupol */
    CHECK(geo_line_signed_distance_m(l, place("Horlivka")) > 0);
    CHECK(geo_line_signed_distance_m(l, place("Luhansk")) > 0);
    CHECK(geo_line_signed_distance_m(l, place("Debaltseve")) > 0);
    CHECK(geo_line_signed_distance_m(l, place("Yasynuvata")) > 0);
    CHECK(geo_line_signed_distance_m(l, place("Avdiivka")) < 0);
    CHECK(geo_line_signed_distance_m(l, place("Popasna")) < 0);
    CHECK(geo_line_signed_distance_m(l, place("Shchastia")) < 0);
    CHECK(geo_line_signed_distance_m(l, place("Svitlodarsk")) < 0);
    /* Donetsk city centre is roughly 10-20 km from the line */
    double d = geo_line_signed_distance_m(l, place("Donetsk"));
    CHECK(d > 8000 && d < 25000);
    CHECK(geo_line_new(geo_line_points(l), 1) == NULL);
    geo_line_free(l);
}

static void test_area_edge_distance(void)
{
    struct geo_area *z = load_area("data/geo/disengagement-areas.geojson", 1, NULL, NULL);
    CHECK(z != NULL);
    if (!z) return;
    /* Zolote: a 2 km square centred on 38.53E 48.665N */
    struct geo_point c = P(38.53, 48.665);
    CHECK(geo_area_contains(z, c));
    CHECK_NEAR(geo_area_edge_distance_m(z, c), 1000, 30);
    /* cross-check against the exact line reference on the closed ring */
    size_t n;
    const struct geo_point *ring = geo_area_ring(z, 0, &n);
    struct geo_point closed[64];
    CHECK(n + 1 <= 64);
    memcpy(closed, ring, n * sizeof *ring);
    closed[n] = ring[0];
    struct geo_line *l = geo_line_new(closed, n + 1);
    double max_err = 0;
    for (int i = 0; i < 500; i++) {
        struct geo_point p = geo_direct(c, rnd(0, 360), rnd(0, 20000));
        double e = fabs(geo_area_edge_distance_m(z, p) - geo_line_distance_exact_m(l, p));
        if (e > max_err) max_err = e;
    }
    CHECK(max_err <= 1.0);
    /* a point 5 km from the centre is 5 - sqrt(2) to 4 km from the (rotated) square */
    double dn = geo_area_edge_distance_m(z, geo_direct(c, 0, 5000));
    CHECK(dn > 3550 && dn < 4020);
    geo_line_free(l);
    geo_area_free(z);
}

/* ---- compass and phrases ---- */

static void test_compass(void)
{
    double azi = -1, hw = -1;
    CHECK_INT(geo_compass_parse("NNE", &azi, &hw), 0);
    CHECK_NEAR(azi, 22.5, 1e-12);
    CHECK_NEAR(hw, 11.25, 1e-12);
    CHECK_INT(geo_compass_parse("north-north-east", &azi, &hw), 0);
    CHECK_NEAR(azi, 22.5, 1e-12);
    CHECK_INT(geo_compass_parse("North East", &azi, &hw), 0);
    CHECK_NEAR(azi, 45, 1e-12);
    CHECK_INT(geo_compass_parse("northeast", &azi, &hw), 0);
    CHECK_NEAR(azi, 45, 1e-12);
    CHECK_INT(geo_compass_parse("south", &azi, &hw), 0);
    CHECK_NEAR(azi, 180, 1e-12);
    CHECK_INT(geo_compass_parse("wnw", &azi, &hw), 0);
    CHECK_NEAR(azi, 292.5, 1e-12);
    CHECK_INT(geo_compass_parse("NXE", &azi, &hw), -1);
    CHECK_INT(geo_compass_parse("", &azi, &hw), -1);
    CHECK_INT(geo_compass_parse("north north north east", &azi, &hw), -1);
    CHECK_INT(geo_compass_parse("NSE", &azi, &hw), -1);
    CHECK_INT(geo_compass_parse("up", &azi, &hw), -1);
    CHECK_INT(geo_compass_parse(NULL, &azi, &hw), -1);
    CHECK_STR(geo_compass_word(22.4), "NNE");
    CHECK_STR(geo_compass_word(359), "N");
    CHECK_STR(geo_compass_word(0), "N");
    CHECK_STR(geo_compass_word(11.24), "N");
    CHECK_STR(geo_compass_word(135), "SE");
    CHECK_STR(geo_compass_word(-90), "W");
    CHECK_STR(geo_compass_word(720 + 180), "S");
    for (int i = 0; i < 16; i++) {
        CHECK_INT(geo_compass_parse(GEO_COMPASS16[i], &azi, &hw), 0);
        CHECK_STR(geo_compass_word(azi), GEO_COMPASS16[i]);
    }
}

static void test_phrase(void)
{
    char buf[80];
    struct geo_point avdiivka = P(37.742, 48.139);
    struct geo_point p = geo_direct(avdiivka, 135, 3000);
    geo_phrase_relative(buf, sizeof buf, p, avdiivka, "Avdiivka");
    CHECK_STR(buf, "3 km SE of Avdiivka");
    geo_phrase_relative(buf, sizeof buf, geo_direct(avdiivka, 10, 600), avdiivka, "Avdiivka");
    CHECK_STR(buf, "in Avdiivka");
    geo_phrase_relative(buf, sizeof buf, geo_direct(avdiivka, 270, 12400), avdiivka, "Avdiivka");
    CHECK_STR(buf, "12 km W of Avdiivka");
    int n = geo_phrase_relative(buf, 8, p, avdiivka, "Avdiivka");
    CHECK_INT(n, 19);
    CHECK_INT(strlen(buf), 7);
}

/* ---- regions ---- */

static void test_sector_region(void)
{
    struct geo_point station = P(37.7405, 48.0735); /* Donetsk railway station, approximate */
    struct geo_sector s = {.observer = station, .n_bearings = 1, .azi_deg = {45},
                           .half_width_deg = {11.25}, .dist_min_m = 2000, .dist_max_m = 7000};
    struct geo_region r;
    CHECK_INT(geo_sector_region(&s, &r), 0);
    double d, azi;
    geo_inverse(station, r.centre, &d, &azi);
    /* centroid of an annular sector: (2/3)(R^3-r^3)/(R^2-r^2) sin(w)/w = 4.93 km */
    CHECK_NEAR(d, 4931, 150);
    CHECK_NEAR(azi, 45, 2);
    CHECK(r.n_samples > 20 && r.n_samples <= GEO_SECTOR_MAX_POINTS);
    double mx = 0;
    for (size_t i = 0; i < r.n_samples; i++) {
        double di, ai;
        geo_inverse(station, r.samples[i], &di, &ai);
        /* samples come from a local frame: within 1e-5 of the distance at these ranges */
        CHECK(di >= 2000 * (1 - 1e-5) && di <= 7000 * (1 + 1e-5));
        CHECK(ai >= 45 - 11.25 - 0.05 && ai <= 45 + 11.25 + 0.05); /* meridian convergence */
        double dc = geo_distance_m(r.centre, r.samples[i]);
        if (dc > mx) mx = dc;
    }
    /* the radius holds every sample (geodesically) and is at most 0.02 % + 1 m more */
    CHECK(r.radius_m >= mx);
    CHECK(r.radius_m <= mx * 1.0003 + 1.0);
    CHECK(r.radius_m > 2500 && r.radius_m < 3500);

    /* zero minimum: the observer itself is a sample */
    s.dist_min_m = 0;
    CHECK_INT(geo_sector_region(&s, &r), 0);
    bool has_obs = false;
    for (size_t i = 0; i < r.n_samples; i++)
        has_obs |= geo_distance_m(station, r.samples[i]) < 1e-6;
    CHECK(has_obs);

    /* several bearings, full circle, zero-width range */
    struct geo_sector m = {.observer = station, .n_bearings = 16, .dist_min_m = 5000,
                           .dist_max_m = 5000};
    for (int i = 0; i < 16; i++) m.azi_deg[i] = i * 22.5, m.half_width_deg[i] = 180;
    CHECK_INT(geo_sector_region(&m, &r), 0);
    CHECK(r.n_samples <= GEO_SECTOR_MAX_POINTS);
    CHECK(geo_distance_m(station, r.centre) < 100);

    /* invalid sectors */
    struct geo_sector bad = s;
    bad.n_bearings = 0;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.n_bearings = GEO_SECTOR_MAX_BEARINGS + 1;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.dist_min_m = -1;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.dist_min_m = 8000;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.half_width_deg[0] = 0;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.half_width_deg[0] = 181;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
    bad = s;
    bad.dist_max_m = NAN;
    CHECK_INT(geo_sector_region(&bad, &r), -1);
}

/* The closed-form summary agrees with the sampled region: same centre within 5 % of the radius,
 * and its radius holds every sample of the region (measured geodesically). */
static void test_sector_summary_matches_samples(void)
{
    unsigned seed = 99;
    for (int t = 0; t < 500; t++) {
        struct geo_sector s = {.observer = P(37.5 + (t % 17) * 0.1, 47.5 + (t % 13) * 0.1)};
        seed = seed * 1103515245u + 12345u;
        s.n_bearings = 1 + (seed >> 16) % 4;
        for (size_t i = 0; i < s.n_bearings; i++) {
            seed = seed * 1103515245u + 12345u;
            s.azi_deg[i] = (seed >> 8) % 360;
            s.half_width_deg[i] = (i + t) % 5 == 0 ? 180 : 11.25;
        }
        seed = seed * 1103515245u + 12345u;
        s.dist_min_m = (seed >> 8) % 5000;
        s.dist_max_m = s.dist_min_m + (seed >> 20) % 15000;
        struct geo_point c;
        double radius;
        struct geo_region r;
        CHECK_INT(geo_sector_summary(&s, &c, &radius), 0);
        CHECK_INT(geo_sector_region(&s, &r), 0);
        /* the sampled centroid is a coarse quadrature of the exact one */
        CHECK(geo_distance_m(c, r.centre) <= 0.05 * r.radius_m + 1.0);
        for (size_t i = 0; i < r.n_samples; i++)
            CHECK(geo_distance_m(c, r.samples[i]) <= radius);
    }
    struct geo_sector bad = {.observer = P(37, 48), .n_bearings = 0};
    struct geo_point c;
    double radius;
    CHECK_INT(geo_sector_summary(&bad, &c, &radius), -1);
}

/* A comb: long horizontal teeth across the whole width would put each edge into thousands of
 * cells of a fine grid; the index must stay bounded and still answer exactly. */
static void test_comb_polygon_index_stays_bounded(void)
{
    enum { TEETH = 20000 }; /* 80,000 vertices: the bound coarsens the grid */
    struct geo_point *pts = malloc((4 * TEETH + 2) * sizeof *pts);
    size_t n = 0;
    for (int i = 0; i < TEETH; i++) {
        double y = 40.0 + i * 0.001;
        pts[n++] = P(30.0, y);
        pts[n++] = P(40.0, y);
        pts[n++] = P(40.0, y + 0.0005);
        pts[n++] = P(30.0 + 0.0001, y + 0.0005);
    }
    pts[n++] = P(30.0, 40.0 + TEETH * 0.001);
    pts[n++] = P(29.0, 59.0);
    struct geo_area *a = geo_area_new();
    CHECK_INT(geo_area_add_ring(a, pts, n), 0);
    CHECK_INT(geo_area_finish(a), 0);
    unsigned seed = 7;
    int mismatches = 0;
    for (int i = 0; i < 2000; i++) {
        seed = seed * 1103515245u + 12345u;
        double u = (seed >> 8) / 16777216.0;
        seed = seed * 1103515245u + 12345u;
        double v = (seed >> 8) / 16777216.0;
        struct geo_point q = P(29.5 + u * 11, 39.9 + v * 20.2);
        mismatches += geo_area_contains(a, q) != geo_area_contains_slow(a, q);
    }
    CHECK_INT(mismatches, 0);
    geo_area_free(a);
    free(pts);
}

static void test_circle_region(void)
{
    struct geo_region r;
    struct geo_point c = place("Horlivka");
    geo_circle_region(c, 1500, &r);
    CHECK(r.n_samples > 100 && r.n_samples <= GEO_SECTOR_MAX_POINTS);
    CHECK(r.radius_m >= 1500 && r.radius_m <= 1500 * 1.0003 + 1.0);
    CHECK_NEAR(r.centre.lon_deg, c.lon_deg, 0);
    for (size_t i = 0; i < r.n_samples; i++)
        CHECK(geo_distance_m(c, r.samples[i]) <= 1500 * (1 + 1e-5));
    /* the local frame's error at 100 km stays under 1e-4 of the distance */
    geo_circle_region(c, 100000, &r);
    for (size_t i = 0; i < r.n_samples; i++)
        CHECK(geo_distance_m(c, r.samples[i]) <= 100000 * (1 + 1e-4));
    CHECK(r.radius_m >= 100000);
    geo_circle_region(c, 0, &r);
    CHECK_INT(r.n_samples, 1);
    CHECK_NEAR(r.radius_m, 0, 0);
}

int main(void)
{
    static const struct t_case tests[] = {
        T(test_distance_known_values),
        T(test_distance_vs_vincenty),
        T(test_symmetry_triangle_direct),
        T(test_point_valid),
        T(test_pip_ukraine_vs_geos),
        T(test_pip_ngca_vs_geos),
        T(test_pip_known_places),
        T(test_pip_small_rings),
        T(test_line_fast_vs_exact),
        T(test_line_sign),
        T(test_area_edge_distance),
        T(test_compass),
        T(test_phrase),
        T(test_sector_region),
        T(test_circle_region),
        T(test_comb_polygon_index_stays_bounded),
        T(test_sector_summary_matches_samples),
    };
    return T_RUN(tests);
}
