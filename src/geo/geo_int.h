/* geo_int.h: declarations shared between the geo module's source files (geo.c, geo_area.c,
 * geo_line.c); not part of the public interface. */
#ifndef TRUCE_GEO_INT_H
#define TRUCE_GEO_INT_H
#include <geodesic.h>

#include "geo/geo.h"

/* The WGS84 ellipsoid (a = 6378137 m, f = 1/298.257223563), initialised once on first use. */
const struct geod_geodesic *geo_wgs84(void);

/* Unsigned geodesic distance from p to polyline l, as geo_line_signed_distance_m. Returns a
 * value >= give_up_m quickly (without exact evaluation) when the line is certainly at least
 * give_up_m away; pass INFINITY to always get the distance. */
double geo_line_distance_below_m(const struct geo_line *l, struct geo_point p, double give_up_m);

#endif
