/* observation.c: validation of one observation record (the GeoJSON Feature schema of
 * docs/observation-format.md) into a struct obs, and its normalised JSON form.
 *
 * Every error says which field and why, in words a monitor can act on; the caller prefixes the
 * record index. Unknown properties are refused (a typo must not silently drop data) except the
 * extension prefix "x_". */
#include "observation/observation.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const OBS_KIND_NAMES[OBS_N_KINDS] = {"fire",     "detection",  "sighting",
                                                 "presence", "uav_flight", "allegation"};
const char *const OBS_QUALIFIER_NAMES[4] = {"exact", "about", "at_least", "uncountable"};
const char *const OBS_MEANS_NAMES[OBS_N_MEANS] = {"patrol", "camera",    "uav",   "acoustic",
                                                  "radar",  "satellite", "party", "other"};

#define DEFAULT_BEARING_TOLERANCE_DEG 10.0
#define MAX_DISTANCE_KM 100.0
#define MAX_ACCURACY_M 100000.0

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

static int set_str(char *dst, size_t n, json_t *v, const char *field, struct errbuf *e)
{
    if (!json_is_string(v))
        return errf(e, ERR_INVAL, "%s: must be a string", field);
    if (json_string_length(v) >= n)
        return errf(e, ERR_TOOBIG, "%s: longer than %zu bytes", field, n - 1);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return errf(e, ERR_INVAL, "%s: contains a NUL character", field);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int read_point(json_t *v, const char *field, struct geo_point *p, struct errbuf *e)
{
    if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > 3 ||
        !json_is_number(json_array_get(v, 0)) || !json_is_number(json_array_get(v, 1)))
        return errf(e, ERR_INVAL, "%s: a position is [longitude, latitude] in degrees", field);
    p->lon_deg = json_number_value(json_array_get(v, 0));
    p->lat_deg = json_number_value(json_array_get(v, 1));
    if (!geo_point_valid(*p))
        return errf(e, ERR_INVAL,
                    "%s: [%g, %g] is not a position on Earth (longitude -180..180, latitude "
                    "-90..90; GeoJSON puts longitude first)",
                    field, p->lon_deg, p->lat_deg);
    return 0;
}

/* "about 200", "at least 59", "uncountable", "48" */
static int parse_count_text(const char *s, long long *count, enum obs_qualifier *q)
{
    *q = OBS_Q_EXACT;
    if (!str_casecmp(s, "uncountable")) {
        *q = OBS_Q_UNCOUNTABLE;
        *count = -1;
        return 0;
    }
    if (!strncasecmp(s, "about ", 6)) {
        *q = OBS_Q_ABOUT;
        s += 6;
    } else if (!strncasecmp(s, "at least ", 9)) {
        *q = OBS_Q_AT_LEAST;
        s += 9;
    }
    return str_to_ll(s, count) || *count < 0 ? -1 : 0;
}

static int read_count(json_t *props, const char *key, const char *qkey, const char *field,
                      const char *qfield, long long *count, enum obs_qualifier *q, bool required,
                      struct errbuf *e)
{
    json_t *v = json_object_get(props, key);
    *count = -1;
    *q = OBS_Q_EXACT;
    if (!v || json_is_null(v)) {
        if (required)
            return errf(e, ERR_INVAL, "%s: missing (a number, \"about N\", \"at least N\" or "
                                      "\"uncountable\")", field);
        return 0;
    }
    if (json_is_integer(v)) {
        *count = json_integer_value(v);
        if (*count < 0 || *count > 1000000000)
            return errf(e, ERR_INVAL, "%s: %lld is not a count from 0 to 1000000000", field,
                        *count);
    } else if (json_is_string(v)) {
        if (parse_count_text(json_string_value(v), count, q) || *count > 1000000000)
            return errf(e, ERR_INVAL, "%s: \"%s\" is not a count (a number, \"about N\", "
                                      "\"at least N\" or \"uncountable\")",
                        field, json_string_value(v));
    } else {
        return errf(e, ERR_INVAL, "%s: must be a whole number or text such as \"about 200\"",
                    field);
    }
    json_t *qv = json_object_get(props, qkey);
    if (qv && !json_is_null(qv)) {
        int qi = json_is_string(qv) ? lookup(json_string_value(qv), OBS_QUALIFIER_NAMES, 4) : -1;
        if (qi < 0)
            return errf(e, ERR_INVAL, "%s: must be exact, about, at_least or uncountable",
                        qfield);
        if (*q != OBS_Q_EXACT && *q != (enum obs_qualifier)qi)
            return errf(e, ERR_INVAL, "%s: contradicts the count text", qfield);
        *q = (enum obs_qualifier)qi;
        if (*q == OBS_Q_UNCOUNTABLE)
            *count = -1;
    }
    return 0;
}

static int read_weapon(json_t *v, const char *field, struct obs_weapon *w, struct errbuf *e)
{
    w->category[0] = w->model[0] = 0;
    w->calibre_mm = NAN;
    if (!v || json_is_null(v))
        return 0;
    char f[96];
    if (json_is_string(v)) {
        str_copy(f, sizeof f, field);
        return set_str(w->category, sizeof w->category, v, f, e);
    }
    if (!json_is_object(v))
        return errf(e, ERR_INVAL, "%s: must be an object {category, model, calibre_mm}", field);
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x) {
        str_join(f, sizeof f, field, ".", key);
        int rc = 0;
        if (!strcmp(key, "category") || !strcmp(key, "class"))
            rc = set_str(w->category, sizeof w->category, x, f, e);
        else if (!strcmp(key, "model"))
            rc = set_str(w->model, sizeof w->model, x, f, e);
        else if (!strcmp(key, "calibre_mm")) {
            if (!json_is_number(x) || json_number_value(x) <= 0 || json_number_value(x) > 1000)
                return errf(e, ERR_INVAL, "%s: must be a calibre in mm from 0 to 1000", f);
            w->calibre_mm = json_number_value(x);
        } else
            return errf(e, ERR_INVAL, "%s: unknown field (category, model, calibre_mm)", f);
        if (rc)
            return rc;
    }
    if (!w->category[0] && !w->model[0])
        return errf(e, ERR_INVAL, "%s: needs a category or a model", field);
    return 0;
}

static int read_event(json_t *ev, const char *field, struct obs_event *out, struct errbuf *e)
{
    if (!json_is_object(ev))
        return errf(e, ERR_INVAL, "%s: must be an object {type, count, qualifier, weapon}", field);
    char f[96];
    const char *key;
    json_t *x;
    json_object_foreach(ev, key, x) {
        if (strcmp(key, "type") && strcmp(key, "count") && strcmp(key, "qualifier") &&
            strcmp(key, "weapon"))
            return errf(e, ERR_INVAL, "%s.%s: unknown field (type, count, qualifier, weapon)",
                        field, key);
    }
    json_t *t = json_object_get(ev, "type");
    str_join(f, sizeof f, field, ".type", NULL);
    if (!json_is_string(t))
        return errf(e, ERR_INVAL, "%s: missing event type", f);
    out->type = agr_event_type_index(json_string_value(t));
    if (out->type < 0)
        return errf(e, ERR_INVAL,
                    "%s: unknown event type \"%s\" (undetermined_explosion, impact, airburst, "
                    "outgoing, projectile_in_flight, illumination_flare, muzzle_flash, burst, "
                    "shot)",
                    f, json_string_value(t));
    str_join(f, sizeof f, field, ".count", NULL);
    char qf[96];
    str_join(qf, sizeof qf, field, ".qualifier", NULL);
    int rc = read_count(ev, "count", "qualifier", f, qf, &out->count, &out->qualifier, true, e);
    if (rc)
        return rc;
    str_join(f, sizeof f, field, ".weapon", NULL);
    return read_weapon(json_object_get(ev, "weapon"), f, &out->weapon, e);
}

static int read_bearings(json_t *v, double tol, struct obs *o, struct errbuf *e)
{
    json_t *one = NULL;
    if (!json_is_array(v)) {
        one = json_array();
        json_array_append(one, v);
        v = one;
    }
    int rc = 0;
    size_t n = json_array_size(v);
    if (n == 0 || n > GEO_SECTOR_MAX_BEARINGS) {
        rc = errf(e, ERR_INVAL, "bearings: give 1 to %d bearings", GEO_SECTOR_MAX_BEARINGS);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(v, i);
        if (json_is_number(b)) {
            double d = json_number_value(b);
            if (!(d >= 0 && d <= 360)) {
                rc = errf(e, ERR_INVAL, "bearings[%zu]: %g is not a bearing in degrees (0 to 360)",
                          i, d);
                goto out;
            }
            o->bearing_deg[i] = fmod(d, 360);
            o->bearing_half_width_deg[i] = tol;
        } else if (json_is_string(b)) {
            if (geo_compass_parse(json_string_value(b), &o->bearing_deg[i],
                                  &o->bearing_half_width_deg[i])) {
                rc = errf(e, ERR_INVAL,
                          "bearings[%zu]: \"%s\" is not a compass direction (N, NNE, "
                          "north-north-east, ...)",
                          i, json_string_value(b));
                goto out;
            }
        } else {
            rc = errf(e, ERR_INVAL, "bearings[%zu]: must be degrees or a compass word", i);
            goto out;
        }
    }
    o->n_bearings = n;
out:
    json_decref(one);
    return rc;
}

static int read_distance(json_t *v, struct obs *o, struct errbuf *e)
{
    o->dist_min_m = o->dist_max_m = NAN;
    if (!v || json_is_null(v) ||
        (json_is_string(v) && (!strcmp(json_string_value(v), "unknown") ||
                               !strcmp(json_string_value(v), "undetermined"))))
        return 0;
    double lo, hi;
    if (json_is_number(v)) {
        lo = hi = json_number_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 &&
               json_is_number(json_array_get(v, 0)) && json_is_number(json_array_get(v, 1))) {
        lo = json_number_value(json_array_get(v, 0));
        hi = json_number_value(json_array_get(v, 1));
    } else {
        return errf(e, ERR_INVAL, "distance_km: must be a number, [min, max] or \"unknown\"");
    }
    if (!(lo >= 0) || !(hi <= MAX_DISTANCE_KM) || lo > hi)
        return errf(e, ERR_INVAL,
                    "distance_km: [%g, %g] is not a range from 0 to %g km with min <= max", lo,
                    hi, MAX_DISTANCE_KM);
    o->dist_min_m = lo * 1000;
    o->dist_max_m = hi * 1000;
    return 0;
}

static int read_time(json_t *props, const char *zone, struct obs *o, struct errbuf *e)
{
    json_t *t = json_object_get(props, "time");
    json_t *tz = json_object_get(props, "tz");
    if (tz && !json_is_null(tz)) {
        if (!json_is_string(tz) || !time_zone_valid(json_string_value(tz)))
            return errf(e, ERR_INVAL, "tz: unknown time zone %s%s%s (use an IANA name such as "
                                      "Europe/Kyiv)",
                        json_is_string(tz) ? "\"" : "",
                        json_is_string(tz) ? json_string_value(tz) : "(not a string)",
                        json_is_string(tz) ? "\"" : "");
        zone = json_string_value(tz);
    }
    struct errbuf te;
    if (json_is_string(t)) {
        if (time_parse(json_string_value(t), zone, &o->t_start_ms, &te))
            return errf(e, ERR_INVAL, "time: %s", te.msg);
        o->t_end_ms = o->t_start_ms;
        return 0;
    }
    if (!json_is_object(t))
        return errf(e, ERR_INVAL, "time: missing (an RFC 3339 time or {\"start\", \"end\"})");
    json_t *s = json_object_get(t, "start"), *en = json_object_get(t, "end");
    if (!json_is_string(s))
        return errf(e, ERR_INVAL, "time.start: missing or not a string");
    if (time_parse(json_string_value(s), zone, &o->t_start_ms, &te))
        return errf(e, ERR_INVAL, "time.start: %s", te.msg);
    o->t_end_ms = o->t_start_ms;
    if (en && !json_is_null(en)) {
        if (!json_is_string(en))
            return errf(e, ERR_INVAL, "time.end: must be a string");
        if (time_parse(json_string_value(en), zone, &o->t_end_ms, &te))
            return errf(e, ERR_INVAL, "time.end: %s", te.msg);
    }
    if (o->t_end_ms < o->t_start_ms)
        return errf(e, ERR_INVAL, "time: end is before start");
    if (o->t_end_ms - o->t_start_ms > 7LL * 86400000)
        return errf(e, ERR_INVAL, "time: a window longer than 7 days is not one observation");
    return 0;
}

static int read_geometry(json_t *g, struct obs *o, struct errbuf *e)
{
    if (!g || json_is_null(g))
        return 0;
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *c = json_object_get(g, "coordinates");
    if (!type)
        return errf(e, ERR_INVAL, "geometry: must be a GeoJSON geometry or null");
    if (!strcmp(type, "Point")) {
        int rc = read_point(c, "geometry.coordinates", &o->location, e);
        if (rc)
            return rc;
        o->has_location = true;
        return 0;
    }
    if (!strcmp(type, "Polygon")) {
        json_t *ring = json_array_get(c, 0);
        size_t n = json_array_size(ring);
        if (!json_is_array(c) || json_array_size(c) != 1 || n < 4)
            return errf(e, ERR_INVAL, "geometry: a detection polygon is one ring of at least 4 "
                                      "positions (no holes)");
        if (n - 1 > LIMIT_OBS_POLYGON_VERTICES)
            return errf(e, ERR_TOOBIG, "geometry: more than %d vertices",
                        LIMIT_OBS_POLYGON_VERTICES);
        double sx = 0, sy = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            char f[64];
            char num[24];
            str_utoa(num, i);
            str_join(f, sizeof f, "geometry.coordinates[0][", num, "]");
            int rc = read_point(json_array_get(ring, i), f, &o->polygon[i], e);
            if (rc)
                return rc;
            sx += o->polygon[i].lon_deg;
            sy += o->polygon[i].lat_deg;
        }
        struct geo_point last;
        int rc = read_point(json_array_get(ring, n - 1), "geometry.coordinates[0][last]", &last, e);
        if (rc)
            return rc;
        if (last.lon_deg != o->polygon[0].lon_deg || last.lat_deg != o->polygon[0].lat_deg)
            return errf(e, ERR_INVAL, "geometry: the polygon ring is not closed");
        o->n_polygon = n - 1;
        o->location_is_polygon = true;
        o->has_location = true;
        o->location = (struct geo_point){sx / (double)(n - 1), sy / (double)(n - 1)};
        double r = 0;
        for (size_t i = 0; i < o->n_polygon; i++) {
            double d = geo_distance_m(o->location, o->polygon[i]);
            if (d > r)
                r = d;
        }
        o->accuracy_m = r;
        return 0;
    }
    return errf(e, ERR_INVAL, "geometry: type \"%s\" is not accepted here (Point or Polygon)", type);
}

static int read_observer(json_t *v, const struct agreement *a, struct obs *o, struct errbuf *e)
{
    if (!json_is_object(v))
        return errf(e, ERR_INVAL, "observer: must be {\"place\": name} or {\"coordinates\": "
                                  "[lon, lat]}");
    const char *key;
    json_t *x;
    json_object_foreach(v, key, x) {
        if (strcmp(key, "place") && strcmp(key, "coordinates") && strcmp(key, "name"))
            return errf(e, ERR_INVAL, "observer.%s: unknown field (place, coordinates, name)", key);
    }
    json_t *c = json_object_get(v, "coordinates"), *pl = json_object_get(v, "place");
    json_t *nm = json_object_get(v, "name");
    int rc;
    if (nm && (rc = set_str(o->place, sizeof o->place, nm, "observer.name", e)))
        return rc;
    if (c) {
        if ((rc = read_point(c, "observer.coordinates", &o->observer, e)))
            return rc;
        o->has_observer = true;
        return 0;
    }
    if (!pl)
        return errf(e, ERR_INVAL, "observer: needs \"place\" or \"coordinates\"");
    if ((rc = set_str(o->place, sizeof o->place, pl, "observer.place", e)))
        return rc;
    int i = a ? agr_place_find(a, o->place) : -1;
    if (i < 0)
        return errf(e, ERR_NOTFOUND,
                    "observer.place: \"%s\" is not in the gazetteer (check the spelling or give "
                    "\"coordinates\")",
                    o->place);
    o->observer = a->places[i].pt;
    o->has_observer = true;
    return 0;
}

static int read_party(json_t *v, const struct agreement *a, const char *field, char *dst,
                      size_t n, struct errbuf *e)
{
    int rc = set_str(dst, n, v, field, e);
    if (rc)
        return rc;
    if (!strcmp(dst, "unknown")) {
        dst[0] = 0;
        return 0;
    }
    if (a && agr_party_index(a, dst) < 0) {
        char ids[512] = "";
        for (size_t i = 0; i < a->n_parties; i++) {
            size_t l = strlen(ids);
            snprintf(ids + l, sizeof ids - l, "%s%s", i ? ", " : "", a->parties[i].id);
        }
        return errf(e, ERR_INVAL, "%s: unknown party \"%s\" (%s or unknown)", field, dst, ids);
    }
    return 0;
}

/* The properties of the schema, sorted for bsearch. */
static const char *const KNOWN_PROPS[] = {
    "accuracy_m", "against",  "armed",     "bearing_tolerance_deg", "bearings", "client_id",
    "count",      "distance_km", "event_type", "events", "flight_direction", "kind", "means",
    "observer",   "party",    "qualifier", "remarks", "report", "time", "tz", "weapon"};

/* Indices into KNOWN_PROPS, in the same order. */
enum prop_id {
    P_accuracy_m,
    P_against,
    P_armed,
    P_bearing_tolerance_deg,
    P_bearings,
    P_client_id,
    P_count,
    P_distance_km,
    P_event_type,
    P_events,
    P_flight_direction,
    P_kind,
    P_means,
    P_observer,
    P_party,
    P_qualifier,
    P_remarks,
    P_report,
    P_time,
    P_tz,
    P_weapon,
    N_PROPS
};

static int prop_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* One pass over the properties: refuses unknown ones and files the known ones in pv by index,
 * so the validator looks each up once instead of hashing its name again. */
static int check_props(json_t *props, json_t **pv, struct errbuf *e)
{
    const char *key;
    json_t *x;
    memset(pv, 0, N_PROPS * sizeof *pv);
    json_object_foreach(props, key, x) {
        if (key[0] == 'x' && key[1] == '_')
            continue;
        const char *const *hit = bsearch(key, KNOWN_PROPS, N_PROPS, sizeof KNOWN_PROPS[0], prop_cmp);
        if (hit) {
            pv[hit - KNOWN_PROPS] = x;
            continue;
        }
        if (!hit)
            return errf(e, ERR_INVAL, "%s: unknown property (see docs/observation-format.md; "
                                      "extensions start with x_)", key);
    }
    return 0;
}

static int parse_props(json_t *root, json_t *props, const struct agreement *a, const char *zone,
                       struct obs *o, struct errbuf *e)
{
    int rc;
    json_t *pv[N_PROPS];
    if ((rc = check_props(props, pv, e)))
        return rc;
    json_t *k = pv[P_kind];
    if (!json_is_string(k))
        return errf(e, ERR_INVAL, "kind: missing (fire, detection, sighting, presence, "
                                  "uav_flight, allegation)");
    int ki = lookup(json_string_value(k), OBS_KIND_NAMES, OBS_N_KINDS);
    if (ki < 0)
        return errf(e, ERR_INVAL, "kind: unknown kind \"%s\" (fire, detection, sighting, "
                                  "presence, uav_flight, allegation)", json_string_value(k));
    o->kind = (enum obs_kind)ki;
    json_t *cid = pv[P_client_id];
    json_t *fid = json_object_get(root, "id");
    if (cid && (rc = set_str(o->client_id, sizeof o->client_id, cid, "client_id", e)))
        return rc;
    if (!cid && fid) {
        if (json_is_string(fid)) {
            if ((rc = set_str(o->client_id, sizeof o->client_id, fid, "id", e)))
                return rc;
        } else if (json_is_integer(fid)) {
            snprintf(o->client_id, sizeof o->client_id, "%lld", (long long)json_integer_value(fid));
        } else {
            return errf(e, ERR_INVAL, "id: must be a string or a whole number");
        }
    }
    if ((rc = read_time(props, zone, o, e)))
        return rc;
    json_t *m = pv[P_means];
    if (m) {
        int mi = json_is_string(m) ? lookup(json_string_value(m), OBS_MEANS_NAMES, OBS_N_MEANS) : -1;
        if (mi < 0)
            return errf(e, ERR_INVAL, "means: must be patrol, camera, uav, acoustic, radar, "
                                      "satellite, party or other");
        o->means = (enum obs_means)mi;
    } else if (o->kind == OBS_ALLEGATION) {
        o->means = OBS_M_PARTY;
    } else {
        return errf(e, ERR_INVAL, "means: missing (patrol, camera, uav, acoustic, radar, "
                                  "satellite, party, other)");
    }
    json_t *rep = pv[P_report];
    if (rep && (rc = set_str(o->report_ref, sizeof o->report_ref, rep, "report", e)))
        return rc;
    json_t *rem = pv[P_remarks];
    if (rem && (rc = set_str(o->remarks, sizeof o->remarks, rem, "remarks", e)))
        return rc;
    if ((rc = read_geometry(json_object_get(root, "geometry"), o, e)))
        return rc;
    json_t *acc = pv[P_accuracy_m];
    if (acc) {
        if (!json_is_number(acc) || json_number_value(acc) < 0 ||
            json_number_value(acc) > MAX_ACCURACY_M)
            return errf(e, ERR_INVAL, "accuracy_m: must be metres from 0 to %g", MAX_ACCURACY_M);
        if (!o->has_location || o->location_is_polygon)
            return errf(e, ERR_INVAL, "accuracy_m: only with a Point geometry");
        o->accuracy_m = json_number_value(acc);
    }
    json_t *obsv = pv[P_observer];
    if (obsv && (rc = read_observer(obsv, a, o, e)))
        return rc;
    json_t *tolv = pv[P_bearing_tolerance_deg];
    double tol = DEFAULT_BEARING_TOLERANCE_DEG;
    if (tolv) {
        if (!json_is_number(tolv) || json_number_value(tolv) <= 0 || json_number_value(tolv) > 180)
            return errf(e, ERR_INVAL, "bearing_tolerance_deg: must be degrees from 0 to 180");
        tol = json_number_value(tolv);
    }
    json_t *bv = pv[P_bearings];
    if (bv && (rc = read_bearings(bv, tol, o, e)))
        return rc;
    if ((rc = read_distance(pv[P_distance_km], o, e)))
        return rc;
    if ((bv || !isnan(o->dist_max_m)) && !o->has_observer)
        return errf(e, ERR_INVAL, "observer: bearings and distance_km need an observer position");
    /* Properties a kind does not use are refused rather than dropped. */
    {
        json_t *evs0 = pv[P_events], *flat0 = pv[P_event_type];
        json_t *cnt0 = pv[P_count], *wpn0 = pv[P_weapon];
        json_t *qual0 = pv[P_qualifier], *arm0 = pv[P_armed];
        bool fire_like = o->kind == OBS_FIRE || o->kind == OBS_DETECTION || o->kind == OBS_ALLEGATION;
        if ((o->kind == OBS_SIGHTING || o->kind == OBS_PRESENCE) && (evs0 || flat0))
            return errf(e, ERR_INVAL, "%s: a %s has no fire events (use %s)",
                        evs0 ? "events" : "event_type", OBS_KIND_NAMES[o->kind],
                        o->kind == OBS_SIGHTING ? "count and weapon" : "count");
        if (o->kind == OBS_UAV_FLIGHT && (evs0 || flat0 || cnt0 || wpn0 || qual0 || arm0))
            return errf(e, ERR_INVAL, "%s: not used for a uav_flight",
                        evs0 ? "events" : flat0 ? "event_type" : cnt0 ? "count" : wpn0 ? "weapon"
                        : qual0 ? "qualifier" : "armed");
        if (fire_like && !flat0 && (cnt0 || wpn0 || qual0))
            return errf(e, ERR_INVAL, "%s: %s", cnt0 ? "count" : wpn0 ? "weapon" : "qualifier",
                        evs0 ? "with \"events\", give counts and weapons inside each event"
                             : "only with \"event_type\" (or inside \"events\")");
        if (o->kind == OBS_PRESENCE && wpn0)
            return errf(e, ERR_INVAL, "weapon: a presence report counts people or vehicles; report "
                                      "weapons as a sighting");
        if (o->kind == OBS_PRESENCE && qual0 && !cnt0)
            return errf(e, ERR_INVAL, "qualifier: only with a count");
        if (arm0 && o->kind != OBS_PRESENCE)
            return errf(e, ERR_INVAL, "armed: only for presence reports (sightings of weapons are "
                                      "armed by definition)");
    }
    /* events: a list, or one event given flat */
    json_t *evs = pv[P_events];
    json_t *flat = pv[P_event_type];
    if (evs && flat)
        return errf(e, ERR_INVAL, "events: give either \"events\" or \"event_type\", not both");
    if (evs) {
        if (!json_is_array(evs) || json_array_size(evs) == 0)
            return errf(e, ERR_INVAL, "events: must be a non-empty array");
        if (json_array_size(evs) > LIMIT_EVENTS_PER_OBS)
            return errf(e, ERR_TOOBIG, "events: more than %d events in one observation",
                        LIMIT_EVENTS_PER_OBS);
        for (size_t i = 0; i < json_array_size(evs); i++) {
            char f[32];
            char num[24];
            str_utoa(num, i);
            str_join(f, sizeof f, "events[", num, "]");
            if ((rc = read_event(json_array_get(evs, i), f, &o->events[i], e)))
                return rc;
        }
        o->n_events = json_array_size(evs);
    } else if (flat && o->kind != OBS_SIGHTING && o->kind != OBS_PRESENCE) {
        json_t *ev = json_object();
        json_object_set(ev, "type", flat);
        if (pv[P_count])
            json_object_set(ev, "count", pv[P_count]);
        if (pv[P_qualifier])
            json_object_set(ev, "qualifier", pv[P_qualifier]);
        if (pv[P_weapon])
            json_object_set(ev, "weapon", pv[P_weapon]);
        rc = read_event(ev, "event_type", &o->events[0], e);
        json_decref(ev);
        if (rc)
            return rc;
        o->n_events = 1;
    }
    json_t *fd = pv[P_flight_direction];
    if (fd) {
        json_t *from = json_object_get(fd, "from"), *to = json_object_get(fd, "to");
        double az, hw;
        if (!json_is_object(fd) || !json_is_string(from) || !json_is_string(to) ||
            geo_compass_parse(json_string_value(from), &az, &hw) ||
            geo_compass_parse(json_string_value(to), &az, &hw))
            return errf(e, ERR_INVAL, "flight_direction: must be {\"from\": compass word, "
                                      "\"to\": compass word}");
        geo_compass_parse(json_string_value(from), &az, &hw);
        str_copy(o->flight_from, sizeof o->flight_from, geo_compass_word(az));
        geo_compass_parse(json_string_value(to), &az, &hw);
        str_copy(o->flight_to, sizeof o->flight_to, geo_compass_word(az));
    }
    json_t *party_v = pv[P_party];
    if (party_v && (rc = read_party(party_v, a, "party", o->party, sizeof o->party, e)))
        return rc;
    json_t *av = pv[P_against];
    if (av && (rc = read_party(av, a, "against", o->against, sizeof o->against, e)))
        return rc;
    json_t *armed = pv[P_armed];
    if (armed && !json_is_boolean(armed))
        return errf(e, ERR_INVAL, "armed: must be true or false");
    o->armed = json_is_true(armed);
    o->count = -1;
    o->weapon.calibre_mm = NAN;

    /* what each kind needs */
    switch (o->kind) {
    case OBS_FIRE:
        if (!o->has_observer && !o->has_location)
            return errf(e, ERR_INVAL, "observer: a fire report needs the observer's position "
                                      "(\"observer\") or the event's location (\"geometry\")");
        if (!o->n_events)
            return errf(e, ERR_INVAL, "events: a fire report needs at least one event");
        break;
    case OBS_DETECTION:
        if (!o->has_location)
            return errf(e, ERR_INVAL, "geometry: a detection needs its location (Point with "
                                      "accuracy_m, or Polygon)");
        if (!o->n_events)
            return errf(e, ERR_INVAL, "events: a detection needs at least one event");
        break;
    case OBS_SIGHTING:
        if (!o->has_location && !(o->has_observer && o->n_bearings))
            return errf(e, ERR_INVAL, "geometry: a sighting needs the weapons' location, or an "
                                      "observer with bearings");
        if ((rc = read_count(props, "count", "qualifier", "count", "qualifier", &o->count,
                             &o->count_qualifier, true, e)))
            return rc;
        if (o->count_qualifier == OBS_Q_UNCOUNTABLE || o->count < 1)
            return errf(e, ERR_INVAL, "count: a sighting counts at least 1 weapon");
        if (!pv[P_weapon])
            return errf(e, ERR_INVAL, "weapon: a sighting needs the weapon (category, model, "
                                      "calibre_mm)");
        if ((rc = read_weapon(pv[P_weapon], "weapon", &o->weapon, e)))
            return rc;
        o->armed = true;
        break;
    case OBS_PRESENCE:
        if (!o->has_location && !(o->has_observer && o->n_bearings))
            return errf(e, ERR_INVAL, "geometry: a presence report needs the location");
        if (!armed)
            return errf(e, ERR_INVAL, "armed: say whether the people or vehicles were armed "
                                      "(true or false)");
        if ((rc = read_count(props, "count", "qualifier", "count", "qualifier", &o->count,
                             &o->count_qualifier, false, e)))
            return rc;
        break;
    case OBS_UAV_FLIGHT:
        if (!o->has_location && !o->has_observer)
            return errf(e, ERR_INVAL, "geometry: a UAV flight needs a location or observer");
        break;
    case OBS_ALLEGATION:
        if (!o->party[0])
            return errf(e, ERR_INVAL, "party: an allegation names the alleging party");
        if (!o->against[0])
            return errf(e, ERR_INVAL, "against: an allegation names the accused party");
        if (!o->has_location && !o->has_observer)
            return errf(e, ERR_INVAL, "geometry: an allegation needs a location or a place "
                                      "(\"observer\": {\"place\": ...})");
        break;
    default:
        break;
    }
    return 0;
}

/* jansson allocates every value of a record separately; a record's values all die together at
 * the end of obs_parse_json, so while one record is parsed they come from a per-thread bump
 * arena that is simply rewound afterwards. Outside that window (agreement loading, CSV
 * conversion) and when the arena is full, allocation falls through to malloc. */
#define ARENA_BYTES (256u << 10)
static _Thread_local struct {
    char *base;
    size_t used;
    bool active;
} arena;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static pthread_key_t arena_key; /* frees a thread's arena when the thread ends */
static bool arena_keyed;

static void *arena_malloc(size_t n)
{
    if (arena.active && arena.base) {
        size_t need = (n + 15) & ~(size_t)15;
        if (need <= ARENA_BYTES - arena.used) {
            void *p = arena.base + arena.used;
            arena.used += need;
            return p;
        }
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    if (arena.base && (char *)p >= arena.base && (char *)p < arena.base + ARENA_BYTES)
        return;
    free(p);
}

static void arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
    arena_keyed = pthread_key_create(&arena_key, free) == 0;
}

/* Under AddressSanitizer every value keeps its own malloc, so overflows stay detectable. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ENABLED 0
#endif
#endif
#ifndef ARENA_ENABLED
#define ARENA_ENABLED 1
#endif

static void arena_begin(void)
{
    if (!ARENA_ENABLED)
        return;
    pthread_once(&arena_once, arena_install);
    if (!arena.base && arena_keyed) { /* without the key it would outlive its thread */
        arena.base = malloc(ARENA_BYTES); /* NULL: plain malloc throughout */
        if (arena.base && pthread_setspecific(arena_key, arena.base)) {
            free(arena.base);
            arena.base = NULL;
        }
    }
    arena.used = 0;
    arena.active = true;
}

static void arena_end(void)
{
    arena.active = false;
    arena.used = 0;
}

int obs_parse_json(const char *text, size_t len, const struct agreement *a,
                   const char *default_zone, struct obs *o, struct errbuf *e)
{
    /* Zero everything but the two large buffers, which are filled with their lengths. */
    memset(o, 0, offsetof(struct obs, polygon));
    o->n_polygon = 0;
    memset(&o->has_observer, 0, offsetof(struct obs, remarks) - offsetof(struct obs, has_observer));
    o->remarks[0] = 0;
    memset(&o->raw, 0, sizeof *o - offsetof(struct obs, raw));
    o->dist_min_m = o->dist_max_m = NAN;
    o->count = -1;
    o->weapon.calibre_mm = NAN;
    o->raw = text;
    o->raw_len = len;
    if (len > LIMIT_RECORD_BYTES)
        return errf(e, ERR_TOOBIG, "record: larger than %u bytes", LIMIT_RECORD_BYTES);
    json_error_t je;
    arena_begin();
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        arena_end();
        return errf(e, ERR_PARSE, "record: malformed JSON at column %d: %s", je.column, je.text);
    }
    int rc;
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *props = json_object_get(root, "properties");
    if (!json_is_object(root))
        rc = errf(e, ERR_INVAL, "record: must be a GeoJSON Feature object");
    else if (!type || strcmp(type, "Feature"))
        rc = errf(e, ERR_INVAL, "type: must be \"Feature\" (an observation is a GeoJSON Feature)");
    else if (!json_is_object(props))
        rc = errf(e, ERR_INVAL, "properties: missing or not an object");
    else
        rc = parse_props(root, props, a, default_zone, o, e);
    json_decref(root);
    arena_end();
    return rc;
}

/* ---- normalised JSON ---- */

static int weapon_json(const struct obs_weapon *w, struct buf *b)
{
    int rc = buf_append(b, "{", 1);
    bool first = true;
    if (!rc && w->category[0]) {
        rc = buf_printf(b, "\"category\":") || buf_json_str(b, w->category);
        first = false;
    }
    if (!rc && w->model[0]) {
        rc = buf_printf(b, "%s\"model\":", first ? "" : ",") || buf_json_str(b, w->model);
        first = false;
    }
    if (!rc && !isnan(w->calibre_mm))
        rc = buf_printf(b, "%s\"calibre_mm\":%g", first ? "" : ",", w->calibre_mm);
    return rc ? rc : buf_append(b, "}", 1);
}

int obs_to_json(const struct obs *o, struct buf *b)
{
    char t0[40], t1[40];
    time_format_utc(o->t_start_ms, t0, sizeof t0);
    time_format_utc(o->t_end_ms, t1, sizeof t1);
    int rc = buf_printf(b, "{\"kind\":\"%s\",\"client_id\":", OBS_KIND_NAMES[o->kind]);
    rc = rc || buf_json_str(b, o->client_id);
    rc = rc || buf_printf(b, ",\"time\":{\"start\":\"%s\",\"end\":\"%s\"},\"means\":\"%s\"", t0,
                          t1, OBS_MEANS_NAMES[o->means]);
    if (!rc && o->has_observer) {
        rc = buf_printf(b, ",\"observer\":{\"coordinates\":[%.6f,%.6f]", o->observer.lon_deg,
                        o->observer.lat_deg);
        if (!rc && o->place[0])
            rc = buf_printf(b, ",\"place\":") || buf_json_str(b, o->place);
        rc = rc || buf_append(b, "}", 1);
    }
    if (!rc && o->has_location)
        rc = buf_printf(b, ",\"location\":{\"coordinates\":[%.6f,%.6f],\"accuracy_m\":%.0f}",
                        o->location.lon_deg, o->location.lat_deg, o->accuracy_m);
    if (!rc && o->n_bearings) {
        rc = buf_append(b, ",\"bearings\":[", 13);
        for (size_t i = 0; i < o->n_bearings && !rc; i++)
            rc = buf_printf(b, "%s{\"deg\":%g,\"tolerance_deg\":%g}", i ? "," : "",
                            o->bearing_deg[i], o->bearing_half_width_deg[i]);
        rc = rc || buf_append(b, "]", 1);
    }
    if (!rc && !isnan(o->dist_max_m))
        rc = buf_printf(b, ",\"distance_km\":[%g,%g]", o->dist_min_m / 1000, o->dist_max_m / 1000);
    if (!rc && o->n_events) {
        rc = buf_append(b, ",\"events\":[", 11);
        for (size_t i = 0; i < o->n_events && !rc; i++) {
            const struct obs_event *ev = &o->events[i];
            rc = buf_printf(b, "%s{\"type\":\"%s\",\"count\":", i ? "," : "",
                            AGR_EVENT_TYPES[ev->type]);
            if (!rc)
                rc = ev->count < 0 ? buf_append(b, "null", 4) : buf_printf(b, "%lld", ev->count);
            rc = rc || buf_printf(b, ",\"qualifier\":\"%s\"", OBS_QUALIFIER_NAMES[ev->qualifier]);
            if (!rc && (ev->weapon.category[0] || ev->weapon.model[0])) {
                rc = buf_append(b, ",\"weapon\":", 10) || weapon_json(&ev->weapon, b);
            }
            rc = rc || buf_append(b, "}", 1);
        }
        rc = rc || buf_append(b, "]", 1);
    }
    if (!rc && o->flight_from[0])
        rc = buf_printf(b, ",\"flight_direction\":{\"from\":\"%s\",\"to\":\"%s\"}", o->flight_from,
                        o->flight_to);
    if (!rc && o->kind == OBS_SIGHTING) {
        rc = buf_printf(b, ",\"count\":%lld,\"qualifier\":\"%s\",\"weapon\":", o->count,
                        OBS_QUALIFIER_NAMES[o->count_qualifier]);
        rc = rc || weapon_json(&o->weapon, b);
    }
    if (!rc && o->kind == OBS_PRESENCE)
        rc = buf_printf(b, ",\"armed\":%s", o->armed ? "true" : "false");
    if (!rc && o->party[0])
        rc = buf_append(b, ",\"party\":", 9) || buf_json_str(b, o->party);
    if (!rc && o->against[0])
        rc = buf_append(b, ",\"against\":", 11) || buf_json_str(b, o->against);
    if (!rc && o->remarks[0])
        rc = buf_append(b, ",\"remarks\":", 11) || buf_json_str(b, o->remarks);
    return rc ? rc : buf_append(b, "}", 1);
}
