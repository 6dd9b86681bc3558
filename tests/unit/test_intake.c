/* test_intake.c: the request-to-observation path of POST /api/v1/observations
 * (api_post_observations, what the server's handler runs) on the minsk-2015 sample: the same
 * answer whatever pieces the body arrives in (1 byte, 7 bytes, 4 KiB, at once; NDJSON split
 * mid-record and mid-UTF-8), resubmission as duplicates with the same ids, a JSON array and a
 * FeatureCollection, CSV, content types (415), an NDJSON line over the record limit rejected
 * while the stream goes on, CRLF line ends and blank lines, and answers that stay JSON for
 * bytes that are not UTF-8. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/api.h"
#include "store/store.h"
#include "t.h"

static char dir[64];
static struct store *st;
static struct store_agreements ag;
static struct api *api;
static char *sample;
static size_t sample_len;

/* POSTs body (len bytes) in pieces; returns the status, the answer parsed into *out. */
static int post(const char *ct, const char *body, size_t len, size_t piece, json_t **out)
{
    struct http_response resp = {.status = 200, .content_type = "application/json"};
    buf_init(&resp.body);
    api_post_observations(api, ct, body, len, piece, &resp);
    json_error_t je;
    *out = json_loadb(resp.body.p ? resp.body.p : "", resp.body.len, 0, &je);
    if (!*out)
        fprintf(stderr, "not JSON: %s: %.*s\n", je.text, (int)resp.body.len, resp.body.p);
    buf_reset(&resp.body);
    return resp.status;
}

static long long num(json_t *j, const char *k) { return (long long)json_integer_value(json_object_get(j, k)); }

static void test_pieces_give_the_same_answer(void)
{
    json_t *first;
    CHECK_INT(post("application/x-ndjson", sample, sample_len, 0, &first), 200);
    CHECK_INT(num(first, "records"), 25);
    CHECK_INT(num(first, "accepted"), 25);
    CHECK_INT(num(first, "findings"), 21);
    json_t *r0 = json_array_get(json_object_get(first, "results"), 0);
    CHECK_STR(json_string_value(json_object_get(r0, "client_id")), "smm-2016-10-10-B1");
    static const size_t pieces[] = {1, 7, 4096, 0};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        json_t *again;
        /* no content type: the content decides (NDJSON) */
        CHECK_INT(post(i % 2 ? NULL : "application/x-ndjson", sample, sample_len, pieces[i], &again), 200);
        CHECK_INT(num(again, "records"), 25);
        CHECK_INT(num(again, "duplicates"), 25);
        json_t *ra = json_object_get(again, "results"), *rf = json_object_get(first, "results");
        CHECK_INT((long long)json_array_size(ra), 25);
        for (size_t k = 0; k < json_array_size(ra); k++) {
            json_t *a = json_array_get(ra, k), *f = json_array_get(rf, k);
            CHECK_INT(num(a, "id"), num(f, "id"));
            CHECK_STR(json_string_value(json_object_get(a, "client_id")),
                      json_string_value(json_object_get(f, "client_id")));
            CHECK_STR(json_string_value(json_object_get(a, "status")), "duplicate");
        }
        json_decref(again);
    }
    json_decref(first);
}

static const char GOOD[] =
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":"
    "\"%s\",\"time\":\"2016-10-11T10:00:00Z\",\"means\":\"patrol\",\"observer\":{\"place\":"
    "\"Avdiivka\"},\"event_type\":\"shot\",\"count\":%d}}";

static void test_documents_and_csv(void)
{
    char a[512], b[512], body[1200];
    snprintf(a, sizeof a, GOOD, "doc-1", 1);
    snprintf(b, sizeof b, GOOD, "doc-2", 2);
    json_t *j;
    snprintf(body, sizeof body, "[%s,\n%s]", a, b);
    CHECK_INT(post("application/geo+json", body, strlen(body), 3, &j), 200);
    CHECK_INT(num(j, "accepted"), 2);
    json_decref(j);
    snprintf(body, sizeof body, "{\"type\":\"FeatureCollection\",\"features\":[%s]}", a);
    CHECK_INT(post(NULL, body, strlen(body), 5, &j), 200);
    CHECK_INT(num(j, "duplicates"), 1);
    json_decref(j);
    static const char csv[] =
        "client_id,kind,time_start,means,observer_place,event_type,count\n"
        "csv-1,fire,2016-10-11T10:00:00Z,patrol,Avdiivka,shot,1\n"
        "csv-2,fire,2016-10-11T10:00:00Z,patrol,Avdiivka,shot,-1\n";
    CHECK_INT(post("text/csv", csv, strlen(csv), 9, &j), 207);
    CHECK_INT(num(j, "accepted"), 1);
    CHECK_INT(num(j, "rejected"), 1);
    json_t *r1 = json_array_get(json_object_get(j, "results"), 1);
    CHECK_CONTAINS(json_string_value(json_object_get(r1, "error")), "count");
    json_decref(j);
    /* a broken array: 400 naming where */
    CHECK_INT(post("application/json", "[{\"type\":", 9, 2, &j), 400);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")), "body: line 1");
    json_decref(j);
}

static void test_content_types(void)
{
    json_t *j;
    CHECK_INT(post("image/png", "x", 1, 0, &j), 415);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")), "application/x-ndjson");
    json_decref(j);
    char a[512];
    snprintf(a, sizeof a, GOOD, "ct-1", 1);
    CHECK_INT(post("Application/X-NDJSON; charset=utf-8", a, strlen(a), 0, &j), 200);
    json_decref(j);
    CHECK_INT(post("application/x-ndjson", "", 0, 0, &j), 400);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")), "the body is empty");
    json_decref(j);
}

static void test_long_line_crlf_blank_lines(void)
{
    size_t big = LIMIT_RECORD_BYTES + 100;
    char a[512], b[512];
    snprintf(a, sizeof a, GOOD, "long-1", 1);
    snprintf(b, sizeof b, GOOD, "long-2", 1);
    size_t n = strlen(a) + 2 + big + 1 + 1 + strlen(b) + 2;
    char *body = malloc(n + 1), *p = body;
    p += sprintf(p, "%s\r\n", a);
    memset(p, 'x', big);
    p += big;
    p += sprintf(p, "\n\n%s\r\n", b);
    json_t *j;
    CHECK_INT(post("application/x-ndjson", body, (size_t)(p - body), 65536, &j), 207);
    CHECK_INT(num(j, "records"), 3);
    CHECK_INT(num(j, "accepted"), 2);
    json_t *r = json_array_get(json_object_get(j, "results"), 1);
    CHECK_INT(num(r, "index"), 2);
    CHECK_STR(json_string_value(json_object_get(r, "error")), "record: line longer than 1048576 bytes");
    json_t *r3 = json_array_get(json_object_get(j, "results"), 2);
    CHECK_STR(json_string_value(json_object_get(r3, "client_id")), "long-2");
    json_decref(j);
    free(body);
}

static void test_answers_stay_json(void)
{
    /* a CSV header and an NDJSON client id with bytes that are not UTF-8 */
    static const char csv[] = "kind,\xff\xfe\n";
    json_t *j;
    CHECK_INT(post("text/csv", csv, strlen(csv), 0, &j), 400);
    CHECK(j != NULL);
    CHECK_CONTAINS(json_string_value(json_object_get(j, "detail")), "\xef\xbf\xbd");
    json_decref(j);
    char a[512];
    snprintf(a, sizeof a, GOOD, "bad-\xc3", 1);
    CHECK_INT(post("application/x-ndjson", a, strlen(a), 1, &j), 400);
    CHECK(j != NULL);
    json_decref(j);
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-intake-%ld", (long)getpid());
    struct agreement *a;
    size_t n;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e) ||
        file_read("examples/minsk-2015/observations.ndjson", 1 << 20, &sample, &n, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    sample_len = n;
    agr_free(a);
    api = api_new(st, &ag, NULL);
    static const struct t_case tests[] = {
        T(test_pieces_give_the_same_answer),
        T(test_documents_and_csv),
        T(test_content_types),
        T(test_long_line_crlf_blank_lines),
        T(test_answers_stay_json),
    };
    int rc = T_RUN(tests);
    api_free(api);
    store_agreements_free(&ag);
    store_close(st);
    free(sample);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
