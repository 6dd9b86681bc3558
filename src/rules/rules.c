/* rules.c: the three rule kinds of the agreement format, applied to one placed observation.
 *
 * The reasons are written for the people who review findings: what was seen, where, and which
 * limit it breaks, with the numbers that decide it. */
#include "rules/rules.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const RULE_RESULT_NAMES[2] = {"violation", "undetermined"};

static bool rule_in_force(const struct agreement *a, const struct agr_rule *r, int64_t t)
{
    int64_t from = r->effective_ms != TIME_NONE ? r->effective_ms : a->effective_ms;
    return t >= from;
}

static bool rule_covers_event(const struct agr_rule *r, int type)
{
    if (!r->n_event_types)
        return true;
    for (size_t i = 0; i < r->n_event_types; i++)
        if (agr_event_type_index(r->event_types[i]) == type)
            return true;
    return false;
}

/* An event that records nothing ("0", "about 0", "at least 0") breaks no clause. */
static bool event_counts(const struct obs_event *ev)
{
    return ev->qualifier == OBS_Q_UNCOUNTABLE || ev->count > 0;
}

static const char *qualifier_words(enum obs_qualifier q)
{
    return q == OBS_Q_ABOUT ? "about " : q == OBS_Q_AT_LEAST ? "at least " : "";
}

/* "48 undetermined explosions, about 2 bursts" */
static void describe_events(const struct obs *o, const struct agr_rule *r, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < o->n_events && len < n; i++) {
        const struct obs_event *ev = &o->events[i];
        if (!rule_covers_event(r, ev->type) || !event_counts(ev))
            continue;
        if (ev->qualifier == OBS_Q_UNCOUNTABLE)
            len += (size_t)snprintf(buf + len, n - len, "%suncountable %s", len ? ", " : "",
                                    AGR_EVENT_NAMES_MANY[ev->type]);
        else
            len += (size_t)snprintf(buf + len, n - len, "%s%s%lld %s", len ? ", " : "",
                                    qualifier_words(ev->qualifier), ev->count,
                                    ev->count == 1 && ev->qualifier == OBS_Q_EXACT
                                        ? AGR_EVENT_NAMES_ONE[ev->type]
                                        : AGR_EVENT_NAMES_MANY[ev->type]);
    }
}

/* Metres as kilometres with one decimal ("22.8"), by integer arithmetic. */
static const char *km1(char *buf, size_t n, double m)
{
    long long tenths = llround(fabs(m) / 100.0);
    snprintf(buf, n, "%s%lld.%lld", m < 0 ? "-" : "", tenths / 10, tenths % 10);
    return buf;
}

static void add(struct finding *out, size_t *n, int rule, enum rule_result res, const char *party,
                const char *reasons)
{
    if (*n >= RULES_MAX_FINDINGS)
        return;
    struct finding *f = &out[(*n)++];
    f->rule = rule;
    f->result = res;
    str_copy(f->party, sizeof f->party, party && *party ? party : "undetermined");
    str_copy(f->reasons, sizeof f->reasons, reasons);
}

static void judge_fire(const struct agreement *a, const struct obs *o, const struct placement *p,
                       int ri, struct finding *out, size_t *n)
{
    const struct agr_rule *r = &a->rules[ri];
    bool any = false;
    for (size_t i = 0; i < o->n_events && !any; i++)
        any = rule_covers_event(r, o->events[i].type) && event_counts(&o->events[i]);
    /* The agreement governs its report regions: fire placed outside all of them (a far-away
     * report, or swapped coordinates) is stored but judged by no clause. */
    if (!any || p->region < 0)
        return;
    char events[256], when[40], why[768];
    describe_events(o, r, events, sizeof events);
    time_format_local(o->t_start_ms, a->time_zone, when, sizeof when);
    snprintf(why, sizeof why,
             "%s recorded by %s %s (%s, %s); clause %s prohibits this fire from %s. The party "
             "that fired is not established by this report alone.",
             events, OBS_MEANS_NAMES[o->means], p->phrase, PLACE_HOW_NAMES[p->how], when,
             r->clause,
             r->effective_ms != TIME_NONE ? "its effective time" : "the agreement's effective time");
    add(out, n, ri, RULE_VIOLATION, NULL, why);
}

/* Whose weapon or presence: as reported, else the party controlling the location when that is
 * certain. Writes the basis into `basis`. */
static const char *whose(const struct obs *o, const struct placement *p, char *basis, size_t n)
{
    if (o->party[0]) {
        snprintf(basis, n, "reported as %s", o->party);
        return o->party;
    }
    /* Inference from the control area needs the whole region of uncertainty, plus a margin for
     * the approximate geometry of control, to lie on one side. */
    bool clear = true;
    for (size_t i = 0; i < p->n_lines; i++)
        if (fabs(p->line_distance_m[i]) < p->radius_m + RULES_CONTROL_MARGIN_M)
            clear = false;
    if (p->control && !p->control_uncertain && clear) {
        snprintf(basis, n, "not reported; inferred from the location in the area controlled by %s",
                 p->control);
        return p->control;
    }
    if (!p->control)
        snprintf(basis, n, "not reported, and the location is in no party's control area");
    else if (p->control_uncertain)
        snprintf(basis, n, "not reported, and the region of uncertainty reaches into another "
                           "party's control area");
    else
        snprintf(basis, n, "not reported, and the location is within %.0f km of a line of control "
                           "(plus its uncertainty), too close to infer it",
                 RULES_CONTROL_MARGIN_M / 1000);
    return NULL;
}

static void judge_withdrawal(const struct agreement *a, const struct obs *o,
                             const struct placement *p, int ri, struct finding *out, size_t *n)
{
    const struct agr_rule *r = &a->rules[ri];
    if (o->kind != OBS_SIGHTING)
        return;
    int wc = agr_weapon_class_match(a, o->weapon.category, o->weapon.model, o->weapon.calibre_mm);
    if (wc != r->weapon_class)
        return;
    char basis[160];
    const char *party = whose(o, p, basis, sizeof basis);
    const struct agr_weapon_class *cls = &a->classes[wc];
    char what[200];
    snprintf(what, sizeof what, "%s%lld weapon%s of the class \"%s\"%s%s%s",
             qualifier_words(o->count_qualifier), o->count,
             o->count == 1 && o->count_qualifier == OBS_Q_EXACT ? "" : "s", cls->name,
             o->weapon.model[0] ? " (" : "", o->weapon.model, o->weapon.model[0] ? ")" : "");
    char why[768];
    double limit_m = r->distance_km * 1000;
    if (!party) {
        /* Unknown owner: inside the limit from both parties' lines is still a finding. */
        double dmin = INFINITY;
        for (size_t i = 0; i < a->n_parties; i++) {
            int li = a->reference_line[i];
            if (li >= 0 && (size_t)li < p->n_lines && fabs(p->line_distance_m[li]) < dmin)
                dmin = fabs(p->line_distance_m[li]);
        }
        if (dmin - p->radius_m >= limit_m)
            return;
        char k1[32], k2[32];
        snprintf(why, sizeof why,
                 "%s seen %s, %s km from the nearest reference line (uncertainty %s km); "
                 "clause %s requires withdrawal to %g km. Owner %s.",
                 what, p->phrase, km1(k1, sizeof k1, dmin), km1(k2, sizeof k2, p->radius_m),
                 r->clause, r->distance_km, basis);
        add(out, n, ri, RULE_UNDETERMINED, NULL, why);
        return;
    }
    int pi = agr_party_index(a, party);
    int li = pi >= 0 ? a->reference_line[pi] : -1;
    if (li < 0 || (size_t)li >= p->n_lines)
        return;
    const struct agr_line *line = &a->lines[li];
    double s = p->line_distance_m[li];
    /* Positive distance is the right of the line; the party's own side is its right or left. */
    bool own_right = line->right_party && !strcmp(line->right_party, party);
    double own = own_right ? s : -s; /* > 0 on the party's own side */
    double d = own > 0 ? own : 0;    /* beyond the line counts as at the line */
    if (d - p->radius_m >= limit_m)
        return;
    enum rule_result res = d + p->radius_m < limit_m ? RULE_VIOLATION : RULE_UNDETERMINED;
    char k1[32], k2[32];
    snprintf(why, sizeof why,
             "%s seen %s, %s km from %s's reference line (%s)%s, uncertainty %s km; clause "
             "%s requires withdrawal to %g km. Owner %s.",
             what, p->phrase, km1(k1, sizeof k1, fabs(s)), party, line->name,
             own > 0 ? "" : " on the far side of the line", km1(k2, sizeof k2, p->radius_m),
             r->clause, r->distance_km, basis);
    add(out, n, ri, res, party, why);
}

static void judge_presence(const struct agreement *a, const struct obs *o,
                           const struct placement *p, int ri, struct finding *out, size_t *n)
{
    const struct agr_rule *r = &a->rules[ri];
    if (!(o->kind == OBS_SIGHTING || (o->kind == OBS_PRESENCE && o->armed)))
        return;
    for (size_t i = 0; i < r->n_zones; i++) {
        for (size_t j = 0; j < p->n_zones; j++) {
            if (p->zones[j].zone != r->zones[i] || p->zones[j].rel == PLACE_NEAR)
                continue;
            const struct agr_zone *z = &a->zones[r->zones[i]];
            char basis[160], why[768];
            const char *party = whose(o, p, basis, sizeof basis);
            char what[160];
            if (o->kind == OBS_SIGHTING)
                snprintf(what, sizeof what, "%s%lld weapon%s (%s%s%s)",
                         qualifier_words(o->count_qualifier), o->count,
                         o->count == 1 && o->count_qualifier == OBS_Q_EXACT ? "" : "s",
                         o->weapon.category, o->weapon.model[0] ? " " : "", o->weapon.model);
            else if (o->count >= 0)
                snprintf(what, sizeof what, "armed presence (%s%lld)",
                         qualifier_words(o->count_qualifier), o->count);
            else
                snprintf(what, sizeof what, "armed presence");
            bool in = p->zones[j].rel == PLACE_IN;
            char k1[32];
            snprintf(why, sizeof why, "%s seen %s, %s the %s (uncertainty %s km); clause %s "
                                      "forbids any armed presence there. Owner %s.",
                     what, p->phrase, in ? "inside" : "possibly inside", z->name,
                     km1(k1, sizeof k1, p->radius_m), r->clause, basis);
            add(out, n, ri, in ? RULE_VIOLATION : RULE_UNDETERMINED, party, why);
            return;
        }
    }
}

void rules_judge(const struct agreement *a, const struct obs *o, const struct placement *p,
                 struct finding *out, size_t *n)
{
    *n = 0;
    if (o->kind == OBS_ALLEGATION || o->t_start_ms < a->effective_ms)
        return;
    for (size_t i = 0; i < a->n_rules; i++) {
        const struct agr_rule *r = &a->rules[i];
        if (!rule_in_force(a, r, o->t_start_ms))
            continue;
        switch (r->kind) {
        case AGR_RULE_FIRE_PROHIBITED:
            if (o->kind == OBS_FIRE || o->kind == OBS_DETECTION)
                judge_fire(a, o, p, (int)i, out, n);
            break;
        case AGR_RULE_WEAPON_WITHDRAWAL:
            judge_withdrawal(a, o, p, (int)i, out, n);
            break;
        case AGR_RULE_ARMED_PRESENCE:
            judge_presence(a, o, p, (int)i, out, n);
            break;
        }
    }
}
