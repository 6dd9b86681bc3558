/* api_auth.c: authentication and authorization of API requests against the route table's role
 * sets (401 with WWW-Authenticate, 403), the party scope of listings, the audit trail of writes,
 * GET /api/v1/audit and GET /api/v1/me (who a token belongs to). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_int.h"

#define API_REALM "Bearer realm=\"truce\""

/* The names of the roles in set, "a, b or c", into out. */
static void roles_text(unsigned set, char *out, size_t n)
{
    out[0] = 0;
    int k = 0, total = 0;
    for (int r = 0; r < AUTH_N_ROLES; r++)
        total += (set & AUTH_BIT(r)) && r != AUTH_PUBLIC;
    for (int r = 0; r < AUTH_N_ROLES; r++) {
        if (!(set & AUTH_BIT(r)) || r == AUTH_PUBLIC)
            continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", k == 0 ? "" : k == total - 1 ? " or " : ", ",
                 auth_role_name((enum auth_role)r));
        k++;
    }
}

static bool is_write(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD");
}

static void audit(struct api *a, const char *method, const char *pattern, const char *path,
                  int status, const char *result)
{
    char action[300];
    snprintf(action, sizeof action, "%s %s", method, pattern);
    struct errbuf e;
    if (auth_audit(a->s, a->who.name, auth_role_name(a->who.role), action, path, status, result,
                   &e)) {
        a->audit_failures++;
        fprintf(stderr, "truce serve: audit trail not written for %s %s: %s\n", method, path,
                e.msg);
    }
}

bool api_authorize(struct api *a, const struct http_request *req, unsigned roles,
                   struct http_response *resp)
{
    struct errbuf e;
    int rc = auth_authenticate_cached(&a->auth_cache, a->s, http_header(req, "Authorization"),
                                      &a->who, &e);
    if (rc == ERR_DB || rc == ERR_NOMEM) {
        api_problem(resp, 500, e.msg);
        return false;
    }
    if (rc) {
        /* A token that does not work is refused even on public routes: the client meant to be
         * someone, and should learn that it is not. */
        a->auth_refused++;
        auth_public(&a->who);
        if (http_problem(resp, 401, "Invalid token", e.msg))
            api_oom(resp);
        resp->www_authenticate = API_REALM ", error=\"invalid_token\"";
        return false;
    }
    if (api_route_allows(roles, a->who.role))
        return true;
    a->auth_refused++;
    char allowed[128], msg[400];
    roles_text(roles, allowed, sizeof allowed);
    if (!a->who.authenticated) {
        snprintf(msg, sizeof msg, "%s %s needs a bearer token (Authorization: Bearer TOKEN) of a "
                                  "user with role %s", req->method, req->path, allowed);
        if (http_problem(resp, 401, "Authentication required", msg))
            api_oom(resp);
        resp->www_authenticate = API_REALM;
        return false;
    }
    snprintf(msg, sizeof msg, "user %s has role %s; %s %s is for role %s", a->who.name,
             auth_role_name(a->who.role), req->method, req->path, allowed);
    if (http_problem(resp, 403, "Role not allowed", msg))
        api_oom(resp);
    if (is_write(req->method))
        audit(a, req->method, "(refused)", req->path, 403, msg);
    return false;
}

void api_audit_request(struct api *a, const struct http_request *req, const char *pattern,
                       int status)
{
    if (is_write(req->method))
        audit(a, req->method, pattern, req->path, status, a->audit_result);
}

int api_scope_party(struct api *a, const char **party, struct http_response *resp)
{
    if (a->who.role != AUTH_PARTY)
        return 0;
    if (*party && strcmp(*party, a->who.party)) {
        char msg[256];
        snprintf(msg, sizeof msg, "user %s speaks for party %s and sees only its findings, not "
                                  "those of %s", a->who.name, a->who.party, *party);
        if (http_problem(resp, 403, "Party scope", msg))
            api_oom(resp);
        return -1;
    }
    *party = a->who.party;
    return 0;
}

struct audit_ctx {
    struct buf *b;
    size_t n;
};

static int audit_item(void *ctx, const struct store_audit *x)
{
    struct audit_ctx *c = ctx;
    char t[40];
    time_format_utc(x->t_ms, t, sizeof t);
    int rc = buf_printf(c->b, "%s{\"id\":%lld,\"time\":\"%s\",\"actor\":", c->n++ ? ",\n" : "",
                        (long long)x->id, t);
    if (!rc)
        rc = buf_json_str(c->b, x->actor);
    if (!rc && !(rc = buf_printf(c->b, ",\"role\":")))
        rc = buf_json_str(c->b, x->role);
    if (!rc && !(rc = buf_printf(c->b, ",\"action\":")))
        rc = buf_json_str(c->b, x->action);
    if (!rc && !(rc = buf_printf(c->b, ",\"target\":")))
        rc = buf_json_str(c->b, x->target);
    if (!rc && !(rc = buf_printf(c->b, ",\"status\":%d,\"result\":", x->status)))
        rc = buf_json_str(c->b, x->result);
    if (!rc)
        rc = buf_append(c->b, "}", 1);
    return rc;
}

void api_h_audit(struct api *a, const struct http_request *req, const struct api_params *p,
                 struct http_response *resp)
{
    (void)p;
    long long after = 0, limit = API_LIST_DEFAULT_LIMIT;
    const char *q = http_query(req, "after");
    if (q && (str_to_ll(q, &after) || after < 0)) {
        api_problem(resp, 400, "query parameter after: an audit entry id (0 or more)");
        return;
    }
    q = http_query(req, "limit");
    if (q && (str_to_ll(q, &limit) || limit < 1 || limit > API_LIST_MAX_LIMIT)) {
        char msg[128];
        snprintf(msg, sizeof msg, "query parameter limit: must be a number from 1 to %d",
                 API_LIST_MAX_LIMIT);
        api_problem(resp, 400, msg);
        return;
    }
    struct audit_ctx c = {&resp->body, 0};
    struct errbuf e;
    int rc = buf_append(&resp->body, "[", 1);
    if (!rc)
        rc = store_audit_each(a->s, after, limit, audit_item, &c, &e);
    if (rc == ERR_NOMEM || (!rc && buf_append(&resp->body, "]\n", 2)))
        api_oom(resp);
    else if (rc)
        api_problem(resp, 500, e.msg);
}

/* GET /api/v1/me: who the request's token belongs to (the dashboard's sign-in checks a token with
 * it): {"name", "role", "party"} (party null unless a party user). */
void api_h_me(struct api *a, const struct http_request *req, const struct api_params *p,
              struct http_response *resp)
{
    (void)req;
    (void)p;
    struct buf *b = &resp->body;
    int rc = buf_printf(b, "{\"name\":") || buf_json_str(b, a->who.name) ||
             buf_printf(b, ",\"role\":") ||
             buf_json_str(b, auth_role_name(a->who.role)) || buf_printf(b, ",\"party\":");
    if (!rc)
        rc = a->who.party[0] ? buf_json_str(b, a->who.party) : buf_printf(b, "null");
    if (rc || buf_printf(b, "}\n"))
        api_oom(resp);
}
