/* reader.c: framing of observation input into one record at a time: NDJSON lines, the elements
 * of a JSON document (a Feature, a FeatureCollection or an array), and CSV rows (RFC 4180 with a
 * header), which are converted to the JSON schema so one validator serves all three.
 *
 * NDJSON and CSV are streamed in bounded memory (LIMIT_RECORD_BYTES per record); a JSON document
 * is read whole, up to LIMIT_FILE_BYTES. */
#include "observation/observation.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct obs_reader {
    FILE *f;
    enum obs_format fmt;
    char name[256];
    uint64_t offset;
    long long line;
    struct buf rec;  /* the current record's text */
    /* JSON document */
    json_t *doc, *items;
    size_t next_item;
    char *item_text;
    /* CSV */
    char *cols[LIMIT_CSV_COLUMNS];
    size_t n_cols;
    /* input buffer; its first fill is what format detection looks at */
    char in[65536];
    size_t in_len, in_pos;
    bool in_eof;
};

static bool rd_fill(struct obs_reader *r)
{
    if (r->in_eof)
        return false;
    r->in_len = fread(r->in, 1, sizeof r->in, r->f);
    r->in_pos = 0;
    if (r->in_len == 0)
        r->in_eof = true;
    return r->in_len > 0;
}

static int rd_getc(struct obs_reader *r)
{
    if (r->in_pos >= r->in_len && !rd_fill(r))
        return EOF;
    r->offset++;
    return (unsigned char)r->in[r->in_pos++];
}

/* Whether word occurs in the n bytes at p. */
static bool mentions(const char *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    for (const char *end = p + n; (size_t)(end - p) >= w; p++) {
        p = memchr(p, word[0], (size_t)(end - p) - w + 1);
        if (!p)
            return false;
        if (!memcmp(p, word, w))
            return true;
    }
    return false;
}

enum obs_format obs_detect_format(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i >= len)
        return OBS_FMT_NDJSON;
    if (data[i] == '[')
        return OBS_FMT_JSON;
    if (data[i] != '{')
        return OBS_FMT_CSV;
    size_t start = i;
    /* One object per line is NDJSON; an object spread over lines is a JSON document. Decide by
     * whether the first line holds a complete object (brace depth back to zero). */
    int depth = 0;
    bool in_str = false, esc = false;
    for (; i < len; i++) {
        char c = data[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0) {
                /* A FeatureCollection written on one line is one document, not NDJSON. Only
                 * an object that names one anywhere can be one: the others (the one-record POST
                 * of every monitor's client) are not parsed twice. */
                if (!mentions(data + start, i + 1 - start, "FeatureCollection"))
                    return OBS_FMT_NDJSON;
                json_t *first = json_loadb(data + start, i + 1 - start, 0, NULL);
                const char *type = json_string_value(json_object_get(first, "type"));
                bool fc = type && !strcmp(type, "FeatureCollection");
                json_decref(first);
                return fc ? OBS_FMT_JSON : OBS_FMT_NDJSON;
            }
        } else if (c == '\n')
            return OBS_FMT_JSON;
    }
    /* A first line longer than the buffer: a FeatureCollection says so in its first member. */
    static const char fc[] = "{\"type\":\"FeatureCollection\"";
    size_t k = start, m = 0;
    for (; k < len && fc[m]; k++) {
        if (data[k] == ' ' || data[k] == '\t')
            continue;
        if (data[k] != fc[m])
            break;
        m++;
    }
    return fc[m] ? OBS_FMT_NDJSON : OBS_FMT_JSON;
}

int obs_format_parse(const char *name, enum obs_format *out)
{
    if (!strcmp(name, "json"))
        *out = OBS_FMT_JSON;
    else if (!strcmp(name, "ndjson"))
        *out = OBS_FMT_NDJSON;
    else if (!strcmp(name, "csv"))
        *out = OBS_FMT_CSV;
    else if (!strcmp(name, "auto"))
        *out = OBS_FMT_AUTO;
    else
        return ERR_INVAL;
    return 0;
}

/* Reads one physical line (without the newline) into r->rec. 1: a line, 0: end of input,
 * ERR_TOOBIG: longer than the limit (the rest of the line is skipped). Copies whole spans of the
 * input buffer up to each newline. */
static int read_line(struct obs_reader *r)
{
    r->rec.len = 0;
    if (buf_append(&r->rec, "", 0))
        return ERR_NOMEM;
    bool any = false, toobig = false;
    for (;;) {
        if (r->in_pos >= r->in_len && !rd_fill(r))
            break;
        any = true;
        const char *start = r->in + r->in_pos;
        size_t avail = r->in_len - r->in_pos;
        const char *nl = memchr(start, '\n', avail);
        size_t span = nl ? (size_t)(nl - start) : avail;
        if (!toobig) {
            if (r->rec.len + span > LIMIT_RECORD_BYTES)
                toobig = true;
            else if (buf_append(&r->rec, start, span))
                return ERR_NOMEM;
        }
        r->in_pos += span + (nl ? 1 : 0);
        r->offset += span + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    r->line++;
    if (toobig)
        return ERR_TOOBIG;
    if (r->rec.len && r->rec.p[r->rec.len - 1] == '\r')
        r->rec.p[--r->rec.len] = 0;
    return 1;
}

/* Reads one CSV record (fields may be quoted and hold newlines) into fields; returns the number
 * of fields, 0 at the end, or a negative code. Field texts point into r->rec. */
static int read_csv_record(struct obs_reader *r, char **fields, size_t max, bool *too_many,
                           struct errbuf *e)
{
    r->rec.len = 0;
    if (buf_append(&r->rec, "", 0))
        return ERR_NOMEM;
    size_t starts[LIMIT_CSV_COLUMNS + 1];
    size_t nf = 0;
    int c = rd_getc(r);
    if (c == EOF)
        return 0;
    r->line++;
    long long start_line = r->line;
    bool quoted = false, field_start = true;
    *too_many = false;
    starts[nf++] = 0;
    for (;; c = rd_getc(r)) {
        if (r->rec.len >= LIMIT_RECORD_BYTES) {
            /* Skip the rest of the record (quotes respected) so the next one starts cleanly. */
            bool q = quoted;
            for (; c != EOF; c = rd_getc(r)) {
                if (c == '"')
                    q = !q;
                else if (c == '\n') {
                    if (!q)
                        break;
                    r->line++;
                }
            }
            return errf(e, ERR_TOOBIG, "line %lld: CSV record larger than %u bytes", start_line,
                        LIMIT_RECORD_BYTES);
        }
        if (c == EOF) {
            if (quoted)
                return errf(e, ERR_PARSE, "line %lld: unterminated quoted field", start_line);
            break;
        }
        char ch = (char)c;
        if (quoted) {
            if (ch == '"') {
                int d = rd_getc(r);
                if (d == '"') {
                    if (buf_append(&r->rec, "\"", 1))
                        return ERR_NOMEM;
                    continue;
                }
                quoted = false;
                if (d == EOF)
                    break;
                c = d;
                ch = (char)d;
            } else {
                if (ch == '\n')
                    r->line++;
                if (buf_append(&r->rec, &ch, 1))
                    return ERR_NOMEM;
                continue;
            }
        }
        if (ch == '"' && field_start) {
            quoted = true;
            field_start = false;
            continue;
        }
        if (ch == ',') {
            if (buf_append(&r->rec, "", 1)) /* NUL separates fields */
                return ERR_NOMEM;
            if (nf >= max) {
                *too_many = true;
            } else {
                starts[nf++] = r->rec.len;
            }
            field_start = true;
            continue;
        }
        if (ch == '\n')
            break;
        if (ch == '\r')
            continue;
        field_start = false;
        if (buf_append(&r->rec, &ch, 1))
            return ERR_NOMEM;
    }
    if (buf_append(&r->rec, "", 1))
        return ERR_NOMEM;
    for (size_t i = 0; i < nf; i++)
        fields[i] = r->rec.p + starts[i];
    return (int)nf;
}

static const char *const CSV_COLUMNS[] = {
    "client_id", "kind", "time_start", "time_end", "tz", "means", "report", "observer_place",
    "observer_lon", "observer_lat", "lon", "lat", "accuracy_m", "bearings",
    "bearing_tolerance_deg", "distance_min_km", "distance_max_km", "event_type", "count",
    "qualifier", "weapon_category", "weapon_model", "calibre_mm", "flight_from", "flight_to",
    "party", "against", "armed", "remarks", NULL};

static int csv_header(struct obs_reader *r, struct errbuf *e)
{
    char *fields[LIMIT_CSV_COLUMNS];
    bool too_many;
    int n = read_csv_record(r, fields, LIMIT_CSV_COLUMNS, &too_many, e);
    if (n < 0)
        return n;
    if (n == 0)
        return errf(e, ERR_PARSE, "%s: empty CSV (a header line is required)", r->name);
    if (too_many)
        return errf(e, ERR_TOOBIG, "%s: more than %d CSV columns", r->name, LIMIT_CSV_COLUMNS);
    bool has_kind = false;
    for (int i = 0; i < n; i++) {
        bool ok = !strncmp(fields[i], "x_", 2);
        for (size_t j = 0; CSV_COLUMNS[j] && !ok; j++)
            ok = !strcmp(CSV_COLUMNS[j], fields[i]);
        if (!ok)
            return errf(e, ERR_INVAL, "%s: line 1: unknown CSV column \"%s\" (see "
                                      "docs/observation-format.md)", r->name, fields[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(fields[i], r->cols[j]))
                return errf(e, ERR_INVAL, "%s: line 1: column \"%s\" appears twice", r->name,
                            fields[i]);
        r->cols[i] = xstrdup(fields[i]);
        r->n_cols = (size_t)i + 1; /* counted as they are made, so an error below frees them */
        has_kind |= !strcmp(fields[i], "kind");
    }
    if (!has_kind)
        return errf(e, ERR_INVAL, "%s: line 1: the CSV header needs a \"kind\" column", r->name);
    return 0;
}

static json_t *csv_number(const char *s)
{
    double d;
    long long ll;
    if (!str_to_ll(s, &ll))
        return json_integer(ll);
    if (!str_to_double(s, &d))
        return json_real(d);
    return json_string(s); /* the validator names the field and says why */
}

/* Turns one CSV row into the JSON schema. Field names in errors are the CSV column names where
 * the mapping is one to one; the validator's names otherwise. */
static int csv_to_json(struct obs_reader *r, char **f, size_t n, struct errbuf *e)
{
    json_t *props = json_object(), *time = json_object(), *obsv = json_object(),
           *weapon = json_object(), *flight = json_object();
    json_t *root = json_pack("{s:s}", "type", "Feature");
    const char *lon = NULL, *lat = NULL, *dmin = NULL, *dmax = NULL;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *c = r->cols[i], *v = f[i];
        if (!*v)
            continue;
        if (!strcmp(c, "time_start"))
            json_object_set_new(time, "start", json_string(v));
        else if (!strcmp(c, "time_end"))
            json_object_set_new(time, "end", json_string(v));
        else if (!strcmp(c, "observer_place"))
            json_object_set_new(obsv, "place", json_string(v));
        else if (!strcmp(c, "observer_lon") || !strcmp(c, "observer_lat")) {
            json_t *co = json_object_get(obsv, "coordinates");
            if (!co) {
                co = json_pack("[nn]");
                json_object_set_new(obsv, "coordinates", co);
            }
            json_array_set_new(co, !strcmp(c, "observer_lon") ? 0 : 1, csv_number(v));
        } else if (!strcmp(c, "lon"))
            lon = v;
        else if (!strcmp(c, "lat"))
            lat = v;
        else if (!strcmp(c, "distance_min_km"))
            dmin = v;
        else if (!strcmp(c, "distance_max_km"))
            dmax = v;
        else if (!strcmp(c, "bearings")) {
            char tmp[1024];
            if (strlen(v) >= sizeof tmp) {
                rc = errf(e, ERR_TOOBIG, "bearings: longer than %zu bytes", sizeof tmp - 1);
                break;
            }
            json_t *arr = json_array();
            str_copy(tmp, sizeof tmp, v);
            char *save = NULL;
            for (char *t = strtok_r(tmp, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                while (*t == ' ')
                    t++;
                double d;
                json_array_append_new(arr, !str_to_double(t, &d) ? json_real(d) : json_string(t));
            }
            json_object_set_new(props, "bearings", arr);
        } else if (!strcmp(c, "weapon_category"))
            json_object_set_new(weapon, "category", json_string(v));
        else if (!strcmp(c, "weapon_model"))
            json_object_set_new(weapon, "model", json_string(v));
        else if (!strcmp(c, "calibre_mm"))
            json_object_set_new(weapon, "calibre_mm", csv_number(v));
        else if (!strcmp(c, "flight_from"))
            json_object_set_new(flight, "from", json_string(v));
        else if (!strcmp(c, "flight_to"))
            json_object_set_new(flight, "to", json_string(v));
        else if (!strcmp(c, "armed")) {
            if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
                json_object_set_new(props, "armed", json_true());
            else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
                json_object_set_new(props, "armed", json_false());
            else
                rc = errf(e, ERR_INVAL, "armed: \"%s\" is not true or false", v);
        } else if (!strcmp(c, "accuracy_m") || !strcmp(c, "bearing_tolerance_deg"))
            json_object_set_new(props, c, csv_number(v));
        else if (!strcmp(c, "count")) {
            long long ll;
            json_object_set_new(props, c, !str_to_ll(v, &ll) ? json_integer(ll) : json_string(v));
        } else if (!strncmp(c, "x_", 2) || !strcmp(c, "client_id") || !strcmp(c, "kind") ||
                   !strcmp(c, "tz") || !strcmp(c, "means") || !strcmp(c, "report") ||
                   !strcmp(c, "event_type") || !strcmp(c, "qualifier") || !strcmp(c, "party") ||
                   !strcmp(c, "against") || !strcmp(c, "remarks"))
            json_object_set_new(props, c, json_string(v));
    }
    if (rc)
        goto out;
    if (json_object_size(time))
        json_object_set(props, "time", time);
    if (json_object_size(obsv))
        json_object_set(props, "observer", obsv);
    if (json_object_size(weapon))
        json_object_set(props, "weapon", weapon);
    if (json_object_size(flight))
        json_object_set(props, "flight_direction", flight);
    if (dmin || dmax) {
        if (!dmin || !dmax) {
            rc = errf(e, ERR_INVAL, "distance_min_km, distance_max_km: give both or neither");
            goto out;
        }
        json_object_set_new(props, "distance_km", json_pack("[oo]", csv_number(dmin),
                                                            csv_number(dmax)));
    }
    if (lon || lat) {
        if (!lon || !lat) {
            rc = errf(e, ERR_INVAL, "lon, lat: give both or neither");
            goto out;
        }
        json_object_set_new(root, "geometry",
                            json_pack("{s:s, s:[oo]}", "type", "Point", "coordinates",
                                      csv_number(lon), csv_number(lat)));
    } else {
        json_object_set_new(root, "geometry", json_null());
    }
    json_object_set(root, "properties", props);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        rc = ERR_NOMEM;
        goto out;
    }
    r->rec.len = 0;
    rc = buf_append(&r->rec, text, strlen(text));
    free(text);
out:
    json_decref(props);
    json_decref(time);
    json_decref(obsv);
    json_decref(weapon);
    json_decref(flight);
    json_decref(root);
    return rc;
}

int obs_reader_open(FILE *f, enum obs_format fmt, const char *name, struct obs_reader **out,
                    struct errbuf *e)
{
    struct obs_reader *r = calloc(1, sizeof *r);
    if (!r)
        return errf(e, ERR_NOMEM, "out of memory");
    r->f = f;
    str_copy(r->name, sizeof r->name, name);
    buf_init(&r->rec);
    rd_fill(r);
    if (fmt == OBS_FMT_AUTO)
        fmt = obs_detect_format(r->in, r->in_len);
    r->fmt = fmt;
    int rc = 0;
    if (fmt == OBS_FMT_JSON) {
        struct buf all;
        buf_init(&all);
        int c;
        while ((c = rd_getc(r)) != EOF) {
            if (all.len >= LIMIT_FILE_BYTES) {
                rc = errf(e, ERR_TOOBIG, "%s: a JSON document larger than %u bytes (use NDJSON "
                                         "for large inputs)", name, LIMIT_FILE_BYTES);
                break;
            }
            char ch = (char)c;
            if ((rc = buf_append(&all, &ch, 1)))
                break;
        }
        if (!rc) {
            json_error_t je;
            r->doc = json_loadb(all.p ? all.p : "", all.len, JSON_REJECT_DUPLICATES, &je);
            if (!r->doc)
                rc = errf(e, ERR_PARSE, "%s: line %d column %d: %s", name, je.line, je.column,
                          je.text);
        }
        buf_reset(&all);
        if (!rc) {
            const char *type = json_string_value(json_object_get(r->doc, "type"));
            if (json_is_array(r->doc)) {
                r->items = r->doc;
            } else if (type && !strcmp(type, "FeatureCollection")) {
                r->items = json_object_get(r->doc, "features");
                if (!json_is_array(r->items))
                    rc = errf(e, ERR_INVAL, "%s: /features: must be an array", name);
            } else {
                r->items = json_array();
                json_array_append(r->items, r->doc);
                json_decref(r->doc);
                r->doc = r->items;
            }
            if (!rc && json_array_size(r->items) > LIMIT_BATCH_RECORDS)
                rc = errf(e, ERR_TOOBIG, "%s: more than %u records in one document", name,
                          LIMIT_BATCH_RECORDS);
        }
    } else if (fmt == OBS_FMT_CSV) {
        rc = csv_header(r, e);
    }
    if (rc) {
        obs_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int obs_reader_next(struct obs_reader *r, const char **text, size_t *len, bool *fatal,
                    struct errbuf *e)
{
    *fatal = false;
    if (r->fmt == OBS_FMT_JSON) {
        free(r->item_text);
        r->item_text = NULL;
        if (r->next_item >= json_array_size(r->items))
            return 0;
        json_t *it = json_array_get(r->items, r->next_item++);
        r->item_text = json_dumps(it, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        if (!r->item_text) {
            *fatal = true;
            return errf(e, ERR_NOMEM, "out of memory");
        }
        *text = r->item_text;
        *len = strlen(r->item_text);
        return 1;
    }
    if (r->fmt == OBS_FMT_CSV) {
        char *fields[LIMIT_CSV_COLUMNS];
        bool too_many;
        int n;
        do /* blank lines are skipped in a loop: recursion overflowed the stack on many */
            n = read_csv_record(r, fields, LIMIT_CSV_COLUMNS, &too_many, e);
        while (n == 1 && !fields[0][0]);
        if (n <= 0) {
            *fatal = n == ERR_NOMEM; /* a bad record is reported; the next one is read */
            return n;
        }
        if (too_many || (size_t)n != r->n_cols)
            return errf(e, ERR_PARSE, "row has %s%d fields, the header has %zu",
                        too_many ? "more than " : "", n, r->n_cols);
        int rc = csv_to_json(r, fields, (size_t)n, e);
        if (rc)
            return rc;
        *text = r->rec.p;
        *len = r->rec.len;
        return 1;
    }
    for (;;) {
        int rc = read_line(r);
        if (rc == ERR_TOOBIG)
            return errf(e, ERR_TOOBIG, "record: line longer than %u bytes", LIMIT_RECORD_BYTES);
        if (rc <= 0) {
            *fatal = rc < 0;
            return rc;
        }
        size_t i = 0;
        while (i < r->rec.len && (r->rec.p[i] == ' ' || r->rec.p[i] == '\t'))
            i++;
        if (i == r->rec.len)
            continue; /* blank lines between records are allowed */
        *text = r->rec.p;
        *len = r->rec.len;
        return 1;
    }
}

uint64_t obs_reader_offset(const struct obs_reader *r) { return r->offset; }

void obs_reader_free(struct obs_reader *r)
{
    if (!r)
        return;
    buf_reset(&r->rec);
    json_decref(r->doc);
    free(r->item_text);
    for (size_t i = 0; i < r->n_cols; i++)
        free(r->cols[i]);
    free(r);
}
