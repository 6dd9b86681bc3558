/* bench_linedist.c: speed and accuracy of geo_line_signed_distance_m on the 2015 contact line:
 * 1,000,000 random points (fixed seed) in the bounding box of the Donetsk and Luhansk oblasts,
 * timed; the exact reference geo_line_distance_exact_m on every 100th point (10,000 points).
 * Exits non-zero below 1,000,000 points/s or when the maximum error exceeds 1 m. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "geo/geo.h"
#include "geo_fixtures.h"

#define N_POINTS 1000000
#define EXACT_EVERY 100

/* State of rnd01 (geo_fixtures.h), with this file's own seed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    struct geo_line *line = load_line("data/geo/contact-line-2015.geojson");
    struct geo_bbox bb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    if (!line || widen_bbox("data/geo/donetsk-oblast.geojson", &bb) != 0 ||
        widen_bbox("data/geo/luhansk-oblast.geojson", &bb) != 0) {
        fprintf(stderr, "bench_linedist: cannot load data/geo (run from the repository root)\n");
        return 2;
    }
    struct geo_point *pts = malloc(N_POINTS * sizeof *pts);
    double *fast = malloc(N_POINTS * sizeof *fast);
    double *err = malloc((N_POINTS / EXACT_EVERY) * sizeof *err);
    if (!pts || !fast || !err) return 2;
    for (size_t i = 0; i < N_POINTS; i++) {
        pts[i].lon_deg = bb.min_lon + rnd01(&rng_state) * (bb.max_lon - bb.min_lon);
        pts[i].lat_deg = bb.min_lat + rnd01(&rng_state) * (bb.max_lat - bb.min_lat);
    }
    double t0 = now_s();
    for (size_t i = 0; i < N_POINTS; i++) fast[i] = geo_line_signed_distance_m(line, pts[i]);
    double t_fast = now_s() - t0;
    size_t ne = 0;
    double max_err = 0, max_d = 0;
    t0 = now_s();
    for (size_t i = 0; i < N_POINTS; i += EXACT_EVERY) {
        double ex = geo_line_distance_exact_m(line, pts[i]);
        double e = fabs(fabs(fast[i]) - ex);
        err[ne++] = e;
        if (e > max_err) max_err = e;
        if (ex > max_d) max_d = ex;
    }
    double t_exact = now_s() - t0;
    qsort(err, ne, sizeof *err, cmp_double);
    double p99 = err[(size_t)(0.99 * (double)(ne - 1))];
    double rate_fast = N_POINTS / t_fast, rate_exact = (double)ne / t_exact;
    printf("linedist: box %.3f..%.3f E %.3f..%.3f N, %zu-vertex line, farthest checked point "
           "%.1f km\n",
           bb.min_lon, bb.max_lon, bb.min_lat, bb.max_lat, geo_line_vertex_count(line),
           max_d / 1000);
    printf("linedist: fast %.3f Mpts/s (%d points), exact %.0f pts/s (every %dth point, %zu "
           "points), ratio %.0fx, error max %.6f m p99 %.6f m\n",
           rate_fast / 1e6, N_POINTS, rate_exact, EXACT_EVERY, ne, rate_fast / rate_exact,
           max_err, p99);
    int rc = 0;
    if (rate_fast < 1e6) {
        printf("linedist: FAIL: below 1,000,000 points/s\n");
        rc = 1;
    }
    if (!(max_err <= 1.0)) {
        printf("linedist: FAIL: max error above 1 m\n");
        rc = 1;
    }
    free(pts);
    free(fast);
    free(err);
    geo_line_free(line);
    return rc;
}
