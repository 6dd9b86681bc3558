/* api_ogc.c: OGC API - Features - Part 1: Core (OGC 17-069r4) over the store and the agreement
 * in force: the landing page /ogc, /ogc/conformance, /ogc/collections, one collection, its items
 * (bbox, datetime, limit, cursor paging with next links) and one item, in GeoJSON with [lon, lat]
 * (CRS84). JSON only: no HTML encoding; /ogc/api is a minimal OpenAPI 3.0 description (routes
 * and the limits of ?limit=), not the oas30 conformance class.
 *
 * Collections are rows of one table (COLLECTIONS). A store-backed collection gives a function
 * that lists a page of records with their placed point (store_obs_page, store_findings_page,
 * store_incidents_page); an agreement-backed one builds its features from the
 * stored agreement JSON (zones, lines). Metadata documents are built with jansson; item pages are
 * streamed into the body, as the JSON listings are, since each record already is JSON text. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

#define OGC_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define OGC_BASE_BYTES 300 /* "http://" and a Host header of at most 255 bytes */
#define OGC_GEOJSON "application/geo+json"
#define OGC_JSON "application/json"

typedef int (*ogc_page_fn)(struct store *s, const struct store_page *p,
                           int (*cb)(void *ctx, const struct store_item *it), void *ctx,
                           struct errbuf *e);
typedef json_t *(*ogc_features_fn)(const struct agreement *ag, struct errbuf *e);

struct ogc_collection {
    const char *id, *title, *description;
    ogc_page_fn page;         /* store-backed: pages of records (NULL otherwise) */
    ogc_features_fn features; /* agreement-backed: every feature as a JSON array (NULL otherwise) */
};

static json_t *zone_features(const struct agreement *ag, struct errbuf *e);
static json_t *line_features(const struct agreement *ag, struct errbuf *e);

static const struct ogc_collection COLLECTIONS[] = {
    {"observations", "Observations",
     "Accepted observations, each at its placed centre (a located detection's point, the centre "
     "of a sector or circle of uncertainty, or the observer); properties as in "
     "GET /api/v1/observations, radius_m gives the uncertainty. Time: the end of the "
     "observation.",
     store_obs_page, NULL},
    {"findings", "Findings",
     "Findings of the rules against observations, at their observation's placed centre. Time: "
     "the observation's end.",
     store_findings_page, NULL},
    {"zones", "Zones",
     "The named zones of the agreement in force (disengagement areas, security zones): the "
     "union of their included areas; excluded areas are in the property exclude.",
     NULL, zone_features},
    {"lines", "Lines", "The reference lines of the agreement in force (lines of contact).", NULL,
     line_features},
    {"incidents", "Incidents",
     "Fused incidents (reports of one event, reconciled, located and attributed: docs/fusion.md), "
     "each at its location; properties as in GET /api/v1/incidents (the incident object, with "
     "its error ellipse, origin, party, grade, findings and evidence). Time: the incident's "
     "end. Filters: party (the attributed party or \"undetermined\") and region.",
     store_incidents_page, NULL},
};
#define N_COLLECTIONS (sizeof COLLECTIONS / sizeof COLLECTIONS[0])

static const struct ogc_collection *find_collection(const char *id)
{
    for (size_t i = 0; i < N_COLLECTIONS; i++)
        if (!strcmp(COLLECTIONS[i].id, id))
            return &COLLECTIONS[i];
    return NULL;
}

static const struct agreement *in_force(struct api *a)
{
    return store_agreement_at(api_agreements(a), time_now_ms());
}

static void oom(struct http_response *resp) { api_problem(resp, 500, "out of memory"); }

/* Serialises doc (stolen) as the body. */
static void send_json(json_t *doc, const char *type, struct http_response *resp)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(doc);
    if (!text || buf_append(&resp->body, text, strlen(text)) || buf_append(&resp->body, "\n", 1))
        oom(resp);
    else
        resp->content_type = type;
    free(text);
}

static json_t *link(const char *base, const char *path, const char *rel, const char *type,
                    const char *title)
{
    char href[OGC_BASE_BYTES + 512];
    snprintf(href, sizeof href, "%s%s", base, path);
    json_t *l = json_pack("{s:s, s:s, s:s}", "href", href, "rel", rel, "type", type);
    if (l && title)
        json_object_set_new(l, "title", json_string(title));
    return l;
}

/* The bbox of every report region of the agreement, or false when it has none. */
static bool regions_bbox(const struct agreement *ag, struct geo_bbox *out)
{
    for (size_t i = 0; i < ag->n_regions; i++) {
        struct geo_bbox b = geo_area_bbox(ag->regions[i].area);
        if (i == 0)
            *out = b;
        else {
            out->min_lon = fmin(out->min_lon, b.min_lon);
            out->min_lat = fmin(out->min_lat, b.min_lat);
            out->max_lon = fmax(out->max_lon, b.max_lon);
            out->max_lat = fmax(out->max_lat, b.max_lat);
        }
    }
    return ag->n_regions > 0;
}

static json_t *collection_doc(const struct ogc_collection *c, const struct agreement *ag,
                              const char *base)
{
    char path[128];
    json_t *links = json_array();
    snprintf(path, sizeof path, "/ogc/collections/%s", c->id);
    json_array_append_new(links, link(base, path, "self", OGC_JSON, c->title));
    snprintf(path, sizeof path, "/ogc/collections/%s/items", c->id);
    json_array_append_new(links, link(base, path, "items", OGC_GEOJSON, c->title));
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:o}", "id", c->id, "title", c->title,
                            "description", c->description, "itemType", "feature", "crs",
                            OGC_CRS84, "links", links);
    struct geo_bbox b;
    if (doc && regions_bbox(ag, &b))
        json_object_set_new(doc, "extent",
                            json_pack("{s:{s:[[f,f,f,f]], s:s}}", "spatial", "bbox", b.min_lon,
                                      b.min_lat, b.max_lon, b.max_lat, "crs", OGC_CRS84));
    return doc;
}

/* ---- metadata ---- */

void api_ogc_landing_(struct api *a, const struct http_request *req, const struct api_params *p,
                      struct http_response *resp)
{
    (void)p;
    char base[OGC_BASE_BYTES];
    api_base_url_(req, base, sizeof base);
    const struct agreement *ag = in_force(a);
    char title[512];
    snprintf(title, sizeof title, "truce: %s", ag->id);
    json_t *links = json_array();
    json_array_append_new(links, link(base, "/ogc", "self", OGC_JSON, "this document"));
    json_array_append_new(links, link(base, "/ogc/api", "service-desc",
                                      "application/vnd.oai.openapi+json;version=3.0",
                                      "the API definition (minimal OpenAPI 3.0)"));
    json_array_append_new(links, link(base, "/ogc/conformance", "conformance", OGC_JSON,
                                      "OGC API conformance classes implemented"));
    json_array_append_new(links, link(base, "/ogc/collections", "data", OGC_JSON,
                                      "the feature collections"));
    send_json(json_pack("{s:s, s:s, s:o}", "title", title, "description", ag->title, "links",
                        links),
              OGC_JSON, resp);
}

/* A minimal OpenAPI 3.0 description of the routes (for clients such as GDAL that read the
 * limits of ?limit= from it); not a claim of the oas30 conformance class. */
static const char OPENAPI_FMT[] =
    "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"truce OGC API - Features\","
    "\"version\":\"1\"},\"paths\":{"
    "\"/\":{\"get\":{\"summary\":\"landing page\",\"responses\":{\"200\":{\"description\":"
    "\"links\"}}}},"
    "\"/conformance\":{\"get\":{\"responses\":{\"200\":{\"description\":\"conformance\"}}}},"
    "\"/collections\":{\"get\":{\"responses\":{\"200\":{\"description\":\"collections\"}}}},"
    "\"/collections/{collectionId}\":{\"get\":{\"parameters\":[{\"$ref\":"
    "\"#/components/parameters/collectionId\"}],\"responses\":{\"200\":{\"description\":"
    "\"collection\"}}}},"
    "\"/collections/{collectionId}/items\":{\"get\":{\"parameters\":["
    "{\"$ref\":\"#/components/parameters/collectionId\"},"
    "{\"name\":\"limit\",\"in\":\"query\",\"style\":\"form\",\"explode\":false,"
    "\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":%d,\"default\":%d}},"
    "{\"name\":\"bbox\",\"in\":\"query\",\"style\":\"form\",\"explode\":false,"
    "\"schema\":{\"type\":\"array\",\"minItems\":4,\"maxItems\":6,\"items\":{\"type\":"
    "\"number\"}}},"
    "{\"name\":\"datetime\",\"in\":\"query\",\"style\":\"form\",\"explode\":false,"
    "\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"cursor\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}}],"
    "\"responses\":{\"200\":{\"description\":\"features\"}}}},"
    "\"/collections/{collectionId}/items/{featureId}\":{\"get\":{\"parameters\":["
    "{\"$ref\":\"#/components/parameters/collectionId\"},{\"name\":\"featureId\",\"in\":"
    "\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],\"responses\":{\"200\":"
    "{\"description\":\"feature\"}}}}},"
    "\"components\":{\"parameters\":{\"collectionId\":{\"name\":\"collectionId\",\"in\":"
    "\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}}}}";

void api_ogc_api_(struct api *a, const struct http_request *req, const struct api_params *p,
                  struct http_response *resp)
{
    (void)a;
    (void)req;
    (void)p;
    if (buf_printf(&resp->body, OPENAPI_FMT, API_OGC_MAX_LIMIT, API_OGC_DEFAULT_LIMIT) ||
        buf_append(&resp->body, "\n", 1))
        oom(resp);
    else
        resp->content_type = "application/vnd.oai.openapi+json;version=3.0";
}

void api_ogc_conformance_(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)a;
    (void)req;
    (void)p;
    send_json(json_pack("{s:[s,s]}", "conformsTo",
                        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"),
              OGC_JSON, resp);
}

void api_ogc_collections_(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)p;
    char base[OGC_BASE_BYTES];
    api_base_url_(req, base, sizeof base);
    const struct agreement *ag = in_force(a);
    json_t *list = json_array();
    for (size_t i = 0; i < N_COLLECTIONS; i++)
        json_array_append_new(list, collection_doc(&COLLECTIONS[i], ag, base));
    json_t *links = json_array();
    json_array_append_new(links, link(base, "/ogc/collections", "self", OGC_JSON, NULL));
    send_json(json_pack("{s:o, s:o}", "links", links, "collections", list), OGC_JSON, resp);
}

static const struct ogc_collection *collection_or_404(const struct api_params *p,
                                                      struct http_response *resp)
{
    const struct ogc_collection *c = find_collection(p->v[0]);
    if (!c) {
        char msg[API_MAX_SEGMENT + 96];
        snprintf(msg, sizeof msg, "no collection \"%s\" (see /ogc/collections)", p->v[0]);
        api_problem(resp, 404, msg);
    }
    return c;
}

void api_ogc_collection_(struct api *a, const struct http_request *req,
                         const struct api_params *p, struct http_response *resp)
{
    const struct ogc_collection *c = collection_or_404(p, resp);
    if (!c)
        return;
    char base[OGC_BASE_BYTES];
    api_base_url_(req, base, sizeof base);
    send_json(collection_doc(c, in_force(a), base), OGC_JSON, resp);
}

/* ---- store-backed items ---- */

struct items_ctx {
    struct buf *b;
    long long n, limit;
    int64_t last_t, last_id;
    bool more;
};

#define OGC_STOP 1 /* a callback's "the page is full" */

static int feature(struct buf *b, const struct store_item *it)
{
    int rc = buf_printf(b, "{\"type\":\"Feature\",\"id\":%lld,\"geometry\":", (long long)it->id);
    if (!rc && (isnan(it->lon) || isnan(it->lat)))
        rc = buf_append(b, "null", 4);
    else if (!rc)
        rc = buf_printf(b, "{\"type\":\"Point\",\"coordinates\":[%.10g,%.10g]}", it->lon,
                        it->lat);
    if (!rc)
        rc = buf_printf(b, ",\"properties\":%s}", it->json);
    return rc;
}

static int item_cb(void *ctx, const struct store_item *it)
{
    struct items_ctx *c = ctx;
    if (c->n == c->limit) {
        c->more = true;
        return OGC_STOP;
    }
    int rc = c->n ? buf_append(c->b, ",", 1) : 0;
    if (!rc)
        rc = feature(c->b, it);
    c->n++;
    c->last_t = it->t_ms;
    c->last_id = it->id;
    return rc;
}

/* Appends a JSON link object to b. */
static int link_text(struct buf *b, const char *base, const char *path, const char *query,
                     const char *rel, const char *type)
{
    int rc = buf_printf(b, "{\"href\":");
    struct buf href;
    buf_init(&href);
    if (!rc)
        rc = buf_printf(&href, "%s%s%s%s", base, path, query ? "?" : "", query ? query : "");
    if (!rc)
        rc = buf_json_str(b, href.p);
    if (!rc)
        rc = buf_printf(b, ",\"rel\":\"%s\",\"type\":\"%s\"}", rel, type);
    buf_reset(&href);
    return rc;
}

/* Ends a FeatureCollection whose features array is open: counts, time stamp and links. */
static int close_collection(struct buf *b, const struct http_request *req, long long n,
                            long long limit, const char *next_cursor, const char *coll_id)
{
    char base[OGC_BASE_BYTES], now[40], path[128];
    api_base_url_(req, base, sizeof base);
    time_format_utc(time_now_ms(), now, sizeof now);
    struct buf q;
    buf_init(&q);
    int rc = buf_printf(b, "],\"numberReturned\":%lld,\"timeStamp\":\"%s\",\"links\":[", n, now);
    if (!rc)
        rc = api_page_query_(req, NULL, limit, &q);
    if (!rc)
        rc = link_text(b, base, req->path, q.p, "self", OGC_GEOJSON);
    if (!rc && next_cursor) {
        q.len = 0;
        rc = api_page_query_(req, next_cursor, limit, &q);
        if (!rc)
            rc = buf_append(b, ",", 1);
        if (!rc)
            rc = link_text(b, base, req->path, q.p, "next", OGC_GEOJSON);
    }
    snprintf(path, sizeof path, "/ogc/collections/%s", coll_id);
    if (!rc)
        rc = buf_append(b, ",", 1);
    if (!rc)
        rc = link_text(b, base, path, NULL, "collection", OGC_JSON);
    if (!rc)
        rc = buf_append(b, "]}\n", 3);
    buf_reset(&q);
    return rc;
}

static void store_items(struct api *a, const struct ogc_collection *c,
                        const struct http_request *req, struct store_page *pg,
                        struct http_response *resp)
{
    struct items_ctx ic = {.b = &resp->body, .limit = pg->f.limit};
    pg->f.limit++;
    struct errbuf e;
    int rc = buf_printf(&resp->body, "{\"type\":\"FeatureCollection\",\"features\":[");
    if (!rc) {
        rc = c->page(api_store(a), pg, item_cb, &ic, &e);
        if (rc && rc != OGC_STOP) {
            api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
            return;
        }
        char cursor[API_CURSOR_BYTES];
        api_format_cursor(ic.last_t, ic.last_id, cursor, sizeof cursor);
        rc = close_collection(&resp->body, req, ic.n, ic.limit, ic.more ? cursor : NULL, c->id);
    }
    if (rc)
        oom(resp);
    else
        resp->content_type = OGC_GEOJSON;
}

/* ---- agreement-backed items: zones and lines ---- */

static json_t *load_agreement_json(const struct agreement *ag, struct errbuf *e)
{
    json_error_t je;
    json_t *root = json_loads(ag->resolved_json, 0, &je);
    if (!root)
        errf(e, ERR_PARSE, "the stored agreement: %s", je.text);
    return root;
}

/* Appends the polygons of a Polygon or MultiPolygon geometry to polys (a MultiPolygon's
 * coordinates). */
static void add_polygons(json_t *polys, json_t *geom)
{
    const char *type = json_string_value(json_object_get(geom, "type"));
    json_t *coords = json_object_get(geom, "coordinates");
    if (!type || !json_is_array(coords))
        return;
    if (!strcmp(type, "Polygon")) {
        json_array_append(polys, coords);
    } else if (!strcmp(type, "MultiPolygon")) {
        size_t i;
        json_t *v;
        json_array_foreach(coords, i, v) json_array_append(polys, v);
    }
}

static json_t *multipolygon(json_t *areas)
{
    json_t *polys = json_array();
    size_t i;
    json_t *area;
    json_array_foreach(areas, i, area) add_polygons(polys, json_object_get(area, "geometry"));
    if (json_array_size(polys) == 1) {
        json_t *g = json_pack("{s:s, s:O}", "type", "Polygon", "coordinates",
                              json_array_get(polys, 0));
        json_decref(polys);
        return g;
    }
    return json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", polys);
}

static json_t *zone_features(const struct agreement *ag, struct errbuf *e)
{
    json_t *root = load_agreement_json(ag, e);
    if (!root)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(root, "zones"), i, z)
    {
        json_t *props = json_pack("{s:O?, s:O?, s:O?, s:O?, s:i}", "id", json_object_get(z, "id"),
                                  "name", json_object_get(z, "name"), "kind",
                                  json_object_get(z, "kind"), "report_within_km",
                                  json_object_get(z, "report_within_km"), "agreement_version",
                                  ag->version);
        json_t *excl = json_object_get(z, "exclude");
        if (props && json_array_size(excl))
            json_object_set_new(props, "exclude", multipolygon(excl));
        json_array_append_new(out, json_pack("{s:s, s:O?, s:o, s:o}", "type", "Feature", "id",
                                             json_object_get(z, "id"), "geometry",
                                             multipolygon(json_object_get(z, "include")),
                                             "properties", props));
    }
    json_decref(root);
    return out;
}

static json_t *line_features(const struct agreement *ag, struct errbuf *e)
{
    json_t *root = load_agreement_json(ag, e);
    if (!root)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(json_object_get(root, "geography"), "lines"), i, l)
    {
        json_t *props = json_pack("{s:O?, s:O?, s:O?, s:O?, s:i}", "id", json_object_get(l, "id"),
                                  "name", json_object_get(l, "name"), "right_party",
                                  json_object_get(l, "right_party"), "left_party",
                                  json_object_get(l, "left_party"), "agreement_version",
                                  ag->version);
        json_array_append_new(out, json_pack("{s:s, s:O?, s:O?, s:o}", "type", "Feature", "id",
                                             json_object_get(l, "id"), "geometry",
                                             json_object_get(l, "geometry"), "properties", props));
    }
    json_decref(root);
    return out;
}

/* Widens b by every [lon, lat] position nested in coords. */
static void coords_bbox(json_t *coords, struct geo_bbox *b, bool *any)
{
    if (!json_is_array(coords))
        return;
    if (json_array_size(coords) >= 2 && json_is_number(json_array_get(coords, 0))) {
        double lon = json_number_value(json_array_get(coords, 0));
        double lat = json_number_value(json_array_get(coords, 1));
        if (!*any)
            *b = (struct geo_bbox){lon, lat, lon, lat};
        b->min_lon = fmin(b->min_lon, lon);
        b->max_lon = fmax(b->max_lon, lon);
        b->min_lat = fmin(b->min_lat, lat);
        b->max_lat = fmax(b->max_lat, lat);
        *any = true;
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(coords, i, v) coords_bbox(v, b, any);
}

static bool feature_in_bbox(json_t *f, const struct geo_bbox *q)
{
    struct geo_bbox b;
    bool any = false;
    coords_bbox(json_object_get(json_object_get(f, "geometry"), "coordinates"), &b, &any);
    return any && b.min_lon <= q->max_lon && b.max_lon >= q->min_lon && b.min_lat <= q->max_lat &&
           b.max_lat >= q->min_lat;
}

/* Zones and lines are few: the page is cut from the whole list by position (the cursor's id is
 * the 1-based position of the last feature sent). The time filter does not apply to them. */
static void agreement_items(struct api *a, const struct ogc_collection *c,
                            const struct http_request *req, const struct store_page *pg,
                            struct http_response *resp)
{
    struct errbuf e;
    json_t *all = c->features(in_force(a), &e);
    if (!all) {
        api_problem(resp, 500, e.msg);
        return;
    }
    struct buf *b = &resp->body;
    int rc = buf_printf(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    long long n = 0;
    int64_t start = pg->has_after ? pg->after_id : 0, last = 0;
    bool more = false;
    for (size_t i = (size_t)start; !rc && i < json_array_size(all); i++) {
        json_t *f = json_array_get(all, i);
        if (pg->has_bbox && !feature_in_bbox(f, &pg->bbox))
            continue;
        if (n == pg->f.limit) {
            more = true;
            break;
        }
        char *text = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(12));
        rc = !text || (n && buf_append(b, ",", 1)) || buf_append(b, text, strlen(text));
        free(text);
        n++;
        last = (int64_t)i + 1;
    }
    json_decref(all);
    char cursor[API_CURSOR_BYTES];
    api_format_cursor(0, last, cursor, sizeof cursor);
    if (!rc)
        rc = close_collection(b, req, n, pg->f.limit, more ? cursor : NULL, c->id);
    if (rc)
        oom(resp);
    else
        resp->content_type = OGC_GEOJSON;
}

/* The query parameters items accept; any other gives 400 (OGC 17-069r4, 7.15.1 / 7.15.2:
 * /req/core/query-param-unknown). */
static const char *const ITEMS_PARAMS[] = {"bbox",  "datetime", "limit",  "cursor", "f",
                                           "kind",  "party",    "region", "clause", "time",
                                           "from",  "to"};

static int unknown_param(void *ctx, const char *name, const char *value)
{
    (void)value;
    for (size_t i = 0; i < sizeof ITEMS_PARAMS / sizeof ITEMS_PARAMS[0]; i++)
        if (!strcmp(name, ITEMS_PARAMS[i]))
            return 0;
    str_copy(ctx, API_MAX_SEGMENT, name);
    return 1;
}

void api_ogc_items_(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp)
{
    const struct ogc_collection *c = collection_or_404(p, resp);
    if (!c)
        return;
    char unknown[API_MAX_SEGMENT];
    if (http_query_each(req, unknown_param, unknown)) {
        char msg[API_MAX_SEGMENT + 160];
        snprintf(msg, sizeof msg,
                 "unknown query parameter \"%s\" (items take bbox, datetime, limit, cursor; "
                 "observations and findings also kind, party, region, clause; incidents party, "
                 "region)",
                 unknown);
        api_problem(resp, 400, msg);
        return;
    }
    struct store_page pg;
    if (api_page_from_query_(req, "UTC", API_OGC_DEFAULT_LIMIT, API_OGC_MAX_LIMIT, &pg, resp))
        return;
    if (c->page == store_incidents_page && (pg.f.kind || pg.f.clause)) {
        api_problem(resp, 400, "incidents take bbox, datetime, limit, cursor, party and region "
                               "(kind and clause apply to observations and findings)");
        return;
    }
    if (c->page)
        store_items(a, c, req, &pg, resp);
    else
        agreement_items(a, c, req, &pg, resp);
}

void api_ogc_item_(struct api *a, const struct http_request *req, const struct api_params *p,
                   struct http_response *resp)
{
    const struct ogc_collection *c = collection_or_404(p, resp);
    if (!c)
        return;
    const char *fid = p->v[1];
    char msg[2 * API_MAX_SEGMENT + 64];
    snprintf(msg, sizeof msg, "collection %s has no feature \"%s\"", c->id, fid);
    struct buf *b = &resp->body;
    int rc = 0;
    if (c->page) {
        long long id;
        if (str_to_ll(fid, &id) || id < 1) {
            api_problem(resp, 404, msg);
            return;
        }
        struct store_page pg;
        store_page_init(&pg);
        pg.id = id;
        pg.f.limit = 1;
        struct items_ctx ic = {.b = b, .limit = 1};
        struct errbuf e;
        rc = c->page(api_store(a), &pg, item_cb, &ic, &e);
        if (rc && rc != OGC_STOP) {
            api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
            return;
        }
        rc = 0;
        if (ic.n == 0) {
            api_problem(resp, 404, msg);
            return;
        }
    } else {
        struct errbuf e;
        json_t *all = c->features(in_force(a), &e);
        if (!all) {
            api_problem(resp, 500, e.msg);
            return;
        }
        size_t i;
        json_t *f, *found = NULL;
        json_array_foreach(all, i, f)
        {
            const char *id = json_string_value(json_object_get(f, "id"));
            if (id && !strcmp(id, fid)) {
                found = f;
                break;
            }
        }
        char *text = found ? json_dumps(found, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
        json_decref(all);
        if (!found) {
            api_problem(resp, 404, msg);
            return;
        }
        rc = !text || buf_append(b, text, strlen(text));
        free(text);
    }
    /* Reopen the feature to add its links. */
    char base[OGC_BASE_BYTES], path[128];
    api_base_url_(req, base, sizeof base);
    snprintf(path, sizeof path, "/ogc/collections/%s", c->id);
    if (!rc && b->len && b->p[b->len - 1] == '}') {
        b->len--;
        rc = buf_printf(b, ",\"links\":[");
        if (!rc)
            rc = link_text(b, base, req->path, NULL, "self", OGC_GEOJSON);
        if (!rc)
            rc = buf_append(b, ",", 1);
        if (!rc)
            rc = link_text(b, base, path, NULL, "collection", OGC_JSON);
        if (!rc)
            rc = buf_append(b, "]}\n", 3);
    }
    if (rc)
        oom(resp);
    else
        resp->content_type = OGC_GEOJSON;
}
