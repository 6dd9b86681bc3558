/* test_auth.c: the auth module and the API's route table: bearer header parsing (accepted and
 * refused shapes, limits), tokens (format, randomness, hash), roles, users in a real store
 * (add, look up by token, revoke, party binding against the Minsk agreement), authentication,
 * the audit trail, and the route table's role sets walked for every route and role. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/auth.h"
#include "t.h"

static char dir[128];
static struct store *st;
static struct store_agreements ag;

static void test_bearer_accepts_rfc6750_shapes(void)
{
    struct errbuf e;
    const char *tok;
    size_t n;
    static const struct {
        const char *header, *token;
    } OK[] = {
        {"Bearer abc", "abc"},
        {"bearer abc", "abc"},
        {"BEARER   a-b.c_d~e+f/g==", "a-b.c_d~e+f/g=="},
        {"Bearer truce_x \t", "truce_x"},
    };
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        CHECK_INT(auth_bearer_parse(OK[i].header, strlen(OK[i].header), &tok, &n, &e), 0);
        CHECK_INT(n, strlen(OK[i].token));
        CHECK(!strncmp(tok, OK[i].token, n));
    }
}

static void test_bearer_refuses_bad_shapes(void)
{
    struct errbuf e;
    const char *tok;
    size_t n;
    static const char *const BAD[] = {
        "", "Bearer", "Bearer ", "Bearerabc", "Basic dXNlcjpwYXNz", "Bearer a b", "Bearer =abc",
        "Bearer a=b", "Bearer tok%en", "Bearer tok\"en", " Bearer abc", "Bearer\tabc",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        int rc = auth_bearer_parse(BAD[i], strlen(BAD[i]), &tok, &n, &e);
        if (rc != ERR_PARSE && rc != ERR_INVAL)
            T_FAIL_("\"%s\" gave %d", BAD[i], rc);
    }
    CHECK_INT(auth_bearer_parse("Basic x", 7, &tok, &n, &e), ERR_INVAL);
    /* a NUL inside the counted bytes is not a token character */
    CHECK_INT(auth_bearer_parse("Bearer ab\0c", 11, &tok, &n, &e), ERR_PARSE);
    char big[AUTH_HEADER_MAX + 2];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', sizeof big - 8);
    big[sizeof big - 1] = 0;
    CHECK_INT(auth_bearer_parse(big, strlen(big), &tok, &n, &e), ERR_TOOBIG);
    big[7 + AUTH_TOKEN_MAX + 1] = 0; /* one byte over the token limit, under the header's */
    CHECK_INT(auth_bearer_parse(big, strlen(big), &tok, &n, &e), ERR_TOOBIG);
    big[7 + AUTH_TOKEN_MAX] = 0;
    CHECK_INT(auth_bearer_parse(big, strlen(big), &tok, &n, &e), 0);
    CHECK_INT(n, AUTH_TOKEN_MAX);
}

static void test_tokens_are_random_and_hashed(void)
{
    char t1[AUTH_TOKEN_SIZE], t2[AUTH_TOKEN_SIZE], h1[AUTH_HASH_HEX_SIZE], h2[AUTH_HASH_HEX_SIZE];
    CHECK_INT(auth_token_new(t1, h1), 0);
    CHECK_INT(auth_token_new(t2, h2), 0);
    CHECK_INT(strlen(t1), 6 + 43);
    CHECK(!strncmp(t1, "truce_", 6));
    CHECK(strcmp(t1, t2) != 0);
    CHECK(strcmp(h1, h2) != 0);
    /* the hash is SHA-256 of the token's bytes: FIPS 180-2 "abc" */
    char h[AUTH_HASH_HEX_SIZE];
    auth_token_hash("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auth_token_hash(t1, strlen(t1), h);
    CHECK_STR(h, h1);
    /* every token parses as a bearer token */
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Bearer %s", t1);
    const char *tok;
    size_t n;
    struct errbuf e;
    CHECK_INT(auth_bearer_parse(hdr, strlen(hdr), &tok, &n, &e), 0);
    CHECK_INT(n, strlen(t1));
}

static void test_roles_parse_and_name(void)
{
    enum auth_role r;
    for (int i = 0; i < AUTH_N_ROLES; i++) {
        CHECK_INT(auth_role_parse(auth_role_name((enum auth_role)i), &r), 0);
        CHECK_INT(r, i);
    }
    CHECK_INT(auth_role_parse("Admin", &r), ERR_INVAL);
    CHECK_INT(auth_role_parse("", &r), ERR_INVAL);
    CHECK_STR(auth_role_name(AUTH_PARTY), "party");
}

static void test_users_add_authenticate_revoke(void)
{
    struct errbuf e;
    char tok[AUTH_TOKEN_SIZE], hdr[128];
    CHECK_INT(auth_user_add(st, &ag, "liaison-af", "party", "af", tok, &e), 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    struct auth_principal p;
    CHECK_INT(auth_authenticate(st, hdr, &p, &e), 0);
    CHECK(p.authenticated);
    CHECK_INT(p.role, AUTH_PARTY);
    CHECK_STR(p.name, "liaison-af");
    CHECK_STR(p.party, "af");
    /* no header: the public */
    CHECK_INT(auth_authenticate(st, NULL, &p, &e), 0);
    CHECK(!p.authenticated);
    CHECK_INT(p.role, AUTH_PUBLIC);
    /* a token one character off is unknown (the other character is base64url too, so the token
     * still parses: flipping a bit could make '-' a ',' and the header malformed) */
    char *last = &hdr[strlen(hdr) - 1], was = *last;
    *last = was == 'A' ? 'B' : 'A';
    CHECK_INT(auth_authenticate(st, hdr, &p, &e), ERR_NOTFOUND);
    CHECK(!p.authenticated);
    *last = was;
    /* revoked: refused at once */
    CHECK_INT(store_user_revoke(st, "liaison-af", time_now_ms(), &e), 0);
    CHECK_INT(auth_authenticate(st, hdr, &p, &e), ERR_NOTFOUND);
    CHECK_INT(store_user_revoke(st, "liaison-af", time_now_ms(), &e), ERR_CONFLICT);
    CHECK_INT(store_user_revoke(st, "nobody", time_now_ms(), &e), ERR_NOTFOUND);
    /* names are not reused */
    CHECK_INT(auth_user_add(st, &ag, "liaison-af", "analyst", NULL, tok, &e), ERR_CONFLICT);
}

/* The server's cache of principals: a hit gives what the table says, and a user added or
 * revoked through another connection (the `truce user` CLI beside a running server) counts at
 * the next request. */
static void test_cache_follows_changes_by_other_connections(void)
{
    struct errbuf e;
    char tok[AUTH_TOKEN_SIZE], hdr[128];
    CHECK_INT(auth_user_add(st, &ag, "cache-monitor", "monitor", NULL, tok, &e), 0);
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    struct auth_cache *c = malloc(sizeof *c);
    CHECK(c != NULL);
    if (!c)
        return;
    auth_cache_init(c);
    struct auth_principal p, q;
    for (int i = 0; i < 3; i++) { /* a miss, then hits */
        CHECK_INT(auth_authenticate_cached(c, st, hdr, &p, &e), 0);
        CHECK(p.authenticated);
        CHECK_INT(p.role, AUTH_MONITOR);
        CHECK_STR(p.name, "cache-monitor");
    }
    CHECK_INT(auth_authenticate(st, hdr, &q, &e), 0);
    CHECK(!memcmp(&p, &q, sizeof p));
    CHECK_INT(auth_authenticate_cached(c, st, NULL, &p, &e), 0);
    CHECK(!p.authenticated);
    /* unknown tokens are never cached as known */
    char bad[128];
    snprintf(bad, sizeof bad, "Bearer %s", tok);
    char *last = &bad[strlen(bad) - 1];
    *last = *last == 'A' ? 'B' : 'A';
    CHECK_INT(auth_authenticate_cached(c, st, bad, &p, &e), ERR_NOTFOUND);
    CHECK_INT(auth_authenticate_cached(c, st, "Basic abc", &p, &e), ERR_INVAL);
    /* revoked through a second connection: refused at the next request, cache or not */
    struct store *other;
    CHECK_INT(store_open(dir, false, &other, &e), 0);
    CHECK_INT(store_user_revoke(other, "cache-monitor", time_now_ms(), &e), 0);
    CHECK_INT(auth_authenticate_cached(c, st, hdr, &p, &e), ERR_NOTFOUND);
    CHECK(!p.authenticated);
    /* added through it: known at once */
    char tok2[AUTH_TOKEN_SIZE], hdr2[128];
    CHECK_INT(auth_user_add(other, &ag, "cache-analyst", "analyst", NULL, tok2, &e), 0);
    snprintf(hdr2, sizeof hdr2, "Bearer %s", tok2);
    CHECK_INT(auth_authenticate_cached(c, st, hdr2, &p, &e), 0);
    CHECK_INT(p.role, AUTH_ANALYST);
    store_close(other);
    free(c);
}

static void test_user_add_checks_its_input(void)
{
    struct errbuf e;
    char tok[AUTH_TOKEN_SIZE];
    CHECK_INT(auth_user_add(st, &ag, "p1", "party", NULL, tok, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "needs --party");
    CHECK_INT(auth_user_add(st, &ag, "p1", "party", "ru", tok, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "\"ru\" is not a party of the agreement");
    CHECK_INT(auth_user_add(st, &ag, "p1", "analyst", "ua", tok, &e), ERR_INVAL);
    CHECK_INT(auth_user_add(st, &ag, "p1", "root", NULL, tok, &e), ERR_INVAL);
    CHECK_INT(auth_user_add(st, &ag, "bad name", "analyst", NULL, tok, &e), ERR_INVAL);
    CHECK_INT(auth_user_add(st, &ag, "", "analyst", NULL, tok, &e), ERR_INVAL);
    char longname[AUTH_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_INT(auth_user_add(st, &ag, longname, "analyst", NULL, tok, &e), ERR_INVAL);
    longname[AUTH_NAME_MAX] = 0;
    CHECK_INT(auth_user_add(st, &ag, longname, "analyst", NULL, tok, &e), 0);
}

struct audit_seen {
    int n;
    char last_actor[64], last_result[STORE_AUDIT_TEXT_MAX + 8];
    int last_status;
};

static int on_audit(void *ctx, const struct store_audit *a)
{
    struct audit_seen *s = ctx;
    s->n++;
    str_copy(s->last_actor, sizeof s->last_actor, a->actor);
    str_copy(s->last_result, sizeof s->last_result, a->result);
    s->last_status = a->status;
    return 0;
}

static void test_audit_trail_keeps_entries_in_order(void)
{
    struct errbuf e;
    struct audit_seen before = {0}, after = {0};
    CHECK_INT(store_audit_each(st, 0, 0, on_audit, &before, &e), 0);
    CHECK_INT(auth_audit(st, "u1", "monitor", "POST /api/v1/observations", "/api/v1/observations",
                         200, "records 1", &e), 0);
    char big[STORE_AUDIT_TEXT_MAX * 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK_INT(auth_audit(st, "u2", "admin", "user add", "someone", 0, big, &e), 0);
    CHECK_INT(store_audit_each(st, 0, 0, on_audit, &after, &e), 0);
    CHECK_INT(after.n, before.n + 2);
    CHECK_STR(after.last_actor, "u2");
    CHECK_INT(strlen(after.last_result), STORE_AUDIT_TEXT_MAX); /* cut at the named limit */
    struct audit_seen one = {0};
    CHECK_INT(store_audit_each(st, 0, 1, on_audit, &one, &e), 0);
    CHECK_INT(one.n, 1);
}

/* Every route with every role: the table's sets are what api_route_allows enforces, public
 * routes admit every role, and the write routes are closed to the public and to parties. */
static void test_route_table_every_route_every_role(void)
{
    size_t n = api_route_count();
    CHECK(n >= 9);
    int open_routes = 0;
    for (size_t i = 0; i < n; i++) {
        const char *method, *pattern;
        unsigned roles;
        api_route_get(i, &method, &pattern, &roles);
        CHECK(roles != 0);
        CHECK((roles & ~AUTH_ALL_ROLES) == 0);
        bool open = api_route_allows(roles, AUTH_PUBLIC);
        open_routes += open;
        for (int r = 0; r < AUTH_N_ROLES; r++) {
            bool want = (roles & API_ROLE_PUBLIC) || (roles & AUTH_BIT(r));
            if (api_route_allows(roles, (enum auth_role)r) != want)
                T_FAIL_("%s %s role %s", method, pattern, auth_role_name((enum auth_role)r));
            if (open && !api_route_allows(roles, (enum auth_role)r))
                T_FAIL_("public route %s %s refuses %s", method, pattern,
                        auth_role_name((enum auth_role)r));
        }
        if (!strcmp(method, "POST") && !strcmp(pattern, "/api/v1/observations")) {
            CHECK(!api_route_allows(roles, AUTH_PUBLIC));
            CHECK(!api_route_allows(roles, AUTH_PARTY));
            CHECK(api_route_allows(roles, AUTH_MONITOR));
        }
        if (!strcmp(pattern, "/api/v1/audit") || !strcmp(pattern, "/metrics"))
            CHECK(api_route_allows(roles, AUTH_ADMIN) && !api_route_allows(roles, AUTH_PUBLIC));
    }
    CHECK(open_routes > 0 && open_routes < (int)n);
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-auth-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    static const struct t_case tests[] = {
        T(test_bearer_accepts_rfc6750_shapes),
        T(test_bearer_refuses_bad_shapes),
        T(test_tokens_are_random_and_hashed),
        T(test_roles_parse_and_name),
        T(test_users_add_authenticate_revoke),
        T(test_cache_follows_changes_by_other_connections),
        T(test_user_add_checks_its_input),
        T(test_audit_trail_keeps_entries_in_order),
        T(test_route_table_every_route_every_role),
    };
    int rc = T_RUN(tests);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
