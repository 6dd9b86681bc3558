/* report.c: assembling the daily report from the store (docs/architecture.md, M9).
 *
 * The counts are computed once into a `struct tally` per region and period; the text and JSON
 * writers only format it, so both always say the same thing. */
#include "report/report.h"
#include "report/report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int region_slot(const struct agreement *a, const char *region)
{
    if (region)
        for (size_t i = 0; i < a->n_regions && i < MAX_REGIONS - 1; i++)
            if (!strcmp(a->regions[i].id, region))
                return (int)i;
    return MAX_REGIONS - 1;
}

static int on_event(void *ctx, const struct store_event_row *r)
{
    struct collect *c = ctx;
    int type = agr_event_type_index(r->event_type);
    if (type < 0)
        return 0;
    struct tally *t = &c->t[region_slot(c->a, r->region)];
    if (r->count < 0) {
        t->uncountable[type]++;
        if (c->unc) {
            if (c->n_unc == c->cap_unc) {
                c->cap_unc = c->cap_unc ? c->cap_unc * 2 : 16;
                c->unc = xrealloc(c->unc, c->cap_unc * sizeof *c->unc);
            }
            struct uncountable_item *u = &c->unc[c->n_unc++];
            u->obs_id = r->obs_id;
            str_copy(u->region, sizeof u->region, r->region ? r->region : "");
            str_copy(u->type, sizeof u->type, r->event_type);
            str_copy(u->phrase, sizeof u->phrase, r->phrase ? r->phrase : "");
        }
        return 0;
    }
    t->by_type[type] += r->count;
    t->total += r->count;
    if (agr_event_is_explosion(type))
        t->explosions += r->count;
    if (strcmp(r->qualifier, "exact"))
        t->has_about = true;
    return 0;
}

static int on_zone(void *ctx, const struct store_zone_row *r)
{
    struct zones_collect *z = ctx;
    if (z->n == z->cap) {
        z->cap = z->cap ? z->cap * 2 : 16;
        z->v = xrealloc(z->v, z->cap * sizeof *z->v);
    }
    struct zone_item *it = &z->v[z->n++];
    str_copy(it->zone, sizeof it->zone, r->zone);
    str_copy(it->relation, sizeof it->relation, r->relation);
    str_copy(it->kind, sizeof it->kind, r->kind);
    str_copy(it->phrase, sizeof it->phrase, r->phrase ? r->phrase : "");
    it->distance_m = r->distance_m;
    it->n_events = r->n_events;
    return 0;
}

static int on_finding(void *ctx, const struct store_finding_row *r)
{
    struct findings_collect *f = ctx;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = xrealloc(f->v, f->cap * sizeof *f->v);
    }
    struct finding_item *it = &f->v[f->n++];
    it->id = r->id;
    it->obs_id = r->obs_id;
    str_copy(it->clause, sizeof it->clause, r->clause);
    str_copy(it->kind, sizeof it->kind, r->rule_kind);
    str_copy(it->result, sizeof it->result, r->result);
    str_copy(it->party, sizeof it->party, r->party);
    str_copy(it->reasons, sizeof it->reasons, r->reasons);
    str_copy(it->status, sizeof it->status, r->status ? r->status : "");
    return 0;
}

const char *report_party_name(const struct agreement *a, const char *id)
{
    int i = agr_party_index(a, id);
    return i >= 0 ? a->parties[i].name : id;
}


/* Escalation alerts whose window ended at this report's cut-off (or inside its period). */
static int on_alert(void *ctx, const struct store_alert *al)
{
    struct alerts_collect *c = ctx;
    c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    struct alert_item *it = &c->v[c->n++];
    it->id = al->id;
    it->n = al->n_findings;
    str_copy(it->threshold, sizeof it->threshold, al->threshold);
    str_copy(it->level, sizeof it->level, al->level);
    str_copy(it->region, sizeof it->region, al->region);
    str_copy(it->party, sizeof it->party, al->party);
    str_copy(it->text, sizeof it->text, al->text);
    return 0;
}

/* The incidents fused from the reports, per region, and who fired them by grade. */
static const char *const GRADE_NAMES[REPORT_GRADES] = {"confirmed", "probable", "possible",
                                                       "undetermined"};

static int on_incident(void *ctx, const struct store_incident_row *r)
{
    struct incidents_collect *c = ctx;
    struct incident_tally *it = &c->regions[region_slot(c->a, r->region)];
    it->incidents++;
    c->total++;
    const char *p = r->counts;
    for (int type = 0; type < AGR_N_EVENT_TYPES && type < 16 && p && *p; type++) {
        char *end;
        long long n = strtoll(p, &end, 10);
        if (end == p)
            break;
        p = *end == ',' ? end + 1 : end;
        if (n < 0) {
            it->t.uncountable[type]++;
            continue;
        }
        it->t.by_type[type] += n;
        it->t.total += n;
        if (agr_event_is_explosion(type))
            it->t.explosions += n;
    }
    int g = 0;
    while (g < REPORT_GRADES - 1 && strcmp(GRADE_NAMES[g], r->grade))
        g++;
    int pi = agr_party_index(c->a, r->party);
    if (pi < 0 || g == REPORT_GRADES - 1) {
        /* undetermined, or a party id the agreement does not know */
        pi = (int)c->a->n_parties;
        g = REPORT_GRADES - 1;
    }
    c->by_party[(size_t)pi * REPORT_GRADES + (size_t)g]++;
    if (r->finding_party) {
        int fi = agr_party_index(c->a, r->finding_party);
        c->findings_by_party[fi >= 0 ? (size_t)fi : c->a->n_parties]++;
        c->findings++;
    }
    return 0;
}

int report_gather(struct store *s, const struct agreement *a, int y, int m, int d,
                  struct report_data *r, struct errbuf *e)
{
    memset(r, 0, sizeof *r);
    if (agr_report_window(a, y, m, d, &r->from, &r->to))
        return errf(e, ERR_INVAL, "%04d-%02d-%02d: not a date in %s", y, m, d, a->time_zone);
    int64_t pf, pt;
    /* The previous period is the 24 hours before, which agr_report_window computes for the day
     * before (so a DST change is handled by the calendar, not by subtracting 24 h). */
    int py = y, pm = m, pd = d - 1;
    if (pd < 1) {
        char buf[40];
        time_format_local(r->from - 3600000, a->time_zone, buf, sizeof buf);
        if (sscanf(buf, "%d-%d-%d", &py, &pm, &pd) != 3)
            return errf(e, ERR_INVAL, "cannot compute the previous period");
    }
    if (agr_report_window(a, py, pm, pd, &pf, &pt))
        return errf(e, ERR_INVAL, "cannot compute the previous period");
    r->prev_from = pf;
    int rc;
    r->cc = (struct collect){a, r->cur, NULL, 0, 0};
    r->cc.unc = xmalloc(16 * sizeof *r->cc.unc);
    r->cc.cap_unc = 16;
    if ((rc = store_report_events(s, r->from, r->to, on_event, &r->cc, e)))
        return rc;
    struct collect pc = {a, r->prev, NULL, 0, 0};
    if ((rc = store_report_events(s, pf, pt, on_event, &pc, e)) ||
        (rc = store_report_zones(s, r->from, r->to, on_zone, &r->zones, e)) ||
        (rc = store_report_findings(s, r->from, r->to, on_finding, &r->findings, e)))
        return rc;
    r->ic = (struct incidents_collect){
        a, r->inc, xcalloc((a->n_parties + 1) * REPORT_GRADES, sizeof(long long)),
        xcalloc(a->n_parties + 1, sizeof(long long)), 0, 0};
    if ((rc = store_report_incidents(s, r->from, r->to, on_incident, &r->ic, e)))
        return rc;
    struct store_alert_filter af = {0, 0, -1, NULL, true, r->from, r->to, NULL};
    return store_alerts_select(s, &af, on_alert, &r->alerts, e);
}

void report_release(struct report_data *r)
{
    free(r->cc.unc);
    free(r->zones.v);
    free(r->findings.v);
    free(r->alerts.v);
    free(r->ic.by_party);
    free(r->ic.findings_by_party);
}

/* Regions to report: every agreement region, plus "outside" when it has events. */
size_t report_n_slots(const struct agreement *a)
{
    return a->n_regions < MAX_REGIONS - 1 ? a->n_regions : MAX_REGIONS - 1;
}

const char *report_slot_name(const struct agreement *a, size_t i)
{
    return i < report_n_slots(a) ? a->regions[i].name : "Outside the report regions";
}

long long report_bursts_and_shots(const struct tally *t)
{
    return t->by_type[agr_event_type_index("burst")] + t->by_type[agr_event_type_index("shot")];
}

/* The de-duplicated table beside the as-recorded one, and who fired by grade. */
static int write_incidents_text(const struct agreement *a, struct report_data *r, struct buf *b)
{
    int rc = buf_printf(b, "\nCeasefire violations by event type (de-duplicated: %lld incident%s "
                           "fused from the reports)\n",
                        r->ic.total, r->ic.total == 1 ? "" : "s");
    rc = rc || buf_printf(b, "  %-28s %9s %7s %10s %8s %9s %8s %12s %11s %7s %7s %12s\n", "region",
                          "incidents", "total", "explosions", "impacts", "airbursts", "outgoing",
                          "undetermined", "projectiles", "flares", "muzzle", "bursts+shots");
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        struct incident_tally *it = &r->inc[slot];
        if (i == report_n_slots(a) && !it->incidents)
            continue;
        const struct tally *t = &it->t;
        rc = buf_printf(b, "  %-28s %9lld %7lld %10lld %8lld %9lld %8lld %12lld %11lld %7lld %7lld "
                           "%12lld\n",
                        report_slot_name(a, slot), it->incidents, t->total, t->explosions,
                        t->by_type[agr_event_type_index("impact")],
                        t->by_type[agr_event_type_index("airburst")],
                        t->by_type[agr_event_type_index("outgoing")],
                        t->by_type[agr_event_type_index("undetermined_explosion")],
                        t->by_type[agr_event_type_index("projectile_in_flight")],
                        t->by_type[agr_event_type_index("illumination_flare")],
                        t->by_type[agr_event_type_index("muzzle_flash")], report_bursts_and_shots(t));
    }
    rc = rc || buf_printf(b, "  Reports of the same event count once: the largest count of each "
                             "type among them (docs/fusion.md).\n");
    rc = rc || buf_printf(b, "\nWho fired (incidents; findings name a party only at grade "
                             "probable or better)\n");
    for (size_t pi = 0; pi < a->n_parties && !rc; pi++) {
        const long long *g = &r->ic.by_party[pi * REPORT_GRADES];
        rc = buf_printf(b, "- %s: %lld confirmed, %lld probable, %lld possible\n",
                        report_party_name(a, a->parties[pi].id), g[0], g[1], g[2]);
    }
    rc = rc || buf_printf(b, "- Undetermined: %lld\n",
                          r->ic.by_party[a->n_parties * REPORT_GRADES + REPORT_GRADES - 1]);
    rc = rc || buf_printf(b, "Fire findings by incident: %lld (", r->ic.findings);
    for (size_t pi = 0; pi <= a->n_parties && !rc; pi++)
        rc = buf_printf(b, "%s%s %lld", pi ? ", " : "",
                        pi < a->n_parties ? a->parties[pi].id : "undetermined",
                        r->ic.findings_by_party[pi]);
    rc = rc || buf_printf(b, ")\n");
    return rc;
}

static int write_text(const struct agreement *a, struct report_data *r, int y, int m, int d,
                      struct buf *b)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    char from[40], to[40];
    time_format_local(r->from, a->time_zone, from, sizeof from);
    time_format_local(r->to, a->time_zone, to, sizeof to);
    int rc = buf_printf(b, "%s\nDaily report based on information received as of %02d:%02d, %d %s "
                           "%d (%s)\nAgreement: %s, version %d%s\nPeriod: %s to %s\n\nSummary\n",
                        a->title, a->cutoff_minutes / 60, a->cutoff_minutes % 60, d, months[m - 1],
                        y, a->time_zone, a->id, a->version,
                        a->illustrative ? " (ILLUSTRATIVE scenario)" : "", from, to);
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        struct tally *t = &r->cur[slot], *p = &r->prev[slot];
        if (i == report_n_slots(a) && !t->total && !p->total)
            continue;
        rc = buf_printf(b,
                        "- In %s, the mission recorded %lld ceasefire violation%s, including %lld "
                        "explosion%s. In the previous reporting period, it recorded %lld ceasefire "
                        "violation%s in the region.\n",
                        report_slot_name(a, slot), t->total, t->total == 1 ? "" : "s", t->explosions,
                        t->explosions == 1 ? "" : "s", p->total, p->total == 1 ? "" : "s");
    }
    rc = rc || buf_printf(b, "\nCeasefire violations by event type (as recorded)\n");
    rc = rc || buf_printf(b, "  %-28s %7s %10s %8s %9s %8s %12s %11s %7s %7s %12s\n", "region",
                          "total", "explosions", "impacts", "airbursts", "outgoing", "undetermined",
                          "projectiles", "flares", "muzzle", "bursts+shots");
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        struct tally *t = &r->cur[slot];
        if (i == report_n_slots(a) && !t->total)
            continue;
        rc = buf_printf(b, "  %-28s %7lld %10lld %8lld %9lld %8lld %12lld %11lld %7lld %7lld %12lld\n",
                        report_slot_name(a, slot), t->total, t->explosions,
                        t->by_type[agr_event_type_index("impact")],
                        t->by_type[agr_event_type_index("airburst")],
                        t->by_type[agr_event_type_index("outgoing")],
                        t->by_type[agr_event_type_index("undetermined_explosion")],
                        t->by_type[agr_event_type_index("projectile_in_flight")],
                        t->by_type[agr_event_type_index("illumination_flare")],
                        t->by_type[agr_event_type_index("muzzle_flash")], report_bursts_and_shots(t));
    }
    rc = rc || buf_printf(b, "  Counts given as \"about N\" count N and \"at least N\" count N.\n");
    rc = rc || write_incidents_text(a, r, b);
    if (!rc && r->cc.n_unc) {
        rc = buf_printf(b, "\nUncountable events (not in the totals)\n");
        for (size_t i = 0; i < r->cc.n_unc && !rc; i++) {
            int t = agr_event_type_index(r->cc.unc[i].type);
            rc = buf_printf(b, "- uncountable %s %s (observation %lld)\n",
                            t >= 0 ? AGR_EVENT_NAMES_MANY[t] : r->cc.unc[i].type,
                            r->cc.unc[i].phrase, (long long)r->cc.unc[i].obs_id);
        }
    }
    /* Zones with a reporting radius: the disengagement areas. */
    bool any_zone = false;
    for (size_t z = 0; z < a->n_zones; z++)
        any_zone |= a->zones[z].report_within_km > 0;
    if (any_zone && !rc) {
        rc = buf_printf(b, "\nDisengagement areas\n");
        for (size_t z = 0; z < a->n_zones && !rc; z++) {
            const struct agr_zone *zone = &a->zones[z];
            if (zone->report_within_km <= 0)
                continue;
            long long inside = 0, maybe = 0, near = 0, n_in = 0, n_maybe = 0, n_near = 0;
            for (size_t i = 0; i < r->zones.n; i++) {
                struct zone_item *it = &r->zones.v[i];
                if (strcmp(it->zone, zone->id))
                    continue;
                if (!strcmp(it->relation, "in")) {
                    inside += it->n_events;
                    n_in++;
                } else if (!strcmp(it->relation, "maybe_in")) {
                    maybe += it->n_events;
                    n_maybe++;
                } else {
                    near += it->n_events;
                    n_near++;
                }
            }
            if (!n_in && !n_maybe && !n_near) {
                rc = buf_printf(b, "- %s: no ceasefire violation or presence recorded inside or "
                                   "within %.0f km.\n", zone->name, zone->report_within_km);
                continue;
            }
            rc = buf_printf(b, "- %s: %lld report%s inside (%lld events), %lld possibly inside "
                               "(%lld events), %lld within %.0f km (%lld events).\n",
                            zone->name, n_in, n_in == 1 ? "" : "s", inside, n_maybe, maybe,
                            n_near, zone->report_within_km, near);
            for (size_t i = 0; i < r->zones.n && !rc; i++) {
                struct zone_item *it = &r->zones.v[i];
                if (strcmp(it->zone, zone->id))
                    continue;
                rc = buf_printf(b, "    %s %s: %s", it->kind, it->phrase,
                                !strcmp(it->relation, "in")         ? "inside"
                                : !strcmp(it->relation, "maybe_in") ? "possibly inside"
                                                                    : "near");
                if (!rc && !strcmp(it->relation, "near"))
                    rc = buf_printf(b, ", %.1f km from the area", it->distance_m / 1000);
                rc = rc || buf_printf(b, " (%lld events)\n", it->n_events);
            }
        }
    }
    if (!rc)
        rc = buf_printf(b, "\nWeapons in violation of withdrawal lines\n");
    for (size_t pi = 0; pi <= a->n_parties && !rc; pi++) {
        const char *pid = pi < a->n_parties ? a->parties[pi].id : "undetermined";
        size_t n = 0;
        for (size_t i = 0; i < r->findings.n; i++)
            n += !strcmp(r->findings.v[i].kind, "weapon_withdrawal") &&
                 !strcmp(r->findings.v[i].party, pid);
        if (!n && pi == a->n_parties)
            continue;
        rc = buf_printf(b, "- %s: %zu\n", pi < a->n_parties ? report_party_name(a, pid)
                                                            : "Owner undetermined", n);
        for (size_t i = 0; i < r->findings.n && !rc; i++) {
            struct finding_item *f = &r->findings.v[i];
            if (!strcmp(f->kind, "weapon_withdrawal") && !strcmp(f->party, pid))
                rc = buf_printf(b, "    [%s, %s] %s\n", f->clause, f->result, f->reasons);
        }
    }
    if (!rc) {
        size_t nv = 0, nu = 0;
        for (size_t i = 0; i < r->findings.n; i++)
            !strcmp(r->findings.v[i].result, "violation") ? nv++ : nu++;
        rc = buf_printf(b, "\nFindings (provisional, pending review): %zu violation%s, %zu "
                           "undetermined\n", nv, nv == 1 ? "" : "s", nu);
        for (size_t c = 0; c < a->n_rules && !rc; c++) {
            size_t k = 0;
            for (size_t i = 0; i < r->findings.n; i++)
                k += !strcmp(r->findings.v[i].clause, a->rules[c].clause);
            if (k)
                rc = buf_printf(b, "- %s: %zu (%s)\n", a->rules[c].clause, k, a->rules[c].text);
        }
    }
    if (!rc && a->n_thresholds)
        rc = buf_printf(b, "\nEscalation alerts (windows ending at this cut-off): %zu\n",
                        r->alerts.n);
    for (size_t i = 0; i < r->alerts.n && !rc; i++) {
        const struct alert_item *al = &r->alerts.v[i];
        int ri = -1;
        for (size_t k = 0; k < a->n_regions && ri < 0; k++)
            if (!strcmp(a->regions[k].id, al->region))
                ri = (int)k;
        rc = buf_printf(b, "- %s (alert %lld, %s%s%s%s%s): %lld finding%s. %s\n", al->level,
                        (long long)al->id, al->threshold, ri >= 0 ? ", " : "",
                        ri >= 0 ? a->regions[ri].name : "", al->party[0] ? ", party " : "",
                        al->party, al->n, al->n == 1 ? "" : "s", al->text);
    }
    return rc;
}

static int tally_json(struct buf *b, const struct tally *t)
{
    int rc = buf_printf(b, "{\"ceasefire_violations\":%lld,\"explosions\":%lld,\"by_type\":{",
                        t->total, t->explosions);
    for (int i = 0; i < AGR_N_EVENT_TYPES && !rc; i++)
        rc = buf_printf(b, "%s\"%s\":%lld", i ? "," : "", AGR_EVENT_TYPES[i], t->by_type[i]);
    rc = rc || buf_printf(b, "},\"uncountable_reports\":{");
    for (int i = 0; i < AGR_N_EVENT_TYPES && !rc; i++)
        rc = buf_printf(b, "%s\"%s\":%lld", i ? "," : "", AGR_EVENT_TYPES[i], t->uncountable[i]);
    return rc || buf_printf(b, "},\"includes_approximate_counts\":%s}",
                            t->has_about ? "true" : "false");
}

static int write_json(const struct agreement *a, struct report_data *r, int y, int m, int d,
                      struct buf *b)
{
    char from[40], to[40];
    time_format_local(r->from, a->time_zone, from, sizeof from);
    time_format_local(r->to, a->time_zone, to, sizeof to);
    int rc = buf_printf(b, "{\"report\":\"daily\",\"date\":\"%04d-%02d-%02d\",\"agreement\":", y, m,
                        d);
    rc = rc || buf_json_str(b, a->id);
    rc = rc || buf_printf(b, ",\"agreement_version\":%d,\"time_zone\":\"%s\",\"period\":{\"from\":"
                             "\"%s\",\"to\":\"%s\"},\"regions\":[",
                          a->version, a->time_zone, from, to);
    bool first = true;
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        if (i == report_n_slots(a) && !r->cur[slot].total && !r->prev[slot].total)
            continue;
        rc = buf_printf(b, "%s{\"region\":", first ? "" : ",");
        first = false;
        rc = rc || (i < report_n_slots(a) ? buf_json_str(b, a->regions[i].id) : buf_append(b, "null", 4));
        rc = rc || buf_printf(b, ",\"name\":") || buf_json_str(b, report_slot_name(a, slot));
        rc = rc || buf_printf(b, ",\"current\":") || tally_json(b, &r->cur[slot]);
        rc = rc || buf_printf(b, ",\"previous\":") || tally_json(b, &r->prev[slot]);
        rc = rc || buf_append(b, "}", 1);
    }
    rc = rc || buf_printf(b, "],\"incidents\":{\"total\":%lld,\"regions\":[", r->ic.total);
    first = true;
    for (size_t i = 0; i <= report_n_slots(a) && !rc; i++) {
        size_t slot = i < report_n_slots(a) ? i : MAX_REGIONS - 1;
        if (i == report_n_slots(a) && !r->inc[slot].incidents)
            continue;
        rc = buf_printf(b, "%s{\"region\":", first ? "" : ",");
        first = false;
        rc = rc || (i < report_n_slots(a) ? buf_json_str(b, a->regions[i].id) : buf_append(b, "null", 4));
        rc = rc || buf_printf(b, ",\"incidents\":%lld,\"deduplicated\":", r->inc[slot].incidents);
        rc = rc || tally_json(b, &r->inc[slot].t);
        rc = rc || buf_append(b, "}", 1);
    }
    rc = rc || buf_printf(b, "],\"attribution\":[");
    for (size_t pi = 0; pi <= a->n_parties && !rc; pi++) {
        const long long *g = &r->ic.by_party[pi * REPORT_GRADES];
        rc = buf_printf(b, "%s{\"party\":", pi ? "," : "");
        rc = rc || buf_json_str(b, pi < a->n_parties ? a->parties[pi].id : "undetermined");
        for (int k = 0; k < REPORT_GRADES && !rc; k++)
            if (pi < a->n_parties ? k < REPORT_GRADES - 1 : k == REPORT_GRADES - 1)
                rc = buf_printf(b, ",\"%s\":%lld", GRADE_NAMES[k], g[k]);
        rc = rc || buf_append(b, "}", 1);
    }
    rc = rc || buf_printf(b, "],\"fire_findings\":{\"total\":%lld", r->ic.findings);
    for (size_t pi = 0; pi <= a->n_parties && !rc; pi++) {
        rc = buf_printf(b, ",");
        rc = rc || buf_json_str(b, pi < a->n_parties ? a->parties[pi].id : "undetermined");
        rc = rc || buf_printf(b, ":%lld", r->ic.findings_by_party[pi]);
    }
    rc = rc || buf_printf(b, "}}");
    rc = rc || buf_printf(b, ",\"uncountable\":[");
    for (size_t i = 0; i < r->cc.n_unc && !rc; i++) {
        rc = buf_printf(b, "%s{\"observation\":%lld,\"event_type\":\"%s\",\"where\":", i ? "," : "",
                        (long long)r->cc.unc[i].obs_id, r->cc.unc[i].type);
        rc = rc || buf_json_str(b, r->cc.unc[i].phrase) || buf_append(b, "}", 1);
    }
    rc = rc || buf_printf(b, "],\"zones\":[");
    first = true;
    for (size_t z = 0; z < a->n_zones && !rc; z++) {
        if (a->zones[z].report_within_km <= 0)
            continue;
        rc = buf_printf(b, "%s{\"zone\":\"%s\",\"within_km\":%g,\"reports\":[", first ? "" : ",",
                        a->zones[z].id, a->zones[z].report_within_km);
        first = false;
        bool f2 = true;
        for (size_t i = 0; i < r->zones.n && !rc; i++) {
            struct zone_item *it = &r->zones.v[i];
            if (strcmp(it->zone, a->zones[z].id))
                continue;
            rc = buf_printf(b, "%s{\"relation\":\"%s\",\"kind\":\"%s\",\"distance_m\":%.0f,"
                               "\"events\":%lld,\"where\":",
                            f2 ? "" : ",", it->relation, it->kind, it->distance_m, it->n_events);
            f2 = false;
            rc = rc || buf_json_str(b, it->phrase) || buf_append(b, "}", 1);
        }
        rc = rc || buf_append(b, "]}", 2);
    }
    rc = rc || buf_printf(b, "],\"findings\":[");
    for (size_t i = 0; i < r->findings.n && !rc; i++) {
        struct finding_item *f = &r->findings.v[i];
        rc = buf_printf(b, "%s{\"id\":%lld,\"observation\":%lld,\"clause\":\"%s\",\"rule_kind\":"
                           "\"%s\",\"result\":\"%s\",\"party\":\"%s\",\"reasons\":",
                        i ? "," : "", (long long)f->id, (long long)f->obs_id, f->clause, f->kind,
                        f->result, f->party);
        rc = rc || buf_json_str(b, f->reasons) || buf_append(b, "}", 1);
    }
    rc = rc || buf_printf(b, "],\"alerts\":[");
    for (size_t i = 0; i < r->alerts.n && !rc; i++) {
        const struct alert_item *al = &r->alerts.v[i];
        rc = buf_printf(b, "%s{\"id\":%lld,\"level\":\"%s\",\"threshold\":", i ? "," : "",
                        (long long)al->id, al->level);
        rc = rc || buf_json_str(b, al->threshold) || buf_append(b, ",\"region\":", 10);
        rc = rc || (al->region[0] ? buf_json_str(b, al->region) : buf_append(b, "null", 4));
        rc = rc || buf_append(b, ",\"party\":", 9);
        rc = rc || (al->party[0] ? buf_json_str(b, al->party) : buf_append(b, "null", 4));
        rc = rc || buf_printf(b, ",\"findings_counted\":%lld}", al->n);
    }
    return rc || buf_append(b, "]}\n", 3);
}

int report_daily(struct store *s, const struct agreement *a, int y, int m, int d,
                 enum report_format fmt, struct buf *out, struct errbuf *e)
{
    struct report_data *r = xcalloc(1, sizeof *r);
    int rc = report_gather(s, a, y, m, d, r, e);
    if (!rc) {
        if (fmt == REPORT_HTML || fmt == REPORT_HTML_PUBLIC) {
            rc = report_html(s, a, r, y, m, d, fmt == REPORT_HTML_PUBLIC, out, e);
        } else if (fmt == REPORT_PDF) {
            struct buf html;
            buf_init(&html);
            rc = report_html(s, a, r, y, m, d, false, &html, e);
            if (!rc)
                rc = report_pdf_from_html(html.p, html.len, out, e);
            buf_reset(&html);
        } else {
            rc = fmt == REPORT_JSON ? write_json(a, r, y, m, d, out)
                                    : write_text(a, r, y, m, d, out);
            if (rc)
                rc = errf(e, ERR_NOMEM, "out of memory writing the report");
        }
    }
    report_release(r);
    free(r);
    return rc;
}
