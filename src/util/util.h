/* util.h: the small shared pieces every truce module uses: error codes and error messages that
 * name the place and the reason, the named limits on untrusted input, a growable byte buffer,
 * bounded file reading, and time (RFC 3339 and IANA time zones <-> Unix milliseconds UTC).
 *
 * Nothing here knows about agreements, observations or the store. */
#ifndef TRUCE_UTIL_H
#define TRUCE_UTIL_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))

/* ---- error codes: 0 is success, failures are negative ---- */
#define ERR_TABLE(X)                                                                        \
    X(ERR_NOMEM, -1, "out of memory")                                                       \
    X(ERR_TOOBIG, -2, "input too large")                                                    \
    X(ERR_PARSE, -3, "malformed input")                                                     \
    X(ERR_INVAL, -4, "invalid value")                                                       \
    X(ERR_NOTFOUND, -5, "not found")                                                        \
    X(ERR_CONFLICT, -6, "conflict")                                                         \
    X(ERR_IO, -7, "input/output error")                                                     \
    X(ERR_DB, -8, "database error")
enum err_code {
#define ERR_ENUM_(name, val, text) name = val,
    ERR_TABLE(ERR_ENUM_)
#undef ERR_ENUM_
};
/* Short English text of a code ("malformed input"); "unknown error" for others. */
const char *err_str(int code);

/* ---- named limits on untrusted input (one place, as the house rules ask) ---- */
#define LIMIT_FILE_BYTES (64u << 20)      /* one agreement or GeoJSON file */
#define LIMIT_RECORD_BYTES (1u << 20)     /* one observation record (NDJSON line, CSV row) */
#define LIMIT_BATCH_RECORDS 1000000u      /* records in one JSON array */
#define LIMIT_STRING_BYTES 4096           /* one string field (remarks may be longer, below) */
#define LIMIT_REMARKS_BYTES 4096          /* free text of one observation */
#define LIMIT_EVENTS_PER_OBS 32           /* event rows bundled in one observation */
#define LIMIT_POLYGON_VERTICES 200000     /* vertices of one geometry in an agreement */
#define LIMIT_OBS_POLYGON_VERTICES 4096   /* vertices of an observation's polygon */
#define LIMIT_AGREEMENT_ITEMS 10000       /* zones, rules, classes in one agreement */
#define LIMIT_AGREEMENT_LINES 8           /* reference lines in one agreement */
#define LIMIT_AGREEMENT_REGIONS 63        /* report regions in one agreement */
#define LIMIT_PLACES 1000000              /* gazetteer entries */
#define LIMIT_CSV_COLUMNS 64              /* columns of an observation CSV */

/* ---- error detail: a fixed buffer, no allocation on the error path ---- */
struct errbuf {
    char msg[1024];
};
/* Formats a message into e (if e is non-NULL) and returns code, so callers can write
 * `return errf(e, ERR_INVAL, "...", ...)`. */
int errf(struct errbuf *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to the message already in e. */
void errprefix(struct errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- growable buffer (always NUL-terminated) ---- */
struct buf {
    char *p;
    size_t len, cap;
};
void buf_init(struct buf *b);
void buf_reset(struct buf *b); /* frees the memory; b is empty and reusable */
int buf_append(struct buf *b, const void *data, size_t n) WUR;
int buf_printf(struct buf *b, const char *fmt, ...) WUR __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) WUR;
/* Appends s as a JSON string literal with quotes and escapes; bytes that are not valid UTF-8
 * become U+FFFD, so the output is always valid JSON. */
int buf_json_str(struct buf *b, const char *s) WUR;
/* Allocation helpers that abort with a message when memory is exhausted; for CLI-lifetime data
 * only (agreement, gazetteer), never on paths that handle a record. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Reads a whole file of at most limit bytes into *out (NUL-terminated, caller frees). */
int file_read(const char *path, size_t limit, char **out, size_t *len, struct errbuf *e) WUR;
/* Reads a small file of at most limit bytes holding one line (a key) into out (size n), without
 * its line end. */
int file_read_line(const char *path, size_t limit, char *out, size_t n, struct errbuf *e) WUR;
/* Writes data to path atomically (temp file, fsync, rename). */
int file_write_atomic(const char *path, const void *data, size_t n, struct errbuf *e) WUR;
/* Joins dir and rel into out (size n); rel if absolute. Returns -1 if it does not fit. */
int path_join(char *out, size_t n, const char *dir, const char *rel) WUR;
/* Directory part of path into out (size n), "." when there is none. */
void path_dirname(char *out, size_t n, const char *path);

/* ---- time: int64 Unix milliseconds UTC ---- */
#define TIME_NONE INT64_MIN
/* True when name is an IANA zone present in the system's zoneinfo ("Europe/Kyiv", "UTC"). */
bool time_zone_valid(const char *name);
/* Parses RFC 3339 ("2016-09-10T18:00:00+03:00", "...Z", fractional seconds) into ms UTC. When
 * the string has no offset and zone is non-NULL, the time is local time in that IANA zone; with
 * no offset and no zone it is an error. A date alone ("2016-09-10") is midnight in the zone.
 * Errors: ERR_PARSE (shape), ERR_INVAL (out-of-range field, unknown zone). */
int time_parse(const char *s, const char *zone, int64_t *out_ms, struct errbuf *e) WUR;
/* Writes RFC 3339 UTC with a Z, whole seconds ("2016-09-10T15:00:00Z"), into out (size >= 32). */
void time_format_utc(int64_t ms, char *out, size_t n);
/* Writes the local time in zone as RFC 3339 with its offset ("2016-09-10T18:00:00+03:00"). */
void time_format_local(int64_t ms, const char *zone, char *out, size_t n);
/* The UTC instant of local wall time y-m-d hh:mm in zone. Returns 0 or ERR_INVAL. For a wall time
 * that does not exist or is ambiguous (DST change) the earlier instant is taken. */
int time_local_to_utc(int y, int mo, int d, int hh, int mm, const char *zone, int64_t *out_ms) WUR;
/* Current time in ms UTC. */
int64_t time_now_ms(void);

/* ---- strings ---- */
/* Case-insensitive ASCII comparison. */
int str_casecmp(const char *a, const char *b);
/* Parses a decimal double filling the whole string; returns 0 or -1. */
int str_to_double(const char *s, double *out) WUR;
/* Parses a decimal long long filling the whole string; returns 0 or -1. */
int str_to_ll(const char *s, long long *out) WUR;
/* Copies src into dst of size n, truncating; always NUL-terminates. */
void str_copy(char *dst, size_t n, const char *src);
/* Writes the decimal digits of v at buf (at least 21 bytes), NUL-terminated; returns their
 * number. For hot paths where printf's format parsing would dominate. */
size_t str_utoa(char *buf, unsigned long long v);
/* Joins a, b and c (c may be NULL) into dst of size n, truncating; returns dst. */
const char *str_join(char *dst, size_t n, const char *a, const char *b, const char *c);

#endif
