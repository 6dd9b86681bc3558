/* report_pdf.c: the daily report's HTML printed to PDF by headless Chromium (Debian's chromium):
 * the page is written to a private temporary directory, Chromium is run there with its own
 * throw-away profile and no network beyond the file, and the PDF is read back. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/report.h"

/* The Chromium to use: $TRUCE_CHROMIUM, else the first of these found on PATH. */
static const char *const CHROMIUM_NAMES[] = {"chromium", "chromium-browser", "google-chrome"};

static bool find_on_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len && len + strlen(name) + 2 < n) {
            snprintf(out, n, "%.*s/%s", (int)len, path, name);
            if (!access(out, X_OK))
                return true;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

static int write_file(const char *path, const char *data, size_t len, struct errbuf *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errf(e, ERR_IO, "%s: %s", path, strerror(errno));
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return errf(e, ERR_IO, "%s: %s", path, strerror(errno));
        }
        data += w;
        len -= (size_t)w;
    }
    return close(fd) ? errf(e, ERR_IO, "%s: %s", path, strerror(errno)) : 0;
}

static int read_file(const char *path, struct buf *out, struct errbuf *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errf(e, ERR_IO, "Chromium wrote no PDF (%s)", strerror(errno));
    char chunk[65536];
    size_t n, total = 0;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        total += n;
        if (total > REPORT_PDF_MAX_BYTES)
            rc = errf(e, ERR_TOOBIG, "the PDF is over REPORT_PDF_MAX_BYTES");
        else if (buf_append(out, chunk, n))
            rc = errf(e, ERR_NOMEM, "out of memory reading the PDF");
    }
    fclose(f);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Removes the temporary directory and what Chromium left in it (links are not followed). */
static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int report_pdf_from_html(const char *html, size_t len, struct buf *out, struct errbuf *e)
{
    char chromium[PATH_MAX];
    const char *env = getenv("TRUCE_CHROMIUM");
    bool found = false;
    if (env && *env) {
        str_copy(chromium, sizeof chromium, env);
        found = !access(chromium, X_OK);
    }
    for (size_t i = 0; !found && i < sizeof CHROMIUM_NAMES / sizeof CHROMIUM_NAMES[0]; i++)
        found = find_on_path(CHROMIUM_NAMES[i], chromium, sizeof chromium);
    if (!found)
        return errf(e, ERR_NOTFOUND,
                    "PDF needs headless Chromium and none was found%s%s: install Debian's "
                    "chromium package (apt-get install chromium) or set TRUCE_CHROMIUM to its "
                    "path; --format html gives the same report without it",
                    env && *env ? " at TRUCE_CHROMIUM=" : "", env && *env ? env : "");
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/truce-pdf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return errf(e, ERR_IO, "cannot make a temporary directory: %s", strerror(errno));
    char html_path[PATH_MAX + 32], pdf_path[PATH_MAX + 32], profile[PATH_MAX + 32],
        log_path[PATH_MAX + 32], url[PATH_MAX + 64], print_arg[PATH_MAX + 64],
        profile_arg[PATH_MAX + 64];
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    snprintf(pdf_path, sizeof pdf_path, "%s/report.pdf", dir);
    snprintf(profile, sizeof profile, "%s/profile", dir);
    snprintf(log_path, sizeof log_path, "%s/chromium.log", dir);
    snprintf(url, sizeof url, "file://%s", html_path);
    snprintf(print_arg, sizeof print_arg, "--print-to-pdf=%s", pdf_path);
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    int rc = write_file(html_path, html, len, e);
    if (rc) {
        remove_tree(dir);
        return rc;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        remove_tree(dir);
        return errf(e, ERR_IO, "cannot start Chromium: %s", strerror(errno));
    }
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (null >= 0)
            dup2(null, 0);
        setpgid(0, 0); /* its own group, so a timeout ends its helpers too */
        /* nothing of the caller's (a server's listening socket, the store) goes to Chromium */
        long max_fd = sysconf(_SC_OPEN_MAX);
        for (long k = 3; k < (max_fd > 0 && max_fd < 65536 ? max_fd : 65536); k++)
            close((int)k);
        execl(chromium, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
              profile_arg, print_arg, url, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            rc = errf(e, ERR_IO, "waiting for Chromium: %s", strerror(errno));
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > REPORT_PDF_TIMEOUT_S) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            rc = errf(e, ERR_IO, "Chromium took more than %d s to print the report",
                      REPORT_PDF_TIMEOUT_S);
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    bool keep = false; /* Chromium failed: its log stays for the user to read */
    if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        keep = true;
        rc = errf(e, ERR_IO, "%s failed printing the report (exit %d; its output: %s)", chromium,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path);
    }
    if (!rc)
        rc = read_file(pdf_path, out, e);
    if (!rc && (out->len < 5 || memcmp(out->p, "%PDF-", 5)))
        rc = errf(e, ERR_IO, "Chromium's output is not a PDF");
    if (!keep)
        remove_tree(dir);
    return rc;
}
