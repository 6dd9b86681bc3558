/* rules.h: judging one observation against the agreement version in force when it happened
 * (capability M6 without the review workflow): fire where fire is prohibited, a weapon of a
 * class inside its withdrawal distance from its side's reference line, armed presence inside a
 * zone that forbids it. Each finding carries the clause id, the party (or "undetermined"), the
 * result, the severity and the reasons in words.
 *
 * Pure computation: no I/O, no allocation. */
#ifndef TRUCE_RULES_H
#define TRUCE_RULES_H
#include "agreement/agreement.h"
#include "observation/observation.h"
#include "placement/placement.h"

#define RULES_MAX_FINDINGS 16
/* Ownership is inferred from the control area only when the region of uncertainty is at least
 * this far from every line, on top of its own radius (the lines are approximate). */
#define RULES_CONTROL_MARGIN_M 1000.0

enum rule_result {
    RULE_VIOLATION,    /* the evidence shows the clause was broken */
    RULE_UNDETERMINED, /* it may have been: the region of uncertainty straddles the limit */
};
extern const char *const RULE_RESULT_NAMES[2];

struct finding {
    int rule; /* index into agreement rules */
    enum rule_result result;
    char party[32]; /* a party id, or "undetermined" */
    char reasons[768];
};

/* Judges o (placed as p) against agreement a, writing up to RULES_MAX_FINDINGS findings into
 * out and their number into *n. An observation before the agreement's effective time, or an
 * allegation (a claim, not evidence), yields none. */
void rules_judge(const struct agreement *a, const struct obs *o, const struct placement *p,
                 struct finding *out, size_t *n);

#endif
