/* test_report_html.c: the daily report as HTML and PDF on the shipped minsk-2015 scenario: every
 * section is there, the event-type table adds up to the JSON report's totals, each observation
 * of the period is one point inside the map's frame, the trend bars add up to the cumulative
 * count, text from data is escaped, the public edition has no annex, the page refers to nothing
 * outside itself, and PDF needs Chromium (a clear error without it, a PDF with it). */
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "report/report.h"
#include "store/store.h"
#include "t.h"

static char dir[64];
static struct store *st;
static struct store_agreements ag;

/* A record whose client id and remarks hold markup, inside the period of 10 October 2016. */
static const char MARKUP_RECORD[] =
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":"
    "\"<i>x</i>&\",\"time\":\"2016-10-10T10:00:00+03:00\",\"means\":\"patrol\",\"observer\":"
    "{\"place\":\"Avdiivka\"},\"event_type\":\"shot\",\"count\":1,\"remarks\":\"<script>\"}}\n";

static int ingest(FILE *f, const char *name)
{
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = name};
    struct ingest_stats s = {0};
    struct errbuf e;
    int rc = ingest_stream(st, &ag, f, &o, &s, &e);
    fclose(f);
    return rc;
}

static char *html_of(enum report_format fmt)
{
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    int rc = report_daily(st, ag.v[ag.n - 1], 2016, 10, 10, fmt, &b, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "  report: %s\n", e.msg);
        buf_reset(&b);
        return NULL;
    }
    return b.p;
}

/* The numbers of the <td class="n"> cells of the row starting at row. */
static int row_numbers(const char *row, long long *v, int max)
{
    const char *end = strstr(row, "</tr>");
    int n = 0;
    for (const char *p = row; n < max && (p = strstr(p, "<td class=\"n\">")) && p < end; n++) {
        p += strlen("<td class=\"n\">");
        v[n] = atoll(p);
    }
    return n;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_sections_and_summary(void)
{
    char *h = html_of(REPORT_HTML);
    if (!h)
        return;
    CHECK(!strncmp(h, "<!DOCTYPE html>", 15));
    const char *ids[] = {"summary", "map", "types", "zones", "weapons", "escalations",
                         "findings", "trends", "annex"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "<section id=\"%s\">", ids[i]);
        CHECK_CONTAINS(h, key);
    }
    CHECK_CONTAINS(h, "Daily report based on information received as of 19:30, 10 October 2016");
    CHECK_CONTAINS(h, "In Donetsk region, the mission recorded <b>116 ceasefire violations</b>, "
                      "including 101 explosions. In the previous reporting period, it recorded 30 "
                      "ceasefire violations in the region (more).");
    CHECK_CONTAINS(h, "Petrivske disengagement area");
    /* this store was filled without evaluating the thresholds: no alert (escalation.sh and
     * test_escalation cover the alerts themselves) */
    CHECK_CONTAINS(h, "No escalation threshold of the agreement was crossed in this period.");
    CHECK_CONTAINS(h, "(14 provisional, 0 confirmed, 0 dismissed, 0 published)");
    CHECK_CONTAINS(h, "[minsk2-2-art100, violation] 2 weapons");
    /* one file: no script, no stylesheet or image link, nothing fetched */
    CHECK(!strstr(h, "<script"));
    CHECK(!strstr(h, "<link"));
    CHECK(!strstr(h, "<img"));
    CHECK(!strstr(h, "src="));
    CHECK(!strstr(h, "href="));
    free(h);
}

static void test_type_table_adds_up_to_json(void)
{
    char *h = html_of(REPORT_HTML), *j = html_of(REPORT_JSON);
    if (!h || !j) {
        free(h);
        free(j);
        return;
    }
    const char *row = strstr(h, "<tr class=\"total\">");
    CHECK(row != NULL);
    long long v[16];
    int n = row ? row_numbers(row, v, 16) : 0;
    CHECK_INT(n, 2 + AGR_N_EVENT_TYPES);
    long long sum = 0;
    for (int i = 2; i < n; i++)
        sum += v[i];
    CHECK_INT(sum, v[0]);
    /* the JSON report's per-region totals, added */
    long long json_total = 0;
    for (const char *p = j; (p = strstr(p, "\"current\":{\"ceasefire_violations\":")); p++)
        json_total += atoll(p + strlen("\"current\":{\"ceasefire_violations\":"));
    CHECK_INT(v[0], json_total);
    CHECK_INT(v[0], 125); /* 116 in Donetsk region, 9 in Luhansk region */
    free(h);
    free(j);
}

struct count_ctx {
    int n;
};
static int count_obs(void *ctx, const char *json)
{
    (void)json;
    ((struct count_ctx *)ctx)->n++;
    return 0;
}

static void test_map_has_every_observation_in_frame(void)
{
    char *h = html_of(REPORT_HTML);
    if (!h)
        return;
    int64_t from, to;
    CHECK_INT(agr_report_window(ag.v[ag.n - 1], 2016, 10, 10, &from, &to), 0);
    struct store_filter f;
    store_filter_init(&f);
    f.from_ms = from;
    f.to_ms = to;
    struct count_ctx c = {0};
    struct errbuf e;
    CHECK_INT(store_obs_list(st, &f, count_obs, &c, &e), 0);
    CHECK(c.n > 10);
    CHECK_INT(count_of(h, "<circle class=\"event\""), c.n);
    CHECK_INT(count_of(h, "<tr class=\"obs\">"), c.n);
    double w = 0, hh = 0;
    const char *svg = strstr(h, "<section id=\"map\">");
    CHECK(svg && sscanf(strstr(svg, "viewBox=\"0 0 ") + 13, "%lf %lf", &w, &hh) == 2);
    CHECK(w > 100 && hh > 100);
    for (const char *p = svg; (p = strstr(p, "<circle class=\"event\" cx=\"")); p++) {
        double x, y;
        CHECK(sscanf(p, "<circle class=\"event\" cx=\"%lf\" cy=\"%lf\"", &x, &y) == 2);
        CHECK(x >= 0 && x <= w && y >= 0 && y <= hh);
    }
    /* the contact line is a path of the line's vertices */
    const char *line = strstr(h, "class=\"line\"");
    CHECK(line != NULL);
    if (line)
        CHECK(count_of(line, "L") > 20);
    CHECK_INT(count_of(h, "class=\"region\""), 2);
    CHECK_INT(count_of(h, "class=\"zone\""), 3);
    free(h);
}

static void test_trends_add_up(void)
{
    char *h = html_of(REPORT_HTML);
    if (!h)
        return;
    const char *c = strstr(h, "since the agreement took effect");
    CHECK(c != NULL);
    long long cumulative = c ? atoll(strstr(c, "<b>") + 3) : -1;
    const char *charts[] = {"id=\"trend-weekly\"", "id=\"trend-monthly\""};
    for (int k = 0; k < 2; k++) {
        const char *svg = strstr(h, charts[k]), *end = svg ? strstr(svg, "</svg>") : NULL;
        CHECK(svg && end);
        if (!svg || !end)
            continue;
        long long sum = 0;
        int bars = 0;
        for (const char *p = svg; (p = strstr(p, "<rect ")) && p < end; p++) {
            const char *t = strstr(p, "<title>");
            sum += atoll(strchr(t, ':') + 1);
            bars++;
        }
        CHECK_INT(bars, 12);
        /* every sample event is within the last 12 weeks and months */
        CHECK_INT(sum, cumulative);
    }
    free(h);
}

static void test_text_is_escaped(void)
{
    char *h = html_of(REPORT_HTML);
    if (!h)
        return;
    CHECK_CONTAINS(h, "&lt;i&gt;x&lt;/i&gt;&amp;");
    CHECK_CONTAINS(h, "&lt;script&gt;");
    CHECK(!strstr(h, "<i>x</i>"));
    free(h);
}

static void test_public_edition_has_no_annex(void)
{
    char *h = html_of(REPORT_HTML_PUBLIC);
    if (!h)
        return;
    CHECK(!strstr(h, "id=\"annex\""));
    CHECK(!strstr(h, "smm-2016-10-10-"));
    CHECK(!strstr(h, "&lt;i&gt;x"));
    CHECK_CONTAINS(h, "Public edition.");
    /* no finding is published in this data: none is shown, not even in the weapons section */
    CHECK_CONTAINS(h, "(published findings only)");
    CHECK(!strstr(h, "[minsk2-2-art100"));
    CHECK(!strstr(h, "<td>minsk2-1</td>"));
    CHECK_CONTAINS(h, "<section id=\"map\">");
    free(h);
}

static void test_pdf_needs_chromium(void)
{
    const char *path = getenv("PATH");
    char *saved = path ? strdup(path) : NULL;
    setenv("PATH", "/nonexistent", 1);
    setenv("TRUCE_CHROMIUM", "", 1);
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    CHECK_INT(report_pdf_from_html("<p>x</p>", 8, &b, &e), ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "install Debian's chromium package");
    CHECK_INT(b.len, 0);
    setenv("TRUCE_CHROMIUM", "/nonexistent/chromium", 1);
    CHECK_INT(report_pdf_from_html("<p>x</p>", 8, &b, &e), ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "TRUCE_CHROMIUM=/nonexistent/chromium");
    unsetenv("TRUCE_CHROMIUM");
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
}

/* make deps installs Debian's chromium: this test needs it. */
static void test_pdf_from_chromium(void)
{
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    int rc = report_daily(st, ag.v[ag.n - 1], 2016, 10, 10, REPORT_PDF, &b, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  pdf: %s\n", e.msg);
    CHECK(b.len > 10000 && !memcmp(b.p, "%PDF-", 5));
    buf_reset(&b);
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-report-html-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    if (ingest(fopen("examples/minsk-2015/observations.ndjson", "r"), "sample") ||
        ingest(fmemopen((void *)MARKUP_RECORD, strlen(MARKUP_RECORD), "r"), "markup")) {
        fprintf(stderr, "setup: ingest failed\n");
        return 1;
    }
    static const struct t_case tests[] = {
        T(test_sections_and_summary),
        T(test_type_table_adds_up_to_json),
        T(test_map_has_every_observation_in_frame),
        T(test_trends_add_up),
        T(test_text_is_escaped),
        T(test_public_edition_has_no_annex),
        T(test_pdf_needs_chromium),
        T(test_pdf_from_chromium),
    };
    int rc = T_RUN(tests);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
