/* test_server_config.c: the configuration of `truce serve`: the defaults, every key from text
 * (file names and flag names with dashes), range and name errors, and the key = value file with
 * comments, blank lines, quotes and CRLF, errors naming the file and line; the shipped
 * examples/systemd/truce.conf reads. */
#include <stdlib.h>
#include <unistd.h>

#include "server/server.h"
#include "t.h"

static void test_defaults(void)
{
    struct server_config c;
    server_config_default(&c);
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_STR(c.data, "");
    CHECK_INT(c.log_level, HTTP_LOG_INFO);
    CHECK_INT(c.lim.max_connections, HTTP_MAX_CONNECTIONS);
    CHECK_INT(c.lim.timeout_s, HTTP_TIMEOUT_S);
    CHECK_INT((long long)c.lim.header_bytes, HTTP_HEADER_BYTES);
    CHECK_INT((long long)c.lim.body_bytes, HTTP_BODY_BYTES);
    CHECK_INT(c.drain_ms, SERVER_DRAIN_MS);
}

static void test_set(void)
{
    struct server_config c;
    server_config_default(&c);
    struct errbuf e;
    CHECK_INT(server_config_set(&c, "max-connections", "1024", &e), 0);
    CHECK_INT(c.lim.max_connections, 1024);
    CHECK_INT(server_config_set(&c, "log_level", "warn", &e), 0);
    CHECK_INT(c.log_level, HTTP_LOG_WARN);
    CHECK_INT(server_config_set(&c, "drain-ms", "0", &e), 0);
    CHECK_INT(c.drain_ms, 0);
    CHECK_INT(server_config_set(&c, "timeout_s", "0", &e), ERR_INVAL);
    CHECK_STR(e.msg, "timeout_s: \"0\" is not a whole number from 1 to 3600");
    CHECK_INT(server_config_set(&c, "header_bytes", "12k", &e), ERR_INVAL);
    CHECK_INT(server_config_set(&c, "log_level", "verbose", &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "debug, info, warn or error");
    CHECK_INT(server_config_set(&c, "colour", "blue", &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "unknown setting \"colour\"");
    CHECK_INT(server_config_set(&c, "listen", "", &e), ERR_INVAL);
    CHECK_INT(c.lim.max_connections, 1024); /* failed sets changed nothing */
}

static char path[64];

static int load_text(const char *text, struct server_config *c, struct errbuf *e)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    server_config_default(c);
    return server_config_load(path, c, e);
}

static void test_file(void)
{
    struct server_config c;
    struct errbuf e;
    CHECK_INT(load_text("# truce\r\n\r\n  listen = 0.0.0.0:9000  \r\ndata=\"/var/lib/truce data\"\n"
                        "\t# indented comment\nmax_connections=7\nbody_bytes = 2048", &c, &e), 0);
    CHECK_STR(c.listen, "0.0.0.0:9000");
    CHECK_STR(c.data, "/var/lib/truce data");
    CHECK_INT(c.lim.max_connections, 7);
    CHECK_INT((long long)c.lim.body_bytes, 2048);
    CHECK_INT(load_text("listen = 127.0.0.1:1\nlisten\n", &c, &e), ERR_PARSE);
    CHECK_CONTAINS(e.msg, ":2: expected key = value");
    CHECK_INT(load_text("\n\nlog_levle = info\n", &c, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, ":3: unknown setting \"log_levle\"");
    CHECK_INT(load_text("timeout_s = 1\0x", &c, &e), 0); /* fputs stops at the NUL */
    CHECK_INT(server_config_load("/nonexistent/truce.conf", &c, &e) != 0, 1);
    CHECK_CONTAINS(e.msg, "/nonexistent/truce.conf");
    server_config_default(&c);
    CHECK_INT(server_config_load("examples/systemd/truce.conf", &c, &e), 0);
    CHECK_STR(c.data, "/var/lib/truce/data");
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/truce-test-config-%ld", (long)getpid());
    static const struct t_case tests[] = {
        T(test_defaults),
        T(test_set),
        T(test_file),
    };
    int rc = T_RUN(tests);
    unlink(path);
    return rc;
}
