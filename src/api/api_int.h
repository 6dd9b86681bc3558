/* api_int.h: what the api module's files share and nothing outside it may include: captured
 * path parameters, accessors to the api's state, the problem helpers, and the handlers that
 * live outside api.c (api_escalation.c). */
#ifndef TRUCE_API_INT_H
#define TRUCE_API_INT_H
#include "api/api.h"
#include "escalation/escalation.h"

struct api_params {
    char v[API_MAX_PARAMS][API_MAX_SEGMENT];
    int n;
};

struct store *api_store(struct api *a);
const struct store_agreements *api_agreements(struct api *a);
struct truce_log *api_log(struct api *a);

/* Replaces the response with a problem+json of status and detail (500 when out of memory). */
void api_problem(struct http_response *resp, int status, const char *detail);
void api_oom(struct http_response *resp);

/* api_escalation.c: alerts, acknowledgements and webhook subscribers (docs/api.md). */
#define API_SUBSCRIBER_BODY_BYTES ESC_SUBSCRIBER_JSON_MAX
void api_h_alerts(struct api *, const struct http_request *, const struct api_params *,
                  struct http_response *);
void api_h_alert(struct api *, const struct http_request *, const struct api_params *,
                 struct http_response *);
void api_h_alert_ack(struct api *, const struct http_request *, const struct api_params *,
                     struct http_response *);
void api_h_subscribers(struct api *, const struct http_request *, const struct api_params *,
                       struct http_response *);
void api_h_subscriber_add(struct api *, const struct http_request *, const struct api_params *,
                          struct http_response *);
void api_h_subscriber_remove(struct api *, const struct http_request *,
                             const struct api_params *, struct http_response *);

#endif
