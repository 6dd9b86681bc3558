/* api_incidents.c: the incidents fused from fire observations (docs/fusion.md) over HTTP:
 * GET /api/v1/incidents with the listing filters (from, to on the incident's end, party,
 * region, limit) and GET /api/v1/incidents/{id}. The objects are those of
 * `truce incidents --format ndjson`. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

/* A listing being written as a JSON array. */
struct incident_list {
    struct buf *b;
    size_t n;
};

static int list_item(void *ctx, const char *json)
{
    struct incident_list *c = ctx;
    int rc = (c->n++ && buf_append(c->b, ",\n", 2)) || buf_append(c->b, json, strlen(json));
    return rc;
}

void api_h_incidents(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    (void)p;
    struct store_page pg;
    if (api_page_from_query_(req, a->ag->v[a->ag->n - 1]->time_zone, API_LIST_DEFAULT_LIMIT,
                             API_LIST_MAX_LIMIT, &pg, resp) ||
        api_scope_party(a, &pg.f.party, resp))
        return;
    struct store_filter f = pg.f;
    if (f.clause || f.kind || pg.has_after || pg.has_bbox) {
        api_problem(resp, 400, "incidents are filtered by datetime (or from, to), party, region "
                               "and limit; not by clause, kind, bbox or cursor");
        return;
    }
    struct incident_list c = {&resp->body, 0};
    struct errbuf e;
    if (buf_append(&resp->body, "[", 1)) {
        api_oom(resp);
        return;
    }
    int rc = store_incidents_list(a->s, &f, -1, list_item, &c, &e);
    if (rc) {
        api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
        return;
    }
    if (buf_append(&resp->body, "]\n", 2))
        api_oom(resp);
}

static int one_item(void *ctx, const char *json)
{
    struct buf *b = ctx;
    return buf_append(b, json, strlen(json)) || buf_append(b, "\n", 1);
}

void api_h_incident(struct api *a, const struct http_request *req, const struct api_params *p,
                    struct http_response *resp)
{
    (void)req;
    long long id;
    if (str_to_ll(p->v[0], &id) || id < 1) {
        api_problem(resp, 400, "the incident id must be a positive whole number");
        return;
    }
    struct errbuf e;
    int rc = store_incidents_list(a->s, NULL, id, one_item, &resp->body, &e);
    if (rc == ERR_NOTFOUND)
        api_problem(resp, 404, e.msg);
    else if (rc)
        api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
}
