/* agreement.c: loading and validating agreement files (docs/agreement-format.md).
 *
 * Loading runs in two steps: resolve (inline the GeoJSON and gazetteer files an agreement names
 * so the stored copy stands alone) and build (check every field and make the geo structures).
 * Every error names the source, the JSON pointer of the offending value and the reason. */
#include "agreement/agreement.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const AGR_EVENT_TYPES[] = {
    "undetermined_explosion", "impact", "airburst", "outgoing", "projectile_in_flight",
    "illumination_flare",     "muzzle_flash", "burst", "shot",
};
const int AGR_N_EVENT_TYPES = (int)(sizeof AGR_EVENT_TYPES / sizeof AGR_EVENT_TYPES[0]);
const char *const AGR_EVENT_NAMES_ONE[] = {
    "undetermined explosion", "impact", "airburst", "outgoing round", "projectile in flight",
    "illumination flare", "muzzle flash", "burst", "shot"};
const char *const AGR_EVENT_NAMES_MANY[] = {
    "undetermined explosions", "impacts", "airbursts", "outgoing rounds", "projectiles in flight",
    "illumination flares", "muzzle flashes", "bursts", "shots"};

int agr_event_type_index(const char *name)
{
    for (int i = 0; i < AGR_N_EVENT_TYPES; i++)
        if (strcmp(AGR_EVENT_TYPES[i], name) == 0)
            return i;
    return -1;
}

bool agr_event_is_explosion(int type) { return type >= 0 && type <= 3; }

const char *const AGR_ESC_LEVEL_NAMES[AGR_ESC_N_LEVELS] = {"notice", "warning", "serious",
                                                           "guarantee_trigger"};
const char *const AGR_ESC_PER_NAMES[4] = {"all", "region", "party", "region_party"};

int agr_esc_level_parse(const char *name)
{
    for (int i = 0; i < AGR_ESC_N_LEVELS; i++)
        if (!strcmp(AGR_ESC_LEVEL_NAMES[i], name))
            return i;
    return -1;
}

/* ---- small JSON helpers with pointer-named errors ---- */

struct ctx {
    const char *src;
    struct errbuf *e;
    char base[4096]; /* folder of the agreement file, for relative references */
};

static int fail(struct ctx *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const char *ptr, const char *fmt, ...)
{
    char why[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return errf(c->e, ERR_INVAL, "%s: %s: %s", c->src, *ptr ? ptr : "/", why);
}

static const char *get_str(struct ctx *c, json_t *obj, const char *key, const char *ptr,
                           bool required, int *rc)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            *rc = fail(c, ptr, "missing required field \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > LIMIT_STRING_BYTES) {
        *rc = fail(c, ptr, "\"%s\" must be a non-empty string of at most %d bytes", key,
                   LIMIT_STRING_BYTES);
        return NULL;
    }
    return json_string_value(v);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

/* Refuses a key of obj that is not in `allowed` (NULL-terminated): a misspelt "effective" or
 * "severity" must not silently change what the agreement means. "notes" is always allowed. */
static int check_keys(struct ctx *c, json_t *obj, const char *ptr, const char *const *allowed)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return 0; /* the caller reports the type */
    json_object_foreach(obj, key, v) {
        bool ok = !strcmp(key, "notes");
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(allowed[i], key);
        if (!ok)
            return fail(c, ptr, "unknown field \"%s\" (see docs/agreement-format.md)", key);
    }
    return 0;
}

/* ---- resolve: inline referenced files ---- */

static json_t *load_geojson_file(struct ctx *c, const char *rel, const char *ptr, int *rc)
{
    char path[8192];
    if (path_join(path, sizeof path, c->base, rel)) {
        *rc = fail(c, ptr, "path too long");
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    struct errbuf fe;
    if (file_read(path, LIMIT_FILE_BYTES, &text, &len, &fe)) {
        *rc = fail(c, ptr, "%s", fe.msg);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!j)
        *rc = fail(c, ptr, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
    return j;
}

/* Selects the geometry of a GeoJSON document: a bare geometry, a Feature, or the Feature of a
 * FeatureCollection whose property `key` equals `value` (or the only feature). */
static json_t *pick_geometry(struct ctx *c, json_t *doc, json_t *select, const char *ptr, int *rc)
{
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!type) {
        *rc = fail(c, ptr, "referenced file is not GeoJSON (no \"type\")");
        return NULL;
    }
    if (strcmp(type, "Feature") == 0)
        return json_object_get(doc, "geometry");
    if (strcmp(type, "FeatureCollection") != 0)
        return doc;
    json_t *feats = json_object_get(doc, "features");
    size_t n = json_array_size(feats);
    if (!select) {
        if (n != 1) {
            *rc = fail(c, ptr, "the FeatureCollection has %zu features: add \"select\": "
                               "{\"property\": value} to choose one", n);
            return NULL;
        }
        return json_object_get(json_array_get(feats, 0), "geometry");
    }
    const char *key;
    json_t *want;
    if (!json_is_object(select) || json_object_size(select) != 1) {
        *rc = fail(c, ptr, "\"select\" must be an object with one property and its value");
        return NULL;
    }
    json_object_foreach(select, key, want) {
        for (size_t i = 0; i < n; i++) {
            json_t *f = json_array_get(feats, i);
            json_t *v = json_object_get(json_object_get(f, "properties"), key);
            if (v && json_equal(v, want))
                return json_object_get(f, "geometry");
        }
        *rc = fail(c, ptr, "no feature has property \"%s\" equal to the selected value", key);
    }
    return NULL;
}

/* Replaces every {"file": ..., "select": ...} geometry reference under `items` by "geometry". */
static int resolve_geometry_refs(struct ctx *c, json_t *obj, const char *ptr)
{
    int rc = 0;
    const char *file = json_string_value(json_object_get(obj, "file"));
    if (!file)
        return 0;
    char p[512];
    snprintf(p, sizeof p, "%s/file", ptr);
    json_t *doc = load_geojson_file(c, file, p, &rc);
    if (!doc)
        return rc;
    json_t *g = pick_geometry(c, doc, json_object_get(obj, "select"), p, &rc);
    if (g) {
        json_object_set(obj, "geometry", g);
        json_object_set_new(obj, "source_file", json_string(file));
        json_object_del(obj, "file");
        json_object_del(obj, "select");
    }
    json_decref(doc);
    return rc;
}

static int resolve_places(struct ctx *c, json_t *geo)
{
    const char *file = json_string_value(json_object_get(geo, "places_file"));
    if (!file)
        return 0;
    char path[8192];
    if (path_join(path, sizeof path, c->base, file))
        return fail(c, "/geography/places_file", "path too long");
    char *text = NULL;
    size_t len = 0;
    struct errbuf fe;
    if (file_read(path, LIMIT_FILE_BYTES, &text, &len, &fe))
        return fail(c, "/geography/places_file", "%s", fe.msg);
    json_t *arr = json_array();
    int rc = 0, lineno = 0;
    char *save = NULL;
    /* The gazetteer format: name,lat,lon,admin1,population,geonameid,alt_names,source; no quoting
     * (see data/geo/SOURCES.md). Columns are found by header name. */
    int col_name = -1, col_lat = -1, col_lon = -1, col_admin = -1, col_pop = -1, col_alt = -1;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[ll - 1] = 0;
        char *fields[16];
        int nf = 0;
        char *p = line;
        while (nf < 16) {
            fields[nf++] = p;
            char *comma = strchr(p, ',');
            if (!comma)
                break;
            *comma = 0;
            p = comma + 1;
        }
        if (lineno == 1) {
            for (int i = 0; i < nf; i++) {
                if (!strcmp(fields[i], "name")) col_name = i;
                else if (!strcmp(fields[i], "lat")) col_lat = i;
                else if (!strcmp(fields[i], "lon")) col_lon = i;
                else if (!strcmp(fields[i], "admin1")) col_admin = i;
                else if (!strcmp(fields[i], "population")) col_pop = i;
                else if (!strcmp(fields[i], "alt_names")) col_alt = i;
            }
            if (col_name < 0 || col_lat < 0 || col_lon < 0) {
                rc = fail(c, "/geography/places_file", "%s: header needs name, lat and lon", path);
                goto out;
            }
            continue;
        }
        double lat, lon;
        int maxc = col_name > col_lat ? col_name : col_lat;
        if (col_lon > maxc) maxc = col_lon;
        if (nf <= maxc || str_to_double(fields[col_lat], &lat) ||
            str_to_double(fields[col_lon], &lon) || fabs(lat) > 90 || fabs(lon) > 180) {
            rc = fail(c, "/geography/places_file", "%s: line %d: bad name, lat or lon", path,
                      lineno);
            goto out;
        }
        json_t *pl = json_pack("{s:s, s:f, s:f}", "name", fields[col_name], "lat", lat, "lon", lon);
        if (col_admin >= 0 && col_admin < nf)
            json_object_set_new(pl, "region", json_string(fields[col_admin]));
        long long pop;
        if (col_pop >= 0 && col_pop < nf && !str_to_ll(fields[col_pop], &pop))
            json_object_set_new(pl, "population", json_integer(pop));
        if (col_alt >= 0 && col_alt < nf && fields[col_alt][0]) {
            json_t *alts = json_array();
            char *s2 = NULL;
            for (char *a = strtok_r(fields[col_alt], ";", &s2); a; a = strtok_r(NULL, ";", &s2))
                json_array_append_new(alts, json_string(a));
            json_object_set_new(pl, "alt_names", alts);
        }
        json_array_append_new(arr, pl);
    }
    json_object_set(geo, "places", arr);
    json_object_set_new(geo, "places_source_file", json_string(file));
    json_object_del(geo, "places_file");
out:
    json_decref(arr);
    free(text);
    return rc;
}

static int resolve(struct ctx *c, json_t *root)
{
    int rc;
    json_t *geo = json_object_get(root, "geography");
    if (!json_is_object(geo))
        return 0; /* build() reports it */
    static const char *const lists[] = {"regions", "lines", "control_areas"};
    char ptr[256];
    for (size_t l = 0; l < 3; l++) {
        json_t *arr = json_object_get(geo, lists[l]);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(ptr, sizeof ptr, "/geography/%s/%zu", lists[l], i);
            if ((rc = resolve_geometry_refs(c, json_array_get(arr, i), ptr)))
                return rc;
        }
    }
    json_t *zones = json_object_get(root, "zones");
    for (size_t i = 0; i < json_array_size(zones); i++) {
        json_t *z = json_array_get(zones, i);
        static const char *const parts[] = {"include", "exclude"};
        for (size_t k = 0; k < 2; k++) {
            json_t *arr = json_object_get(z, parts[k]);
            for (size_t j = 0; j < json_array_size(arr); j++) {
                snprintf(ptr, sizeof ptr, "/zones/%zu/%s/%zu", i, parts[k], j);
                if ((rc = resolve_geometry_refs(c, json_array_get(arr, j), ptr)))
                    return rc;
            }
        }
    }
    return resolve_places(c, geo);
}

/* ---- build: validate and construct ---- */

static void build_place_index(struct agreement *a);

static int read_point(struct ctx *c, json_t *v, const char *ptr, struct geo_point *out)
{
    if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > 3 ||
        !json_is_number(json_array_get(v, 0)) || !json_is_number(json_array_get(v, 1)))
        return fail(c, ptr, "a position must be [longitude, latitude] in degrees");
    out->lon_deg = json_number_value(json_array_get(v, 0));
    out->lat_deg = json_number_value(json_array_get(v, 1));
    if (!geo_point_valid(*out))
        return fail(c, ptr, "position [%g, %g] is not on Earth (longitude -180..180, latitude "
                            "-90..90)", out->lon_deg, out->lat_deg);
    return 0;
}

static int read_ring(struct ctx *c, json_t *ring, const char *ptr, struct geo_area *area,
                     size_t *budget)
{
    size_t n = json_array_size(ring);
    if (!json_is_array(ring) || n < 4)
        return fail(c, ptr, "a polygon ring needs at least 4 positions");
    if (n > *budget)
        return fail(c, ptr, "geometry has more than %d vertices", LIMIT_POLYGON_VERTICES);
    *budget -= n;
    struct geo_point *pts = xcalloc(n, sizeof *pts);
    int rc = 0;
    char p[512];
    for (size_t i = 0; i < n && !rc; i++) {
        snprintf(p, sizeof p, "%s/%zu", ptr, i);
        rc = read_point(c, json_array_get(ring, i), p, &pts[i]);
    }
    if (!rc && (pts[0].lon_deg != pts[n - 1].lon_deg || pts[0].lat_deg != pts[n - 1].lat_deg))
        rc = fail(c, ptr, "polygon ring is not closed (first and last positions differ)");
    if (!rc && geo_area_add_ring(area, pts, n - 1))
        rc = fail(c, ptr, "out of memory");
    free(pts);
    return rc;
}

/* Builds an area from a GeoJSON Polygon or MultiPolygon geometry at obj["geometry"]. */
static int read_area(struct ctx *c, json_t *obj, const char *ptr, struct geo_area **out)
{
    char p[512];
    snprintf(p, sizeof p, "%s/geometry", ptr);
    json_t *g = json_object_get(obj, "geometry");
    if (!json_is_object(g))
        return fail(c, ptr, "needs \"geometry\" (a GeoJSON Polygon or MultiPolygon) or \"file\"");
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *coords = json_object_get(g, "coordinates");
    bool multi = type && !strcmp(type, "MultiPolygon");
    if (!type || (!multi && strcmp(type, "Polygon")) || !json_is_array(coords))
        return fail(c, p, "must be a GeoJSON Polygon or MultiPolygon");
    struct geo_area *a = geo_area_new();
    if (!a)
        return fail(c, p, "out of memory");
    size_t budget = LIMIT_POLYGON_VERTICES;
    int rc = 0;
    size_t np = multi ? json_array_size(coords) : 1;
    for (size_t i = 0; i < np && !rc; i++) {
        json_t *poly = multi ? json_array_get(coords, i) : coords;
        if (!json_is_array(poly) || json_array_size(poly) == 0) {
            rc = fail(c, p, "polygon %zu has no rings", i);
            break;
        }
        for (size_t r = 0; r < json_array_size(poly) && !rc; r++) {
            char rp[600];
            if (multi)
                snprintf(rp, sizeof rp, "%s/coordinates/%zu/%zu", p, i, r);
            else
                snprintf(rp, sizeof rp, "%s/coordinates/%zu", p, r);
            rc = read_ring(c, json_array_get(poly, r), rp, a, &budget);
        }
    }
    if (!rc && geo_area_finish(a))
        rc = fail(c, p, "out of memory");
    if (rc) {
        geo_area_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int read_line(struct ctx *c, json_t *obj, const char *ptr, struct geo_line **out)
{
    char p[512];
    snprintf(p, sizeof p, "%s/geometry", ptr);
    json_t *g = json_object_get(obj, "geometry");
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *coords = json_object_get(g, "coordinates");
    if (!type || strcmp(type, "LineString") || !json_is_array(coords))
        return fail(c, p, "must be a GeoJSON LineString (or \"file\" naming one)");
    size_t n = json_array_size(coords);
    if (n < 2 || n > LIMIT_POLYGON_VERTICES)
        return fail(c, p, "a line needs 2 to %d positions, not %zu", LIMIT_POLYGON_VERTICES, n);
    struct geo_point *pts = xcalloc(n, sizeof *pts);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char pp[600];
        snprintf(pp, sizeof pp, "%s/coordinates/%zu", p, i);
        rc = read_point(c, json_array_get(coords, i), pp, &pts[i]);
    }
    if (!rc && !(*out = geo_line_new(pts, n)))
        rc = fail(c, p, "out of memory");
    free(pts);
    return rc;
}

static json_t *get_array(struct ctx *c, json_t *obj, const char *key, const char *ptr,
                         bool required, int *rc)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            *rc = fail(c, ptr, "missing required array \"%s\"", key);
        return NULL;
    }
    if (!json_is_array(v)) {
        *rc = fail(c, ptr, "\"%s\" must be an array", key);
        return NULL;
    }
    if (json_array_size(v) > LIMIT_AGREEMENT_ITEMS) {
        *rc = fail(c, ptr, "\"%s\" has more than %d items", key, LIMIT_AGREEMENT_ITEMS);
        return NULL;
    }
    return v;
}

static int check_party(struct ctx *c, struct agreement *a, const char *id, const char *ptr)
{
    if (agr_party_index(a, id) < 0)
        return fail(c, ptr, "unknown party \"%s\" (not in /parties)", id);
    return 0;
}

static int read_string_list(struct ctx *c, json_t *obj, const char *key, const char *ptr,
                            char ***out, size_t *n)
{
    int rc = 0;
    json_t *arr = get_array(c, obj, key, ptr, false, &rc);
    if (rc)
        return rc;
    *n = json_array_size(arr);
    *out = xcalloc(*n, sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v) || !json_string_length(v)) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s/%zu", ptr, key, i);
            return fail(c, p, "must be a non-empty string");
        }
        (*out)[i] = xstrdup(json_string_value(v));
    }
    return 0;
}

static int read_number(struct ctx *c, json_t *obj, const char *key, const char *ptr, double lo,
                       double hi, double dflt, bool required, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return fail(c, ptr, "missing required number \"%s\"", key);
        *out = dflt;
        return 0;
    }
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return fail(c, ptr, "\"%s\" must be a number from %g to %g", key, lo, hi);
    *out = json_number_value(v);
    return 0;
}

static int build_header(struct ctx *c, json_t *root, struct agreement *a)
{
    static const char *const keys[] = {"format", "id", "version", "title", "time_zone",
                                       "effective", "report", "log_origin", "illustrative",
                                       "parties", "geography", "zones", "weapon_classes",
                                       "rules", "escalation", NULL};
    int rc = check_keys(c, root, "", keys);
    if (rc)
        return rc;
    const char *fmt = get_str(c, root, "format", "", true, &rc);
    if (rc)
        return rc;
    if (strcmp(fmt, AGR_FORMAT))
        return fail(c, "/format", "unsupported format \"%s\" (this truce reads \"%s\")", fmt,
                    AGR_FORMAT);
    const char *id = get_str(c, root, "id", "", true, &rc);
    if (rc)
        return rc;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return fail(c, "/id", "id may hold only letters, digits, '-', '_' and '.'");
    a->id = xstrdup(id);
    const char *title = get_str(c, root, "title", "", true, &rc);
    if (rc)
        return rc;
    a->title = xstrdup(title);
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 || json_integer_value(ver) > 1000000)
        return fail(c, "/version", "\"version\" must be a whole number from 1");
    a->version = (int)json_integer_value(ver);
    const char *tz = get_str(c, root, "time_zone", "", true, &rc);
    if (rc)
        return rc;
    if (!time_zone_valid(tz))
        return fail(c, "/time_zone", "unknown time zone \"%s\" (use an IANA name such as "
                                     "Europe/Kyiv)", tz);
    a->time_zone = xstrdup(tz);
    const char *eff = get_str(c, root, "effective", "", true, &rc);
    if (rc)
        return rc;
    struct errbuf te;
    if (time_parse(eff, a->time_zone, &a->effective_ms, &te))
        return fail(c, "/effective", "%s", te.msg);
    json_t *rep = json_object_get(root, "report");
    static const char *const rep_keys[] = {"cutoff", NULL};
    if (rep && !json_is_object(rep))
        return fail(c, "/report", "must be an object {\"cutoff\": \"hh:mm\"}");
    if ((rc = check_keys(c, rep, "/report", rep_keys)))
        return rc;
    const char *cut = rep ? get_str(c, rep, "cutoff", "/report", true, &rc) : NULL;
    if (rc)
        return rc;
    a->cutoff_minutes = 19 * 60 + 30;
    if (cut) {
        int hh, mm;
        char extra;
        if (sscanf(cut, "%2d:%2d%c", &hh, &mm, &extra) != 2 || hh < 0 || hh > 23 || mm < 0 ||
            mm > 59)
            return fail(c, "/report/cutoff", "cut-off must be local time \"hh:mm\", not \"%s\"",
                        cut);
        a->cutoff_minutes = hh * 60 + mm;
    }
    const char *origin = get_str(c, root, "log_origin", "", false, &rc);
    if (rc)
        return rc;
    a->origin = origin ? xstrdup(origin) : NULL;
    a->illustrative = json_is_true(json_object_get(root, "illustrative"));
    return 0;
}

static int build_parties(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    json_t *arr = get_array(c, root, "parties", "", true, &rc);
    if (rc)
        return rc;
    if (json_array_size(arr) < 2)
        return fail(c, "/parties", "an agreement needs at least two parties");
    a->n_parties = json_array_size(arr);
    a->parties = xcalloc(a->n_parties, sizeof *a->parties);
    a->reference_line = xcalloc(a->n_parties, sizeof *a->reference_line);
    for (size_t i = 0; i < a->n_parties; i++) {
        char p[64];
        snprintf(p, sizeof p, "/parties/%zu", i);
        json_t *o = json_array_get(arr, i);
        static const char *const keys[] = {"id", "name", "side", NULL};
        if ((rc = check_keys(c, o, p, keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *name = rc ? NULL : get_str(c, o, "name", p, true, &rc);
        const char *side = rc ? NULL : get_str(c, o, "side", p, false, &rc);
        if (rc)
            return rc;
        if (strlen(id) > AGR_MAX_ID_BYTES)
            return fail(c, p, "party id \"%s\" is longer than %d bytes", id, AGR_MAX_ID_BYTES);
        if (agr_party_index(a, id) >= 0)
            return fail(c, p, "duplicate party id \"%s\"", id);
        if (!strcmp(id, "undetermined") || !strcmp(id, "unknown"))
            return fail(c, p, "\"%s\" is reserved and cannot be a party id", id);
        a->parties[i] = (struct agr_party){xstrdup(id), xstrdup(name), dup_or_null(side)};
        a->reference_line[i] = -1;
    }
    return 0;
}

static int build_geography(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    json_t *geo = json_object_get(root, "geography");
    if (!json_is_object(geo))
        return fail(c, "/geography", "missing required object \"geography\"");
    static const char *const geo_keys[] = {"regions", "lines", "reference_lines", "control_areas",
                                           "default_control", "places", "places_source_file",
                                           NULL};
    static const char *const area_keys[] = {"id", "name", "geometry", "source_file", NULL};
    static const char *const line_keys[] = {"id", "name", "geometry", "source_file",
                                            "right_party", "left_party", NULL};
    static const char *const ctl_keys[] = {"party", "geometry", "source_file", NULL};
    if ((rc = check_keys(c, geo, "/geography", geo_keys)))
        return rc;
    json_t *regions = get_array(c, geo, "regions", "/geography", true, &rc);
    if (rc)
        return rc;
    if (json_array_size(regions) > LIMIT_AGREEMENT_REGIONS)
        return fail(c, "/geography/regions", "more than %d regions", LIMIT_AGREEMENT_REGIONS);
    a->n_regions = json_array_size(regions);
    a->regions = xcalloc(a->n_regions, sizeof *a->regions);
    for (size_t i = 0; i < a->n_regions; i++) {
        char p[64];
        snprintf(p, sizeof p, "/geography/regions/%zu", i);
        json_t *o = json_array_get(regions, i);
        if ((rc = check_keys(c, o, p, area_keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *name = rc ? NULL : get_str(c, o, "name", p, true, &rc);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->regions[j].id, id))
                return fail(c, p, "duplicate region id \"%s\"", id);
        a->regions[i].id = xstrdup(id);
        a->regions[i].name = xstrdup(name);
        if ((rc = read_area(c, o, p, &a->regions[i].area)))
            return rc;
    }
    json_t *lines = get_array(c, geo, "lines", "/geography", true, &rc);
    if (rc)
        return rc;
    if (json_array_size(lines) > LIMIT_AGREEMENT_LINES)
        return fail(c, "/geography/lines", "more than %d lines", LIMIT_AGREEMENT_LINES);
    a->n_lines = json_array_size(lines);
    a->lines = xcalloc(a->n_lines, sizeof *a->lines);
    for (size_t i = 0; i < a->n_lines; i++) {
        char p[64];
        snprintf(p, sizeof p, "/geography/lines/%zu", i);
        json_t *o = json_array_get(lines, i);
        if ((rc = check_keys(c, o, p, line_keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *name = rc ? NULL : get_str(c, o, "name", p, true, &rc);
        const char *right = rc ? NULL : get_str(c, o, "right_party", p, false, &rc);
        const char *left = rc ? NULL : get_str(c, o, "left_party", p, false, &rc);
        if (rc)
            return rc;
        if ((right && (rc = check_party(c, a, right, p))) ||
            (left && (rc = check_party(c, a, left, p))))
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->lines[j].id, id))
                return fail(c, p, "duplicate line id \"%s\"", id);
        a->lines[i] = (struct agr_line){xstrdup(id), xstrdup(name), NULL, dup_or_null(right),
                                        dup_or_null(left)};
        if ((rc = read_line(c, o, p, &a->lines[i].line)))
            return rc;
    }
    json_t *refs = json_object_get(geo, "reference_lines");
    if (refs && !json_is_object(refs))
        return fail(c, "/geography/reference_lines", "must be an object {party: line id}");
    const char *party;
    json_t *lid;
    json_object_foreach(refs, party, lid) {
        char p[300];
        snprintf(p, sizeof p, "/geography/reference_lines/%s", party);
        int pi = agr_party_index(a, party);
        if (pi < 0)
            return fail(c, p, "unknown party \"%s\"", party);
        int li = -1;
        for (size_t i = 0; i < a->n_lines && json_is_string(lid); i++)
            if (!strcmp(a->lines[i].id, json_string_value(lid)))
                li = (int)i;
        if (li < 0)
            return fail(c, p, "must name a line id from /geography/lines");
        const struct agr_line *ln = &a->lines[li];
        if (!(ln->right_party && !strcmp(ln->right_party, party)) &&
            !(ln->left_party && !strcmp(ln->left_party, party)))
            return fail(c, p, "line \"%s\" must name party \"%s\" as its right_party or "
                              "left_party, so that its own side is known", ln->id, party);
        a->reference_line[pi] = li;
    }
    json_t *ctl = get_array(c, geo, "control_areas", "/geography", false, &rc);
    if (rc)
        return rc;
    a->n_control = json_array_size(ctl);
    a->control = xcalloc(a->n_control, sizeof *a->control);
    for (size_t i = 0; i < a->n_control; i++) {
        char p[64];
        snprintf(p, sizeof p, "/geography/control_areas/%zu", i);
        json_t *o = json_array_get(ctl, i);
        if ((rc = check_keys(c, o, p, ctl_keys)))
            return rc;
        const char *pid = get_str(c, o, "party", p, true, &rc);
        if (rc || (rc = check_party(c, a, pid, p)))
            return rc;
        a->control[i].party = xstrdup(pid);
        if ((rc = read_area(c, o, p, &a->control[i].area)))
            return rc;
    }
    const char *dflt = get_str(c, geo, "default_control", "/geography", false, &rc);
    if (rc || (dflt && (rc = check_party(c, a, dflt, "/geography/default_control"))))
        return rc;
    a->default_control = dup_or_null(dflt);
    json_t *places = json_object_get(geo, "places");
    if (places && !json_is_array(places))
        return fail(c, "/geography", "\"places\" must be an array");
    if (json_array_size(places) > LIMIT_PLACES)
        return fail(c, "/geography/places", "more than %d places", LIMIT_PLACES);
    a->n_places = json_array_size(places);
    a->places = xcalloc(a->n_places, sizeof *a->places);
    for (size_t i = 0; i < a->n_places; i++) {
        char p[64];
        snprintf(p, sizeof p, "/geography/places/%zu", i);
        json_t *o = json_array_get(places, i);
        static const char *const place_keys[] = {"name", "lat", "lon", "region", "population",
                                                 "alt_names", NULL};
        if ((rc = check_keys(c, o, p, place_keys)))
            return rc;
        const char *name = get_str(c, o, "name", p, true, &rc);
        double lat, lon;
        if (rc || (rc = read_number(c, o, "lat", p, -90, 90, 0, true, &lat)) ||
            (rc = read_number(c, o, "lon", p, -180, 180, 0, true, &lon)))
            return rc;
        struct agr_place *pl = &a->places[i];
        pl->name = xstrdup(name);
        pl->pt = (struct geo_point){lon, lat};
        pl->population = (long)json_integer_value(json_object_get(o, "population"));
        const char *reg = json_string_value(json_object_get(o, "region"));
        pl->region = dup_or_null(reg);
        if ((rc = read_string_list(c, o, "alt_names", p, &pl->alt_names, &pl->n_alt)))
            return rc;
    }
    build_place_index(a);
    return 0;
}

static int build_zones(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    json_t *zones = get_array(c, root, "zones", "", false, &rc);
    if (rc)
        return rc;
    a->n_zones = json_array_size(zones);
    a->zones = xcalloc(a->n_zones, sizeof *a->zones);
    for (size_t i = 0; i < a->n_zones; i++) {
        char p[64];
        snprintf(p, sizeof p, "/zones/%zu", i);
        json_t *o = json_array_get(zones, i);
        struct agr_zone *z = &a->zones[i];
        static const char *const keys[] = {"id", "name", "kind", "illustrative",
                                           "report_within_km", "include", "exclude", NULL};
        if ((rc = check_keys(c, o, p, keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *name = rc ? NULL : get_str(c, o, "name", p, true, &rc);
        const char *kind = rc ? NULL : get_str(c, o, "kind", p, true, &rc);
        if (rc)
            return rc;
        if (agr_zone_index(a, id) >= 0)
            return fail(c, p, "duplicate zone id \"%s\"", id);
        z->id = xstrdup(id);
        z->name = xstrdup(name);
        z->kind = xstrdup(kind);
        z->illustrative = json_is_true(json_object_get(o, "illustrative"));
        if ((rc = read_number(c, o, "report_within_km", p, 0, 100, 0, false,
                              &z->report_within_km)))
            return rc;
        json_t *inc = get_array(c, o, "include", p, true, &rc);
        if (rc)
            return rc;
        if (!json_array_size(inc))
            return fail(c, p, "\"include\" needs at least one geometry");
        json_t *exc = get_array(c, o, "exclude", p, false, &rc);
        if (rc)
            return rc;
        z->n_include = json_array_size(inc);
        z->n_exclude = json_array_size(exc);
        z->include = xcalloc(z->n_include, sizeof *z->include);
        z->exclude = xcalloc(z->n_exclude, sizeof *z->exclude);
        for (size_t j = 0; j < z->n_include; j++) {
            char pp[128];
            snprintf(pp, sizeof pp, "%s/include/%zu", p, j);
            if ((rc = read_area(c, json_array_get(inc, j), pp, &z->include[j])))
                return rc;
        }
        for (size_t j = 0; j < z->n_exclude; j++) {
            char pp[128];
            snprintf(pp, sizeof pp, "%s/exclude/%zu", p, j);
            if ((rc = read_area(c, json_array_get(exc, j), pp, &z->exclude[j])))
                return rc;
        }
    }
    return 0;
}

static int build_classes(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    json_t *arr = get_array(c, root, "weapon_classes", "", false, &rc);
    if (rc)
        return rc;
    a->n_classes = json_array_size(arr);
    a->classes = xcalloc(a->n_classes, sizeof *a->classes);
    for (size_t i = 0; i < a->n_classes; i++) {
        char p[64];
        snprintf(p, sizeof p, "/weapon_classes/%zu", i);
        json_t *o = json_array_get(arr, i);
        struct agr_weapon_class *w = &a->classes[i];
        static const char *const keys[] = {"id", "name", "categories", "systems",
                                           "calibre_min_mm", "calibre_max_mm", NULL};
        if ((rc = check_keys(c, o, p, keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *name = rc ? NULL : get_str(c, o, "name", p, true, &rc);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->classes[j].id, id))
                return fail(c, p, "duplicate weapon class id \"%s\"", id);
        w->id = xstrdup(id);
        w->name = xstrdup(name);
        if ((rc = read_string_list(c, o, "categories", p, &w->categories, &w->n_categories)) ||
            (rc = read_string_list(c, o, "systems", p, &w->systems, &w->n_systems)) ||
            (rc = read_number(c, o, "calibre_min_mm", p, 0, 2000, NAN, false,
                              &w->calibre_min_mm)) ||
            (rc = read_number(c, o, "calibre_max_mm", p, 0, 2000, NAN, false,
                              &w->calibre_max_mm)))
            return rc;
        if (!w->n_categories && !w->n_systems)
            return fail(c, p, "a weapon class needs \"categories\" or \"systems\"");
        w->systems_lower = xcalloc(w->n_systems, sizeof *w->systems_lower);
        for (size_t j = 0; j < w->n_systems; j++) {
            w->systems_lower[j] = xstrdup(w->systems[j]);
            for (char *q = w->systems_lower[j]; *q; q++)
                *q = (char)tolower((unsigned char)*q);
        }
        if (!isnan(w->calibre_min_mm) && !isnan(w->calibre_max_mm) &&
            w->calibre_min_mm >= w->calibre_max_mm)
            return fail(c, p, "calibre_min_mm must be below calibre_max_mm");
    }
    return 0;
}

static int build_rules(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    json_t *arr = get_array(c, root, "rules", "", true, &rc);
    if (rc)
        return rc;
    a->n_rules = json_array_size(arr);
    a->rules = xcalloc(a->n_rules, sizeof *a->rules);
    for (size_t i = 0; i < a->n_rules; i++) {
        char p[64];
        snprintf(p, sizeof p, "/rules/%zu", i);
        json_t *o = json_array_get(arr, i);
        struct agr_rule *r = &a->rules[i];
        r->weapon_class = -1;
        r->effective_ms = TIME_NONE;
        static const char *const keys[] = {"clause", "text", "kind", "severity", "effective",
                                           "event_types", "weapon_class", "distance_km", "zones",
                                           NULL};
        if ((rc = check_keys(c, o, p, keys)))
            return rc;
        const char *clause = get_str(c, o, "clause", p, true, &rc);
        const char *text = rc ? NULL : get_str(c, o, "text", p, true, &rc);
        const char *kind = rc ? NULL : get_str(c, o, "kind", p, true, &rc);
        const char *sev = rc ? NULL : get_str(c, o, "severity", p, false, &rc);
        const char *eff = rc ? NULL : get_str(c, o, "effective", p, false, &rc);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->rules[j].clause, clause))
                return fail(c, p, "duplicate clause id \"%s\"", clause);
        r->clause = xstrdup(clause);
        r->text = xstrdup(text);
        if (sev && strcmp(sev, "minor") && strcmp(sev, "major") && strcmp(sev, "critical"))
            return fail(c, p, "severity must be minor, major or critical, not \"%s\"", sev);
        r->severity = xstrdup(sev ? sev : "major");
        if (eff) {
            struct errbuf te;
            if (time_parse(eff, a->time_zone, &r->effective_ms, &te)) {
                char pp[80];
                snprintf(pp, sizeof pp, "%s/effective", p);
                return fail(c, pp, "%s", te.msg);
            }
        }
        if (!strcmp(kind, "fire_prohibited")) {
            r->kind = AGR_RULE_FIRE_PROHIBITED;
            if ((rc = read_string_list(c, o, "event_types", p, &r->event_types,
                                       &r->n_event_types)))
                return rc;
            for (size_t j = 0; j < r->n_event_types; j++)
                if (agr_event_type_index(r->event_types[j]) < 0) {
                    char pp[80];
                    snprintf(pp, sizeof pp, "%s/event_types/%zu", p, j);
                    return fail(c, pp, "unknown event type \"%s\"", r->event_types[j]);
                }
        } else if (!strcmp(kind, "weapon_withdrawal")) {
            r->kind = AGR_RULE_WEAPON_WITHDRAWAL;
            const char *wc = get_str(c, o, "weapon_class", p, true, &rc);
            if (rc)
                return rc;
            for (size_t j = 0; j < a->n_classes; j++)
                if (!strcmp(a->classes[j].id, wc))
                    r->weapon_class = (int)j;
            if (r->weapon_class < 0)
                return fail(c, p, "unknown weapon class \"%s\" (not in /weapon_classes)", wc);
            if ((rc = read_number(c, o, "distance_km", p, 0.001, 1000, 0, true, &r->distance_km)))
                return rc;
            for (size_t j = 0; j < a->n_parties; j++)
                if (a->reference_line[j] < 0)
                    return fail(c, p, "withdrawal rules need a reference line for every party; "
                                      "party \"%s\" has none in /geography/reference_lines",
                                a->parties[j].id);
        } else if (!strcmp(kind, "armed_presence")) {
            r->kind = AGR_RULE_ARMED_PRESENCE;
            char **ids = NULL;
            size_t n = 0;
            rc = read_string_list(c, o, "zones", p, &ids, &n);
            if (!rc && !n)
                rc = fail(c, p, "armed_presence needs \"zones\"");
            r->zones = xcalloc(n, sizeof *r->zones);
            r->n_zones = n;
            for (size_t j = 0; j < n && !rc; j++) {
                r->zones[j] = agr_zone_index(a, ids[j]);
                if (r->zones[j] < 0)
                    rc = fail(c, p, "unknown zone \"%s\" (not in /zones)", ids[j]);
            }
            for (size_t j = 0; j < n; j++)
                free(ids[j]);
            free(ids);
            if (rc)
                return rc;
        } else {
            return fail(c, p, "unknown rule kind \"%s\" (fire_prohibited, weapon_withdrawal, "
                              "armed_presence)", kind);
        }
    }
    return 0;
}


/* Reads the names in obj[key] (an optional array of strings) and sets bit 1 << i for each,
 * where names[i] is the name; an unknown name is an error at its pointer. */
static int read_name_bits(struct ctx *c, json_t *obj, const char *key, const char *ptr,
                          const char *const *names, size_t n_names, unsigned *bits)
{
    char **v = NULL;
    size_t n = 0;
    int rc = read_string_list(c, obj, key, ptr, &v, &n);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t k = 0;
        while (k < n_names && strcmp(names[k], v[i]))
            k++;
        if (k == n_names) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s/%zu", ptr, key, i);
            rc = fail(c, p, "unknown value \"%s\"", v[i]);
        } else {
            *bits |= 1u << k;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return rc;
}

/* Reads the ids in obj[key] and resolves each with lookup (-1: unknown, named in the error). */
static int read_id_refs(struct ctx *c, json_t *obj, const char *key, const char *ptr,
                        const struct agreement *a,
                        int (*lookup)(const struct agreement *, const char *), const char *noun,
                        const char *where, int **out, size_t *n_out)
{
    char **v = NULL;
    size_t n = 0;
    int rc = read_string_list(c, obj, key, ptr, &v, &n);
    *out = xcalloc(n ? n : 1, sizeof **out);
    *n_out = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int idx = lookup(a, v[i]);
        if (idx < 0) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s/%zu", ptr, key, i);
            rc = fail(c, p, "unknown %s \"%s\" (not in %s)", noun, v[i], where);
        } else {
            (*out)[(*n_out)++] = idx;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return rc;
}

static int rule_by_clause(const struct agreement *a, const char *clause)
{
    for (size_t i = 0; i < a->n_rules; i++)
        if (!strcmp(a->rules[i].clause, clause))
            return (int)i;
    return -1;
}

static int class_by_id(const struct agreement *a, const char *id)
{
    for (size_t i = 0; i < a->n_classes; i++)
        if (!strcmp(a->classes[i].id, id))
            return (int)i;
    return -1;
}

/* Reads a whole number of hours from lo to hi into *ms (dflt_ms when absent). */
static int read_hours(struct ctx *c, json_t *obj, const char *key, const char *ptr, long lo,
                      long hi, int64_t dflt_ms, bool required, int64_t *ms)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return fail(c, ptr, "missing required number \"%s\"", key);
        *ms = dflt_ms;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(c, ptr, "\"%s\" must be a whole number of hours from %ld to %ld", key, lo, hi);
    *ms = (int64_t)json_integer_value(v) * 3600000;
    return 0;
}

static int build_escalation(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc = 0;
    /* Windows count from the first daily cut-off at or after the effective time. */
    char day[40];
    int y, m, d;
    int64_t from, to;
    time_format_local(a->effective_ms, a->time_zone, day, sizeof day);
    a->esc_anchor_ms = a->effective_ms;
    if (sscanf(day, "%d-%d-%d", &y, &m, &d) == 3 && agr_report_window(a, y, m, d, &from, &to) == 0)
        a->esc_anchor_ms = to >= a->effective_ms ? to : to + 86400000;
    json_t *esc = json_object_get(root, "escalation");
    if (!esc)
        return 0;
    if (!json_is_object(esc))
        return fail(c, "/escalation", "must be an object {\"thresholds\": [...]}");
    static const char *const esc_keys[] = {"thresholds", NULL};
    if ((rc = check_keys(c, esc, "/escalation", esc_keys)))
        return rc;
    json_t *arr = get_array(c, esc, "thresholds", "/escalation", true, &rc);
    if (rc)
        return rc;
    if (json_array_size(arr) > AGR_ESC_MAX_THRESHOLDS)
        return fail(c, "/escalation/thresholds", "more than %d thresholds",
                    AGR_ESC_MAX_THRESHOLDS);
    a->n_thresholds = json_array_size(arr);
    a->thresholds = xcalloc(a->n_thresholds ? a->n_thresholds : 1, sizeof *a->thresholds);
    static const char *const keys[] = {"id", "level", "text", "window_hours", "step_hours",
                                       "min_findings", "per", "rule_kinds", "clauses",
                                       "results", "attributed_only", "weapon_classes", "zones",
                                       "zone_relations", NULL};
    static const char *const kind_names[] = {"fire_prohibited", "weapon_withdrawal",
                                             "armed_presence"};
    static const char *const result_names[] = {"violation", "undetermined"};
    static const char *const relation_names[] = {"in", "maybe_in", "near"};
    for (size_t i = 0; i < a->n_thresholds; i++) {
        char p[64];
        snprintf(p, sizeof p, "/escalation/thresholds/%zu", i);
        json_t *o = json_array_get(arr, i);
        struct agr_threshold *t = &a->thresholds[i];
        if (!json_is_object(o))
            return fail(c, p, "a threshold is an object");
        if ((rc = check_keys(c, o, p, keys)))
            return rc;
        const char *id = get_str(c, o, "id", p, true, &rc);
        const char *level = rc ? NULL : get_str(c, o, "level", p, true, &rc);
        const char *text = rc ? NULL : get_str(c, o, "text", p, true, &rc);
        const char *per = rc ? NULL : get_str(c, o, "per", p, false, &rc);
        if (rc)
            return rc;
        if (strlen(id) > AGR_ESC_MAX_ID_BYTES)
            return fail(c, p, "threshold id \"%s\" is longer than %d bytes", id,
                        AGR_ESC_MAX_ID_BYTES);
        for (const char *q = id; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_' && *q != '.')
                return fail(c, p, "threshold id may hold only letters, digits, '-', '_' and '.'");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->thresholds[j].id, id))
                return fail(c, p, "duplicate threshold id \"%s\"", id);
        t->id = xstrdup(id);
        t->text = xstrdup(text);
        int lv = agr_esc_level_parse(level);
        if (lv < 0)
            return fail(c, p, "level must be notice, warning, serious or guarantee_trigger, not "
                              "\"%s\"", level);
        t->level = (enum agr_esc_level)lv;
        t->per = AGR_ESC_PER_ALL;
        if (per) {
            int k = 0;
            while (k < 4 && strcmp(AGR_ESC_PER_NAMES[k], per))
                k++;
            if (k == 4)
                return fail(c, p, "per must be all, region, party or region_party, not \"%s\"",
                            per);
            t->per = (enum agr_esc_per)k;
        }
        if ((rc = read_hours(c, o, "window_hours", p, 1, AGR_ESC_MAX_WINDOW_HOURS, 0, true,
                             &t->window_ms)) ||
            (rc = read_hours(c, o, "step_hours", p, 1, t->window_ms / 3600000, t->window_ms,
                             false, &t->step_ms)))
            return rc;
        json_t *mf = json_object_get(o, "min_findings");
        if (!mf)
            t->min_findings = 1;
        else if (!json_is_integer(mf) || json_integer_value(mf) < 1 ||
                 json_integer_value(mf) > AGR_ESC_MAX_MIN_FINDINGS)
            return fail(c, p, "\"min_findings\" must be a whole number from 1 to %d",
                        AGR_ESC_MAX_MIN_FINDINGS);
        else
            t->min_findings = (long)json_integer_value(mf);
        json_t *ao = json_object_get(o, "attributed_only");
        if (ao && !json_is_boolean(ao))
            return fail(c, p, "\"attributed_only\" must be true or false");
        t->attributed_only = json_is_true(ao);
        if ((rc = read_name_bits(c, o, "rule_kinds", p, kind_names, 3, &t->rule_kinds)) ||
            (rc = read_name_bits(c, o, "results", p, result_names, 2, &t->results)) ||
            (rc = read_name_bits(c, o, "zone_relations", p, relation_names, 3,
                                 &t->zone_relations)) ||
            (rc = read_id_refs(c, o, "clauses", p, a, rule_by_clause, "clause", "/rules",
                               &t->rules, &t->n_rules)) ||
            (rc = read_id_refs(c, o, "weapon_classes", p, a, class_by_id, "weapon class",
                               "/weapon_classes", &t->classes, &t->n_classes)) ||
            (rc = read_id_refs(c, o, "zones", p, a, agr_zone_index, "zone", "/zones", &t->zones,
                               &t->n_zones)))
            return rc;
        if (!t->results)
            t->results = 1;
        if (!t->zone_relations)
            t->zone_relations = 1;
        if (t->zone_relations != 1 && !t->n_zones)
            return fail(c, p, "\"zone_relations\" needs \"zones\"");
    }
    return 0;
}

static int build(struct ctx *c, json_t *root, struct agreement *a)
{
    int rc;
    if (!json_is_object(root))
        return fail(c, "", "an agreement is a JSON object");
    if ((rc = build_header(c, root, a)) || (rc = build_parties(c, root, a)) ||
        (rc = build_geography(c, root, a)) || (rc = build_zones(c, root, a)) ||
        (rc = build_classes(c, root, a)) || (rc = build_rules(c, root, a)) ||
        (rc = build_escalation(c, root, a)))
        return rc;
    return 0;
}

static int load_root(struct ctx *c, json_t *root, struct agreement **out)
{
    struct agreement *a = xcalloc(1, sizeof *a);
    int rc = build(c, root, a);
    if (rc) {
        agr_free(a);
        return rc;
    }
    a->resolved_json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!a->resolved_json) {
        agr_free(a);
        return errf(c->e, ERR_NOMEM, "%s: out of memory", c->src);
    }
    *out = a;
    return 0;
}

int agr_load_file(const char *path, struct agreement **out, struct errbuf *e)
{
    struct ctx c = {.src = path, .e = e};
    path_dirname(c.base, sizeof c.base, path);
    char *text = NULL;
    size_t len = 0;
    int rc = file_read(path, LIMIT_FILE_BYTES, &text, &len, e);
    if (rc)
        return rc;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root)
        return errf(e, ERR_PARSE, "%s: line %d column %d: %s", path, je.line, je.column, je.text);
    rc = json_is_object(root) ? resolve(&c, root) : 0;
    if (!rc)
        rc = load_root(&c, root, out);
    json_decref(root);
    return rc;
}

int agr_load_json(const char *json, size_t len, const char *source, struct agreement **out,
                  struct errbuf *e)
{
    struct ctx c = {.src = source, .e = e};
    str_copy(c.base, sizeof c.base, ".");
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return errf(e, ERR_PARSE, "%s: line %d column %d: %s", source, je.line, je.column,
                    je.text);
    int rc = load_root(&c, root, out);
    json_decref(root);
    return rc;
}

static void free_strs(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

void agr_free(struct agreement *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->title);
    free(a->time_zone);
    free(a->origin);
    for (size_t i = 0; i < a->n_parties; i++) {
        free(a->parties[i].id);
        free(a->parties[i].name);
        free(a->parties[i].side);
    }
    free(a->parties);
    free(a->reference_line);
    for (size_t i = 0; i < a->n_regions; i++) {
        free(a->regions[i].id);
        free(a->regions[i].name);
        geo_area_free(a->regions[i].area);
    }
    free(a->regions);
    for (size_t i = 0; i < a->n_lines; i++) {
        free(a->lines[i].id);
        free(a->lines[i].name);
        free(a->lines[i].right_party);
        free(a->lines[i].left_party);
        geo_line_free(a->lines[i].line);
    }
    free(a->lines);
    for (size_t i = 0; i < a->n_control; i++) {
        free(a->control[i].party);
        geo_area_free(a->control[i].area);
    }
    free(a->control);
    free(a->default_control);
    for (size_t i = 0; i < a->n_zones; i++) {
        struct agr_zone *z = &a->zones[i];
        free(z->id);
        free(z->name);
        free(z->kind);
        for (size_t j = 0; j < z->n_include; j++)
            geo_area_free(z->include[j]);
        for (size_t j = 0; j < z->n_exclude; j++)
            geo_area_free(z->exclude[j]);
        free(z->include);
        free(z->exclude);
    }
    free(a->zones);
    for (size_t i = 0; i < a->n_classes; i++) {
        free(a->classes[i].id);
        free(a->classes[i].name);
        free_strs(a->classes[i].categories, a->classes[i].n_categories);
        free_strs(a->classes[i].systems_lower,
                  a->classes[i].systems_lower ? a->classes[i].n_systems : 0);
        free_strs(a->classes[i].systems, a->classes[i].n_systems);
    }
    free(a->classes);
    for (size_t i = 0; i < a->n_rules; i++) {
        struct agr_rule *r = &a->rules[i];
        free(r->clause);
        free(r->text);
        free(r->severity);
        free(r->zones);
        free_strs(r->event_types, r->n_event_types);
    }
    free(a->rules);
    for (size_t i = 0; i < a->n_thresholds; i++) {
        struct agr_threshold *t = &a->thresholds[i];
        free(t->id);
        free(t->text);
        free(t->rules);
        free(t->classes);
        free(t->zones);
    }
    free(a->thresholds);
    for (size_t i = 0; i < a->n_places; i++) {
        free(a->places[i].name);
        free(a->places[i].region);
        free_strs(a->places[i].alt_names, a->places[i].n_alt);
    }
    free(a->places);
    for (size_t i = 0; i < a->n_name_index; i++)
        free(a->name_index[i].key);
    free(a->name_index);
    free(a->grid_off);
    free(a->grid_idx);
    free(a->resolved_json);
    free(a);
}

/* ---- queries ---- */

int agr_party_index(const struct agreement *a, const char *id)
{
    for (size_t i = 0; i < a->n_parties; i++)
        if (a->parties[i].id && !strcmp(a->parties[i].id, id))
            return (int)i;
    return -1;
}

int agr_zone_index(const struct agreement *a, const char *id)
{
    for (size_t i = 0; i < a->n_zones; i++)
        if (a->zones[i].id && !strcmp(a->zones[i].id, id))
            return (int)i;
    return -1;
}

bool agr_zone_contains(const struct agr_zone *z, struct geo_point p)
{
    bool in = false;
    for (size_t i = 0; i < z->n_include && !in; i++)
        in = geo_area_contains(z->include[i], p);
    for (size_t i = 0; i < z->n_exclude && in; i++)
        in = !geo_area_contains(z->exclude[i], p);
    return in;
}

double agr_zone_distance_m(const struct agr_zone *z, struct geo_point p)
{
    if (agr_zone_contains(z, p))
        return 0;
    /* The zone's outline is made of its include and exclude outlines; the nearest of them is
     * the distance (a point inside an excluded area is as far as that area's edge). */
    double best = INFINITY;
    for (size_t i = 0; i < z->n_include; i++) {
        double d = geo_area_edge_distance_m(z->include[i], p);
        if (d < best)
            best = d;
    }
    for (size_t i = 0; i < z->n_exclude; i++) {
        double d = geo_area_edge_distance_m(z->exclude[i], p);
        if (d < best)
            best = d;
    }
    return best;
}

const char *agr_control_at(const struct agreement *a, struct geo_point p)
{
    for (size_t i = 0; i < a->n_control; i++)
        if (geo_area_contains(a->control[i].area, p))
            return a->control[i].party;
    if (a->default_control && agr_region_at(a, p) >= 0)
        return a->default_control;
    return NULL;
}

int agr_region_at(const struct agreement *a, struct geo_point p)
{
    for (size_t i = 0; i < a->n_regions; i++)
        if (geo_area_contains(a->regions[i].area, p))
            return (int)i;
    return -1;
}

/* True when needle occurs in hay (both ASCII lower case) as a whole token: not preceded or
 * followed by a letter or digit ("2s1" is in "2s1 gvozdika" but not in "2s12 sani"). */
static bool contains_token(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n)
        return false;
    for (const char *h = strstr(hay, needle); h; h = strstr(h + 1, needle))
        if ((h == hay || !isalnum((unsigned char)h[-1])) && !isalnum((unsigned char)h[n]))
            return true;
    return false;
}

int agr_weapon_class_match(const struct agreement *a, const char *category, const char *model,
                           double calibre_mm)
{
    if (model && *model) {
        char lower[256];
        size_t k = 0;
        for (; model[k] && k + 1 < sizeof lower; k++)
            lower[k] = (char)tolower((unsigned char)model[k]);
        lower[k] = 0;
        for (size_t i = 0; i < a->n_classes; i++)
            for (size_t j = 0; j < a->classes[i].n_systems; j++)
                if (contains_token(lower, a->classes[i].systems_lower[j]))
                    return (int)i;
    }
    if (!category || !*category)
        return -1;
    for (size_t i = 0; i < a->n_classes; i++) {
        const struct agr_weapon_class *w = &a->classes[i];
        bool cat = false;
        for (size_t j = 0; j < w->n_categories && !cat; j++)
            cat = str_casecmp(w->categories[j], category) == 0;
        if (!cat)
            continue;
        bool bounded = !isnan(w->calibre_min_mm) || !isnan(w->calibre_max_mm);
        if (isnan(calibre_mm)) {
            if (!bounded)
                return (int)i;
            continue;
        }
        if (!isnan(w->calibre_min_mm) && calibre_mm < w->calibre_min_mm)
            continue;
        if (!isnan(w->calibre_max_mm) && calibre_mm >= w->calibre_max_mm)
            continue;
        return (int)i;
    }
    return -1;
}

/* Length of the ignorable mark at s (ASCII apostrophe, backtick, hyphen or space, or the UTF-8
 * right single quotation mark U+2019 and modifier apostrophe U+02BC), or 0. */
static size_t skip_mark(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (*u == '\'' || *u == '`' || *u == '-' || *u == ' ')
        return 1;
    if (u[0] == 0xe2 && u[1] == 0x80 && u[2] == 0x99)
        return 3;
    if (u[0] == 0xca && u[1] == 0xbc)
        return 2;
    return 0;
}

/* Writes the key a name is looked up by: ASCII lower case without the marks of skip_mark. */
static void name_key(const char *name, char *out, size_t n)
{
    size_t o = 0;
    while (*name && o + 1 < n) {
        size_t k = skip_mark(name);
        if (k) {
            name += k;
            continue;
        }
        out[o++] = (char)tolower((unsigned char)*name++);
    }
    out[o] = 0;
}

static int key_cmp(const void *a, const void *b)
{
    const struct agr_name_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->place - y->place;
}

/* Builds the sorted name index and each place's naming preference. */
static void build_place_index(struct agreement *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_places; i++)
        n += 1 + a->places[i].n_alt;
    a->name_index = xcalloc(n, sizeof *a->name_index);
    for (size_t i = 0; i < a->n_places; i++) {
        struct agr_place *pl = &a->places[i];
        char key[256];
        for (size_t j = 0; j <= pl->n_alt; j++) {
            name_key(j ? pl->alt_names[j - 1] : pl->name, key, sizeof key);
            a->name_index[a->n_name_index++] = (struct agr_name_key){xstrdup(key), (int)i};
        }
        /* People name a point after a known town rather than the nearest hamlet or city
         * district: 1.5 km per order of magnitude of population. */
        pl->naming_bonus_km = 1.5 * log10((double)(pl->population > 0 ? pl->population : 0) + 1.0);
    }
    qsort(a->name_index, a->n_name_index, sizeof *a->name_index, key_cmp);

    /* A grid of 0.1-degree cells over the places' bounding box for agr_place_nearest. */
    a->grid_cell_deg = 0.1;
    if (!a->n_places)
        return;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    a->max_bonus_km = 0;
    for (size_t i = 0; i < a->n_places; i++) {
        struct geo_point q = a->places[i].pt;
        x0 = fmin(x0, q.lon_deg), x1 = fmax(x1, q.lon_deg);
        y0 = fmin(y0, q.lat_deg), y1 = fmax(y1, q.lat_deg);
        a->max_bonus_km = fmax(a->max_bonus_km, a->places[i].naming_bonus_km);
    }
    a->grid_lon0 = x0;
    a->grid_lat0 = y0;
    a->grid_nx = (int)((x1 - x0) / a->grid_cell_deg) + 1;
    a->grid_ny = (int)((y1 - y0) / a->grid_cell_deg) + 1;
    if ((double)a->grid_nx * a->grid_ny > 4e6) { /* a continent-wide gazetteer: coarser cells */
        a->grid_cell_deg = fmax(x1 - x0, y1 - y0) / 2000 + 1e-9;
        a->grid_nx = (int)((x1 - x0) / a->grid_cell_deg) + 1;
        a->grid_ny = (int)((y1 - y0) / a->grid_cell_deg) + 1;
    }
    size_t ncell = (size_t)a->grid_nx * (size_t)a->grid_ny;
    a->grid_off = xcalloc(ncell + 1, sizeof *a->grid_off);
    a->grid_idx = xcalloc(a->n_places, sizeof *a->grid_idx);
    for (size_t i = 0; i < a->n_places; i++) {
        int cx = (int)((a->places[i].pt.lon_deg - x0) / a->grid_cell_deg);
        int cy = (int)((a->places[i].pt.lat_deg - y0) / a->grid_cell_deg);
        a->grid_off[(size_t)cy * a->grid_nx + cx + 1]++;
    }
    for (size_t c = 0; c < ncell; c++)
        a->grid_off[c + 1] += a->grid_off[c];
    int *fill = xcalloc(ncell, sizeof *fill);
    for (size_t i = 0; i < a->n_places; i++) {
        int cx = (int)((a->places[i].pt.lon_deg - x0) / a->grid_cell_deg);
        int cy = (int)((a->places[i].pt.lat_deg - y0) / a->grid_cell_deg);
        size_t c = (size_t)cy * a->grid_nx + cx;
        a->grid_idx[a->grid_off[c] + fill[c]++] = (int)i;
    }
    free(fill);
}

int agr_place_find(const struct agreement *a, const char *name)
{
    char key[256];
    name_key(name, key, sizeof key);
    size_t lo = 0, hi = a->n_name_index;
    while (lo < hi) { /* first entry >= key */
        size_t mid = (lo + hi) / 2;
        if (strcmp(a->name_index[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int best = -1;
    /* Several places may share a name (a village far from the known town): the most populous
     * wins, which is the one monitors mean. */
    for (size_t i = lo; i < a->n_name_index && !strcmp(a->name_index[i].key, key); i++) {
        int p = a->name_index[i].place;
        if (best < 0 || a->places[p].population > a->places[best].population)
            best = p;
    }
    return best;
}

/* The score by which places compete to name p: planar distance in km (exact enough at these
 * ranges) less the place's naming bonus; a place under 1 km away always wins, so a point in a
 * village is "in" that village. */
static double place_score(const struct agr_place *pl, struct geo_point p, double k)
{
    double dx = (pl->pt.lon_deg - p.lon_deg) * k * 111.32;
    double dy = (pl->pt.lat_deg - p.lat_deg) * 110.57;
    double d_km = sqrt(dx * dx + dy * dy);
    return d_km < 1.0 ? d_km - 1000.0 : d_km - pl->naming_bonus_km;
}

int agr_place_nearest(const struct agreement *a, struct geo_point p)
{
    if (!a->n_places)
        return -1;
    int best = -1;
    double best_score = INFINITY, k = cos(p.lat_deg * M_PI / 180);
    /* Walk rings of grid cells outwards from p's cell; stop when the nearest cell of the next
     * ring is so far that even the largest bonus cannot beat the best score. */
    int cx = (int)floor((p.lon_deg - a->grid_lon0) / a->grid_cell_deg);
    int cy = (int)floor((p.lat_deg - a->grid_lat0) / a->grid_cell_deg);
    double cell_km = a->grid_cell_deg * fmin(110.57, 111.32 * fmax(k, 0.01));
    int max_ring = a->grid_nx + a->grid_ny + abs(cx) + abs(cy) + 2;
    for (int ring = 0; ring <= max_ring; ring++) {
        double min_d = (ring - 1) * cell_km; /* p may sit anywhere in its own cell */
        if (best >= 0 && min_d - a->max_bonus_km > best_score)
            break;
        for (int y = cy - ring; y <= cy + ring; y++) {
            if (y < 0 || y >= a->grid_ny)
                continue;
            bool edge_row = y == cy - ring || y == cy + ring;
            for (int x = cx - ring; x <= cx + ring; x += edge_row ? 1 : 2 * ring) {
                if (x >= 0 && x < a->grid_nx) {
                    size_t c = (size_t)y * a->grid_nx + x;
                    for (int j = a->grid_off[c]; j < a->grid_off[c + 1]; j++) {
                        int i = a->grid_idx[j];
                        double sc = place_score(&a->places[i], p, k);
                        if (sc < best_score || (sc == best_score && i < best)) {
                            best_score = sc;
                            best = i;
                        }
                    }
                }
                if (ring == 0)
                    break;
            }
        }
    }
    return best;
}

/* The same choice by a scan of every place: the reference for tests. */
int agr_place_nearest_slow(const struct agreement *a, struct geo_point p)
{
    int best = -1;
    double best_score = INFINITY, k = cos(p.lat_deg * M_PI / 180);
    for (size_t i = 0; i < a->n_places; i++) {
        double sc = place_score(&a->places[i], p, k);
        if (sc < best_score) {
            best_score = sc;
            best = (int)i;
        }
    }
    return best;
}

int agr_report_window(const struct agreement *a, int y, int m, int d, int64_t *from_ms,
                      int64_t *to_ms)
{
    int64_t to;
    if (time_local_to_utc(y, m, d, a->cutoff_minutes / 60, a->cutoff_minutes % 60, a->time_zone,
                          &to))
        return ERR_INVAL;
    /* The day before, at the same local wall time (24 h except across a DST change). */
    int64_t from;
    int64_t noon_prev = to - 86400000LL;
    char buf[40];
    time_format_local(noon_prev, a->time_zone, buf, sizeof buf);
    int py, pm, pd;
    if (sscanf(buf, "%d-%d-%d", &py, &pm, &pd) != 3 ||
        time_local_to_utc(py, pm, pd, a->cutoff_minutes / 60, a->cutoff_minutes % 60,
                          a->time_zone, &from))
        return ERR_INVAL;
    *from_ms = from;
    *to_ms = to;
    return 0;
}
