/* report_html.c: the daily report as ONE self-contained HTML page (M9, for people): inline CSS,
 * a map drawn here as SVG (the report regions, the control areas, the zones, the line(s) and the
 * period's observations, projected from lon/lat onto the page), the summary bullets, the
 * event-type table, disengagement areas, weapons in violation of withdrawal lines by side,
 * escalations, findings by clause, weekly and monthly trend charts (SVG) and the annex of
 * observations. One function per section; every text from data goes through esc(). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define MAP_W 920.0          /* width of the map in SVG units (pixels at 100%) */
#define MAP_MAX_H 640.0      /* the map's height at most */
#define MAP_TOWNS 14         /* towns named on the map (the most populous in its frame) */
#define TREND_WEEKS 12       /* bars of the weekly trend */
#define TREND_MONTHS 12      /* bars of the monthly trend */
#define DAY_MS 86400000LL

static const char *const MONTHS[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};

/* One colour per AGR_EVENT_TYPES entry (the dashboard uses the same, web/src/colours.js). */
static const char *const TYPE_COLOURS[] = {"#d62728", "#8c1c13", "#ff7f0e", "#9467bd", "#e377c2",
                                           "#bcbd22", "#17becf", "#1f77b4", "#2ca02c"};
#define OTHER_COLOUR "#555555" /* observations that are not fire (sightings, presence, ...) */

/* ---- escaping ---- */

/* Appends s with & < > " ' escaped: safe in element text and quoted attributes. */
static int esc(struct buf *b, const char *s)
{
    int rc = 0;
    for (const char *p = s ? s : ""; *p && !rc; p++) {
        switch (*p) {
        case '&': rc = buf_append(b, "&amp;", 5); break;
        case '<': rc = buf_append(b, "&lt;", 4); break;
        case '>': rc = buf_append(b, "&gt;", 4); break;
        case '"': rc = buf_append(b, "&quot;", 6); break;
        case '\'': rc = buf_append(b, "&#39;", 5); break;
        default: rc = buf_append(b, p, 1);
        }
    }
    return rc;
}

/* ---- the period's observations (map and annex) ---- */

struct obs_item {
    long long id;
    double lon, lat, radius_m;
    char kind[24], means[24], region[32], client_id[96], where[160], t_end[32];
    char events[256]; /* "7 undetermined explosions, 2 bursts" */
    char remarks[256];
    int colour;       /* AGR_EVENT_TYPES index of the largest count, -1: not fire */
    long long n_events;
};

struct obs_list {
    struct obs_item *v;
    size_t n, cap;
    long long total; /* all in the period, also those beyond the cap */
};

/* Copies src into dst (n bytes) like str_copy, but never cuts a UTF-8 sequence in two. */
static void copy_utf8(char *dst, size_t n, const char *src)
{
    str_copy(dst, n, src);
    size_t len = strlen(dst);
    if (len < strlen(src)) {
        size_t i = len;
        while (i > 0 && ((unsigned char)dst[i - 1] & 0xC0) == 0x80)
            i--;
        if (i > 0 && ((unsigned char)dst[i - 1] & 0x80)) /* the lead byte of the cut sequence */
            i--;
        dst[i] = 0;
    }
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int on_obs(void *ctx, const char *text)
{
    struct obs_list *l = ctx;
    l->total++;
    if (l->n >= REPORT_MAP_EVENTS_MAX)
        return 0;
    json_t *o = json_loads(text, 0, NULL);
    if (!o)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    struct obs_item *it = &l->v[l->n++];
    memset(it, 0, sizeof *it);
    it->id = (long long)json_integer_value(json_object_get(o, "id"));
    it->lon = json_number_value(json_object_get(o, "lon"));
    it->lat = json_number_value(json_object_get(o, "lat"));
    it->radius_m = json_number_value(json_object_get(o, "radius_m"));
    str_copy(it->kind, sizeof it->kind, jstr(o, "kind"));
    str_copy(it->means, sizeof it->means, jstr(o, "means"));
    str_copy(it->region, sizeof it->region, jstr(o, "region"));
    copy_utf8(it->client_id, sizeof it->client_id, jstr(o, "client_id"));
    copy_utf8(it->where, sizeof it->where, jstr(o, "where"));
    str_copy(it->t_end, sizeof it->t_end, jstr(o, "time_end"));
    copy_utf8(it->remarks, sizeof it->remarks, jstr(o, "remarks"));
    it->colour = -1;
    long long best = -1;
    json_t *evs = json_object_get(o, "events");
    size_t i;
    json_t *ev;
    size_t len = 0;
    json_array_foreach(evs, i, ev)
    {
        int t = agr_event_type_index(jstr(ev, "type"));
        json_t *c = json_object_get(ev, "count");
        long long n = json_is_integer(c) ? (long long)json_integer_value(c) : -1;
        if (t >= 0 && n > best) {
            best = n;
            it->colour = t;
        }
        if (n > 0)
            it->n_events += n;
        const char *q = jstr(ev, "qualifier");
        char part[96];
        if (n < 0)
            snprintf(part, sizeof part, "uncountable %s", t >= 0 ? AGR_EVENT_NAMES_MANY[t] : "");
        else
            snprintf(part, sizeof part, "%s%lld %s", !strcmp(q, "about") ? "about " :
                     !strcmp(q, "at_least") ? "at least " : "", n,
                     t < 0 ? jstr(ev, "type") : n == 1 ? AGR_EVENT_NAMES_ONE[t]
                                                       : AGR_EVENT_NAMES_MANY[t]);
        len += (size_t)snprintf(it->events + len, len < sizeof it->events ? sizeof it->events - len : 0,
                                "%s%s", i ? ", " : "", part);
        if (len >= sizeof it->events)
            len = sizeof it->events - 1;
    }
    if (!it->events[0]) {
        const char *model = jstr(o, "weapon_model"), *cat = jstr(o, "weapon_category");
        json_t *cnt = json_object_get(o, "count");
        snprintf(it->events, sizeof it->events, "%s%s%s%s%s",
                 json_is_integer(cnt) ? "" : "", cat, *model ? " " : "", model,
                 *jstr(o, "party") ? " (attributed)" : "");
        if (json_is_integer(cnt)) {
            char tmp[sizeof it->events];
            snprintf(tmp, sizeof tmp, "%lld %s", (long long)json_integer_value(cnt), it->events);
            str_copy(it->events, sizeof it->events, tmp);
        }
    }
    json_decref(o);
    return 0;
}

/* ---- map projection ---- */

struct proj {
    double lon0, lat1, k, coslat, w, h;
};

static void proj_init(struct proj *p, struct geo_bbox bb)
{
    double pad_lon = (bb.max_lon - bb.min_lon) * 0.03, pad_lat = (bb.max_lat - bb.min_lat) * 0.03;
    bb.min_lon -= pad_lon;
    bb.max_lon += pad_lon;
    bb.min_lat -= pad_lat;
    bb.max_lat += pad_lat;
    p->coslat = cos((bb.min_lat + bb.max_lat) / 2 * M_PI / 180);
    p->lon0 = bb.min_lon;
    p->lat1 = bb.max_lat;
    double wdeg = (bb.max_lon - bb.min_lon) * p->coslat, hdeg = bb.max_lat - bb.min_lat;
    p->k = MAP_W / wdeg;
    if (hdeg * p->k > MAP_MAX_H)
        p->k = MAP_MAX_H / hdeg;
    p->w = wdeg * p->k;
    p->h = hdeg * p->k;
}

static double px(const struct proj *p, double lon)
{
    return (lon - p->lon0) * p->coslat * p->k;
}
static double py(const struct proj *p, double lat)
{
    return (p->lat1 - lat) * p->k;
}

static int path_points(struct buf *b, const struct proj *p, const struct geo_point *pts, size_t n,
                       bool close)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_printf(b, "%s%.1f %.1f", i ? "L" : "M", px(p, pts[i].lon_deg),
                        py(p, pts[i].lat_deg));
    return rc || (close && buf_append(b, "Z", 1));
}

static int area_path(struct buf *b, const struct proj *p, const struct geo_area *a,
                     const char *attrs)
{
    int rc = buf_printf(b, "<path %s d=\"", attrs);
    for (size_t i = 0; i < geo_area_ring_count(a) && !rc; i++) {
        size_t n;
        const struct geo_point *pts = geo_area_ring(a, i, &n);
        rc = path_points(b, p, pts, n, true);
    }
    return rc || buf_printf(b, "\"/>\n");
}

static void bbox_union(struct geo_bbox *u, struct geo_bbox b, bool *first)
{
    if (*first) {
        *u = b;
        *first = false;
        return;
    }
    u->min_lon = fmin(u->min_lon, b.min_lon);
    u->min_lat = fmin(u->min_lat, b.min_lat);
    u->max_lon = fmax(u->max_lon, b.max_lon);
    u->max_lat = fmax(u->max_lat, b.max_lat);
}

/* ---- sections ---- */

static int section_head(struct buf *b, const struct agreement *a, int y, int m, int d)
{
    int rc = buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                           "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
    rc = rc || esc(b, a->title) ||
         buf_printf(b, " - daily report %04d-%02d-%02d</title>\n<style>\n", y, m, d);
    rc = rc ||
         buf_printf(
             b,
             "body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;color:#222;max-width:960px;"
             "margin:0 auto;padding:16px}\n"
             "h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;border-bottom:2px solid #1f4e79;"
             "color:#1f4e79;margin:22px 0 8px;padding-bottom:2px}\n"
             ".meta{color:#555;font-size:12px}.banner{background:#fff3cd;border:1px solid #e0c36c;"
             "padding:6px 10px;margin:8px 0}\n"
             "table{border-collapse:collapse;width:100%%;font-size:12px;margin:6px 0}"
             "th,td{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}"
             "th{background:#e8eef5}td.n{text-align:right}tr.total td{font-weight:bold}\n"
             "svg{display:block;max-width:100%%;height:auto}.legend span{display:inline-block;"
             "margin-right:12px;font-size:12px}.sw{display:inline-block;width:10px;height:10px;"
             "border-radius:5px;margin-right:4px;vertical-align:middle}\n"
             ".none{color:#666;font-style:italic}footer{margin-top:24px;font-size:11px;color:#666}\n"
             "@media print{body{max-width:none;padding:0}h2{break-after:avoid}"
             "table,svg{break-inside:avoid}}\n</style></head><body>\n");
    return rc;
}

static int section_title(struct buf *b, const struct agreement *a, const struct report_data *r,
                         int y, int m, int d, bool public_view)
{
    char from[40], to[40];
    time_format_local(r->from, a->time_zone, from, sizeof from);
    time_format_local(r->to, a->time_zone, to, sizeof to);
    int rc = buf_printf(b, "<header><h1>");
    rc = rc || esc(b, a->title) ||
         buf_printf(b, "</h1>\n<p><b>Daily report based on information received as of %02d:%02d, "
                       "%d %s %d</b> (",
                    a->cutoff_minutes / 60, a->cutoff_minutes % 60, d, MONTHS[m - 1], y);
    rc = rc || esc(b, a->time_zone) || buf_printf(b, ")</p>\n<p class=\"meta\">Agreement ") ||
         esc(b, a->id) || buf_printf(b, ", version %d. Period %s to %s.%s</p>\n", a->version,
                                     from, to, public_view ? " Public edition." : "");
    if (!rc && a->illustrative)
        rc = buf_printf(b, "<p class=\"banner\">ILLUSTRATIVE scenario: the geometry and terms are "
                           "not those of a real agreement.</p>\n");
    return rc || buf_printf(b, "</header>\n");
}

static int section_summary(struct buf *b, const struct agreement *a, const struct report_data *r)
{
    int rc = buf_printf(b, "<section id=\"summary\"><h2>Summary</h2>\n<ul>\n");
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        const struct tally *t = &r->cur[slot], *p = &r->prev[slot];
        if (i == report_n_slots(a) && !t->total && !p->total)
            continue;
        rc = buf_printf(b, "<li>In ") || esc(b, report_slot_name(a, slot)) ||
             buf_printf(b,
                        ", the mission recorded <b>%lld ceasefire violation%s</b>, including "
                        "%lld explosion%s. In the previous reporting period, it recorded %lld "
                        "ceasefire violation%s in the region (%s).</li>\n",
                        t->total, t->total == 1 ? "" : "s", t->explosions,
                        t->explosions == 1 ? "" : "s", p->total, p->total == 1 ? "" : "s",
                        t->total > p->total   ? "more"
                        : t->total < p->total ? "fewer"
                                              : "as many");
    }
    return rc || buf_printf(b, "</ul>\n</section>\n");
}

static int section_map(struct buf *b, const struct agreement *a, const struct obs_list *ol)
{
    struct geo_bbox bb = {0};
    bool first = true;
    for (size_t i = 0; i < a->n_regions; i++)
        bbox_union(&bb, geo_area_bbox(a->regions[i].area), &first);
    for (size_t i = 0; i < a->n_zones; i++)
        for (size_t k = 0; k < a->zones[i].n_include; k++)
            bbox_union(&bb, geo_area_bbox(a->zones[i].include[k]), &first);
    if (first)
        return buf_printf(b, "<section id=\"map\"><h2>Map</h2><p class=\"none\">The agreement "
                             "has no geography to draw.</p></section>\n");
    struct proj p;
    proj_init(&p, bb);
    int rc = buf_printf(b,
                        "<section id=\"map\"><h2>Map of the reporting period</h2>\n"
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                        "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"map\">\n"
                        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" "
                        "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c9a9a9\" "
                        "stroke-width=\"2\"/></pattern><clipPath id=\"frame\"><rect width=\"%.0f\" "
                        "height=\"%.0f\"/></clipPath></defs>\n"
                        "<rect width=\"100%%\" height=\"100%%\" fill=\"#dfe8ef\"/>\n"
                        "<g clip-path=\"url(#frame)\">\n",
                        p.w, p.h, p.w, p.h, p.w, p.h);
    for (size_t i = 0; i < a->n_regions && !rc; i++)
        rc = area_path(b, &p, a->regions[i].area,
                       "class=\"region\" fill=\"#f6f3ea\" stroke=\"#777\" stroke-width=\"1\"");
    for (size_t i = 0; i < a->n_control && !rc; i++)
        rc = area_path(b, &p, a->control[i].area,
                       "class=\"control\" fill=\"url(#hatch)\" stroke=\"none\"");
    for (size_t i = 0; i < a->n_zones && !rc; i++)
        for (size_t k = 0; k < a->zones[i].n_include && !rc; k++)
            rc = area_path(b, &p, a->zones[i].include[k],
                           "class=\"zone\" fill=\"#f0a030\" fill-opacity=\"0.45\" "
                           "stroke=\"#b26b00\" stroke-width=\"1\"");
    for (size_t i = 0; i < a->n_lines && !rc; i++) {
        rc = buf_printf(b, "<path class=\"line\" fill=\"none\" stroke=\"#c00000\" "
                           "stroke-width=\"2.2\" d=\"");
        rc = rc || path_points(b, &p, geo_line_points(a->lines[i].line),
                               geo_line_vertex_count(a->lines[i].line), false) ||
             buf_printf(b, "\"/>\n");
    }
    /* uncertainty first, then the points on top */
    double m_per_deg = 111320.0;
    for (size_t i = 0; i < ol->n && !rc; i++) {
        const struct obs_item *o = &ol->v[i];
        double r = o->radius_m / m_per_deg * p.k;
        if (r > 2 && r < p.w)
            rc = buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                               "fill-opacity=\"0.12\" stroke=\"none\"/>\n",
                            px(&p, o->lon), py(&p, o->lat), r,
                            o->colour >= 0 ? TYPE_COLOURS[o->colour] : OTHER_COLOUR);
    }
    for (size_t i = 0; i < ol->n && !rc; i++) {
        const struct obs_item *o = &ol->v[i];
        double r = 3 + sqrt((double)(o->n_events > 0 ? o->n_events : 1));
        if (r > 12)
            r = 12;
        rc = buf_printf(b, "<circle class=\"event\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                           "stroke=\"#fff\" stroke-width=\"0.8\"><title>",
                        px(&p, o->lon), py(&p, o->lat), r,
                        o->colour >= 0 ? TYPE_COLOURS[o->colour] : OTHER_COLOUR);
        rc = rc || esc(b, o->events) || buf_append(b, ", ", 2) || esc(b, o->where) ||
             buf_printf(b, "</title></circle>\n");
    }
    /* the largest towns, for orientation (the agreement's gazetteer) */
    int towns[MAP_TOWNS];
    size_t nt = 0;
    for (size_t i = 0; i < a->n_places; i++) {
        const struct agr_place *pl = &a->places[i];
        double x = px(&p, pl->pt.lon_deg), y = py(&p, pl->pt.lat_deg);
        if (x < 20 || x > p.w - 20 || y < 10 || y > p.h - 10)
            continue;
        size_t k = nt < MAP_TOWNS ? nt++ : MAP_TOWNS;
        if (k == MAP_TOWNS && pl->population <= a->places[towns[MAP_TOWNS - 1]].population)
            continue;
        if (k == MAP_TOWNS)
            k = MAP_TOWNS - 1;
        while (k > 0 && a->places[towns[k - 1]].population < pl->population) {
            towns[k] = towns[k - 1];
            k--;
        }
        towns[k] = (int)i;
    }
    for (size_t i = 0; i < nt && !rc; i++) {
        const struct agr_place *pl = &a->places[towns[i]];
        double x = px(&p, pl->pt.lon_deg), y = py(&p, pl->pt.lat_deg);
        rc = buf_printf(b, "<circle class=\"town\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
                           "fill=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
                           "fill=\"#333\">",
                        x, y, x + 4, y - 3) ||
             esc(b, pl->name) || buf_printf(b, "</text>\n");
    }
    for (size_t i = 0; i < a->n_regions && !rc; i++) {
        /* the label at the mean of the outline's vertices, a point inside these oblasts */
        double lon = 0, lat = 0;
        size_t nv = 0;
        for (size_t k = 0; k < geo_area_ring_count(a->regions[i].area); k++) {
            size_t n;
            const struct geo_point *pts = geo_area_ring(a->regions[i].area, k, &n);
            for (size_t j = 0; j < n; j++, nv++) {
                lon += pts[j].lon_deg;
                lat += pts[j].lat_deg;
            }
        }
        if (!nv)
            continue;
        rc = buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" fill=\"#666\" "
                           "text-anchor=\"middle\">",
                        px(&p, lon / (double)nv), py(&p, lat / (double)nv)) ||
             esc(b, a->regions[i].name) || buf_printf(b, "</text>\n");
    }
    rc = rc || buf_printf(b, "</g></svg>\n<p class=\"legend\">");
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++)
        rc = buf_printf(b, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>",
                        TYPE_COLOURS[t], AGR_EVENT_NAMES_MANY[t]);
    rc = rc || buf_printf(b, "<span><i class=\"sw\" style=\"background:%s\"></i>other "
                             "observations</span><span><i class=\"sw\" style=\"background:#c00000;"
                             "border-radius:0;height:3px\"></i>line</span><span><i class=\"sw\" "
                             "style=\"background:#f0a030\"></i>zones</span><span><i class=\"sw\" "
                             "style=\"background:#c9a9a9\"></i>control area of ",
                          OTHER_COLOUR);
    for (size_t i = 0; i < a->n_control && !rc; i++)
        rc = buf_printf(b, "%s", i ? ", " : "") ||
             esc(b, report_party_name(a, a->control[i].party));
    rc = rc || buf_printf(b, "</span></p>\n<p class=\"meta\">%lld observation%s drawn at their "
                             "estimated position; shaded discs show the uncertainty. Geometry "
                             "approximate.</p>\n</section>\n",
                          (long long)ol->n, ol->n == 1 ? "" : "s");
    return rc;
}

static int section_types(struct buf *b, const struct agreement *a, const struct report_data *r)
{
    int rc = buf_printf(b, "<section id=\"types\"><h2>Ceasefire violations by event type</h2>\n"
                           "<table><tr><th>Region</th><th>Total</th><th>Explosions</th>");
    for (int t = 0; t < AGR_N_EVENT_TYPES && !rc; t++)
        rc = buf_printf(b, "<th>%s</th>", AGR_EVENT_NAMES_MANY[t]);
    rc = rc || buf_printf(b, "</tr>\n");
    struct tally sum = {0};
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        const struct tally *t = &r->cur[slot];
        if (i == report_n_slots(a) && !t->total)
            continue;
        rc = buf_printf(b, "<tr><td>") || esc(b, report_slot_name(a, slot)) ||
             buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>", t->total,
                        t->explosions);
        sum.total += t->total;
        sum.explosions += t->explosions;
        for (int k = 0; k < AGR_N_EVENT_TYPES && !rc; k++) {
            sum.by_type[k] += t->by_type[k];
            rc = buf_printf(b, "<td class=\"n\">%lld</td>", t->by_type[k]);
        }
        rc = rc || buf_printf(b, "</tr>\n");
    }
    rc = rc || buf_printf(b, "<tr class=\"total\"><td>All regions</td><td class=\"n\">%lld</td>"
                             "<td class=\"n\">%lld</td>",
                          sum.total, sum.explosions);
    for (int k = 0; k < AGR_N_EVENT_TYPES && !rc; k++)
        rc = buf_printf(b, "<td class=\"n\">%lld</td>", sum.by_type[k]);
    rc = rc || buf_printf(b, "</tr></table>\n<p class=\"meta\">The event types add up to the "
                             "total. \"About N\" and \"at least N\" count N.</p>\n");
    if (!rc && r->cc.n_unc) {
        rc = buf_printf(b, "<p>Uncountable events (not in the totals):</p><ul>\n");
        for (size_t i = 0; i < r->cc.n_unc && !rc; i++) {
            int t = agr_event_type_index(r->cc.unc[i].type);
            rc = buf_printf(b, "<li>uncountable %s ",
                            t >= 0 ? AGR_EVENT_NAMES_MANY[t] : "events") ||
                 esc(b, r->cc.unc[i].phrase) ||
                 buf_printf(b, " (observation %lld)</li>\n", (long long)r->cc.unc[i].obs_id);
        }
        rc = rc || buf_printf(b, "</ul>\n");
    }
    return rc || buf_printf(b, "</section>\n");
}

static int section_zones(struct buf *b, const struct agreement *a, const struct report_data *r)
{
    int rc = buf_printf(b, "<section id=\"zones\"><h2>Disengagement areas</h2>\n");
    bool any = false;
    for (size_t z = 0; z < a->n_zones && !rc; z++) {
        const struct agr_zone *zone = &a->zones[z];
        if (zone->report_within_km <= 0)
            continue;
        any = true;
        long long n_in = 0, n_maybe = 0, n_near = 0, ev = 0;
        for (size_t i = 0; i < r->zones.n; i++) {
            const struct zone_item *it = &r->zones.v[i];
            if (strcmp(it->zone, zone->id))
                continue;
            ev += it->n_events;
            if (!strcmp(it->relation, "in"))
                n_in++;
            else if (!strcmp(it->relation, "maybe_in"))
                n_maybe++;
            else
                n_near++;
        }
        rc = buf_printf(b, "<h3>") || esc(b, zone->name) || buf_printf(b, "</h3>\n");
        if (!n_in && !n_maybe && !n_near) {
            rc = rc || buf_printf(b, "<p>No ceasefire violation or presence recorded inside or "
                                     "within %.0f km.</p>\n",
                                  zone->report_within_km);
            continue;
        }
        rc = rc || buf_printf(b, "<p>%lld report%s inside, %lld possibly inside, %lld within "
                                 "%.0f km (%lld events).</p>\n<table><tr><th>Observation</th>"
                                 "<th>Where</th><th>Relation</th><th>Events</th></tr>\n",
                              n_in, n_in == 1 ? "" : "s", n_maybe, n_near,
                              zone->report_within_km, ev);
        for (size_t i = 0; i < r->zones.n && !rc; i++) {
            const struct zone_item *it = &r->zones.v[i];
            if (strcmp(it->zone, zone->id))
                continue;
            rc = buf_printf(b, "<tr><td>") || esc(b, it->kind) || buf_printf(b, "</td><td>") ||
                 esc(b, it->phrase) ||
                 buf_printf(b, "</td><td>%s", !strcmp(it->relation, "in")         ? "inside"
                                              : !strcmp(it->relation, "maybe_in") ? "possibly inside"
                                                                                  : "near");
            if (!rc && !strcmp(it->relation, "near"))
                rc = buf_printf(b, ", %.1f km from the area", it->distance_m / 1000);
            rc = rc || buf_printf(b, "</td><td class=\"n\">%lld</td></tr>\n", it->n_events);
        }
        rc = rc || buf_printf(b, "</table>\n");
    }
    if (!rc && !any)
        rc = buf_printf(b, "<p class=\"none\">The agreement names no disengagement area.</p>\n");
    return rc || buf_printf(b, "</section>\n");
}

static int section_weapons(struct buf *b, const struct agreement *a, const struct report_data *r)
{
    int rc = buf_printf(b, "<section id=\"weapons\"><h2>Weapons in violation of withdrawal "
                           "lines</h2>\n<table><tr><th>Side</th><th>Findings</th><th>Details</th>"
                           "</tr>\n");
    for (size_t pi = 0; pi <= a->n_parties && !rc; pi++) {
        const char *pid = pi < a->n_parties ? a->parties[pi].id : "undetermined";
        size_t n = 0;
        for (size_t i = 0; i < r->findings.n; i++)
            n += !strcmp(r->findings.v[i].kind, "weapon_withdrawal") &&
                 !strcmp(r->findings.v[i].party, pid);
        if (!n && pi == a->n_parties)
            continue;
        rc = buf_printf(b, "<tr><td>") ||
             esc(b, pi < a->n_parties ? report_party_name(a, pid) : "Owner undetermined") ||
             buf_printf(b, "</td><td class=\"n\">%zu</td><td>", n);
        if (!rc && !n)
            rc = buf_printf(b, "<span class=\"none\">none recorded</span>");
        for (size_t i = 0; i < r->findings.n && !rc; i++) {
            const struct finding_item *f = &r->findings.v[i];
            if (strcmp(f->kind, "weapon_withdrawal") || strcmp(f->party, pid))
                continue;
            rc = buf_printf(b, "<p>[") || esc(b, f->clause) || buf_append(b, ", ", 2) ||
                 esc(b, f->result) || buf_append(b, "] ", 2) || esc(b, f->reasons) ||
                 buf_printf(b, "</p>");
        }
        rc = rc || buf_printf(b, "</td></tr>\n");
    }
    return rc || buf_printf(b, "</table>\n</section>\n");
}

/* The escalation alerts (docs/escalation.md) whose window ended in this report's period. */
static int section_escalations(struct buf *b, const struct agreement *a,
                               const struct report_data *r)
{
    int rc = buf_printf(b, "<section id=\"escalations\"><h2>Escalations</h2>\n");
    if (!r->alerts.n)
        return rc || buf_printf(b, "<p class=\"none\">No escalation threshold of the agreement "
                                   "was crossed in this period.</p>\n</section>\n");
    rc = rc || buf_printf(b, "<table><tr><th>Alert</th><th>Level</th><th>Threshold</th>"
                             "<th>Region</th><th>Party</th><th>Findings</th><th>What</th></tr>\n");
    for (size_t i = 0; i < r->alerts.n && !rc; i++) {
        const struct alert_item *al = &r->alerts.v[i];
        rc = buf_printf(b, "<tr class=\"alert level-") || esc(b, al->level) ||
             buf_printf(b, "\"><td class=\"n\">%lld</td><td>", (long long)al->id) ||
             esc(b, al->level) || buf_printf(b, "</td><td>") || esc(b, al->threshold) ||
             buf_printf(b, "</td><td>") || esc(b, al->region[0] ? al->region : "-") ||
             buf_printf(b, "</td><td>") ||
             esc(b, al->party[0] ? report_party_name(a, al->party) : "-") ||
             buf_printf(b, "</td><td class=\"n\">%lld</td><td>", al->n) || esc(b, al->text) ||
             buf_printf(b, "</td></tr>\n");
    }
    return rc || buf_printf(b, "</table>\n</section>\n");
}

static int section_findings(struct buf *b, const struct agreement *a,
                            const struct report_data *r, bool public_view)
{
    size_t nv = 0, nu = 0;
    static const char *const STATUSES[] = {"provisional", "confirmed", "dismissed", "published"};
    size_t by_status[4] = {0};
    for (size_t i = 0; i < r->findings.n; i++) {
        !strcmp(r->findings.v[i].result, "violation") ? nv++ : nu++;
        for (int k = 0; k < 4; k++)
            by_status[k] += !strcmp(r->findings.v[i].status, STATUSES[k]);
    }
    int rc = buf_printf(b, "<section id=\"findings\"><h2>Findings by clause</h2>\n<p>%zu "
                           "violation%s, %zu undetermined",
                        nv, nv == 1 ? "" : "s", nu);
    if (public_view)
        rc = rc || buf_printf(b, " (published findings only)");
    else
        rc = rc || buf_printf(b, " (%zu provisional, %zu confirmed, %zu dismissed, %zu published)",
                              by_status[0], by_status[1], by_status[2], by_status[3]);
    rc = rc || buf_printf(b, ".</p>\n<table><tr><th>Clause</th><th>Findings</th><th>Text</th>"
                             "</tr>\n");
    for (size_t c = 0; c < a->n_rules && !rc; c++) {
        size_t k = 0;
        for (size_t i = 0; i < r->findings.n; i++)
            k += !strcmp(r->findings.v[i].clause, a->rules[c].clause);
        if (!k)
            continue;
        rc = buf_printf(b, "<tr><td>") || esc(b, a->rules[c].clause) ||
             buf_printf(b, "</td><td class=\"n\">%zu</td><td>", k) || esc(b, a->rules[c].text) ||
             buf_printf(b, "</td></tr>\n");
    }
    return rc || buf_printf(b, "</table>\n</section>\n");
}

/* ---- trends ---- */

struct trend {
    const struct agreement *a;
    int64_t to;
    int month_base; /* year * 12 + month - 1 of the report date */
    long long weeks[TREND_WEEKS], months[TREND_MONTHS], cumulative;
    int64_t since;
};

static int on_trend_event(void *ctx, const struct store_event_row *r)
{
    struct trend *t = ctx;
    if (r->count < 0 || agr_event_type_index(r->event_type) < 0)
        return 0;
    if (r->t_end_ms >= t->since)
        t->cumulative += r->count;
    int64_t back = t->to - r->t_end_ms;
    if (back > 0 && back <= (int64_t)TREND_WEEKS * 7 * DAY_MS)
        t->weeks[TREND_WEEKS - 1 - (int)((back - 1) / (7 * DAY_MS))] += r->count;
    char buf[40];
    int y, m;
    time_format_local(r->t_end_ms, t->a->time_zone, buf, sizeof buf);
    if (sscanf(buf, "%d-%d", &y, &m) == 2) {
        int k = t->month_base - (y * 12 + m - 1);
        if (k >= 0 && k < TREND_MONTHS)
            t->months[TREND_MONTHS - 1 - k] += r->count;
    }
    return 0;
}

/* A bar chart of n values with labels, as inline SVG. */
static int svg_bars(struct buf *b, const char *id, const char *title, char labels[][16],
                    const long long *v, int n)
{
    const double W = 900, H = 200, left = 40, bottom = 36, top = 12;
    long long max = 1;
    for (int i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    double bw = (W - left) / n;
    int rc = buf_printf(b, "<h3>%s</h3>\n<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
                           "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                           "role=\"img\" aria-label=\"%s\">\n"
                           "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                           "stroke=\"#999\"/>\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" "
                           "text-anchor=\"end\">%lld</text>\n",
                        title, id, W, H, W, H, title, left, H - bottom, W, H - bottom, left - 4,
                        top + 4, max);
    for (int i = 0; i < n && !rc; i++) {
        double h = (H - bottom - top) * (double)v[i] / (double)max;
        double x = left + i * bw + bw * 0.15;
        rc = buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"#1f4e79\"><title>%s: %lld</title></rect>\n"
                           "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">"
                           "%lld</text>\n<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" "
                           "text-anchor=\"middle\">%s</text>\n",
                        x, H - bottom - h, bw * 0.7, h, labels[i], v[i], x + bw * 0.35,
                        H - bottom - h - 3, v[i], x + bw * 0.35, H - bottom + 14, labels[i]);
    }
    return rc || buf_printf(b, "</svg>\n");
}

static int section_trends(struct buf *b, struct store *s, const struct agreement *a,
                          const struct report_data *r, int y, int m, struct errbuf *e)
{
    struct trend t = {.a = a, .to = r->to, .month_base = y * 12 + m - 1, .since = a->effective_ms};
    /* One pass over the past year (and since the effective date for the cumulative count). */
    int64_t from = r->to - 372 * DAY_MS;
    if (a->effective_ms < from)
        from = a->effective_ms;
    int rc = store_report_events(s, from, r->to, on_trend_event, &t, e);
    if (rc)
        return rc;
    char wl[TREND_WEEKS][16], ml[TREND_MONTHS][16];
    for (int i = 0; i < TREND_WEEKS; i++) {
        char buf[40];
        time_format_local(r->to - (int64_t)(TREND_WEEKS - i) * 7 * DAY_MS + DAY_MS, a->time_zone,
                          buf, sizeof buf);
        snprintf(wl[i], sizeof wl[i], "%.5s", buf + 5); /* MM-DD: the week's first day */
    }
    for (int i = 0; i < TREND_MONTHS; i++) {
        int k = t.month_base - (TREND_MONTHS - 1 - i);
        snprintf(ml[i], sizeof ml[i], "%.3s %02d", MONTHS[k % 12], (k / 12) % 100);
    }
    char eff[40];
    time_format_local(a->effective_ms, a->time_zone, eff, sizeof eff);
    rc = buf_printf(b, "<section id=\"trends\"><h2>Trends</h2>\n<p>Ceasefire violations recorded "
                       "since the agreement took effect (%.10s): <b>%lld</b>.</p>\n",
                    eff, t.cumulative);
    rc = rc || svg_bars(b, "trend-weekly",
                        "Weekly: ceasefire violations per 7 days (12 weeks to the cut-off)", wl,
                        t.weeks, TREND_WEEKS);
    rc = rc || svg_bars(b, "trend-monthly", "Monthly: ceasefire violations per calendar month", ml,
                        t.months, TREND_MONTHS);
    rc = rc || buf_printf(b, "</section>\n");
    return rc ? errf(e, ERR_NOMEM, "out of memory writing the report") : 0;
}

static int section_annex(struct buf *b, const struct obs_list *ol)
{
    int rc = buf_printf(b, "<section id=\"annex\"><h2>Annex: observations of the period</h2>\n"
                           "<table><tr><th>#</th><th>Reference</th><th>Time (UTC)</th>"
                           "<th>Kind</th><th>Means</th><th>Where</th><th>Region</th><th>What</th>"
                           "</tr>\n");
    size_t shown = ol->n < REPORT_ANNEX_MAX ? ol->n : REPORT_ANNEX_MAX;
    for (size_t i = 0; i < shown && !rc; i++) {
        const struct obs_item *o = &ol->v[i];
        rc = buf_printf(b, "<tr class=\"obs\"><td class=\"n\">%lld</td><td>", o->id) ||
             esc(b, o->client_id) || buf_printf(b, "</td><td>") || esc(b, o->t_end) ||
             buf_printf(b, "</td><td>") || esc(b, o->kind) || buf_printf(b, "</td><td>") ||
             esc(b, o->means) || buf_printf(b, "</td><td>") || esc(b, o->where) ||
             buf_printf(b, "</td><td>") || esc(b, o->region) || buf_printf(b, "</td><td>") ||
             esc(b, o->events);
        if (!rc && o->remarks[0])
            rc = buf_printf(b, "<br><small>") || esc(b, o->remarks) || buf_printf(b, "</small>");
        rc = rc || buf_printf(b, "</td></tr>\n");
    }
    rc = rc || buf_printf(b, "</table>\n");
    if (!rc && ol->total > (long long)shown)
        rc = buf_printf(b, "<p class=\"meta\">%lld more observations are not listed (the annex "
                           "shows at most %d).</p>\n",
                        ol->total - (long long)shown, REPORT_ANNEX_MAX);
    return rc || buf_printf(b, "</section>\n");
}

static int section_foot(struct buf *b)
{
    char now[40];
    time_format_utc(time_now_ms(), now, sizeof now);
    return buf_printf(b, "<footer>Made by truce on %s. Counts are as recorded by the mission; "
                         "findings are provisional until reviewed. Geography: boundary of "
                         "Ukraine &#169; OpenStreetMap contributors (ODbL); oblast boundaries: "
                         "Natural Earth; places: GeoNames (CC BY 4.0); the line of contact and "
                         "the areas are approximations, not for operational use.</footer>\n"
                         "</body></html>\n",
                      now);
}

int report_html(struct store *s, const struct agreement *a, struct report_data *r, int y, int m,
                int d, bool public_view, struct buf *out, struct errbuf *e)
{
    if (public_view) {
        /* the public sees only published findings (in the weapons and findings sections) */
        size_t k = 0;
        for (size_t i = 0; i < r->findings.n; i++)
            if (!strcmp(r->findings.v[i].status, "published"))
                r->findings.v[k++] = r->findings.v[i];
        r->findings.n = k;
    }
    struct obs_list ol = {0};
    struct store_filter f;
    store_filter_init(&f);
    f.from_ms = r->from;
    f.to_ms = r->to;
    int rc = store_obs_list(s, &f, on_obs, &ol, e);
    if (rc) {
        free(ol.v);
        return rc;
    }
    int w = section_head(out, a, y, m, d) || section_title(out, a, r, y, m, d, public_view) ||
            section_summary(out, a, r) || section_map(out, a, &ol) ||
            section_types(out, a, r) || section_zones(out, a, r) ||
            section_weapons(out, a, r) || section_escalations(out, a, r) ||
            section_findings(out, a, r, public_view);
    if (w)
        rc = errf(e, ERR_NOMEM, "out of memory writing the report");
    if (!rc)
        rc = section_trends(out, s, a, r, y, m, e);
    if (!rc && !public_view && section_annex(out, &ol))
        rc = errf(e, ERR_NOMEM, "out of memory writing the report");
    if (!rc && section_foot(out))
        rc = errf(e, ERR_NOMEM, "out of memory writing the report");
    free(ol.v);
    return rc;
}
