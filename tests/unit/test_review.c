/* test_review.c: the review of findings on the shipped minsk-2015 scenario: who may take which
 * step from which status, a step is stored with who/role/when/why and is a leaf of the log (the
 * log verifies, and an altered reason is detected), a refused step changes nothing, bad names
 * and texts are refused with the field named. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "log/log.h"
#include "review/review.h"
#include "store/store.h"
#include "t.h"

static char dir[64];
static struct store *st;
static struct store_agreements ag;
static struct truce_log *lg;

static void test_who_may_do_what(void)
{
    struct errbuf e;
    const char *to = NULL;
    CHECK_INT(review_allowed("provisional", "confirm", "analyst", NULL, "af", &to, &e), 0);
    CHECK_STR(to, "confirmed");
    CHECK_INT(review_allowed("provisional", "dismiss", "analyst", NULL, "af", &to, &e), 0);
    CHECK_STR(to, "dismissed");
    CHECK_INT(review_allowed("confirmed", "publish", "publisher", NULL, "af", &to, &e), 0);
    CHECK_STR(to, "published");
    CHECK_INT(review_allowed("dismissed", "confirm", "analyst", NULL, "af", &to, &e), 0);
    /* a dispute is a recorded statement: the status stays */
    CHECK_INT(review_allowed("published", "dispute", "party", "af", "af", &to, &e), 0);
    CHECK_STR(to, "published");
    const char *not_analysts[] = {"monitor", "publisher", "party", "guarantor", "public"};
    for (size_t i = 0; i < sizeof not_analysts / sizeof not_analysts[0]; i++) {
        CHECK_INT(review_allowed("provisional", "confirm", not_analysts[i], "af", "af", &to, &e),
                  ERR_INVAL);
        CHECK_CONTAINS(e.msg, "only the analyst role may confirm");
    }
    CHECK_INT(review_allowed("provisional", "publish", "publisher", NULL, "af", &to, &e),
              ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "not possible from status provisional");
    CHECK_INT(review_allowed("provisional", "publish", "analyst", NULL, "af", &to, &e), ERR_INVAL);
    CHECK_INT(review_allowed("provisional", "dispute", "party", "ua", "af", &to, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "only findings about its own side");
    CHECK_INT(review_allowed("dismissed", "dispute", "party", "af", "af", &to, &e), ERR_CONFLICT);
    CHECK_INT(review_allowed("provisional", "delete", "analyst", NULL, "af", &to, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "action delete: unknown");
}

struct status_ctx {
    int n;
    char last_actor[64], last_text[128];
    long long last_leaf;
};
static int on_review(void *ctx, const struct store_review *r)
{
    struct status_ctx *c = ctx;
    c->n++;
    str_copy(c->last_actor, sizeof c->last_actor, r->actor);
    str_copy(c->last_text, sizeof c->last_text, r->text);
    c->last_leaf = r->log_index;
    return 0;
}

static void test_steps_are_stored_and_logged(void)
{
    struct errbuf e;
    int64_t rid;
    char to[16], status[16], party[32];
    uint64_t before = log_size(lg);
    struct review_request r = {.finding_id = 1, .action = "confirm", .actor = "anna",
                               .role = "analyst", .text = "two patrols heard it"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), 0);
    CHECK_STR(to, "confirmed");
    CHECK_INT(log_size(lg), before + 1);
    CHECK_INT(store_log_committed(st), (long long)before + 1);
    CHECK_INT(store_finding_get(st, 1, status, party, &e), 0);
    CHECK_STR(status, "confirmed");
    struct status_ctx c = {0};
    CHECK_INT(store_finding_reviews(st, 1, on_review, &c, &e), 0);
    CHECK_INT(c.n, 1);
    CHECK_STR(c.last_actor, "anna");
    CHECK_STR(c.last_text, "two patrols heard it");
    CHECK_INT(c.last_leaf, (long long)before);
    /* the leaf names the step */
    struct store_log_record lr = {.kind = STORE_LOG_REVIEW, .id = rid, .finding_id = 1,
                                  .action = "confirm", .status_from = "provisional",
                                  .status_to = "confirmed", .actor = "anna", .role = "analyst",
                                  .body = "x", .body_len = 1};
    struct buf leaf;
    buf_init(&leaf);
    CHECK_INT(log_leaf_bytes(&lr, &leaf), 0);
    CHECK_CONTAINS(leaf.p, "truce/finding-review/1\nid 1\nfinding 1\naction confirm\n"
                           "status_from provisional\nstatus_to confirmed\nactor anna\n"
                           "role analyst\nparty \n");
    buf_reset(&leaf);
    r = (struct review_request){.finding_id = 1, .action = "publish", .actor = "chief",
                                .role = "publisher", .text = "daily publication"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), 0);
    CHECK_STR(to, "published");
    uint64_t checked = 0;
    int64_t bad = -2;
    CHECK_INT(log_verify(lg, st, &checked, &bad, &e), 0);
    CHECK_INT(checked, log_size(lg));
}

static void test_refused_steps_change_nothing(void)
{
    struct errbuf e;
    int64_t rid;
    char to[16], status[16], party[32];
    uint64_t before = log_size(lg);
    struct review_request r = {.finding_id = 2, .action = "confirm", .actor = "ua-lo",
                               .role = "party", .party = "ua", .text = "x"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_INVAL);
    r = (struct review_request){.finding_id = 2, .action = "publish", .actor = "chief",
                                .role = "publisher", .text = "x"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_CONFLICT);
    r = (struct review_request){.finding_id = 99999, .action = "confirm", .actor = "anna",
                                .role = "analyst", .text = "x"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_NOTFOUND);
    r = (struct review_request){.finding_id = 2, .action = "confirm", .actor = "an\nna",
                                .role = "analyst", .text = "x"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "actor: control characters");
    r = (struct review_request){.finding_id = 2, .action = "confirm", .actor = "anna",
                                .role = "analyst", .text = ""};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "confirm: a reason is required");
    r = (struct review_request){.finding_id = 2, .action = "confirm", .actor = "anna",
                                .role = "chief", .text = "x"};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "role chief: unknown");
    char *big = malloc(REVIEW_TEXT_MAX + 2);
    memset(big, 'a', REVIEW_TEXT_MAX + 1);
    big[REVIEW_TEXT_MAX + 1] = 0;
    r = (struct review_request){.finding_id = 2, .action = "confirm", .actor = "anna",
                                .role = "analyst", .text = big};
    CHECK_INT(review_apply(lg, st, &r, &rid, to, sizeof to, &e), ERR_INVAL);
    free(big);
    CHECK_INT(log_size(lg), before);
    CHECK_INT(store_log_size(st), (long long)before);
    CHECK_INT(store_finding_get(st, 2, status, party, &e), 0);
    CHECK_STR(status, "provisional");
    struct status_ctx c = {0};
    CHECK_INT(store_finding_reviews(st, 2, on_review, &c, &e), 0);
    CHECK_INT(c.n, 0);
}

static void test_altered_reason_is_detected(void)
{
    struct errbuf e;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME);
    sqlite3 *db;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "UPDATE finding_reviews SET text = 'one patrol' WHERE id = 1",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    uint64_t checked = 0;
    int64_t bad = -2;
    CHECK(log_verify(lg, st, &checked, &bad, &e) != 0);
    CHECK(bad >= 0);
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-review-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || log_open(dir, st, &lg, &e) ||
        log_add_agreement(lg, st, a, &e) || store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    FILE *f = fopen("examples/minsk-2015/observations.ndjson", "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = "sample", .log = lg};
    struct ingest_stats s = {0};
    if (!f || ingest_stream(st, &ag, f, &o, &s, &e)) {
        fprintf(stderr, "setup: ingest: %s\n", e.msg);
        return 1;
    }
    fclose(f);
    static const struct t_case tests[] = {
        T(test_who_may_do_what),
        T(test_steps_are_stored_and_logged),
        T(test_refused_steps_change_nothing),
        T(test_altered_reason_is_detected),
    };
    int rc = T_RUN(tests);
    log_close(lg);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
