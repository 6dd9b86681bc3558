/* review.c: the review steps of findings as a table (action, from-statuses, role, to-status),
 * the checks of a request, and the one transaction that records a step with its log leaf. */
#include "review/review.h"

#include <string.h>

const char *const REVIEW_ACTIONS[] = {"confirm", "dismiss", "dispute", "publish", NULL};
const char *const REVIEW_ROLES[] = {"monitor", "analyst",   "publisher", "party",
                                    "guarantor", "public", NULL};

/* Each step: the action, the statuses it may start from ("|a|b|"), the one role allowed, and
 * the status it leaves (NULL: unchanged, a dispute is a recorded statement). */
static const struct {
    const char *action, *from, *role, *to;
} STEPS[] = {
    {"confirm", "|provisional|dismissed|", "analyst", "confirmed"},
    {"dismiss", "|provisional|confirmed|", "analyst", "dismissed"},
    {"publish", "|confirmed|", "publisher", "published"},
    {"dispute", "|provisional|confirmed|published|", "party", NULL},
};

int review_allowed(const char *status, const char *action, const char *role,
                   const char *actor_party, const char *finding_party, const char **to,
                   struct errbuf *e)
{
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++) {
        if (strcmp(STEPS[i].action, action))
            continue;
        if (strcmp(STEPS[i].role, role))
            return errf(e, ERR_INVAL, "%s: only the %s role may %s a finding, not %s", action,
                        STEPS[i].role, action, role);
        if (!strcmp(role, "party") &&
            (!actor_party || !finding_party || strcmp(actor_party, finding_party)))
            return errf(e, ERR_INVAL, "dispute: a party may dispute only findings about its own "
                                      "side (this finding is about %s)",
                        finding_party ? finding_party : "no party");
        char key[40];
        snprintf(key, sizeof key, "|%s|", status);
        if (!strstr(STEPS[i].from, key))
            return errf(e, ERR_CONFLICT, "%s: not possible from status %s (possible from %s)",
                        action, status, STEPS[i].from);
        *to = STEPS[i].to ? STEPS[i].to : status;
        return 0;
    }
    return errf(e, ERR_INVAL, "action %s: unknown (confirm, dismiss, dispute, publish)", action);
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return true;
    return false;
}

/* A name for a leaf line: 1 to REVIEW_NAME_MAX printable bytes, no newline. */
static int check_name(const char *what, const char *v, struct errbuf *e)
{
    if (!v || !*v)
        return errf(e, ERR_INVAL, "%s: missing", what);
    if (strlen(v) > REVIEW_NAME_MAX)
        return errf(e, ERR_INVAL, "%s: longer than %d bytes", what, REVIEW_NAME_MAX);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return errf(e, ERR_INVAL, "%s: control characters are not allowed", what);
    return 0;
}

int review_apply(struct truce_log *log, struct store *s, const struct review_request *r,
                 int64_t *review_id, char *to, size_t to_n, struct errbuf *e)
{
    int rc;
    if ((rc = check_name("actor", r->actor, e)) || (rc = check_name("role", r->role, e)) ||
        (rc = check_name("action", r->action, e)))
        return rc;
    if (!in_list(REVIEW_ROLES, r->role))
        return errf(e, ERR_INVAL, "role %s: unknown (monitor, analyst, publisher, party, "
                                  "guarantor, public)", r->role);
    if (!in_list(REVIEW_ACTIONS, r->action))
        return errf(e, ERR_INVAL, "action %s: unknown (confirm, dismiss, dispute, publish)",
                    r->action);
    if (!strcmp(r->role, "party") && (rc = check_name("party", r->party, e)))
        return rc;
    if (!r->text || !*r->text)
        return errf(e, ERR_INVAL, "%s: a %s is required", r->action,
                    !strcmp(r->action, "dispute") ? "statement" : "reason");
    if (strlen(r->text) > REVIEW_TEXT_MAX)
        return errf(e, ERR_INVAL, "%s: the text is longer than %d bytes", r->action,
                    REVIEW_TEXT_MAX);
    if ((rc = store_begin(s, e)))
        return rc;
    char status[16], fparty[32];
    const char *next = NULL;
    int64_t index = store_log_size(s);
    struct store_review sr = {.finding_id = r->finding_id, .action = r->action,
                              .actor = r->actor, .role = r->role,
                              .party = !strcmp(r->role, "party") ? r->party : NULL,
                              .text = r->text, .time_ms = time_now_ms()};
    if (!(rc = store_finding_get(s, r->finding_id, status, fparty, e)) &&
        !(rc = review_allowed(status, r->action, r->role, r->party, fparty, &next, e))) {
        sr.status_from = status;
        sr.status_to = next;
        if (!(rc = store_finding_review_add(s, &sr, review_id, e))) {
            struct store_log_record lr = {
                .kind = STORE_LOG_REVIEW, .log_index = index, .id = *review_id,
                .finding_id = sr.finding_id, .time_ms = sr.time_ms, .action = sr.action,
                .status_from = sr.status_from, .status_to = sr.status_to, .actor = sr.actor,
                .role = sr.role, .party = sr.party, .body = sr.text,
                .body_len = strlen(sr.text)};
            if (!(rc = log_add(log, &lr, e)) && !(rc = log_sync(log, e)))
                rc = store_commit(s, e);
        }
    }
    if (rc) {
        store_rollback(s);
        if (log_rewind(log, s, NULL))
            fputs("truce: the log could not be rewound; it is repaired when next opened\n",
                  stderr);
        return rc;
    }
    str_copy(to, to_n, next);
    return 0;
}
