/* review.h: the review of findings (capability M6): which role may take which step from which
 * status (provisional -> confirmed or dismissed by an analyst, with a reason; confirmed ->
 * published by a publisher; a party disputes a finding about its side with a statement; an
 * analyst may revisit a dismissed or confirmed finding), and the step itself: recorded with
 * who, in which role, when and why, and appended to the transparency log in one transaction.
 *
 * Who the actor is comes from the caller: the command line acts for the local operator; over
 * HTTP it is the authenticated user (issue 5's users and roles). */
#ifndef TRUCE_REVIEW_H
#define TRUCE_REVIEW_H
#include <stdint.h>

#include "log/log.h"
#include "store/store.h"
#include "util/util.h"

#define REVIEW_TEXT_MAX 4000 /* bytes of a reason or a statement */
#define REVIEW_NAME_MAX 64   /* bytes of an actor's name, a role or a party id */

/* The actions, the roles and the statuses. */
extern const char *const REVIEW_ACTIONS[];   /* confirm, dismiss, dispute, publish; NULL-ended */
extern const char *const REVIEW_ROLES[];     /* monitor, analyst, publisher, party, guarantor,
                                                public; NULL-ended */

/* One requested step. party is the actor's party when the role is "party" (else NULL). */
struct review_request {
    int64_t finding_id;
    const char *action, *actor, *role, *party, *text;
};

/* Whether role may take action on a finding in status (about finding_party, for a party
 * actor of actor_party); on yes *to is the new status. The error says why not (ERR_CONFLICT:
 * not from this status; ERR_INVAL: not this role, or a party disputing another's finding). */
int review_allowed(const char *status, const char *action, const char *role,
                   const char *actor_party, const char *finding_party, const char **to,
                   struct errbuf *e) WUR;

/* Checks the request (names, text, role, status) and records it with its log leaf in one
 * transaction (leaf fsynced before the commit). *review_id gets the step's id and *to the
 * finding's new status (at least 16 bytes). ERR_NOTFOUND: no such finding. */
int review_apply(struct truce_log *log, struct store *s, const struct review_request *r,
                 int64_t *review_id, char *to, size_t to_n, struct errbuf *e) WUR;

#endif
