/* geo_area.c: areas (sets of rings) with an even-odd point-in-polygon test accelerated by a
 * uniform lon/lat grid, and the geodesic distance from a point to an area's outline.
 *
 * Index: the bounding box is cut into about 16 cells per edge. Each cell lists the edges that
 * touch it (slightly enlarged). A cell with no edge is entirely inside or outside, so its flag
 * answers at once. For a cell with edges the flag also holds the even-odd status of the cell
 * centre C, and a query p walks the L-shaped path p -> q = (C.lon, p.lat) -> C inside the cell:
 * the crossings of the horizontal leg are counted with the same half-open rule and the same
 * arithmetic as the plain crossing test, the vertical leg with the rule turned by 90 degrees, so
 * only the cell's few edges are looked at. Points exactly on an edge count as inside (tested
 * first with an exact zero orientation). Coordinates are treated as planar lon/lat, like GEOS;
 * rings must not cross the antimeridian. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/geo_int.h"

struct edge {
    double ax, ay, bx, by;
};

struct ring {
    size_t off, n;
};

enum { CELL_OUT = 0, CELL_IN = 1, CELL_MIXED = 2 }; /* CELL_MIXED | status of the centre */

/* Most cell-edge entries the index may hold (4 bytes each): 64 MiB. */
#define GEO_AREA_MAX_CELL_ENTRIES 16777216.0

struct geo_area {
    struct geo_point *pts;
    size_t n_pts, cap_pts;
    struct ring *rings;
    size_t n_rings, cap_rings;
    struct geo_bbox bbox;
    bool finished;
    struct edge *edges;
    size_t n_edges;
    /* grid */
    uint32_t nx, ny;
    double x0, y0, dx, dy, inv_dx, inv_dy;
    uint8_t *flag;       /* nx*ny */
    uint32_t *cell_off;  /* nx*ny + 1 */
    uint32_t *cell_edge; /* edge indices */
    struct geo_line **lines; /* one closed polyline per ring, for edge distances */
};

/* Allocates an empty area. */
struct geo_area *geo_area_new(void)
{
    struct geo_area *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->bbox.min_lon = a->bbox.min_lat = INFINITY;
    a->bbox.max_lon = a->bbox.max_lat = -INFINITY;
    return a;
}

/* Copies a ring; a repeated closing point is dropped. */
int geo_area_add_ring(struct geo_area *a, const struct geo_point *pts, size_t n)
{
    if (!a || !pts || a->finished) return -1;
    if (n >= 2 && pts[0].lon_deg == pts[n - 1].lon_deg && pts[0].lat_deg == pts[n - 1].lat_deg)
        n--;
    if (n < 3) return -1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pts[i].lon_deg) || !isfinite(pts[i].lat_deg)) return -1;
    if (n > UINT32_MAX / 4 || a->n_pts + n > UINT32_MAX / 4) return -1;
    if (a->n_pts + n > a->cap_pts) {
        size_t cap = a->cap_pts ? a->cap_pts : 256;
        while (cap < a->n_pts + n) cap *= 2;
        struct geo_point *np = realloc(a->pts, cap * sizeof *np);
        if (!np) return -1;
        a->pts = np;
        a->cap_pts = cap;
    }
    if (a->n_rings == a->cap_rings) {
        size_t cap = a->cap_rings ? 2 * a->cap_rings : 8;
        struct ring *nr = realloc(a->rings, cap * sizeof *nr);
        if (!nr) return -1;
        a->rings = nr;
        a->cap_rings = cap;
    }
    memcpy(a->pts + a->n_pts, pts, n * sizeof *pts);
    a->rings[a->n_rings++] = (struct ring){a->n_pts, n};
    a->n_pts += n;
    for (size_t i = 0; i < n; i++) {
        if (pts[i].lon_deg < a->bbox.min_lon) a->bbox.min_lon = pts[i].lon_deg;
        if (pts[i].lon_deg > a->bbox.max_lon) a->bbox.max_lon = pts[i].lon_deg;
        if (pts[i].lat_deg < a->bbox.min_lat) a->bbox.min_lat = pts[i].lat_deg;
        if (pts[i].lat_deg > a->bbox.max_lat) a->bbox.max_lat = pts[i].lat_deg;
    }
    return 0;
}

/* True when p lies exactly on segment e (zero orientation, within the segment's box). */
static inline bool on_edge(const struct edge *e, double px, double py)
{
    if (px < fmin(e->ax, e->bx) || px > fmax(e->ax, e->bx) || py < fmin(e->ay, e->by) ||
        py > fmax(e->ay, e->by))
        return false;
    return (e->bx - e->ax) * (py - e->ay) - (e->by - e->ay) * (px - e->ax) == 0.0;
}

/* x where e crosses the horizontal line y (e must straddle it); the plain test's arithmetic. */
static inline double cross_x(const struct edge *e, double y)
{
    return (e->bx - e->ax) * (y - e->ay) / (e->by - e->ay) + e->ax;
}

static inline double cross_y(const struct edge *e, double x)
{
    return (e->by - e->ay) * (x - e->ax) / (e->bx - e->ax) + e->ay;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Visits the cells touched by edge e (cell boundaries enlarged by 1e-6 of a cell): counts them
 * into cell_off, or with fill appends ei to each cell's list at cursor. */
static void raster_edge(struct geo_area *a, const struct edge *e, uint32_t ei, bool fill,
                        uint32_t *cursor)
{
    double epsx = a->dx * 1e-6, epsy = a->dy * 1e-6;
    double xmin = fmin(e->ax, e->bx), xmax = fmax(e->ax, e->bx);
    double ymin = fmin(e->ay, e->by), ymax = fmax(e->ay, e->by);
    long c0 = (long)floor((xmin - epsx - a->x0) * a->inv_dx);
    long c1 = (long)floor((xmax + epsx - a->x0) * a->inv_dx);
    if (c0 < 0) c0 = 0;
    if (c1 > (long)a->nx - 1) c1 = (long)a->nx - 1;
    for (long c = c0; c <= c1; c++) {
        double lo = fmax(xmin, a->x0 + (double)c * a->dx - epsx);
        double hi = fmin(xmax, a->x0 + (double)(c + 1) * a->dx + epsx);
        double ylo = ymin, yhi = ymax;
        if (xmax > xmin) {
            double y1 = e->ay + (e->by - e->ay) * ((lo - e->ax) / (e->bx - e->ax));
            double y2 = e->ay + (e->by - e->ay) * ((hi - e->ax) / (e->bx - e->ax));
            ylo = fmax(ymin, fmin(y1, y2));
            yhi = fmin(ymax, fmax(y1, y2));
        }
        long r0 = (long)floor((ylo - epsy - a->y0) * a->inv_dy);
        long r1 = (long)floor((yhi + epsy - a->y0) * a->inv_dy);
        if (r0 < 0) r0 = 0;
        if (r1 > (long)a->ny - 1) r1 = (long)a->ny - 1;
        for (long r = r0; r <= r1; r++) {
            size_t cell = (size_t)r * a->nx + (size_t)c;
            if (fill)
                a->cell_edge[cursor[cell]++] = ei;
            else
                a->cell_off[cell + 1]++;
        }
    }
}

static int build_lines(struct geo_area *a)
{
    a->lines = calloc(a->n_rings, sizeof *a->lines);
    if (!a->lines) return -1;
    struct geo_point *tmp = malloc((a->n_pts + 1) * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t i = 0; i < a->n_rings; i++) {
        const struct ring *rg = &a->rings[i];
        memcpy(tmp, a->pts + rg->off, rg->n * sizeof *tmp);
        tmp[rg->n] = tmp[0];
        a->lines[i] = geo_line_new(tmp, rg->n + 1);
        if (!a->lines[i]) {
            free(tmp);
            return -1;
        }
    }
    free(tmp);
    return 0;
}

/* Builds the edge list, the grid and the per-ring polylines. */
int geo_area_finish(struct geo_area *a)
{
    if (!a || a->finished || a->n_rings == 0) return -1;
    a->n_edges = a->n_pts;
    a->edges = malloc(a->n_edges * sizeof *a->edges);
    if (!a->edges) return -1;
    for (size_t i = 0; i < a->n_rings; i++) {
        const struct ring *rg = &a->rings[i];
        for (size_t j = 0; j < rg->n; j++) {
            const struct geo_point *p = &a->pts[rg->off + j];
            const struct geo_point *q = &a->pts[rg->off + (j + 1) % rg->n];
            a->edges[rg->off + j] = (struct edge){p->lon_deg, p->lat_deg, q->lon_deg, q->lat_deg};
        }
    }
    /* grid shape: about 16 cells per edge, cells roughly square in degrees */
    double w = a->bbox.max_lon - a->bbox.min_lon, h = a->bbox.max_lat - a->bbox.min_lat;
    if (!(w > 0)) w = 1e-9;
    if (!(h > 0)) h = 1e-9;
    double target = 16.0 * (double)a->n_edges;
    if (target < 256) target = 256;
    if (target > 16777216.0) target = 16777216.0;
    double fx = sqrt(target * w / h);
    if (fx < 1) fx = 1;
    if (fx > 65536) fx = 65536;
    double fy = target / fx;
    if (fy < 1) fy = 1;
    if (fy > 65536) fy = 65536;
    a->nx = (uint32_t)fx;
    a->ny = (uint32_t)fy;
    a->x0 = a->bbox.min_lon;
    a->y0 = a->bbox.min_lat;
    /* Long edges across a fine grid (a "comb" polygon) would list an edge in millions of cells:
     * bound the cell-edge entries (raster_edge visits at most 2 (|dx|/cell + 2) + |dy|/cell + 2
     * cells per edge) and coarsen the grid until the bound fits. */
    for (;;) {
        a->dx = w / a->nx;
        a->dy = h / a->ny;
        a->inv_dx = 1.0 / a->dx;
        a->inv_dy = 1.0 / a->dy;
        double bound = 0;
        for (size_t i = 0; i < a->n_edges; i++) {
            const struct edge *e = &a->edges[i];
            bound += 2.0 * (fabs(e->bx - e->ax) * a->inv_dx + 2.0) +
                     fabs(e->by - e->ay) * a->inv_dy + 2.0;
        }
        if (bound <= GEO_AREA_MAX_CELL_ENTRIES || (a->nx == 1 && a->ny == 1))
            break;
        double f = GEO_AREA_MAX_CELL_ENTRIES / bound;
        a->nx = (uint32_t)fmax(1.0, floor(a->nx * f));
        a->ny = (uint32_t)fmax(1.0, floor(a->ny * f));
    }
    size_t ncell = (size_t)a->nx * a->ny;
    a->flag = calloc(ncell, 1);
    a->cell_off = calloc(ncell + 1, sizeof *a->cell_off);
    if (!a->flag || !a->cell_off) return -1;
    for (size_t i = 0; i < a->n_edges; i++) raster_edge(a, &a->edges[i], (uint32_t)i, false, NULL);
    for (size_t c = 0; c < ncell; c++) a->cell_off[c + 1] += a->cell_off[c];
    uint32_t *cursor = malloc(ncell * sizeof *cursor);
    a->cell_edge = malloc((a->cell_off[ncell] + 1) * sizeof *a->cell_edge);
    if (!cursor || !a->cell_edge) {
        free(cursor);
        return -1;
    }
    memcpy(cursor, a->cell_off, ncell * sizeof *cursor);
    for (size_t i = 0; i < a->n_edges; i++) raster_edge(a, &a->edges[i], (uint32_t)i, true, cursor);
    free(cursor);

    /* status of each cell centre: per row, sort the crossings of the centre line */
    double *xs = malloc(a->n_edges * sizeof *xs);
    if (!xs) return -1;
    for (uint32_t r = 0; r < a->ny; r++) {
        double yc = a->y0 + (r + 0.5) * a->dy;
        size_t nx = 0;
        for (size_t i = 0; i < a->n_edges; i++) {
            const struct edge *e = &a->edges[i];
            if ((e->ay > yc) != (e->by > yc)) xs[nx++] = cross_x(e, yc);
        }
        qsort(xs, nx, sizeof *xs, cmp_double);
        size_t k = 0; /* number of crossings <= cx */
        for (uint32_t c = 0; c < a->nx; c++) {
            double cx = a->x0 + (c + 0.5) * a->dx;
            while (k < nx && xs[k] <= cx) k++;
            uint8_t inside = (uint8_t)((nx - k) & 1u);
            size_t cell = (size_t)r * a->nx + c;
            bool mixed = a->cell_off[cell + 1] > a->cell_off[cell];
            a->flag[cell] = mixed ? (uint8_t)(CELL_MIXED | inside) : inside;
        }
    }
    free(xs);
    if (build_lines(a) != 0) return -1;
    a->finished = true;
    return 0;
}

/* Grid lookup; see the file comment for the method. */
bool geo_area_contains(const struct geo_area *a, struct geo_point p)
{
    double px = p.lon_deg, py = p.lat_deg;
    if (!(px >= a->bbox.min_lon && px <= a->bbox.max_lon && py >= a->bbox.min_lat &&
          py <= a->bbox.max_lat))
        return false;
    uint32_t ix = (uint32_t)((px - a->x0) * a->inv_dx);
    uint32_t iy = (uint32_t)((py - a->y0) * a->inv_dy);
    if (ix >= a->nx) ix = a->nx - 1;
    if (iy >= a->ny) iy = a->ny - 1;
    size_t cell = (size_t)iy * a->nx + ix;
    uint8_t f = a->flag[cell];
    if (f < CELL_MIXED) return f;
    double cx = a->x0 + (ix + 0.5) * a->dx, cy = a->y0 + (iy + 0.5) * a->dy;
    unsigned inside = f & 1u;
    for (uint32_t k = a->cell_off[cell]; k < a->cell_off[cell + 1]; k++) {
        const struct edge *e = &a->edges[a->cell_edge[k]];
        if (on_edge(e, px, py)) return true;
        if ((e->ay > py) != (e->by > py)) {
            double xi = cross_x(e, py);
            inside ^= (unsigned)((px < xi) != (cx < xi));
        }
        if ((e->ax > cx) != (e->bx > cx)) {
            double yi = cross_y(e, cx);
            inside ^= (unsigned)((py < yi) != (cy < yi));
        }
    }
    return inside;
}

/* Plain even-odd crossing test over every edge (edges count as inside). */
bool geo_area_contains_slow(const struct geo_area *a, struct geo_point p)
{
    double px = p.lon_deg, py = p.lat_deg;
    bool inside = false;
    if (!isfinite(px) || !isfinite(py)) return false;
    for (size_t i = 0; i < a->n_edges; i++) {
        const struct edge *e = &a->edges[i];
        if (on_edge(e, px, py)) return true;
        if ((e->ay > py) != (e->by > py) && px < cross_x(e, py)) inside = !inside;
    }
    return inside;
}

/* Bounding box of all rings (inverted infinities when empty). */
struct geo_bbox geo_area_bbox(const struct geo_area *a)
{
    return a->bbox;
}

/* Number of rings. */
size_t geo_area_ring_count(const struct geo_area *a)
{
    return a->n_rings;
}

/* Number of stored vertices (closing duplicates dropped). */
size_t geo_area_vertex_count(const struct geo_area *a)
{
    return a->n_pts;
}

/* Ring i as stored (without a repeated closing point), or NULL when i is out of range. */
const struct geo_point *geo_area_ring(const struct geo_area *a, size_t i, size_t *n)
{
    if (i >= a->n_rings) {
        if (n) *n = 0;
        return NULL;
    }
    if (n) *n = a->rings[i].n;
    return a->pts + a->rings[i].off;
}

/* Minimum over rings of the polyline distance (each ring closed); rings whose bound is beyond
 * the best so far are skipped by the line kernel. INFINITY before geo_area_finish. */
double geo_area_edge_distance_m(const struct geo_area *a, struct geo_point p)
{
    double best = INFINITY;
    if (!a->finished) return best;
    for (size_t i = 0; i < a->n_rings; i++) {
        double d = geo_line_distance_below_m(a->lines[i], p, best);
        if (d < best) best = d;
    }
    return best;
}

/* Grid first: when no cell under the circle's bounding box holds an edge, the outline is not
 * within reach and no distance is computed; otherwise the line kernel answers, giving up as soon
 * as every ring is provably farther than radius_m. */
bool geo_area_edge_within(const struct geo_area *a, struct geo_point p, double radius_m)
{
    if (!a->finished || !(radius_m >= 0))
        return false;
    double dlat = radius_m / 110574.0 + 1e-9;
    double c = cos(p.lat_deg * (M_PI / 180.0));
    double dlon = radius_m / (111320.0 * (c > 0.01 ? c : 0.01)) + 1e-9;
    double x0 = p.lon_deg - dlon, x1 = p.lon_deg + dlon, y0 = p.lat_deg - dlat,
           y1 = p.lat_deg + dlat;
    if (x1 < a->bbox.min_lon || x0 > a->bbox.max_lon || y1 < a->bbox.min_lat ||
        y0 > a->bbox.max_lat)
        return false;
    double fx0 = floor((x0 - a->x0) * a->inv_dx), fx1 = floor((x1 - a->x0) * a->inv_dx);
    double fy0 = floor((y0 - a->y0) * a->inv_dy), fy1 = floor((y1 - a->y0) * a->inv_dy);
    uint32_t ix0 = fx0 < 0 ? 0 : (uint32_t)fx0, iy0 = fy0 < 0 ? 0 : (uint32_t)fy0;
    uint32_t ix1 = fx1 >= a->nx ? a->nx - 1 : (uint32_t)fx1;
    uint32_t iy1 = fy1 >= a->ny ? a->ny - 1 : (uint32_t)fy1;
    bool any = false;
    for (uint32_t iy = iy0; iy <= iy1 && !any; iy++)
        for (uint32_t ix = ix0; ix <= ix1 && !any; ix++)
            any = a->flag[(size_t)iy * a->nx + ix] >= CELL_MIXED;
    if (!any)
        return false;
    for (size_t i = 0; i < a->n_rings; i++)
        if (geo_line_distance_below_m(a->lines[i], p, radius_m * 1.000001 + 1e-6) <= radius_m)
            return true;
    return false;
}

/* Frees a and everything it owns; NULL is allowed. */
void geo_area_free(struct geo_area *a)
{
    if (!a) return;
    if (a->lines)
        for (size_t i = 0; i < a->n_rings; i++) geo_line_free(a->lines[i]);
    free(a->lines);
    free(a->pts);
    free(a->rings);
    free(a->edges);
    free(a->flag);
    free(a->cell_off);
    free(a->cell_edge);
    free(a);
}
