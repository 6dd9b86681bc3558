/* geo.c: geodesics on WGS84 (PROJ's geodesic.h), compass words, the "3 km SE of X" phrase and
 * annular-sector / circle uncertainty regions. Point-in-polygon is in geo_area.c, polyline
 * distance in geo_line.c. */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "geo/geo_int.h"

static struct geod_geodesic wgs84;
static pthread_once_t wgs84_once = PTHREAD_ONCE_INIT;

static void wgs84_init(void)
{
    geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
}

/* Returns the shared WGS84 geodesic, initialising it on the first call (thread-safe). */
const struct geod_geodesic *geo_wgs84(void)
{
    pthread_once(&wgs84_once, wgs84_init);
    return &wgs84;
}

static double norm360(double azi)
{
    double r = fmod(azi, 360.0);
    if (r < 0) r += 360.0;
    if (r >= 360.0) r -= 360.0;
    return r;
}

/* Geodesic distance in metres between a and b (geod_inverse on WGS84). */
double geo_distance_m(struct geo_point a, struct geo_point b)
{
    double s12 = 0;
    geod_inverse(geo_wgs84(), a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, &s12, NULL, NULL);
    return s12;
}

/* Geodesic inverse problem: distance a->b in metres and forward azimuth at a in [0,360). */
void geo_inverse(struct geo_point a, struct geo_point b, double *dist_m, double *azi_deg)
{
    double s12 = 0, azi1 = 0;
    geod_inverse(geo_wgs84(), a.lat_deg, a.lon_deg, b.lat_deg, b.lon_deg, &s12, &azi1, NULL);
    if (dist_m) *dist_m = s12;
    if (azi_deg) *azi_deg = norm360(azi1);
}

/* Geodesic direct problem: the point dist_m from a along azimuth azi_deg. */
struct geo_point geo_direct(struct geo_point a, double azi_deg, double dist_m)
{
    struct geo_point r = {0, 0};
    geod_direct(geo_wgs84(), a.lat_deg, a.lon_deg, azi_deg, dist_m, &r.lat_deg, &r.lon_deg,
                NULL);
    return r;
}

/* True when p is finite with |lat| <= 90 and |lon| <= 180. */
bool geo_point_valid(struct geo_point p)
{
    return isfinite(p.lon_deg) && isfinite(p.lat_deg) && fabs(p.lat_deg) <= 90.0 &&
           fabs(p.lon_deg) <= 180.0;
}

/* ---- compass ---- */

const char *const GEO_COMPASS16[16] = {"N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
                                       "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"};

/* Parses a compass word: letters only after dropping spaces, hyphens and underscores; either an
 * abbreviation ("nne") or a run of the words north/east/south/west ("northnortheast"). */
int geo_compass_parse(const char *s, double *azi_deg, double *half_width_deg)
{
    static const char *const words[4] = {"north", "east", "south", "west"};
    char letters[64], abbr[8];
    size_t nl = 0, na = 0;
    if (!s) return -1;
    for (const char *c = s; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == ' ' || ch == '-' || ch == '_' || ch == '\t') continue;
        if (!isalpha(ch) || nl + 1 >= sizeof letters) return -1;
        letters[nl++] = (char)tolower(ch);
    }
    letters[nl] = '\0';
    if (nl == 0) return -1;
    if (nl <= 3) {
        for (size_t i = 0; i < nl; i++) abbr[na++] = (char)toupper((unsigned char)letters[i]);
    } else {
        size_t i = 0;
        while (i < nl) {
            size_t k;
            for (k = 0; k < 4; k++) {
                size_t wl = strlen(words[k]);
                if (strncmp(letters + i, words[k], wl) == 0) {
                    i += wl;
                    break;
                }
            }
            if (k == 4 || na >= 3) return -1;
            abbr[na++] = (char)toupper((unsigned char)words[k][0]);
        }
    }
    abbr[na] = '\0';
    for (int i = 0; i < 16; i++) {
        if (strcmp(abbr, GEO_COMPASS16[i]) == 0) {
            if (azi_deg) *azi_deg = i * 22.5;
            if (half_width_deg) *half_width_deg = 11.25;
            return 0;
        }
    }
    return -1;
}

/* The nearest 16-point abbreviation; a non-finite azimuth gives "N". */
const char *geo_compass_word(double azi_deg)
{
    if (!isfinite(azi_deg)) return GEO_COMPASS16[0];
    int i = (int)floor(norm360(azi_deg) / 22.5 + 0.5);
    return GEO_COMPASS16[i % 16];
}

/* ---- phrases ---- */

/* "in X" under 1 km, else "N km DIR of X"; returns the snprintf result. */

/* ---- uncertainty regions ---- */

/* Accumulates weighted positions for the area-weighted centroid. Regions are at most about
 * 100 km across and never cross the antimeridian here, so a weighted mean of longitudes and
 * latitudes is within metres of the centroid on the ellipsoid and costs no trigonometry. */
struct centroid_acc {
    double x, y, w;
};

static void acc_add(struct centroid_acc *c, struct geo_point p, double w)
{
    c->x += w * p.lon_deg;
    c->y += w * p.lat_deg;
    c->w += w;
}

static bool acc_result(const struct centroid_acc *c, struct geo_point *out)
{
    if (!(c->w > 0))
        return false;
    out->lon_deg = c->x / c->w;
    out->lat_deg = c->y / c->w;
    return true;
}

/* A local frame at a point for sampling regions of up to about 100 km: metres north and east
 * mapped to degrees with the ellipsoid's meridional (M) and normal (N) radii of curvature, the
 * east-west scale taken at mid-latitude. Its error grows with the square of the distance (about
 * 1e-5 of it at 10 km, 1e-4 at 100 km; tests/unit/test_geo.c measures it), far inside the
 * uncertainty of the regions it samples, and it costs a few multiplies where geod_direct costs
 * half a microsecond. */
struct local_frame {
    struct geo_point o;
    double deg_per_m_lat, deg_per_m_lon;
    double sin_lat, cos_lat;
};

static struct local_frame local_frame_at(struct geo_point o)
{
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
    double lat = o.lat_deg * (M_PI / 180.0), s = sin(lat);
    double w = sqrt(1 - e2 * s * s);
    double m = a * (1 - e2) / (w * w * w), n = a / w;
    double c = cos(lat);
    struct local_frame lf = {o, 180.0 / (M_PI * m), 180.0 / (M_PI * n * (c > 1e-6 ? c : 1e-6)),
                             s, c};
    return lf;
}

static struct geo_point local_direct(const struct local_frame *lf, double sin_az, double cos_az,
                                     double dist_m)
{
    /* Mid-latitude rule: the east-west scale is taken halfway along the step, which cancels the
     * first-order error of a fixed scale (about 1e-5 of the distance at 10 km). */
    double dlat = dist_m * cos_az * lf->deg_per_m_lat;
    /* cos(lat0 + d) by its Taylor series to d^3: d is under 0.01 rad for 100 km, so the
     * neglected d^4/24 term is below 1e-9. */
    double d = 0.5 * dlat * (M_PI / 180.0), d2 = d * d;
    double cm = lf->cos_lat * (1 - 0.5 * d2) - lf->sin_lat * (d - d2 * d / 6);
    double scale = lf->deg_per_m_lon * lf->cos_lat / (cm > 1e-6 ? cm : 1e-6);
    struct geo_point p = {lf->o.lon_deg + dist_m * sin_az * scale, lf->o.lat_deg + dlat};
    return p;
}

/* Distance in metres from the frame's origin to p, with the east-west scale taken at
 * mid-latitude like local_direct (same accuracy: about 1e-5 of the distance at 10 km). */
static double frame_distance_m(const struct local_frame *lf, struct geo_point p)
{
    double dlat = p.lat_deg - lf->o.lat_deg;
    double d = 0.5 * dlat * (M_PI / 180.0), d2 = d * d;
    double cm = lf->cos_lat * (1 - 0.5 * d2) - lf->sin_lat * (d - d2 * d / 6);
    double dx = (p.lon_deg - lf->o.lon_deg) / lf->deg_per_m_lon * cm /
                (lf->cos_lat > 1e-6 ? lf->cos_lat : 1e-6);
    double dy = dlat / lf->deg_per_m_lat;
    return sqrt(dx * dx + dy * dy);
}

/* The radius holding every sample, measured in the centre's local frame and widened by 0.02 %
 * and 1 m to cover the frame's error. */
static void region_radius(struct geo_region *r)
{
    struct local_frame lf = local_frame_at(r->centre);
    double mx = 0;
    for (size_t i = 0; i < r->n_samples; i++) {
        double d = frame_distance_m(&lf, r->samples[i]);
        if (d > mx) mx = d;
    }
    r->radius_m = mx > 0 ? mx * 1.0002 + 1.0 : 0;
}

/* Samples one annular sector (polar grid of na bearings by nr rings, the outer rings and the
 * extreme bearings lying on the outline) into r, adding area weights (r dr dtheta, trapezoid
 * rule) to acc. At most budget samples. */
static void sample_sector(struct geo_point obs, double azi, double hw, double dmin, double dmax,
                          size_t budget, struct geo_region *r, struct centroid_acc *acc)
{
    bool full = hw >= 180.0;
    size_t nr = dmax > dmin ? 5 : 1;
    size_t na = (size_t)ceil(2.0 * hw / 3.0) + (full ? 0 : 1);
    bool obs_done = false;
    struct local_frame lf = local_frame_at(obs);
    if (na < 2) na = 2;
    if (na * nr > budget) na = budget / nr; /* budget >= 32, so na >= 6 */
    double dth = full ? 360.0 / (double)na : 2.0 * hw / (double)(na - 1);
    double dr = nr > 1 ? (dmax - dmin) / (double)(nr - 1) : 0.0;
    /* sin and cos of the sample bearings by rotation: one sincos for the first bearing and one
     * for the step (error ~1e-15 per step, far below the frame's) */
    double sin_a[GEO_SECTOR_MAX_POINTS], cos_a[GEO_SECTOR_MAX_POINTS];
    double a0 = (full ? azi : azi - hw) * (M_PI / 180.0), st = dth * (M_PI / 180.0);
    double ss = sin(st), cs = cos(st);
    sin_a[0] = sin(a0);
    cos_a[0] = cos(a0);
    for (size_t j = 1; j < na; j++) {
        sin_a[j] = sin_a[j - 1] * cs + cos_a[j - 1] * ss;
        cos_a[j] = cos_a[j - 1] * cs - sin_a[j - 1] * ss;
    }
    for (size_t k = 0; k < nr && r->n_samples < GEO_SECTOR_MAX_POINTS; k++) {
        double rad = dmin + dr * (double)k;
        double wr = nr > 1 ? ((k == 0 || k == nr - 1) ? 0.5 * dr : dr) : 1.0;
        if (rad <= 0) {
            if (!obs_done) {
                r->samples[r->n_samples++] = obs;
                obs_done = true;
            }
            continue;
        }
        for (size_t j = 0; j < na && r->n_samples < GEO_SECTOR_MAX_POINTS; j++) {
            double wa = (!full && (j == 0 || j == na - 1)) ? 0.5 * dth : dth;
            struct geo_point q = local_direct(&lf, sin_a[j], cos_a[j], rad);
            r->samples[r->n_samples++] = q;
            acc_add(acc, q, rad * wr * wa);
        }
    }
}

/* Validates a sector description (the rules of geo_sector_region). */
static bool sector_valid(const struct geo_sector *s)
{
    if (!s || s->n_bearings == 0 || s->n_bearings > GEO_SECTOR_MAX_BEARINGS) return false;
    if (!geo_point_valid(s->observer) || !isfinite(s->dist_min_m) || !isfinite(s->dist_max_m) ||
        s->dist_min_m < 0 || s->dist_max_m < s->dist_min_m)
        return false;
    for (size_t i = 0; i < s->n_bearings; i++)
        if (!isfinite(s->azi_deg[i]) || !(s->half_width_deg[i] > 0) ||
            !(s->half_width_deg[i] <= 180.0))
            return false;
    return true;
}

/* True when azimuth a (radians) lies within half-width hw of centre c (radians). */
static bool azi_within(double a, double c, double hw)
{
    double d = remainder(a - c, 2 * M_PI);
    return fabs(d) <= hw + 1e-12;
}

/* Closed forms in the observer's local frame (x east, y north, metres): each annular sector's
 * centroid lies on its bisector at (2/3)(R^3-r^3)/(R^2-r^2) sin(w)/w from the observer, with
 * area w (R^2-r^2); several bearings are averaged by area (overlaps counted twice, as the
 * sampled centroid does). The farthest point of a sector from any point lies on its outline: at
 * a corner, or on an arc opposite the point. */
int geo_sector_summary(const struct geo_sector *s, struct geo_point *centre, double *radius_m)
{
    if (!sector_valid(s)) return -1;
    double r0 = s->dist_min_m, r1 = s->dist_max_m, cx = 0, cy = 0, wsum = 0;
    for (size_t i = 0; i < s->n_bearings; i++) {
        double w = fmin(s->half_width_deg[i], 180.0) * (M_PI / 180.0);
        double az = s->azi_deg[i] * (M_PI / 180.0);
        double area = w * (r1 * r1 - r0 * r0);
        double dist;
        if (r1 > r0)
            dist = (2.0 / 3.0) * (r1 * r1 * r1 - r0 * r0 * r0) / (r1 * r1 - r0 * r0) * sin(w) / w;
        else
            dist = r1 * sin(w) / w; /* a zero-width range: the arc's own centroid */
        if (!(area > 0)) area = w; /* zero-width ranges weigh by angle alone */
        cx += area * dist * sin(az);
        cy += area * dist * cos(az);
        wsum += area;
    }
    cx /= wsum;
    cy /= wsum;
    double d = hypot(cx, cy);
    struct local_frame lf = local_frame_at(s->observer);
    *centre = d > 0 ? local_direct(&lf, cx / d, cy / d, d) : s->observer;
    /* The candidates are chosen in the observer's plane, then placed on the ellipsoid and
     * measured from the centre as region_radius measures samples. */
    struct local_frame cf = local_frame_at(*centre);
    double far = 0, opp = atan2(-cx, -cy);
    for (size_t i = 0; i < s->n_bearings; i++) {
        double w = fmin(s->half_width_deg[i], 180.0) * (M_PI / 180.0);
        double az = s->azi_deg[i] * (M_PI / 180.0);
        double dirs[3] = {az - w, az + w, opp}, radii[2] = {r0, r1};
        int ndirs = azi_within(opp, az, w) ? 3 : 2; /* corners, and the arc point opposite */
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < ndirs; j++) {
                struct geo_point q = radii[k] > 0
                                         ? local_direct(&lf, sin(dirs[j]), cos(dirs[j]), radii[k])
                                         : s->observer;
                far = fmax(far, frame_distance_m(&cf, q));
            }
    }
    /* widened for the local frame's error, as region_radius is */
    *radius_m = far > 0 ? far * 1.0002 + 1.0 : 0;
    return 0;
}

/* Validates s and fills r with outline and interior samples, an area-weighted centroid and the
 * radius of the circle around it holding every sample. Overlapping bearings are weighted twice
 * where they overlap (an approximation). */
int geo_sector_region(const struct geo_sector *s, struct geo_region *r)
{
    if (!r || !sector_valid(s)) return -1;
    struct centroid_acc acc = {0, 0, 0};
    size_t budget = GEO_SECTOR_MAX_POINTS / s->n_bearings;
    r->n_samples = 0;
    for (size_t i = 0; i < s->n_bearings; i++)
        sample_sector(s->observer, s->azi_deg[i], s->half_width_deg[i], s->dist_min_m,
                      s->dist_max_m, budget, r, &acc);
    if (!acc_result(&acc, &r->centre)) r->centre = s->observer;
    region_radius(r);
    return 0;
}

/* Samples a circle of radius_m around c: the centre, rings at 1/4, 1/2, 3/4 and the outline. A
 * non-positive or non-finite radius gives the single point c. */
void geo_circle_region(struct geo_point c, double radius_m, struct geo_region *r)
{
    r->centre = c;
    r->n_samples = 0;
    r->samples[r->n_samples++] = c;
    if (!(radius_m > 0) || !isfinite(radius_m)) {
        r->radius_m = 0;
        return;
    }
    static const int per_ring[4] = {12, 24, 36, 72};
    struct local_frame lf = local_frame_at(c);
    for (int k = 0; k < 4; k++) {
        double rad = radius_m * (k + 1) / 4.0;
        for (int j = 0; j < per_ring[k]; j++) {
            double a = (2 * M_PI) * j / per_ring[k];
            r->samples[r->n_samples++] = local_direct(&lf, sin(a), cos(a), rad);
        }
    }
    region_radius(r);
}

int geo_phrase_relative(char *buf, size_t n, struct geo_point p, struct geo_point place,
                        const char *place_name)
{
    /* Distance and direction in the place's local frame: under 1e-4 off at the tens of km a
     * phrase spans, far below its rounding to whole km and 22.5-degree sectors; beyond 50 km
     * the exact geodesic is used. */
    struct local_frame lf = local_frame_at(place);
    double dx = (p.lon_deg - place.lon_deg) / lf.deg_per_m_lon;
    double dy = (p.lat_deg - place.lat_deg) / lf.deg_per_m_lat;
    double d = sqrt(dx * dx + dy * dy), azi = atan2(dx, dy) * (180.0 / M_PI);
    if (d > 50000.0)
        geo_inverse(place, p, &d, &azi);
    const char *name = place_name ? place_name : "?";
    if (!(d >= 1000.0)) return snprintf(buf, n, "in %s", name);
    return snprintf(buf, n, "%ld km %s of %s", (long)floor(d / 1000.0 + 0.5),
                    geo_compass_word(azi), name);
}
