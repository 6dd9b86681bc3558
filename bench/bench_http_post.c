/* bench_http_post.c: intake over HTTP against its baselines, in one run, on loopback.
 *
 * 1. One observation per POST (issue 5: at least 20,000 requests/s, and at least 30% of nginx's
 *    rate for a static 204 on the same machine in the same run). nginx (Debian's nginx-light,
 *    worker_processes auto, access log on, `return 204`) is loaded by wrk with GET; then
 *    `truce serve` on a fresh data directory (minsk-2015, transparency log on, log_level info
 *    with stderr to a file) is loaded by the same wrk settings with bench/post_one.lua, which
 *    POSTs a fire report with its own client id per request. Every request must be answered 2xx
 *    and the server's group commits must have stored every acknowledged record (/metrics).
 * 2. NDJSON over HTTP (issue 5: at least 80% of the CLI's ingest rate): the same file of N
 *    records (the 25 sample observations repeated with new client ids) is ingested by
 *    `truce ingest --quiet FILE` into one fresh data directory and streamed by libcurl (POST,
 *    Content-Type: application/x-ndjson) to `truce serve` over another; both end with every
 *    record durable (log synced, committed). Timed: the CLI process; the upload to its answer.
 *
 * 3. A realistic mix (figure for planning, no target): `truce simulate` (seed 5, 30 days, 2,000
 *    events a day: patrols, cameras, acoustic sensors, UAV and satellite reports with bearings,
 *    distances and noise) makes the reports, and bench/post_mix.lua POSTs them one per request in
 *    turn (each with its own client id) to a fresh `truce serve`, with the same wrk settings.
 *    Fusion of many nearby events costs far more per report than the repeated report of 1.
 *
 * Flags: --seconds N (wrk duration, default 10), --connections N (default 1000), --threads N
 * (wrk threads, default 2), --ndjson N (records, default 200000), --no-mix (skip 3). Needs wrk and nginx
 * (`make bench-deps`). Prints the figures and ratios; exits 1 when a target is missed, 2 when
 * something could not be run. TRUCE_BENCH_KEEP=1 keeps the temporary directory. */
#include "http_bench.h"

#define TARGET_RPS 20000.0
#define TARGET_NGINX_RATIO 0.30
#define TARGET_NDJSON_RATIO 0.80
#define SAMPLE "examples/minsk-2015/observations.ndjson"
#define LUA_SCRIPT "bench/post_one.lua"
#define LUA_MIX "bench/post_mix.lua"

struct wrk_result {
    double rps;
    long long requests, non2xx, socket_errors;
};

/* Runs wrk and reads its summary. */
static void wrk(const char *url, const char *script, const char *arg, int threads, int conns,
                int seconds, struct wrk_result *r)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "wrk -t%d -c%d -d%ds --timeout 10s %s%s %s%s%s 2>&1", threads, conns,
             seconds, script ? "-s " : "", script ? script : "", url, arg ? " -- " : "",
             arg ? arg : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        hb_die("cannot run wrk");
    memset(r, 0, sizeof *r);
    char line[512];
    while (fgets(line, sizeof line, p)) {
        long long a, b, c, d;
        double x;
        char unit[16];
        if (sscanf(line, " %lld requests in %lf%15s", &a, &x, unit) == 3)
            r->requests = a;
        else if (sscanf(line, "Requests/sec: %lf", &x) == 1)
            r->rps = x;
        else if (sscanf(line, " Non-2xx or 3xx responses: %lld", &a) == 1)
            r->non2xx = a;
        else if (sscanf(line, " Socket errors: connect %lld, read %lld, write %lld, timeout %lld",
                        &a, &b, &c, &d) == 4)
            r->socket_errors = a + b + c + d;
    }
    if (pclose(p) != 0 || r->requests == 0)
        hb_die("wrk failed: %s", cmd);
}

static pid_t nginx_start(const char *dir, unsigned port)
{
    char conf[4200];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        hb_die("%s: %s", conf, strerror(errno));
    fprintf(f,
            "daemon off;\nworker_processes auto;\npid %s/nginx.pid;\nerror_log %s/nginx.err;\n"
            "events { worker_connections 4096; }\n"
            "http {\n  access_log %s/nginx.access;\n  client_body_temp_path %s;\n"
            "  proxy_temp_path %s;\n  fastcgi_temp_path %s;\n  uwsgi_temp_path %s;\n"
            "  scgi_temp_path %s;\n"
            "  server { listen 127.0.0.1:%u; location / { return 204; } }\n}\n",
            dir, dir, dir, dir, dir, dir, dir, dir, port);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        char log[4200];
        snprintf(log, sizeof log, "%s/nginx.out", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
        _exit(127);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    for (int i = 0; i < 200; i++) {
        if (hb_get(url) == 204)
            return pid;
        usleep(50000);
    }
    kill(pid, SIGTERM);
    hb_die("nginx did not answer 204 on %s (see %s/nginx.err)", url, dir);
    return -1;
}

/* fdatasyncs per second of 4 KiB appends in dir for about a second: the disk the group commit
 * waits on (the issue assumes about 5,000). */
static double fsync_rate(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fsync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 0;
    char block[4096];
    memset(block, 'x', sizeof block);
    double t0 = hb_now();
    long n = 0;
    while (hb_now() - t0 < 1.0) {
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fdatasync(fd))
            break;
        n++;
    }
    double t = hb_now() - t0;
    close(fd);
    unlink(path);
    return (double)n / t;
}

/* A value from the server's /metrics. */
static long long metric(const char *base, const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -s -H '%s' %s/metrics", hb_auth_header, base);
    FILE *p = popen(cmd, "r");
    long long v = -1;
    char line[512];
    size_t n = strlen(name);
    while (p && fgets(line, sizeof line, p))
        if (!strncmp(line, name, n) && line[n] == ' ')
            v = atoll(line + n + 1);
    if (p)
        pclose(p);
    return v;
}

/* The NDJSON file: the sample's records repeated with client ids made unique. */
static void make_ndjson(const char *path, long n)
{
    FILE *in = fopen(SAMPLE, "r");
    if (!in)
        hb_die("%s: %s (run from the repository root)", SAMPLE, strerror(errno));
    char *lines[64];
    size_t nl = 0;
    char buf[16384];
    while (nl < 64 && fgets(buf, sizeof buf, in))
        if (strstr(buf, "\"client_id\": \""))
            lines[nl++] = strdup(buf);
    fclose(in);
    FILE *out = fopen(path, "w");
    if (!out || nl == 0)
        hb_die("%s: cannot write", path);
    for (long i = 0; i < n; i++) {
        const char *l = lines[i % (long)nl];
        const char *id = strstr(l, "\"client_id\": \"") + 14;
        const char *end = strchr(id, '"');
        fprintf(out, "%.*s-nd%ld%s", (int)(end - l), l, i, end);
    }
    fclose(out);
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
}

struct answer {
    char *p;
    size_t n;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct answer *a = ctx;
    size_t k = size * nmemb;
    char *q = realloc(a->p, a->n + k + 1);
    if (!q)
        return 0;
    memcpy(q + a->n, p, k);
    a->n += k;
    q[a->n] = 0;
    a->p = q;
    return k;
}

/* Streams path to POST /api/v1/observations; returns the seconds to the complete answer. */
static double post_ndjson(const char *base, const char *path, long n)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (!f || fstat(fileno(f), &sb))
        hb_die("%s: %s", path, strerror(errno));
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/observations", base);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    h = curl_slist_append(h, hb_auth_header);
    h = curl_slist_append(h, "Expect:");
    struct answer a = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READDATA, f);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sb.st_size);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    double t0 = hb_now();
    CURLcode rc = curl_easy_perform(c);
    double t = hb_now() - t0;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    char want[64];
    snprintf(want, sizeof want, "\"records\":%ld,\"accepted\":%ld,", n, n);
    if (rc != CURLE_OK || code != 200 || !a.p || !strstr(a.p, want))
        hb_die("NDJSON upload: %s, status %ld: %.300s", curl_easy_strerror(rc), code,
               a.p ? a.p : "");
    free(a.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(f);
    return t;
}

int main(int argc, char **argv)
{
    hb_name = "bench_http_post";
    int seconds = 10, conns = 1000, threads = 2;
    long n_nd = 200000;
    bool mix = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ndjson") && i + 1 < argc)
            n_nd = atol(argv[++i]);
        else if (!strcmp(argv[i], "--no-mix"))
            mix = false;
        else
            hb_die("usage: bench_http_post [--seconds N] [--connections N] [--threads N] "
                   "[--ndjson N] [--no-mix]");
    }
    if (seconds < 1 || conns < 1 || threads < 1 || n_nd < 1)
        hb_die("the numbers must be positive");
    if (system("command -v wrk >/dev/null && command -v nginx >/dev/null && "
               "command -v curl >/dev/null"))
        hb_die("needs wrk, nginx and curl: make bench-deps");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    char dir[4096];
    hb_mkdtemp(dir, sizeof dir, "bench-http");
    double fsyncs = fsync_rate(dir);

    /* 1. nginx, then truce, with the same wrk settings */
    unsigned port = hb_free_port();
    pid_t ng = nginx_start(dir, port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    struct wrk_result wn, wt;
    wrk(url, NULL, NULL, threads, conns, seconds, &wn);
    kill(ng, SIGQUIT);
    waitpid(ng, NULL, 0);

    char data[4200];
    snprintf(data, sizeof data, "%s/serve", dir);
    hb_init_data(data);
    char maxc[16];
    snprintf(maxc, sizeof maxc, "%d", conns + 64);
    const char *extra[] = {"--max-connections", maxc, NULL};
    struct hb_server s;
    hb_serve(data, extra, &s);
    char run[32 + sizeof hb_token];
    snprintf(run, sizeof run, "r%ld %s", (long)getpid(), hb_token);
    wrk(s.url, LUA_SCRIPT, run, threads, conns, seconds, &wt);
    long long stored = metric(s.url, "truce_group_records_total");
    long long commits = metric(s.url, "truce_group_commits_total");
    if (hb_stop(&s, SIGTERM) != 0)
        hb_die("truce serve did not stop cleanly");
    char *verify[] = {(char *)hb_truce(), "--data", data, "log", "verify", NULL};
    if (hb_run(verify, "/dev/null"))
        hb_die("log verify failed after the load");

    double ratio = wt.rps / wn.rps;
    printf("disk: %.0f fdatasyncs/s of 4 KiB appends in %s (each group commit makes 3)\n", fsyncs,
           dir);
    printf("http post: truce %.0f req/s (%lld requests, %lld non-2xx, %lld socket errors, "
           "%lld stored in %lld group commits, %.0f per commit), nginx 204 %.0f req/s; "
           "ratio %.2f; wrk -t%d -c%d -d%ds\n",
           wt.rps, wt.requests, wt.non2xx, wt.socket_errors, stored, commits,
           commits > 0 ? (double)stored / (double)commits : 0.0, wn.rps, ratio, threads, conns,
           seconds);

    /* 3 (run before 2, so the machine is as it was for 1). A realistic mix: simulated reports */
    struct wrk_result wm = {0};
    long long mix_stored = 0;
    if (mix) {
        char sim[4200], simfile[4300], mixdata[4200];
        snprintf(sim, sizeof sim, "%s/sim", dir);
        snprintf(simfile, sizeof simfile, "%s/observations.ndjson", sim);
        char *simulate[] = {(char *)hb_truce(), "simulate", "--agreement", HB_AGREEMENT, "--seed",
                            "5", "--days", "30", "--events-per-day", "2000", "--out", sim,
                            "--quiet", NULL};
        if (hb_run(simulate, "/dev/null"))
            hb_die("truce simulate failed");
        snprintf(mixdata, sizeof mixdata, "%s/mix", dir);
        hb_init_data(mixdata);
        hb_serve(mixdata, extra, &s);
        char args[4400 + sizeof hb_token];
        snprintf(args, sizeof args, "m%ld %s %s", (long)getpid(), hb_token, simfile);
        wrk(s.url, LUA_MIX, args, threads, conns, seconds, &wm);
        mix_stored = metric(s.url, "truce_group_records_total");
        if (hb_stop(&s, SIGTERM) != 0)
            hb_die("truce serve did not stop cleanly (mix)");
        printf("http post, simulated mix: truce %.0f req/s (%lld requests, %lld non-2xx, %lld "
               "stored), %.2f of nginx; no target (planning figure)\n",
               wm.rps, wm.requests, wm.non2xx, mix_stored, wm.rps / wn.rps);
    }

    /* 2. NDJSON over HTTP against the CLI */
    char file[4200], cli[4200], srv[4200];
    snprintf(file, sizeof file, "%s/obs.ndjson", dir);
    snprintf(cli, sizeof cli, "%s/cli", dir);
    snprintf(srv, sizeof srv, "%s/nd", dir);
    make_ndjson(file, n_nd);
    hb_init_data(cli);
    hb_init_data(srv);
    char *ingest[] = {(char *)hb_truce(), "--data", cli, "ingest", "--quiet", file, NULL};
    double t0 = hb_now();
    if (hb_run(ingest, "/dev/null"))
        hb_die("truce ingest failed");
    double t_cli = hb_now() - t0;
    hb_serve(srv, NULL, &s);
    double t_http = post_ndjson(s.url, file, n_nd);
    if (hb_stop(&s, SIGTERM) != 0)
        hb_die("truce serve did not stop cleanly");
    double r_cli = (double)n_nd / t_cli, r_http = (double)n_nd / t_http;
    printf("ndjson: %ld records, http %.0f obs/s (%.2f s), cli %.0f obs/s (%.2f s), ratio %.2f\n",
           n_nd, r_http, t_http, r_cli, t_cli, r_http / r_cli);

    bool ok = true;
    if (mix && (wm.non2xx || wm.socket_errors || mix_stored < wm.requests)) {
        printf("MISSED: every request of the simulated mix answered 2xx and stored\n");
        ok = false;
    }
    if (wt.non2xx || wt.socket_errors || stored < wt.requests) {
        printf("MISSED: every request answered 2xx and stored\n");
        ok = false;
    }
    if (wt.rps < TARGET_RPS) {
        printf("MISSED: %.0f req/s < %.0f\n", wt.rps, TARGET_RPS);
        ok = false;
    }
    if (ratio < TARGET_NGINX_RATIO) {
        printf("MISSED: %.2f of nginx < %.2f\n", ratio, TARGET_NGINX_RATIO);
        ok = false;
    }
    if (r_http / r_cli < TARGET_NDJSON_RATIO) {
        printf("MISSED: NDJSON over HTTP at %.2f of the CLI < %.2f\n", r_http / r_cli,
               TARGET_NDJSON_RATIO);
        ok = false;
    }
    hb_rmtree(dir);
    curl_global_cleanup();
    return ok ? 0 : 1;
}
