/* escalation.c: threshold evaluation over stored findings (alerts, their log leaves and outbox
 * rows in one transaction), subscribers, and alerts as JSON.
 *
 * Evaluation looks only at windows touched by findings stored since the last evaluation, and
 * counts each such window over all stored findings, so late findings land in their window and
 * the alerts raised do not depend on how the findings were batched (only when: an alert is
 * raised by the batch that crosses its threshold). Counting only reads, in one pass over the
 * findings of the touched windows' span; a write happens only to raise alerts. */
#include "escalation/escalation.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One (threshold, group, window) to count. */
struct cand {
    int t, region, party; /* threshold index; region and party indices, -1 for none */
    int64_t start, end;
};

struct collect {
    const struct agreement *a;
    struct cand *v;
    size_t n, cap;
    int64_t max_id;
    long long seen;
    struct errbuf *e;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The end of report day `day` (days since the epoch): its cut-off in the agreement's zone,
 * through a small direct-mapped cache per thread (time zone conversions dominate otherwise). */
#define ESC_CUTOFF_CACHE 4096
static _Thread_local struct {
    char zone[72];
    int cutoff_minutes;
    int64_t day[ESC_CUTOFF_CACHE], cut[ESC_CUTOFF_CACHE];
    bool ok[ESC_CUTOFF_CACHE];
} cutoffs;

static int64_t day_cutoff(const struct agreement *a, int64_t day)
{
    if (cutoffs.cutoff_minutes != a->cutoff_minutes || strcmp(cutoffs.zone, a->time_zone)) {
        memset(cutoffs.ok, 0, sizeof cutoffs.ok);
        cutoffs.cutoff_minutes = a->cutoff_minutes;
        str_copy(cutoffs.zone, sizeof cutoffs.zone, a->time_zone);
    }
    size_t slot = (size_t)(day & (ESC_CUTOFF_CACHE - 1));
    if (cutoffs.ok[slot] && cutoffs.day[slot] == day)
        return cutoffs.cut[slot];
    int y, m, d;
    int64_t from, to;
    civil_from_days(day, &y, &m, &d);
    if (agr_report_window(a, y, m, d, &from, &to))
        to = day * 86400000 + a->cutoff_minutes * 60000LL; /* zone trouble: UTC */
    cutoffs.day[slot] = day;
    cutoffs.cut[slot] = to;
    cutoffs.ok[slot] = strlen(a->time_zone) < sizeof cutoffs.zone;
    return to;
}

/* The report day (days since the epoch) whose 24 hours hold t: the day whose cut-off is the
 * first after t. */
static int64_t report_day(const struct agreement *a, int64_t t_ms)
{
    int64_t day = floor_div(t_ms, 86400000);
    while (t_ms >= day_cutoff(a, day))
        day++;
    while (t_ms < day_cutoff(a, day - 1))
        day--;
    return day;
}

size_t esc_windows(const struct agreement *a, const struct agr_threshold *t, int64_t t_ms,
                   int64_t *starts, int64_t *ends, size_t max)
{
    size_t n = 0;
    if (t->window_ms % 86400000 == 0 && t->step_ms % 86400000 == 0) {
        /* Whole days: windows of report days, so they follow the local cut-off through
         * daylight saving changes and agree with the daily report. */
        int64_t w = t->window_ms / 86400000, step = t->step_ms / 86400000;
        int64_t day = report_day(a, t_ms), anchor = report_day(a, a->effective_ms);
        int64_t first = day + ((anchor - day) - floor_div(anchor - day, step) * step);
        for (int64_t last = first; last < day + w && n < max; last += step) {
            starts[n] = day_cutoff(a, last - w);
            ends[n++] = day_cutoff(a, last);
        }
        return n;
    }
    int64_t rel = t_ms - a->esc_anchor_ms;
    int64_t k_max = floor_div(rel, t->step_ms);
    int64_t k_min = floor_div(rel - t->window_ms, t->step_ms) + 1;
    for (int64_t k = k_min; k <= k_max && n < max; k++) {
        starts[n] = a->esc_anchor_ms + k * t->step_ms;
        ends[n] = starts[n] + t->window_ms;
        n++;
    }
    return n;
}

/* Copies the i-th US-separated field of [p, end) into out (size n, truncated). */
static void field(const char *p, const char *end, int i, char *out, size_t n)
{
    for (; i > 0 && p < end; i--) {
        const char *us = memchr(p, 0x1f, (size_t)(end - p));
        p = us ? us + 1 : end;
    }
    const char *us = memchr(p, 0x1f, (size_t)(end - p));
    size_t len = (size_t)((us ? us : end) - p);
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = 0;
}

static bool weapon_matches(const struct agreement *a, const struct agr_threshold *t,
                           const char *weapons)
{
    if (!weapons)
        return false;
    for (const char *p = weapons; *p;) {
        const char *rs = strchr(p, 0x1e);
        const char *end = rs ? rs : p + strlen(p);
        char cat[128], model[256], cal[64];
        field(p, end, 0, cat, sizeof cat);
        field(p, end, 1, model, sizeof model);
        field(p, end, 2, cal, sizeof cal);
        double calibre = NAN;
        if (cal[0] && str_to_double(cal, &calibre))
            calibre = NAN;
        int wc = agr_weapon_class_match(a, cat, model, calibre);
        for (size_t i = 0; i < t->n_classes; i++)
            if (t->classes[i] == wc)
                return true;
        p = rs ? rs + 1 : end;
    }
    return false;
}

static bool zone_matches(const struct agreement *a, const struct agr_threshold *t,
                         const char *zones)
{
    static const char *const rel_names[] = {"in", "maybe_in", "near"};
    if (!zones)
        return false;
    for (const char *p = zones; *p;) {
        const char *rs = strchr(p, 0x1e);
        const char *end = rs ? rs : p + strlen(p);
        char zone[512], rel[32];
        field(p, end, 0, zone, sizeof zone);
        field(p, end, 1, rel, sizeof rel);
        for (int r = 0; r < 3; r++) {
            if (strcmp(rel, rel_names[r]) || !(t->zone_relations & (1u << r)))
                continue;
            for (size_t i = 0; i < t->n_zones; i++)
                if (!strcmp(a->zones[t->zones[i]].id, zone))
                    return true;
        }
        p = rs ? rs + 1 : end;
    }
    return false;
}

/* True when t filters on weapons or zones, which cost the finding's observation details. */
static bool needs_details(const struct agr_threshold *t) { return t->n_classes || t->n_zones; }

/* True when finding f passes threshold t's filters. */
static bool matches(const struct agreement *a, const struct agr_threshold *t,
                    const struct store_esc_finding *f)
{
    static const char *const kinds[] = {"fire_prohibited", "weapon_withdrawal", "armed_presence"};
    if (t->rule_kinds) {
        bool ok = false;
        for (int k = 0; k < 3 && !ok; k++)
            ok = (t->rule_kinds & (1u << k)) && !strcmp(f->rule_kind, kinds[k]);
        if (!ok)
            return false;
    }
    unsigned res = !strcmp(f->result, "violation")      ? 1u
                   : !strcmp(f->result, "undetermined") ? 2u
                                                        : 0u;
    if (!(t->results & res))
        return false;
    bool attributed = agr_party_index(a, f->party) >= 0;
    if ((t->attributed_only || t->per == AGR_ESC_PER_PARTY || t->per == AGR_ESC_PER_REGION_PARTY) &&
        !attributed)
        return false;
    if (t->n_rules) {
        bool ok = false;
        for (size_t i = 0; i < t->n_rules && !ok; i++)
            ok = !strcmp(a->rules[t->rules[i]].clause, f->clause);
        if (!ok)
            return false;
    }
    if (t->n_classes && !weapon_matches(a, t, f->weapons))
        return false;
    if (t->n_zones && !zone_matches(a, t, f->zones))
        return false;
    return true;
}

static int region_index(const struct agreement *a, const char *id)
{
    for (size_t i = 0; id && i < a->n_regions; i++)
        if (!strcmp(a->regions[i].id, id))
            return (int)i;
    return -1;
}

/* The group of f under t: region and party indices (-1: not grouped by it, or none). */
static void group_of(const struct agreement *a, const struct agr_threshold *t,
                     const struct store_esc_finding *f, int *region, int *party)
{
    bool by_region = t->per == AGR_ESC_PER_REGION || t->per == AGR_ESC_PER_REGION_PARTY;
    bool by_party = t->per == AGR_ESC_PER_PARTY || t->per == AGR_ESC_PER_REGION_PARTY;
    *region = by_region ? region_index(a, f->region) : -1;
    *party = by_party ? agr_party_index(a, f->party) : -1;
}

static int cand_cmp(const void *x, const void *y)
{
    const struct cand *p = x, *q = y;
    if (p->t != q->t)
        return p->t < q->t ? -1 : 1;
    if (p->region != q->region)
        return p->region < q->region ? -1 : 1;
    if (p->party != q->party)
        return p->party < q->party ? -1 : 1;
    return p->start < q->start ? -1 : p->start > q->start;
}

static size_t dedupe(struct cand *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cand_cmp);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (cand_cmp(&v[i], &v[k - 1]))
            v[k++] = v[i];
    return k;
}

#define ESC_MORE 1 /* on_new_finding: the candidates are full; evaluate, then go on */

static int on_new_finding(void *ctx, const struct store_esc_finding *f)
{
    struct collect *c = ctx;
    const struct agreement *a = c->a;
    size_t need = a->n_thresholds * 64; /* the most windows this finding can add */
    if (c->n + need > c->cap) {
        c->n = dedupe(c->v, c->n);
        if (c->n + need > ESC_MAX_CANDIDATES)
            return c->n ? ESC_MORE
                        : errf(c->e, ERR_TOOBIG, "escalation: more than %d windows for one finding",
                               ESC_MAX_CANDIDATES);
        if (c->n + need > c->cap) {
            size_t cap = c->cap * 2 > c->n + need ? c->cap * 2 : c->n + need;
            c->cap = cap < ESC_MAX_CANDIDATES ? cap : ESC_MAX_CANDIDATES;
            c->v = xrealloc(c->v, c->cap * sizeof *c->v);
        }
    }
    c->seen++;
    if (f->id > c->max_id)
        c->max_id = f->id;
    for (size_t ti = 0; ti < a->n_thresholds; ti++) {
        const struct agr_threshold *t = &a->thresholds[ti];
        if (!matches(a, t, f))
            continue;
        int region, party;
        group_of(a, t, f, &region, &party);
        int64_t starts[64], ends[64];
        size_t n = esc_windows(a, t, f->t_end_ms, starts, ends, 64);
        for (size_t k = 0; k < n; k++)
            c->v[c->n++] = (struct cand){(int)ti, region, party, starts[k], ends[k]};
    }
    return 0;
}

/* Counting every candidate window in one pass over the findings of their time span: each
 * finding is matched once per threshold and added to the candidates holding it. */
struct tally {
    long long n;
    struct buf ids; /* "1,2,3": at most ESC_MAX_LISTED */
    bool skip;      /* overlaps an alert already stored */
};

struct count {
    const struct agreement *a;
    const struct cand *v;
    struct tally *tl;
    size_t n;
};

static int on_window_finding(void *ctx, const struct store_esc_finding *f)
{
    struct count *c = ctx;
    const struct agreement *a = c->a;
    for (size_t ti = 0; ti < a->n_thresholds; ti++) {
        const struct agr_threshold *t = &a->thresholds[ti];
        if (!matches(a, t, f))
            continue;
        struct cand key = {(int)ti, 0, 0, 0, 0};
        group_of(a, t, f, &key.region, &key.party);
        int64_t starts[64], ends[64];
        size_t nw = esc_windows(a, t, f->t_end_ms, starts, ends, 64);
        for (size_t k = 0; k < nw; k++) {
            key.start = starts[k];
            const struct cand *hit = bsearch(&key, c->v, c->n, sizeof *c->v, cand_cmp);
            if (!hit)
                continue;
            struct tally *tl = &c->tl[hit - c->v];
            if (tl->skip)
                continue;
            tl->n++;
            if (tl->n <= ESC_MAX_LISTED &&
                buf_printf(&tl->ids, "%s%lld", tl->n > 1 ? "," : "", (long long)f->id))
                return ERR_NOMEM;
        }
    }
    return 0;
}

struct sub {
    char *name, *url, *party;
    int min_level;
};
struct subs {
    struct sub *v;
    size_t n;
};

static int on_sub(void *ctx, const struct store_subscriber *s)
{
    struct subs *l = ctx;
    if (l->n >= ESC_MAX_SUBSCRIBERS)
        return 0;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    int lv = agr_esc_level_parse(s->min_level);
    l->v[l->n++] = (struct sub){xstrdup(s->name), xstrdup(s->url),
                                s->party ? xstrdup(s->party) : NULL, lv < 0 ? 0 : lv};
    return 0;
}

static void subs_free(struct subs *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].url);
        free(l->v[i].party);
    }
    free(l->v);
}

/* An alert to raise: its candidate window, count and counted ids. */
struct raise {
    size_t cand;
    long long n;
    char *ids;
};

/* True when [from, to) overlaps a window already chosen in this evaluation for the same
 * threshold and group. */
static bool chosen_overlaps(const struct cand *v, const struct raise *r, size_t n,
                            const struct cand *cd)
{
    for (size_t i = 0; i < n; i++) {
        const struct cand *o = &v[r[i].cand];
        if (o->t == cd->t && o->region == cd->region && o->party == cd->party &&
            o->start < cd->end && o->end > cd->start)
            return true;
    }
    return false;
}

/* Stores the alerts chosen, their leaves and outbox rows, and the cursor, in one transaction. */
static int raise_alerts(struct store *s, const struct agreement *a, struct truce_log *log,
                        const struct cand *v, const struct raise *r, size_t n, int64_t cursor,
                        struct esc_stats *st, struct errbuf *e)
{
    struct subs subs = {0};
    int64_t now = time_now_ms();
    long long queued_before = st->deliveries_queued;
    int rc = store_begin(s, e);
    if (rc)
        return rc;
    if ((rc = store_subscribers_list(s, on_sub, &subs, e)))
        goto out;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct cand *cd = &v[r[i].cand];
        const struct agr_threshold *t = &a->thresholds[cd->t];
        const char *region = cd->region >= 0 ? a->regions[cd->region].id : "";
        const char *party = cd->party >= 0 ? a->parties[cd->party].id : "";
        struct store_alert al = {
            .window_start_ms = cd->start,
            .window_end_ms = cd->end,
            .raised_ms = now,
            .n_findings = r[i].n,
            .agreement_version = a->version,
            .threshold = t->id,
            .level = AGR_ESC_LEVEL_NAMES[t->level],
            .region = region,
            .party = party,
            .text = t->text,
            .finding_ids = r[i].ids,
        };
        if ((rc = store_alert_add(s, &al, e)))
            break;
        if (log) {
            struct store_log_record lr = {
                .kind = STORE_LOG_ALERT,
                .log_index = al.log_index,
                .id = al.id,
                .agreement_version = al.agreement_version,
                .threshold = al.threshold,
                .level = al.level,
                .region = al.region,
                .party = al.party,
                .window_start_ms = al.window_start_ms,
                .window_end_ms = al.window_end_ms,
                .n_findings = al.n_findings,
                .body = al.finding_ids,
                .body_len = strlen(al.finding_ids),
            };
            if ((rc = log_add(log, &lr, e)))
                break;
        }
        for (size_t k = 0; k < subs.n && !rc; k++) {
            const struct sub *sb = &subs.v[k];
            if ((int)t->level < sb->min_level ||
                (sb->party && party[0] && strcmp(sb->party, party)))
                continue;
            if (!(rc = store_outbox_add(s, al.id, sb->name, sb->url, now, e)))
                st->deliveries_queued++;
        }
    }
    if (!rc)
        rc = store_esc_set_last_finding(s, cursor, e);
    if (!rc && log)
        rc = log_sync(log, e);
    if (!rc)
        rc = store_commit(s, e);
out:
    if (rc) {
        store_rollback(s);
        if (log && log_rewind(log, s, NULL))
            fputs("truce: the log could not be rewound; it is repaired when next opened\n",
                  stderr);
        st->deliveries_queued = queued_before;
    } else {
        st->alerts_raised += (long long)n;
    }
    subs_free(&subs);
    return rc;
}

/* Evaluates the findings after *last, as many as ESC_MAX_CANDIDATES windows allow; advances
 * *last over them and sets *more when findings are left. Adds to st. */
static int evaluate_some(struct store *s, const struct agreement *a, struct truce_log *log,
                         bool details, int64_t *last, bool *more, struct esc_stats *st,
                         struct errbuf *e)
{
    struct collect c = {.a = a, .e = e, .max_id = *last};
    struct raise *r = NULL;
    size_t nr = 0;
    struct count cnt = {.a = a};
    *more = false;
    int rc = store_esc_findings(s, *last, TIME_NONE, TIME_NONE, details, on_new_finding, &c, e);
    if (rc == ESC_MORE) {
        *more = true;
        rc = 0;
    }
    if (rc)
        goto out;
    st->findings_seen += c.seen;
    c.n = dedupe(c.v, c.n);
    st->candidates += (long long)c.n;
    if (!c.n)
        goto done;
    cnt.v = c.v;
    cnt.n = c.n;
    cnt.tl = xcalloc(c.n, sizeof *cnt.tl);
    /* One burst, one alert: a window overlapping an alert already stored for the same
     * threshold and group is not counted (the common case once a busy day has crossed). */
    int64_t from = INT64_MAX, to = INT64_MIN;
    bool any = false;
    for (size_t i = 0; i < c.n && !rc; i++) {
        const struct cand *cd = &c.v[i];
        const char *region = cd->region >= 0 ? a->regions[cd->region].id : "";
        const char *party = cd->party >= 0 ? a->parties[cd->party].id : "";
        rc = store_alert_overlaps(s, a->thresholds[cd->t].id, region, party, cd->start, cd->end,
                                  &cnt.tl[i].skip, e);
        if (!rc && !cnt.tl[i].skip) {
            any = true;
            from = cd->start < from ? cd->start : from;
            to = cd->end > to ? cd->end : to;
        }
    }
    if (rc || !any)
        goto done;
    if ((rc = store_esc_findings(s, 0, from, to, details, on_window_finding, &cnt, e)))
        goto out;
    /* In window order per threshold and group: the first window over its threshold is raised,
     * later ones overlapping it are not (sliding windows). */
    for (size_t i = 0; i < c.n; i++) {
        const struct cand *cd = &c.v[i];
        struct tally *tl = &cnt.tl[i];
        if (tl->skip || tl->n < a->thresholds[cd->t].min_findings ||
            chosen_overlaps(c.v, r, nr, cd))
            continue;
        r = xrealloc(r, (nr + 1) * sizeof *r);
        struct buf ids;
        buf_init(&ids);
        if (buf_printf(&ids, "[%s]", tl->ids.p ? tl->ids.p : "")) {
            rc = errf(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        r[nr++] = (struct raise){i, tl->n, ids.p};
    }
done:
    if (!rc && nr)
        rc = raise_alerts(s, a, log, c.v, r, nr, c.max_id, st, e);
    if (!rc)
        *last = c.max_id;
out:
    for (size_t i = 0; i < nr; i++)
        free(r[i].ids);
    free(r);
    for (size_t i = 0; cnt.tl && i < c.n; i++)
        buf_reset(&cnt.tl[i].ids);
    free(cnt.tl);
    free(c.v);
    return rc;
}

int esc_evaluate(struct store *s, const struct agreement *a, struct truce_log *log,
                 bool from_start, int64_t *cursor, struct esc_stats *st, struct errbuf *e)
{
    memset(st, 0, sizeof *st);
    int64_t last = 0;
    int rc = 0;
    if (!from_start) {
        if (cursor && *cursor >= 0)
            last = *cursor;
        else if ((rc = store_esc_last_finding(s, &last, e)))
            return rc;
    }
    bool details = false, more = true;
    for (size_t i = 0; i < a->n_thresholds; i++)
        details = details || needs_details(&a->thresholds[i]);
    while (!rc && more)
        rc = evaluate_some(s, a, log, details, &last, &more, st, e);
    if (!rc && cursor)
        *cursor = last;
    return rc;
}

void esc_hook_after_batch(void *hook)
{
    struct esc_hook *h = hook;
    struct esc_stats st;
    struct errbuf e;
    if (!h->a->n_thresholds)
        return;
    if (esc_evaluate(h->s, h->a, h->log, false, h->cursor, &st, &e))
        fprintf(stderr, "truce: escalation not evaluated (run `truce alerts evaluate`): %s\n",
                e.msg);
    else
        h->alerts += st.alerts_raised;
}

void esc_startup_evaluate(struct store *s, const struct agreement *a, struct truce_log *log)
{
    struct esc_stats st;
    struct errbuf e;
    if (!a->n_thresholds)
        return;
    if (esc_evaluate(s, a, log, false, NULL, &st, &e))
        fprintf(stderr, "truce: escalation not evaluated at start: %s\n", e.msg);
    else if (st.alerts_raised)
        fprintf(stderr, "truce: escalation: %lld alert%s raised at start\n", st.alerts_raised,
                st.alerts_raised == 1 ? "" : "s");
}

/* ---- subscribers ---- */

static int check_subscriber(const struct agreement *a, const char *name, const char *url,
                            const char *min_level, const char *party, struct errbuf *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > ESC_SUBSCRIBER_NAME_MAX)
        return errf(e, ERR_INVAL, "name: 1 to %d characters", ESC_SUBSCRIBER_NAME_MAX);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return errf(e, ERR_INVAL, "name: only letters, digits, '-', '_' and '.'");
    size_t u = url ? strlen(url) : 0;
    if (u == 0 || u > ESC_URL_MAX)
        return errf(e, ERR_INVAL, "url: 1 to %d bytes", ESC_URL_MAX);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return errf(e, ERR_INVAL, "url: must start with http:// or https://");
    size_t scheme = url[4] == 's' ? 8 : 7;
    if (u == scheme || url[scheme] == '/')
        return errf(e, ERR_INVAL, "url: names no host");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return errf(e, ERR_INVAL, "url: spaces and control characters are not allowed");
    if (min_level && agr_esc_level_parse(min_level) < 0)
        return errf(e, ERR_INVAL,
                    "min_level: notice, warning, serious or guarantee_trigger, not \"%s\"",
                    min_level);
    if (party && agr_party_index(a, party) < 0)
        return errf(e, ERR_INVAL, "party: \"%s\" is not a party of the agreement", party);
    return 0;
}

int esc_subscriber_add(struct store *s, const struct agreement *a, const char *name,
                       const char *url, const char *min_level, const char *party,
                       struct errbuf *e)
{
    int rc = check_subscriber(a, name, url, min_level, party, e);
    if (rc)
        return rc;
    struct store_subscriber sub = {name, url, min_level ? min_level : "notice", party, 0};
    return store_subscriber_add(s, &sub, e);
}

/* Parses {"name", "url", "min_level"?, "party"?}; on success the strings point into *root. */
static int parse_subscriber(const char *json, size_t len, json_t **root, const char **f,
                            struct errbuf *e)
{
    static const char *const keys[] = {"name", "url", "min_level", "party"};
    json_error_t je;
    if (len > ESC_SUBSCRIBER_JSON_MAX)
        return errf(e, ERR_TOOBIG, "the body is over %u bytes", ESC_SUBSCRIBER_JSON_MAX);
    *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!*root)
        return errf(e, ERR_PARSE, "malformed JSON at line %d column %d: %s", je.line, je.column,
                    je.text);
    if (!json_is_object(*root))
        return errf(e, ERR_INVAL, "the body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(*root, key, v) {
        int k = 0;
        while (k < 4 && strcmp(keys[k], key))
            k++;
        if (k == 4)
            return errf(e, ERR_INVAL, "unknown field \"%.64s\" (name, url, min_level, party)", key);
        if (!json_is_string(v))
            return errf(e, ERR_INVAL, "%s: must be a string", key);
        f[k] = json_string_value(v);
        if (strlen(f[k]) != json_string_length(v))
            return errf(e, ERR_INVAL, "%s: must not contain NUL", key);
    }
    return 0;
}

int esc_subscriber_check_json(const struct agreement *a, const char *json, size_t len,
                              struct errbuf *e)
{
    json_t *root = NULL;
    const char *f[4] = {NULL, NULL, NULL, NULL};
    int rc = parse_subscriber(json, len, &root, f, e);
    if (!rc)
        rc = check_subscriber(a, f[0], f[1], f[2], f[3], e);
    json_decref(root);
    return rc;
}

int esc_subscriber_add_json(struct store *s, const struct agreement *a, const char *json,
                            size_t len, struct errbuf *e)
{
    json_t *root = NULL;
    const char *f[4] = {NULL, NULL, NULL, NULL};
    int rc = parse_subscriber(json, len, &root, f, e);
    if (!rc)
        rc = esc_subscriber_add(s, a, f[0], f[1], f[2], f[3], e);
    json_decref(root);
    return rc;
}

/* ---- alerts as JSON ---- */

static int json_str_or_null(struct buf *b, const char *s)
{
    return s && *s ? buf_json_str(b, s) : buf_append(b, "null", 4);
}

static int json_time(struct buf *b, int64_t ms)
{
    if (ms == TIME_NONE)
        return buf_append(b, "null", 4);
    char t[40];
    time_format_utc(ms, t, sizeof t);
    return buf_printf(b, "\"%s\"", t);
}

struct deliveries {
    struct buf *b;
    size_t n;
};

static int on_delivery(void *ctx, const struct store_outbox_row *r)
{
    struct deliveries *d = ctx;
    struct buf *b = d->b;
    int rc = buf_printf(b, "%s{\"subscriber\":", d->n++ ? "," : "");
    rc = rc || buf_json_str(b, r->subscriber);
    rc = rc || buf_printf(b, ",\"state\":\"%s\",\"attempts\":%lld,\"last_error\":", r->state,
                          r->attempts);
    rc = rc || json_str_or_null(b, r->last_error);
    rc = rc || buf_append(b, ",\"next_attempt_at\":", 19);
    rc = rc || json_time(b, strcmp(r->state, "pending") ? TIME_NONE : r->next_attempt_ms);
    rc = rc || buf_append(b, ",\"delivered_at\":", 16);
    rc = rc || json_time(b, r->delivered_ms);
    rc = rc || buf_append(b, "}", 1);
    return rc ? ERR_NOMEM : 0;
}

int esc_alert_json(struct store *s, const struct store_alert *al, bool deliveries,
                   struct buf *out, struct errbuf *e)
{
    int rc = buf_printf(out, "{\"id\":%lld,\"threshold\":", (long long)al->id);
    rc = rc || buf_json_str(out, al->threshold);
    rc = rc || buf_printf(out, ",\"level\":\"%s\",\"text\":", al->level);
    rc = rc || buf_json_str(out, al->text);
    rc = rc || buf_append(out, ",\"region\":", 10) || json_str_or_null(out, al->region);
    rc = rc || buf_append(out, ",\"party\":", 9) || json_str_or_null(out, al->party);
    rc = rc || buf_append(out, ",\"window\":{\"start\":", 19) ||
         json_time(out, al->window_start_ms) || buf_append(out, ",\"end\":", 7) ||
         json_time(out, al->window_end_ms);
    rc = rc || buf_printf(out, "},\"findings_counted\":%lld,\"finding_ids\":%s,"
                               "\"agreement_version\":%d,\"log_index\":%lld,\"raised_at\":",
                          al->n_findings, al->finding_ids, al->agreement_version,
                          (long long)al->log_index);
    rc = rc || json_time(out, al->raised_ms);
    rc = rc || buf_printf(out, ",\"state\":\"%s\",\"acknowledged_by\":",
                          al->ack_by ? "acknowledged" : "open");
    rc = rc || json_str_or_null(out, al->ack_by);
    rc = rc || buf_append(out, ",\"acknowledged_at\":", 19) || json_time(out, al->ack_ms);
    if (rc)
        return errf(e, ERR_NOMEM, "out of memory");
    if (deliveries) {
        struct deliveries d = {out, 0};
        if (buf_append(out, ",\"deliveries\":[", 15))
            return errf(e, ERR_NOMEM, "out of memory");
        if ((rc = store_outbox_list(s, al->id, on_delivery, &d, e)))
            return rc;
        if (buf_append(out, "]", 1))
            return errf(e, ERR_NOMEM, "out of memory");
    }
    return buf_append(out, "}", 1) ? errf(e, ERR_NOMEM, "out of memory") : 0;
}
