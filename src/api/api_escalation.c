/* api_escalation.c: the escalation routes of the API: alerts with their state and webhook
 * deliveries, acknowledgement by a subscriber, and the webhook subscribers themselves
 * (docs/api.md, docs/escalation.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "escalation/escalation.h"


struct alerts_ctx {
    struct store *s;
    struct buf *b;
    size_t n;
    struct errbuf *e;
};

static int on_alert(void *ctx, const struct store_alert *al)
{
    struct alerts_ctx *c = ctx;
    if (c->n++ && buf_append(c->b, ",\n", 2))
        return errf(c->e, ERR_NOMEM, "out of memory");
    return esc_alert_json(c->s, al, true, c->b, c->e);
}

/* The {id} parameter as a positive id, or 400 and 0. */
static long long param_id(const struct api_params *p, struct http_response *resp)
{
    long long id;
    if (str_to_ll(p->v[0], &id) || id < 1) {
        api_problem(resp, 400, "the alert id must be a positive whole number");
        return 0;
    }
    return id;
}

/* Alert id as the request's user may see it (a party user: alerts about its party or about no
 * one party), through cb; nothing when it may not (the caller answers 404 as for no alert).
 * Returns 0, 1 when resp was filled (party scope refused), or -1 with e set. */
static int visible_alert(struct api *a, long long id, int (*cb)(void *, const struct store_alert *),
                         void *ctx, struct http_response *resp, struct errbuf *e)
{
    struct store_alert_filter f = {id, 1, -1, NULL, false, 0, 0, NULL};
    if (api_scope_party(a, &f.party, resp))
        return 1;
    return store_alerts_select(api_store(a), &f, cb, ctx, e) ? -1 : 0;
}

static int count_alert(void *ctx, const struct store_alert *al)
{
    (void)al;
    ++*(size_t *)ctx;
    return 0;
}

void api_h_alerts(struct api *a, const struct http_request *req, const struct api_params *p,
                  struct http_response *resp)
{
    (void)p;
    long long limit = API_LIST_DEFAULT_LIMIT;
    const char *l = http_query(req, "limit");
    if (l && (str_to_ll(l, &limit) || limit < 1 || limit > API_LIST_MAX_LIMIT)) {
        char msg[96];
        snprintf(msg, sizeof msg, "query parameter limit: must be a number from 1 to %d",
                 API_LIST_MAX_LIMIT);
        api_problem(resp, 400, msg);
        return;
    }
    struct store_alert_filter f = {0, limit, -1, http_query(req, "state"), false, 0, 0, NULL};
    if (api_scope_party(a, &f.party, resp))
        return;
    const char *level = http_query(req, "level");
    if (level && (f.min_level = agr_esc_level_parse(level)) < 0) {
        api_problem(resp, 400, "query parameter level: notice, warning, serious or "
                               "guarantee_trigger (alerts at or above it)");
        return;
    }
    if (f.state && strcmp(f.state, "open") && strcmp(f.state, "acknowledged")) {
        api_problem(resp, 400, "query parameter state: open or acknowledged");
        return;
    }
    struct errbuf e;
    struct alerts_ctx c = {api_store(a), &resp->body, 0, &e};
    if (buf_append(&resp->body, "[", 1)) {
        api_oom(resp);
        return;
    }
    if (store_alerts_select(api_store(a), &f, on_alert, &c, &e)) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (buf_append(&resp->body, "]\n", 2))
        api_oom(resp);
}

void api_h_alert(struct api *a, const struct http_request *req, const struct api_params *p,
                 struct http_response *resp)
{
    (void)req;
    long long id = param_id(p, resp);
    if (!id)
        return;
    struct errbuf e;
    struct alerts_ctx c = {api_store(a), &resp->body, 0, &e};
    int rc = visible_alert(a, id, on_alert, &c, resp, &e);
    if (rc > 0)
        return;
    if (rc < 0) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (!c.n) {
        api_problem(resp, 404, "no such alert");
        return;
    }
    if (buf_append(&resp->body, "\n", 1))
        api_oom(resp);
}

void api_h_alert_ack(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    long long id = param_id(p, resp);
    if (!id)
        return;
    /* Who acknowledges: the user of the request's token (the route admits no public). */
    (void)req;
    const char *by = a->who.name;
    struct errbuf e;
    size_t seen = 0;
    int vrc = visible_alert(a, id, count_alert, &seen, resp, &e);
    if (vrc > 0)
        return;
    if (vrc < 0) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (!seen) { /* no alert, or one about the other party: not this user's to acknowledge */
        api_problem(resp, 404, "no such alert");
        return;
    }
    bool already;
    int rc = store_alert_ack(api_store(a), id, by, &already, &e);
    if (rc == ERR_NOTFOUND) {
        api_problem(resp, 404, "no such alert");
        return;
    }
    if (rc) {
        api_problem(resp, 500, e.msg);
        return;
    }
    /* The alert as it now stands: the first acknowledgement is kept, a repeat is answered 200
     * with "already": true so a retried request is harmless. */
    struct alerts_ctx c = {api_store(a), &resp->body, 0, &e};
    if (buf_printf(&resp->body, "{\"already\":%s,\"alert\":", already ? "true" : "false") ||
        store_alerts_list(api_store(a), id, 1, on_alert, &c, &e) ||
        buf_append(&resp->body, "}\n", 2))
        api_oom(resp);
}

static int on_sub(void *ctx, const struct store_subscriber *sub)
{
    struct alerts_ctx *c = ctx;
    struct buf *b = c->b;
    char t[40];
    time_format_utc(sub->added_ms, t, sizeof t);
    int rc = buf_printf(b, "%s{\"name\":", c->n++ ? ",\n" : "") || buf_json_str(b, sub->name) ||
             buf_append(b, ",\"url\":", 7) || buf_json_str(b, sub->url) ||
             buf_printf(b, ",\"min_level\":\"%s\",\"party\":", sub->min_level) ||
             (sub->party ? buf_json_str(b, sub->party) : buf_append(b, "null", 4)) ||
             buf_printf(b, ",\"added\":\"%s\"}", t);
    return rc ? ERR_NOMEM : 0;
}

void api_h_subscribers(struct api *a, const struct http_request *req, const struct api_params *p,
                       struct http_response *resp)
{
    (void)req;
    (void)p;
    struct errbuf e;
    struct alerts_ctx c = {api_store(a), &resp->body, 0, &e};
    int rc = buf_append(&resp->body, "[", 1);
    if (!rc && (rc = store_subscribers_list(api_store(a), on_sub, &c, &e)) && rc != ERR_NOMEM) {
        api_problem(resp, 500, e.msg);
        return;
    }
    if (rc || buf_append(&resp->body, "]\n", 2))
        api_oom(resp);
}

void api_h_subscriber_add(struct api *a, const struct http_request *req,
                          const struct api_params *p, struct http_response *resp)
{
    (void)p;
    const struct store_agreements *ag = api_agreements(a);
    struct errbuf e;
    int rc = esc_subscriber_add_json(api_store(a), ag->v[ag->n - 1], req->body, req->body_len,
                                     &e);
    if (rc) {
        api_problem(resp, rc == ERR_CONFLICT ? 409 : rc == ERR_DB ? 500 : 400, e.msg);
        return;
    }
    resp->status = 201;
    struct alerts_ctx c = {api_store(a), &resp->body, 0, &e};
    if (buf_append(&resp->body, "[", 1) ||
        store_subscribers_list(api_store(a), on_sub, &c, &e) ||
        buf_append(&resp->body, "]\n", 2))
        api_oom(resp);
}

void api_h_subscriber_remove(struct api *a, const struct http_request *req,
                             const struct api_params *p, struct http_response *resp)
{
    (void)req;
    struct errbuf e;
    int rc = store_subscriber_remove(api_store(a), p->v[0], &e);
    if (rc == ERR_NOTFOUND)
        api_problem(resp, 404, e.msg);
    else if (rc)
        api_problem(resp, 500, e.msg);
    else
        resp->status = 204;
}
