/* truth.c: reading a simulator truth document (docs/simulator.md, "Truth file") back into
 * struct sim_truth, with every field checked and errors that give the JSON path and the reason.
 * The document is read in one pass: jansson parses each member and each event on its own, so
 * memory grows with the parsed structures, not with a tree of the whole file; in exchange
 * format, parties and observers must come before the events (as sim_run writes them).
 *
 * The truth file crosses a trust boundary when `truce evaluate` reads one it did not write:
 * sizes are bounded by the SIM_TRUTH_* limits and nothing is trusted that can be recomputed
 * (an event's number of observers is counted from its reports). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simulate/simulate.h"

#define TRUTH_FORMAT "truce-sim-truth/1"
#define MAX_PARTIES 8

static int point_field(json_t *obj, const char *key, const char *path, struct geo_point *out,
                       struct errbuf *e)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        return errf(e, ERR_INVAL, "%s/%s: must be [lon, lat]", path, key);
    struct geo_point p = {json_number_value(json_array_get(v, 0)),
                          json_number_value(json_array_get(v, 1))};
    if (!geo_point_valid(p))
        return errf(e, ERR_INVAL, "%s/%s: not a position on Earth", path, key);
    *out = p;
    return 0;
}

static int time_field(json_t *obj, const char *key, const char *path, int64_t *out,
                      struct errbuf *e)
{
    json_t *v = json_object_get(obj, key);
    struct errbuf te;
    if (!json_is_string(v))
        return errf(e, ERR_INVAL, "%s/%s: must be an RFC 3339 time", path, key);
    if (time_parse(json_string_value(v), NULL, out, &te))
        return errf(e, ERR_INVAL, "%s/%s: %s", path, key, te.msg);
    return 0;
}

static int find_observer(const struct sim_truth *t, const char *id)
{
    for (size_t i = 0; i < t->n_observers; i++)
        if (!strcmp(t->observers[i], id))
            return (int)i;
    return -1;
}

/* Reads one {"client_id", "observer"} object into the next report slot. */
static int read_report(struct sim_truth *t, json_t *r, const char *path, long long event,
                       struct errbuf *e)
{
    if (!json_is_object(r))
        return errf(e, ERR_INVAL, "%s: must be an object", path);
    json_t *cid = json_object_get(r, "client_id"), *ob = json_object_get(r, "observer");
    if (!json_is_string(cid) || !json_string_length(cid) ||
        json_string_length(cid) >= SIM_ID_BYTES)
        return errf(e, ERR_INVAL, "%s/client_id: must be a string of 1 to %d bytes", path,
                    SIM_ID_BYTES - 1);
    if (!json_is_string(ob))
        return errf(e, ERR_INVAL, "%s/observer: must be an observer id", path);
    int k = find_observer(t, json_string_value(ob));
    if (k < 0)
        return errf(e, ERR_INVAL, "%s/observer: \"%.100s\" is not in /observers", path,
                    json_string_value(ob));
    if (t->n_reports >= SIM_TRUTH_MAX_REPORTS)
        return errf(e, ERR_TOOBIG, "%s: more than %d reports", path, SIM_TRUTH_MAX_REPORTS);
    if (t->n_reports == t->cap_reports) {
        t->cap_reports = t->cap_reports ? 2 * t->cap_reports : 1024;
        t->reports = xrealloc(t->reports, t->cap_reports * sizeof *t->reports);
    }
    struct sim_truth_report *rep = &t->reports[t->n_reports++];
    rep->client_id = xstrdup(json_string_value(cid));
    rep->event = event;
    rep->observer = k;
    return 0;
}

static int cmp_report(const void *x, const void *y)
{
    return strcmp(((const struct sim_truth_report *)x)->client_id,
                  ((const struct sim_truth_report *)y)->client_id);
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

static int read_event(struct sim_truth *t, json_t *ev, size_t i, struct errbuf *e)
{
    char path[64];
    snprintf(path, sizeof path, "/events/%zu", i);
    if (!json_is_object(ev))
        return errf(e, ERR_INVAL, "%s: must be an object", path);
    if (i >= SIM_TRUTH_MAX_EVENTS)
        return errf(e, ERR_TOOBIG, "%s: more than %d events", path, SIM_TRUTH_MAX_EVENTS);
    if (i == t->cap_events) {
        t->cap_events = t->cap_events ? 2 * t->cap_events : 1024;
        t->events = xrealloc(t->events, t->cap_events * sizeof *t->events);
    }
    struct sim_truth_event *te = &t->events[i];
    memset(te, 0, sizeof *te);
    t->n_events = i + 1;
    json_t *id = json_object_get(ev, "id");
    if (!json_is_integer(id) || json_integer_value(id) < 1)
        return errf(e, ERR_INVAL, "%s/id: must be a positive integer", path);
    te->id = json_integer_value(id);
    int rc = time_field(ev, "start", path, &te->start_ms, e);
    if (!rc)
        rc = time_field(ev, "end", path, &te->end_ms, e);
    if (!rc && te->end_ms < te->start_ms)
        rc = errf(e, ERR_INVAL, "%s/end: before start", path);
    if (!rc)
        rc = point_field(ev, "location", path, &te->location, e);
    if (!rc)
        rc = point_field(ev, "impact", path, &te->impact, e);
    if (!rc)
        rc = point_field(ev, "origin", path, &te->origin, e);
    if (rc)
        return rc;
    json_t *party = json_object_get(ev, "party"), *type = json_object_get(ev, "type"),
           *count = json_object_get(ev, "count"), *reports = json_object_get(ev, "reports");
    te->party = -1;
    for (int k = 0; json_is_string(party) && k < t->n_parties; k++)
        if (!strcmp(t->parties[k], json_string_value(party)))
            te->party = k;
    if (te->party < 0)
        return errf(e, ERR_INVAL, "%s/party: must be one of /parties", path);
    if (!json_is_string(type) || agr_event_type_index(json_string_value(type)) < 0)
        return errf(e, ERR_INVAL, "%s/type: must be an event type (impact, burst, ...)", path);
    str_copy(te->type, sizeof te->type, json_string_value(type));
    if (!json_is_integer(count) || json_integer_value(count) < 0)
        return errf(e, ERR_INVAL, "%s/count: must be a whole number >= 0", path);
    te->count = json_integer_value(count);
    if (!json_is_array(reports))
        return errf(e, ERR_INVAL, "%s/reports: must be an array", path);
    size_t first = t->n_reports;
    for (size_t k = 0; k < json_array_size(reports); k++) {
        char rpath[96];
        snprintf(rpath, sizeof rpath, "%s/reports/%zu", path, k);
        rc = read_report(t, json_array_get(reports, k), rpath, (long long)i, e);
        if (rc)
            return rc;
    }
    /* Distinct observers of the event, counted rather than trusted. */
    size_t n = t->n_reports - first;
    int *ob = xcalloc(n ? n : 1, sizeof *ob);
    for (size_t k = 0; k < n; k++)
        ob[k] = t->reports[first + k].observer;
    qsort(ob, n, sizeof *ob, cmp_int);
    te->n_observers = 0;
    for (size_t k = 0; k < n; k++)
        te->n_observers += k == 0 || ob[k] != ob[k - 1];
    free(ob);
    return 0;
}

/* Checks the members that come before the events (format, parties, observers), gathered in
 * head, and fills t's parties and observers. */
static int read_header(struct sim_truth *t, json_t *head, struct errbuf *e)
{
    json_t *fmt = json_object_get(head, "format"), *parties = json_object_get(head, "parties"),
           *observers = json_object_get(head, "observers");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), TRUTH_FORMAT))
        return errf(e, ERR_INVAL, "/format: must be \"%s\" (before /events)", TRUTH_FORMAT);
    if (!json_is_array(parties) || json_array_size(parties) < 1 ||
        json_array_size(parties) > MAX_PARTIES)
        return errf(e, ERR_INVAL, "/parties: must be an array of 1 to %d party ids (before "
                    "/events)", MAX_PARTIES);
    for (size_t i = 0; i < json_array_size(parties); i++) {
        json_t *p = json_array_get(parties, i);
        if (!json_is_string(p) || !json_string_length(p) ||
            json_string_length(p) > AGR_MAX_ID_BYTES)
            return errf(e, ERR_INVAL, "/parties/%zu: must be a party id of 1 to %d bytes", i,
                        AGR_MAX_ID_BYTES);
        str_copy(t->parties[t->n_parties++], sizeof t->parties[0], json_string_value(p));
    }
    if (!json_is_array(observers) || json_array_size(observers) > SIM_TRUTH_MAX_OBSERVERS)
        return errf(e, ERR_INVAL, "/observers: must be an array of at most %d observers (before "
                    "/events)", SIM_TRUTH_MAX_OBSERVERS);
    t->observers = xcalloc(json_array_size(observers) + 1, sizeof *t->observers);
    t->observer_means = xcalloc(json_array_size(observers) + 1, sizeof *t->observer_means);
    for (size_t i = 0; i < json_array_size(observers); i++) {
        json_t *id = json_object_get(json_array_get(observers, i), "id");
        if (!json_is_string(id) || !json_string_length(id) ||
            json_string_length(id) >= SIM_ID_BYTES)
            return errf(e, ERR_INVAL, "/observers/%zu/id: must be a string of 1 to %d bytes", i,
                        SIM_ID_BYTES - 1);
        if (find_observer(t, json_string_value(id)) >= 0)
            return errf(e, ERR_INVAL, "/observers/%zu/id: \"%s\" appears twice", i,
                        json_string_value(id));
        json_t *means = json_object_get(json_array_get(observers, i), "means");
        t->observer_means[t->n_observers] = SIM_MEANS_OTHER;
        for (int k = 0; json_is_string(means) && k < SIM_MEANS_OTHER; k++)
            if (!strcmp(json_string_value(means), SIM_MEANS_NAMES[k]))
                t->observer_means[t->n_observers] = k;
        str_copy(t->observers[t->n_observers++], SIM_ID_BYTES, json_string_value(id));
    }
    return 0;
}

/* ---- one pass over the document: the top-level object and its two long arrays are walked
 * here, every value in them is parsed by jansson on its own, so memory holds one event at a
 * time rather than the whole tree. ---- */

struct cursor {
    const char *p;
    size_t n, off;
};

static void skip_ws(struct cursor *c)
{
    while (c->off < c->n && (c->p[c->off] == ' ' || c->p[c->off] == '\t' ||
                             c->p[c->off] == '\n' || c->p[c->off] == '\r'))
        c->off++;
}

static bool take(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->off < c->n && c->p[c->off] == ch) {
        c->off++;
        return true;
    }
    return false;
}

static int syntax_error(const struct cursor *c, size_t at, const char *what, struct errbuf *e)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < at && i < c->n; i++) {
        if (c->p[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return errf(e, ERR_PARSE, "truth file: line %d column %d: %s", line, col, what);
}

/* The next JSON value at the cursor, parsed by jansson; NULL with e set on a syntax error. */
static json_t *next_value(struct cursor *c, struct errbuf *e)
{
    skip_ws(c);
    json_error_t jerr;
    json_t *v = json_loadb(c->p + c->off, c->n - c->off,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        syntax_error(c, c->off + (size_t)(jerr.position > 0 ? jerr.position : 0), jerr.text, e);
        return NULL;
    }
    c->off += (size_t)jerr.position;
    return v;
}

/* Walks the array at the cursor, handing each element to the event or report reader. */
static int read_array(struct cursor *c, struct sim_truth *t, bool events, struct errbuf *e)
{
    if (!take(c, '['))
        return errf(e, ERR_INVAL, "/%s: must be an array", events ? "events" : "false_reports");
    if (take(c, ']'))
        return 0;
    for (size_t i = 0;; i++) {
        json_t *v = next_value(c, e);
        if (!v)
            return ERR_PARSE;
        int rc;
        if (events) {
            rc = read_event(t, v, i, e);
        } else {
            char path[64];
            snprintf(path, sizeof path, "/false_reports/%zu", i);
            rc = read_report(t, v, path, -1, e);
        }
        json_decref(v);
        if (rc)
            return rc;
        if (take(c, ']'))
            return 0;
        if (!take(c, ','))
            return syntax_error(c, c->off, "expected ',' or ']'", e);
    }
}

static int read_document(struct cursor *c, struct sim_truth *t, struct errbuf *e)
{
    json_t *head = json_object();
    bool header_done = false, seen_events = false, seen_false = false;
    int rc = 0;
    if (!take(c, '{')) {
        rc = errf(e, ERR_INVAL, "truth file: must be a JSON object");
        goto out;
    }
    if (take(c, '}'))
        goto end;
    for (;;) {
        json_t *key = next_value(c, e);
        if (!key) {
            rc = ERR_PARSE;
            goto out;
        }
        if (!json_is_string(key)) {
            json_decref(key);
            rc = syntax_error(c, c->off, "expected a member name", e);
            goto out;
        }
        char name[64];
        str_copy(name, sizeof name, json_string_value(key));
        bool long_name = json_string_length(key) >= sizeof name;
        json_decref(key);
        if (!take(c, ':')) {
            rc = syntax_error(c, c->off, "expected ':'", e);
            goto out;
        }
        bool is_events = !long_name && !strcmp(name, "events");
        bool is_false = !long_name && !strcmp(name, "false_reports");
        if (is_events || is_false) {
            if ((is_events && seen_events) || (is_false && seen_false)) {
                rc = errf(e, ERR_INVAL, "/%s: given twice", name);
                goto out;
            }
            if (!header_done && (rc = read_header(t, head, e)))
                goto out;
            header_done = true;
            rc = read_array(c, t, is_events, e);
            if (rc)
                goto out;
            seen_events |= is_events;
            seen_false |= is_false;
        } else {
            json_t *v = next_value(c, e);
            if (!v) {
                rc = ERR_PARSE;
                goto out;
            }
            if (!long_name && json_object_get(head, name)) {
                json_decref(v);
                rc = errf(e, ERR_INVAL, "/%s: given twice", name);
                goto out;
            }
            if (header_done && (!strcmp(name, "format") || !strcmp(name, "parties") ||
                                !strcmp(name, "observers"))) {
                json_decref(v);
                rc = errf(e, ERR_INVAL, "/%s: must come before /events and /false_reports", name);
                goto out;
            }
            if (!long_name)
                json_object_set_new(head, name, v);
            else
                json_decref(v);
        }
        if (take(c, '}'))
            break;
        if (!take(c, ',')) {
            rc = syntax_error(c, c->off, "expected ',' or '}'", e);
            goto out;
        }
    }
end:
    skip_ws(c);
    if (c->off != c->n) {
        rc = syntax_error(c, c->off, "end of text expected", e);
        goto out;
    }
    if (!header_done && (rc = read_header(t, head, e)))
        goto out;
    if (!seen_events)
        rc = errf(e, ERR_INVAL, "/events: must be an array");
    else if (!seen_false)
        rc = errf(e, ERR_INVAL, "/false_reports: must be an array");
out:
    json_decref(head);
    return rc;
}

int sim_truth_parse(const char *text, size_t len, struct sim_truth **out, struct errbuf *e)
{
    if (len > SIM_TRUTH_MAX_BYTES)
        return errf(e, ERR_TOOBIG, "truth file: %zu bytes, more than the %u allowed", len,
                    SIM_TRUTH_MAX_BYTES);
    struct sim_truth *t = xcalloc(1, sizeof *t);
    struct cursor c = {text, len, 0};
    int rc = read_document(&c, t, e);
    if (rc)
        goto out;
    if (t->n_reports)
        qsort(t->reports, t->n_reports, sizeof *t->reports, cmp_report);
    for (size_t i = 1; i < t->n_reports; i++)
        if (!strcmp(t->reports[i].client_id, t->reports[i - 1].client_id)) {
            rc = errf(e, ERR_INVAL, "truth file: client id \"%s\" is given twice",
                      t->reports[i].client_id);
            goto out;
        }
    /* Event ids increase (as sim_run writes them), so each names one event. */
    for (size_t i = 1; i < t->n_events && !rc; i++)
        if (t->events[i].id <= t->events[i - 1].id)
            rc = errf(e, ERR_INVAL, "/events/%zu/id: ids must increase", i);
out:
    if (rc) {
        sim_truth_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void sim_truth_free(struct sim_truth *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_reports; i++)
        free(t->reports[i].client_id);
    free(t->reports);
    free(t->events);
    free(t->observers);
    free(t->observer_means);
    free(t);
}

const struct sim_truth_report *sim_truth_find(const struct sim_truth *t, const char *client_id)
{
    if (!t->n_reports)
        return NULL;
    struct sim_truth_report key = {.client_id = (char *)client_id};
    return bsearch(&key, t->reports, t->n_reports, sizeof *t->reports, cmp_report);
}
