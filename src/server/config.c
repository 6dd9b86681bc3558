/* config.c: the configuration of `truce serve`: defaults, one key set from text (the file and the
 * flags share it), and the key = value file reader. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void server_config_default(struct server_config *c)
{
    memset(c, 0, sizeof *c);
    str_copy(c->listen, sizeof c->listen, SERVER_DEFAULT_LISTEN);
    c->log_level = HTTP_LOG_INFO;
    http_limits_default(&c->lim);
    c->drain_ms = SERVER_DRAIN_MS;
}

/* A whole number from lo to hi. */
static int number(const char *key, const char *value, long long lo, long long hi, long long *out,
                  struct errbuf *e)
{
    if (str_to_ll(value, out) || *out < lo || *out > hi)
        return errf(e, ERR_INVAL, "%s: \"%s\" is not a whole number from %lld to %lld", key,
                    value, lo, hi);
    return 0;
}

int server_config_set(struct server_config *c, const char *key, const char *value,
                      struct errbuf *e)
{
    char k[64];
    str_copy(k, sizeof k, key);
    for (char *p = k; *p; p++)
        if (*p == '-')
            *p = '_';
    long long n;
    int rc = 0;
    if (!strcmp(k, "data")) {
        if (!*value || strlen(value) >= sizeof c->data)
            return errf(e, ERR_INVAL, "data: a directory path of 1 to %zu bytes",
                        sizeof c->data - 1);
        str_copy(c->data, sizeof c->data, value);
    } else if (!strcmp(k, "listen")) {
        if (!*value || strlen(value) >= sizeof c->listen)
            return errf(e, ERR_INVAL, "listen: HOST:PORT of at most %zu bytes",
                        sizeof c->listen - 1);
        str_copy(c->listen, sizeof c->listen, value);
    } else if (!strcmp(k, "log_level")) {
        if (http_log_level_parse(value, &c->log_level))
            return errf(e, ERR_INVAL, "log_level: \"%s\" is not debug, info, warn or error",
                        value);
    } else if (!strcmp(k, "max_connections")) {
        if (!(rc = number(k, value, 1, 65536, &n, e)))
            c->lim.max_connections = (unsigned)n;
    } else if (!strcmp(k, "timeout_s")) {
        if (!(rc = number(k, value, 1, 3600, &n, e)))
            c->lim.timeout_s = (unsigned)n;
    } else if (!strcmp(k, "header_bytes")) {
        if (!(rc = number(k, value, 1024, 1 << 20, &n, e)))
            c->lim.header_bytes = (size_t)n;
    } else if (!strcmp(k, "body_bytes")) {
        if (!(rc = number(k, value, 1024, 1LL << 30, &n, e)))
            c->lim.body_bytes = (size_t)n;
    } else if (!strcmp(k, "threads")) {
        if (!(rc = number(k, value, 0, HTTP_THREADS_MAX, &n, e)))
            c->lim.threads = (unsigned)n;
    } else if (!strcmp(k, "drain_ms")) {
        if (!(rc = number(k, value, 0, 600000, &n, e)))
            c->drain_ms = (unsigned)n;
    } else {
        return errf(e, ERR_INVAL,
                    "unknown setting \"%s\" (data, listen, log_level, max_connections, "
                    "timeout_s, header_bytes, body_bytes, threads, drain_ms)",
                    key);
    }
    return rc;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

int server_config_load(const char *path, struct server_config *c, struct errbuf *e)
{
    char *text;
    size_t len;
    int rc = file_read(path, SERVER_CONFIG_BYTES, &text, &len, e);
    if (rc)
        return rc;
    if (memchr(text, 0, len)) {
        free(text);
        return errf(e, ERR_PARSE, "%s: not a text file", path);
    }
    int line_no = 0;
    char *p = text;
    while (!rc && p && *p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        line_no++;
        char *line = trim(p);
        p = nl ? nl + 1 : NULL;
        if (strlen(line) >= SERVER_CONFIG_LINE) {
            rc = errf(e, ERR_TOOBIG, "%s:%d: a line longer than %d bytes", path, line_no,
                      SERVER_CONFIG_LINE);
            break;
        }
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = errf(e, ERR_PARSE, "%s:%d: expected key = value", path, line_no);
            break;
        }
        *eq = 0;
        char *key = trim(line), *value = trim(eq + 1);
        size_t vn = strlen(value);
        if (vn >= 2 && value[0] == '"' && value[vn - 1] == '"') {
            value[vn - 1] = 0;
            value++;
        }
        struct errbuf ke;
        if (server_config_set(c, key, value, &ke))
            rc = errf(e, ERR_INVAL, "%s:%d: %s", path, line_no, ke.msg);
    }
    free(text);
    return rc;
}
