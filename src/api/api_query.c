/* api_query.c: the query parameters of paged listings (bbox, datetime, cursor, limit and the
 * equality filters) for the JSON API and OGC API - Features: strict parsers with named limits and
 * messages that say which parameter is wrong and why, the cursor format, and the query strings
 * of self and next links. Nothing here touches the store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

/* Copies s into out (size n) when it is shorter, else ERR_TOOBIG. */
static int bounded(const char *s, char *out, size_t n, const char *what, struct errbuf *e)
{
    size_t len = strnlen(s, n);
    if (len >= n)
        return errf(e, ERR_TOOBIG, "%s: longer than %zu bytes", what, n - 1);
    memcpy(out, s, len + 1);
    return 0;
}

int api_parse_bbox(const char *s, struct geo_bbox *out, struct errbuf *e)
{
    char tmp[API_QUERY_VALUE_BYTES];
    int rc = bounded(s, tmp, sizeof tmp, "bbox", e);
    if (rc)
        return rc;
    double v[6];
    int n = 0;
    char *p = tmp;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        if (n == 6)
            return errf(e, ERR_PARSE, "bbox: more than 6 numbers");
        if (str_to_double(p, &v[n]) || !isfinite(v[n]))
            return errf(e, ERR_PARSE, "bbox: number %d (\"%.40s\") is not a decimal number",
                        n + 1, p);
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (n != 4 && n != 6)
        return errf(e, ERR_PARSE,
                    "bbox: %d numbers; expected 4 (minlon,minlat,maxlon,maxlat) or 6", n);
    struct geo_bbox b = n == 4 ? (struct geo_bbox){v[0], v[1], v[2], v[3]}
                               : (struct geo_bbox){v[0], v[1], v[3], v[4]};
    if (b.min_lon < -180 || b.max_lon > 180 || b.min_lon > 180 || b.max_lon < -180)
        return errf(e, ERR_INVAL, "bbox: longitudes must be in -180..180 (WGS84 lon,lat order)");
    if (b.min_lat < -90 || b.max_lat > 90 || b.min_lat > 90 || b.max_lat < -90)
        return errf(e, ERR_INVAL, "bbox: latitudes must be in -90..90 (WGS84 lon,lat order)");
    if (b.min_lat > b.max_lat)
        return errf(e, ERR_INVAL, "bbox: the minimum latitude is above the maximum");
    if (b.min_lon > b.max_lon)
        return errf(e, ERR_INVAL,
                    "bbox: the minimum longitude is above the maximum (boxes across the "
                    "antimeridian are not supported)");
    *out = b;
    return 0;
}

/* One end of an interval: "" or ".." is open (TIME_NONE). */
static int interval_end(const char *s, const char *tz, int64_t *out, struct errbuf *e)
{
    if (!*s || !strcmp(s, "..")) {
        *out = TIME_NONE;
        return 0;
    }
    return time_parse(s, tz, out, e);
}

int api_parse_datetime(const char *s, const char *tz, int64_t *from_ms, int64_t *to_ms,
                       struct errbuf *e)
{
    char tmp[API_QUERY_VALUE_BYTES];
    int rc = bounded(s, tmp, sizeof tmp, "datetime", e);
    if (rc)
        return rc;
    char *slash = strchr(tmp, '/');
    int64_t a, b;
    if (!slash) {
        if (!*tmp || !strcmp(tmp, ".."))
            return errf(e, ERR_PARSE, "datetime: an instant needs a time");
        if ((rc = time_parse(tmp, tz, &a, e))) {
            errprefix(e, "datetime");
            return rc;
        }
        if (a == INT64_MAX)
            return errf(e, ERR_INVAL, "datetime: out of range");
        *from_ms = a;
        *to_ms = a + 1;
        return 0;
    }
    *slash = 0;
    if (strchr(slash + 1, '/'))
        return errf(e, ERR_PARSE, "datetime: more than one '/'");
    if ((rc = interval_end(tmp, tz, &a, e))) {
        errprefix(e, "datetime: interval start");
        return rc;
    }
    if ((rc = interval_end(slash + 1, tz, &b, e))) {
        errprefix(e, "datetime: interval end");
        return rc;
    }
    if (a != TIME_NONE && b != TIME_NONE && a > b)
        return errf(e, ERR_INVAL, "datetime: the interval ends before it starts");
    if (b == INT64_MAX)
        return errf(e, ERR_INVAL, "datetime: out of range");
    *from_ms = a;
    *to_ms = b == TIME_NONE ? TIME_NONE : b + 1;
    return 0;
}

/* Parses [-]digits (at most 19) into *v, advancing *p; -1 when there are none or too many. */
static int digits(const char **p, bool sign_ok, int64_t *v)
{
    const char *s = *p;
    bool neg = sign_ok && *s == '-';
    if (neg)
        s++;
    int n = 0;
    uint64_t x = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 19)
            return -1;
        x = x * 10 + (uint64_t)(*s++ - '0');
    }
    if (n == 0 || x > (uint64_t)INT64_MAX)
        return -1;
    *v = neg ? -(int64_t)x : (int64_t)x;
    *p = s;
    return 0;
}

int api_parse_cursor(const char *s, int64_t *t_ms, int64_t *id, struct errbuf *e)
{
    if (strnlen(s, API_CURSOR_BYTES) >= API_CURSOR_BYTES)
        return errf(e, ERR_TOOBIG, "cursor: longer than %d bytes", API_CURSOR_BYTES - 1);
    const char *p = s;
    int64_t t, i;
    if (digits(&p, true, &t) || *p++ != '.' || digits(&p, false, &i) || *p || i < 1)
        return errf(e, ERR_PARSE,
                    "cursor: not one this server made (take it from a next link unchanged)");
    *t_ms = t;
    *id = i;
    return 0;
}

void api_format_cursor(int64_t t_ms, int64_t id, char *out, size_t n)
{
    snprintf(out, n, "%lld.%lld", (long long)t_ms, (long long)id);
}

void api_base_url_(const struct http_request *req, char *out, size_t n)
{
    out[0] = 0;
    const char *host = http_header(req, "Host");
    if (!host || !*host || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        return;
    const char *proto = http_header(req, "X-Forwarded-Proto");
    snprintf(out, n, "%s://%s", proto && !strcmp(proto, "https") ? "https" : "http", host);
}

int api_url_encode_(struct buf *b, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    int rc = 0;
    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == ':') {
            rc = buf_append(b, s, 1);
        } else {
            char esc[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            rc = buf_append(b, esc, 3);
        }
    }
    return rc;
}

/* The filters a listing repeats in its links, in this order. */
static const char *const PAGE_PARAMS[] = {"bbox",  "datetime", "time",   "from",  "to",
                                          "kind",  "party",    "clause", "region"};
#define N_PAGE_PARAMS (sizeof PAGE_PARAMS / sizeof PAGE_PARAMS[0])

static int bad(struct http_response *resp, struct errbuf *e, const char *name)
{
    char msg[sizeof e->msg + 64];
    /* the parsers name the parameter themselves; from/to/limit messages get it here */
    if (strncmp(e->msg, name, strlen(name)))
        snprintf(msg, sizeof msg, "query parameter %s: %s", name, e->msg);
    else
        snprintf(msg, sizeof msg, "query parameter %s", e->msg);
    api_problem(resp, 400, msg);
    return -1;
}

int api_page_from_query_(const struct http_request *req, const char *tz, long long def_limit,
                         long long max_limit, struct store_page *p, struct http_response *resp)
{
    store_page_init(p);
    struct errbuf e;
    const char *v;
    for (size_t i = 0; i < N_PAGE_PARAMS; i++) {
        v = http_query(req, PAGE_PARAMS[i]);
        if (v && strlen(v) >= API_QUERY_VALUE_BYTES) {
            errf(&e, ERR_TOOBIG, "longer than %d bytes", API_QUERY_VALUE_BYTES - 1);
            return bad(resp, &e, PAGE_PARAMS[i]);
        }
    }
    if ((v = http_query(req, "bbox"))) {
        if (api_parse_bbox(v, &p->bbox, &e))
            return bad(resp, &e, "bbox");
        p->has_bbox = true;
    }
    const char *dt = http_query(req, "datetime");
    if (!dt)
        dt = http_query(req, "time");
    if (dt && api_parse_datetime(dt, tz, &p->f.from_ms, &p->f.to_ms, &e))
        return bad(resp, &e, "datetime");
    int64_t t;
    if ((v = http_query(req, "from"))) {
        if (time_parse(v, tz, &t, &e))
            return bad(resp, &e, "from");
        if (p->f.from_ms == TIME_NONE || t > p->f.from_ms)
            p->f.from_ms = t;
    }
    if ((v = http_query(req, "to"))) {
        if (time_parse(v, tz, &t, &e))
            return bad(resp, &e, "to");
        if (p->f.to_ms == TIME_NONE || t < p->f.to_ms)
            p->f.to_ms = t;
    }
    p->f.kind = http_query(req, "kind");
    p->f.party = http_query(req, "party");
    p->f.clause = http_query(req, "clause");
    p->f.region = http_query(req, "region");
    if ((v = http_query(req, "cursor"))) {
        if (api_parse_cursor(v, &p->after_t_ms, &p->after_id, &e))
            return bad(resp, &e, "cursor");
        p->has_after = true;
    }
    p->f.limit = def_limit;
    if ((v = http_query(req, "limit")) &&
        (str_to_ll(v, &p->f.limit) || p->f.limit < 1 || p->f.limit > max_limit)) {
        errf(&e, ERR_INVAL, "must be a number from 1 to %lld", max_limit);
        return bad(resp, &e, "limit");
    }
    return 0;
}

int api_page_query_(const struct http_request *req, const char *cursor, long long limit,
                    struct buf *b)
{
    int rc = 0;
    bool first = true;
    for (size_t i = 0; i < N_PAGE_PARAMS && !rc; i++) {
        const char *v = http_query(req, PAGE_PARAMS[i]);
        if (!v)
            continue;
        rc = buf_printf(b, "%s%s=", first ? "" : "&", PAGE_PARAMS[i]);
        if (!rc)
            rc = api_url_encode_(b, v);
        first = false;
    }
    if (!rc)
        rc = buf_printf(b, "%slimit=%lld", first ? "" : "&", limit);
    if (!rc && cursor)
        rc = buf_printf(b, "&cursor=%s", cursor);
    return rc;
}
