/* util.c: error messages, buffers, bounded file I/O, strings and time for every truce module.
 *
 * Time zones are resolved with the C library's own zoneinfo reader (TZ + tzset + mktime), so
 * there is no time-zone code of our own to get wrong; those calls are serialised by a mutex and
 * leave TZ set to the last zone used (see use_zone). Times with an explicit offset never touch
 * TZ. */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *err_str(int code)
{
    switch (code) {
#define ERR_CASE_(name, val, text)                                                          \
    case val:                                                                               \
        return text;
        ERR_TABLE(ERR_CASE_)
#undef ERR_CASE_
    default:
        return "unknown error";
    }
}

int errf(struct errbuf *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void errprefix(struct errbuf *e, const char *fmt, ...)
{
    if (!e)
        return;
    char pre[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", pre, old);
}

/* ---- buffers ---- */

void buf_init(struct buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    free(b->p);
    buf_init(b);
}

static int buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return ERR_NOMEM;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n))
        return ERR_NOMEM;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return ERR_INVAL;
    if (buf_reserve(b, (size_t)n))
        return ERR_NOMEM;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* The length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 when it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int buf_json_str(struct buf *b, const char *s)
{
    if (buf_append(b, "\"", 1))
        return ERR_NOMEM;
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        /* copy the longest run that needs no escape in one go (valid UTF-8 is kept as it is) */
        const unsigned char *q = p;
        for (;;) {
            if (*q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') {
                q++;
            } else if (*q >= 0x80) {
                size_t n = utf8_len(q);
                if (!n)
                    break;
                q += n;
            } else {
                break;
            }
        }
        if (q > p && buf_append(b, p, (size_t)(q - p)))
            return ERR_NOMEM;
        if (!*q)
            break;
        char esc[8];
        const char *out;
        switch (*q) {
        case '"': out = "\\\""; break;
        case '\\': out = "\\\\"; break;
        case '\n': out = "\\n"; break;
        case '\r': out = "\\r"; break;
        case '\t': out = "\\t"; break;
        default:
            if (*q >= 0x80) {
                out = "\\ufffd"; /* a byte that is not valid UTF-8: the replacement character */
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", *q);
                out = esc;
            }
        }
        if (buf_append(b, out, strlen(out)))
            return ERR_NOMEM;
        p = q + 1;
    }
    return buf_append(b, "\"", 1);
}

static void die_nomem(void)
{
    fputs("truce: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_nomem();
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        die_nomem();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_nomem();
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* ---- files ---- */

int file_read(const char *path, size_t limit, char **out, size_t *len, struct errbuf *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errf(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    int rc = 0;
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > limit) {
            rc = errf(e, ERR_TOOBIG, "%s: larger than the limit of %zu bytes", path, limit);
            goto out;
        }
        if (buf_append(&b, chunk, n)) {
            rc = errf(e, ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    if (ferror(f)) {
        rc = errf(e, ERR_IO, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    if (!b.p && buf_append(&b, "", 0)) {
        rc = errf(e, ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    *out = b.p;
    *len = b.len;
    b.p = NULL;
out:
    buf_reset(&b);
    fclose(f);
    return rc;
}

int file_read_line(const char *path, size_t limit, char *out, size_t n, struct errbuf *e)
{
    char *text;
    size_t len;
    int rc = file_read(path, limit, &text, &len, e);
    if (rc)
        return rc;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = 0;
    str_copy(out, n, text);
    free(text);
    return 0;
}

int file_write_atomic(const char *path, const void *data, size_t n, struct errbuf *e)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return errf(e, ERR_INVAL, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errf(e, ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            close(fd);
            unlink(tmp);
            return errf(e, ERR_IO, "%s: write failed: %s", tmp, strerror(err));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return errf(e, ERR_IO, "%s: sync failed: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return errf(e, ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    }
    return 0;
}

int path_join(char *out, size_t n, const char *dir, const char *rel)
{
    int w = rel[0] == '/' ? snprintf(out, n, "%s", rel) : snprintf(out, n, "%s/%s", dir, rel);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

void path_dirname(char *out, size_t n, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        str_copy(out, n, ".");
        return;
    }
    size_t len = (size_t)(slash - path);
    if (len == 0)
        len = 1;
    if (len >= n)
        len = n - 1;
    memcpy(out, path, len);
    out[len] = 0;
}

/* ---- strings ---- */

int str_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

int str_to_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int str_to_ll(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

void str_copy(char *dst, size_t n, const char *src)
{
    if (!n)
        return;
    size_t len = strlen(src);
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

size_t str_utoa(char *buf, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

const char *str_join(char *dst, size_t n, const char *a, const char *b, const char *c)
{
    size_t o = 0;
    const char *parts[3] = {a, b, c};
    for (int k = 0; k < 3; k++)
        for (const char *p = parts[k]; p && *p && o + 1 < n; p++)
            dst[o++] = *p;
    if (n)
        dst[o] = 0;
    return dst;
}

/* ---- time ---- */

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

bool time_zone_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 64 || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return false;
    if (strcmp(name, "UTC") == 0)
        return true;
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Points the C library's local time at zone. Called under tz_lock. The zone stays set until
 * another is asked for: re-reading the zoneinfo file for every record would cost more than the
 * rest of ingest, and truce keeps no other use of the process's local time. */
static void use_zone(const char *zone)
{
    const char *cur = getenv("TZ");
    if (cur && !strcmp(cur, zone))
        return;
    setenv("TZ", zone, 1);
    tzset();
}

/* Runs mktime with the local time zone set to zone, under the lock. */
static int with_zone_mktime(struct tm *tm, const char *zone, time_t *out)
{
    pthread_mutex_lock(&tz_lock);
    use_zone(zone);
    time_t t = mktime(tm);
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1)
        return ERR_INVAL;
    *out = t;
    return 0;
}

/* A broken-down local wall time for mktime; isdst as mktime takes it. */
static struct tm wall_tm(int y, int mo, int d, int hh, int mm, int isdst)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_isdst = isdst;
    return tm;
}

int time_local_to_utc(int y, int mo, int d, int hh, int mm, const char *zone, int64_t *out_ms)
{
    if (!time_zone_valid(zone) || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return ERR_INVAL;
    /* mktime with tm_isdst = -1 picks either reading of a repeated hour depending on earlier
     * calls. Try standard and summer time separately, keep the readings that give back the
     * same wall time, and take the earlier: deterministic for ambiguous times. A time that does
     * not exist (the hour skipped in spring) keeps mktime's reading with the offset before the
     * change. */
    time_t best = (time_t)-1;
    bool found = false;
    for (int dst = 0; dst <= 1; dst++) {
        struct tm tm = wall_tm(y, mo, d, hh, mm, dst);
        time_t t;
        if (with_zone_mktime(&tm, zone, &t))
            continue;
        if (tm.tm_year == y - 1900 && tm.tm_mon == mo - 1 && tm.tm_mday == d && tm.tm_hour == hh &&
            tm.tm_min == mm && (!found || t < best)) {
            best = t;
            found = true;
        }
    }
    if (!found) {
        struct tm tm = wall_tm(y, mo, d, hh, mm, -1);
        if (with_zone_mktime(&tm, zone, &best))
            return ERR_INVAL;
    }
    *out_ms = (int64_t)best * 1000;
    return 0;
}

static int parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int time_parse(const char *s, const char *zone, int64_t *out_ms, struct errbuf *e)
{
    const char *p = s;
    int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0;
    if (!s || strlen(s) > 64)
        return errf(e, ERR_PARSE, "not an RFC 3339 time");
    if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
        parse_digits(&p, 2, &d))
        return errf(e, ERR_PARSE, "\"%s\" is not an RFC 3339 time (YYYY-MM-DDThh:mm:ssZ)", s);
    bool date_only = *p == 0;
    if (!date_only) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return errf(e, ERR_PARSE, "\"%s\" is not an RFC 3339 time (YYYY-MM-DDThh:mm:ssZ)",
                        s);
        p++;
        if (parse_digits(&p, 2, &hh) || *p++ != ':' || parse_digits(&p, 2, &mi))
            return errf(e, ERR_PARSE, "\"%s\" is not an RFC 3339 time (YYYY-MM-DDThh:mm:ssZ)",
                        s);
        if (*p == ':') {
            p++;
            if (parse_digits(&p, 2, &ss))
                return errf(e, ERR_PARSE, "\"%s\": bad seconds", s);
            if (*p == '.') {
                p++;
                int scale = 100, nd = 0;
                while (isdigit((unsigned char)*p)) {
                    if (nd++ < 3) {
                        ms += (*p - '0') * scale;
                        scale /= 10;
                    }
                    p++;
                }
                if (!nd)
                    return errf(e, ERR_PARSE, "\"%s\": bad fraction of a second", s);
            }
        }
    }
    if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        hh > 23 || mi > 59 || ss > 60)
        return errf(e, ERR_INVAL, "\"%s\": a date or time field is out of range", s);
    if (ss == 60)
        ss = 59; /* a leap second is folded into the second before it */
    int64_t base = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss;
    if (*p == 'Z' || *p == 'z') {
        if (p[1])
            return errf(e, ERR_PARSE, "\"%s\": text after the time", s);
        *out_ms = base * 1000 + ms;
        return 0;
    }
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om) || *p)
            return errf(e, ERR_PARSE, "\"%s\": bad UTC offset (use +hh:mm)", s);
        if (oh > 23 || om > 59)
            return errf(e, ERR_INVAL, "\"%s\": UTC offset out of range", s);
        *out_ms = (base - sign * (oh * 3600 + om * 60)) * 1000 + ms;
        return 0;
    }
    if (*p)
        return errf(e, ERR_PARSE, "\"%s\": text after the time", s);
    if (!zone)
        return errf(e, ERR_INVAL,
                    "\"%s\" has no UTC offset and no time zone is given (add Z, +hh:mm or a "
                    "\"tz\" field)",
                    s);
    if (!time_zone_valid(zone))
        return errf(e, ERR_INVAL, "unknown time zone \"%s\" (use an IANA name such as Europe/Kyiv)",
                    zone);
    int64_t t;
    if (time_local_to_utc(y, mo, d, hh, mi, zone, &t))
        return errf(e, ERR_INVAL, "\"%s\" cannot be placed in time zone %s", s, zone);
    *out_ms = t + ss * 1000 + ms;
    return 0;
}

void time_format_utc(int64_t ms, char *out, size_t n)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* The zone's UTC offset in seconds at t (whole seconds since the epoch). Every zone changes its
 * offset on a multiple of 15 minutes of UTC, so answers are kept per thread in a direct-mapped
 * table of 15-minute blocks (about 42 days of distinct blocks before entries are replaced). */
#define ZONE_CACHE_SLOTS 4096
static long zone_offset_s(time_t t, const char *zone)
{
    static _Thread_local char cached_zone[72];
    static _Thread_local struct {
        long long block;
        long off;
        bool used;
    } slot[ZONE_CACHE_SLOTS];
    if (strcmp(cached_zone, zone)) {
        memset(slot, 0, sizeof slot);
        str_copy(cached_zone, sizeof cached_zone, zone);
    }
    long long block = (long long)(t >= 0 ? t / 900 : (t - 899) / 900);
    size_t i = (size_t)((unsigned long long)block % ZONE_CACHE_SLOTS);
    if (slot[i].used && slot[i].block == block)
        return slot[i].off;
    struct tm tm;
    pthread_mutex_lock(&tz_lock);
    use_zone(zone);
    localtime_r(&t, &tm);
    pthread_mutex_unlock(&tz_lock);
    slot[i].block = block;
    slot[i].off = tm.tm_gmtoff;
    slot[i].used = true;
    return tm.tm_gmtoff;
}

void time_format_local(int64_t ms, const char *zone, char *out, size_t n)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    long off = zone_offset_s(t, zone);
    int64_t local = (int64_t)t + off;
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int64_t sod = local - days * 86400;
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (n < 26 || y < 0 || y > 9999) {
        snprintf(out, n, "%04d-%02d-%02d", y, mo, d);
        return;
    }
    /* "2016-09-10T18:00:00+03:00" */
    char *p = out;
    put2(p, y / 100);
    put2(p + 2, y % 100);
    p[4] = '-';
    put2(p + 5, mo);
    p[7] = '-';
    put2(p + 8, d);
    p[10] = 'T';
    put2(p + 11, (int)(sod / 3600));
    p[13] = ':';
    put2(p + 14, (int)(sod / 60 % 60));
    p[16] = ':';
    put2(p + 17, (int)(sod % 60));
    long a = off < 0 ? -off : off;
    p[19] = off < 0 ? '-' : '+';
    put2(p + 20, (int)(a / 3600));
    p[22] = ':';
    put2(p + 23, (int)(a / 60 % 60));
    p[25] = 0;
}

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
