/* http_bench.h: what the HTTP benchmarks (bench_http_*.c) share: temporary directories, a data
 * directory made by `truce init` with the minsk-2015 agreement, `truce serve` started on a free
 * loopback port and stopped by a signal, a libcurl GET, the resident memory of a process, and the
 * one-observation body the load generators post. Static functions: each benchmark is one program.
 *
 * The truce binary is $TRUCE, else build/truce (run from the repository root, as `make bench`
 * does). */
#ifndef TRUCE_BENCH_HTTP_H
#define TRUCE_BENCH_HTTP_H
#define _XOPEN_SOURCE 700 /* nftw */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HB_AGREEMENT "examples/minsk-2015/agreement.json"
#define HB_START_TIMEOUT_S 30 /* how long a server may take to answer /healthz */

/* A fire report of the minsk-2015 scenario with its own client id (printf: the id). */
#define HB_OBS_FMT                                                                               \
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":" \
    "\"%s\",\"time\":\"2016-10-11T10:00:00Z\",\"means\":\"patrol\",\"observer\":{\"place\":"   \
    "\"Avdiivka\"},\"event_type\":\"shot\",\"count\":1}}"

/* Every benchmark uses some of these. */
#define HB_FN static __attribute__((unused))

static const char *hb_name = "bench_http";

HB_FN void hb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", hb_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

HB_FN double hb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *hb_truce(void)
{
    const char *t = getenv("TRUCE");
    return t && *t ? t : "build/truce";
}

HB_FN int hb_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

HB_FN void hb_rmtree(const char *dir)
{
    if (getenv("TRUCE_BENCH_KEEP"))
        fprintf(stderr, "%s: kept %s\n", hb_name, dir);
    else
        nftw(dir, hb_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

HB_FN void hb_mkdtemp(char *out, size_t n, const char *what)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, n, "%s/truce-%s-XXXXXX", t && *t ? t : "/tmp", what);
    if (!mkdtemp(out))
        hb_die("mkdtemp %s: %s", out, strerror(errno));
}

/* Runs argv (NULL-terminated) with stdout and stderr to log (NULL: inherited); returns its exit
 * status, or -1. */
HB_FN int hb_run(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        hb_die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The token of the admin user hb_init_data made (routes name their roles: docs/api.md), and the
 * header that carries it. */
static char hb_token[128];
static char hb_auth_header[160];

HB_FN void hb_init_data(const char *data)
{
    char *argv[] = {(char *)hb_truce(), "init", (char *)data, "--agreement", HB_AGREEMENT, NULL};
    if (hb_run(argv, "/dev/null"))
        hb_die("truce init %s failed", data);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --data '%s' user add bench --role admin 2>/dev/null", hb_truce(),
             data);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(hb_token, sizeof hb_token, p))
        hb_die("truce user add in %s failed", data);
    pclose(p);
    hb_token[strcspn(hb_token, "\r\n")] = 0;
    snprintf(hb_auth_header, sizeof hb_auth_header, "Authorization: Bearer %s", hb_token);
}

/* A GET; returns the status (0: no answer). */
HB_FN long hb_get(const char *url)
{
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    struct curl_slist *h = hb_auth_header[0] ? curl_slist_append(NULL, hb_auth_header) : NULL;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    fclose(sink);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return code;
}

struct hb_server {
    pid_t pid;
    unsigned port;
    char url[64];
};

/* Starts `truce --data DATA serve --listen 127.0.0.1:0 EXTRA...` (extra: NULL-terminated flag
 * list) with stdout to DATA.out and stderr (the JSON logs) to DATA.log; waits for /healthz. */
HB_FN void hb_serve(const char *data, const char *const *extra, struct hb_server *s)
{
    char out[4200], log[4200];
    snprintf(out, sizeof out, "%s.out", data);
    snprintf(log, sizeof log, "%s.log", data);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)hb_truce();
    argv[n++] = "--data";
    argv[n++] = (char *)data;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (int i = 0; extra && extra[i] && n < 30; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        hb_die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fl = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fo >= 0)
            dup2(fo, 1);
        if (fl >= 0)
            dup2(fl, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    s->pid = pid;
    s->port = 0;
    double t0 = hb_now();
    while (hb_now() - t0 < HB_START_TIMEOUT_S) {
        FILE *f = fopen(out, "r");
        char line[256];
        if (f) {
            while (fgets(line, sizeof line, f)) {
                const char *p = strstr(line, "(port ");
                if (p)
                    s->port = (unsigned)atoi(p + 6);
            }
            fclose(f);
        }
        if (s->port) {
            snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", s->port);
            char h[96];
            snprintf(h, sizeof h, "%s/healthz", s->url);
            if (hb_get(h) == 200)
                return;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            hb_die("truce serve exited at start (see %s)", log);
        usleep(50000);
    }
    hb_die("truce serve did not come up within %d s (see %s)", HB_START_TIMEOUT_S, log);
}

/* Sends sig and waits; returns the exit status (-1: killed by a signal). */
HB_FN int hb_stop(struct hb_server *s, int sig)
{
    kill(s->pid, sig);
    int st;
    waitpid(s->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Resident memory of pid in KiB (0: unknown). */
HB_FN long hb_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* A free loopback port (bound and released: another process could take it in between). */
HB_FN unsigned hb_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        hb_die("no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

#endif
