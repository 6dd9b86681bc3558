/* api_incidents.c: the incidents fused from fire observations (docs/fusion.md) over HTTP:
 * GET /api/v1/incidents, paged like the other listings (bbox on the incident's location,
 * datetime or from/to on its end, party, region, cursor, limit; api_list_page) and
 * GET /api/v1/incidents/{id} (a party user: only incidents attributed to its side, as on its
 * map). The objects are those of
 * `truce incidents --format ndjson`. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

void api_h_incidents(struct api *a, const struct http_request *req, const struct api_params *p,
                     struct http_response *resp)
{
    (void)p;
    api_list_page(a, req, resp, API_LIST_INCIDENTS);
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
    /* A party user sees the incidents attributed to its side, as in the listing and on the map;
     * another's answers 404, so a party learns nothing of incidents it may not see. */
    struct store_filter f;
    store_filter_init(&f);
    if (api_scope_party(a, &f.party, resp))
        return;
    struct errbuf e;
    int rc = store_incidents_list(a->s, &f, id, one_item, &resp->body, &e);
    if (rc == ERR_NOTFOUND)
        api_problem(resp, 404, e.msg);
    else if (rc)
        api_problem(resp, 500, rc == ERR_NOMEM ? "out of memory" : e.msg);
}
