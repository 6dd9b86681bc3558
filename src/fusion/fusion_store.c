/* fusion_store.c: the fusion engine over the store: loading the stored fire observations,
 * writing incidents as they change, and `truce fuse` (rebuild from scratch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion.h"
#include "fusion/fusion_int.h"

#define FUSION_MAX_MERGED (2 * FUSION_MAX_EVIDENCE)

struct load_ctx {
    struct fusion *f;
    const struct store_agreements *ag;
    struct obs *o;
    struct errbuf *e;
    long long n;
};

/* One stored record made into a fusion observation again (as ingest did). */
static int load_one(void *ctx, int64_t id, const char *raw, size_t len)
{
    struct load_ctx *c = ctx;
    const struct agreement *latest = c->ag->v[c->ag->n - 1];
    struct errbuf re;
    /* A stored record that no longer validates (say a place name an amendment dropped) or
     * cannot be placed stays stored and logged; it is only left out of fusion, and counted. */
    struct placement p;
    if (obs_parse_json(raw, len, latest, latest->time_zone, c->o, &re) ||
        place_observation(store_agreement_at(c->ag, c->o->t_start_ms), c->o, &p, &re)) {
        fusion_count_skipped(c->f);
        return 0;
    }
    struct fusion_obs fo;
    if (!fusion_obs_from(c->o, &p, id, &fo))
        return 0;
    int64_t inc;
    c->n++;
    int rc = fusion_add(c->f, &fo, &inc, NULL, 0, NULL, &re);
    if (rc == ERR_INVAL) {
        fusion_count_skipped(c->f);
        return 0;
    }
    return rc ? errf(c->e, rc, "%s", re.msg) : 0;
}

int fusion_reload(struct fusion *f, struct store *s, const struct store_agreements *ag,
                  struct errbuf *e)
{
    fusion_clear(f);
    struct load_ctx c = {f, ag, malloc(sizeof(struct obs)), e, 0};
    if (!c.o)
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    int rc = store_fire_obs_each(s, load_one, &c, e);
    free(c.o);
    return rc;
}

int fusion_load(struct store *s, const struct store_agreements *ag, struct fusion **out,
                struct errbuf *e)
{
    struct fusion *f = fusion_new(ag->v[ag->n - 1]);
    if (!f)
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    fusion_set_versions(f, ag);
    int rc = fusion_reload(f, s, ag, e);
    if (rc) {
        fusion_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends the leaf of a version the store just wrote. */
static int log_version(struct truce_log *log, const struct store_log_record *r, struct errbuf *e)
{
    return log ? log_add(log, r, e) : 0;
}

static int tombstone(struct fusion *f, struct store *s, struct truce_log *log, int64_t id,
                     int64_t into, long long *changed, struct errbuf *e)
{
    char json[128];
    if (into >= 0)
        snprintf(json, sizeof json, "{\"id\":%lld,\"merged_into\":%lld}", (long long)id,
                 (long long)into);
    else
        snprintf(json, sizeof json, "{\"id\":%lld,\"merged_into\":null}", (long long)id);
    struct store_log_record r;
    bool logged;
    int rc = store_incident_delete(s, id, json, fusion_agreement(f)->version, &logged, &r, e);
    if (rc || !logged)
        return rc;
    if (changed)
        (*changed)++;
    return log_version(log, &r, e);
}

static int put(struct fusion *f, struct store *s, struct truce_log *log, int64_t id,
               long long *changed, struct errbuf *e)
{
    struct fusion_incident *inc = malloc(sizeof *inc);
    if (!inc)
        return errf(e, ERR_NOMEM, "fusion: out of memory");
    int rc = fusion_incident_get(f, id, inc, e);
    struct buf json;
    buf_init(&json);
    if (!rc && fusion_incident_json(inc, &json))
        rc = errf(e, ERR_NOMEM, "fusion: out of memory");
    if (!rc) {
        const struct agreement *a = fusion_agreement(f);
        int region = agr_region_at(a, inc->location);
        char counts[FUSION_N_EVENT_TYPES * 22];
        size_t cl = 0;
        for (int t = 0; t < AGR_N_EVENT_TYPES; t++)
            cl += (size_t)snprintf(counts + cl, sizeof counts - cl, "%s%lld", t ? "," : "",
                                   inc->counts[t]);
        /* the distinct clauses of its findings, and the semi-major axis as its JSON has it */
        char clauses[FUSION_MAX_FINDINGS * 64] = "";
        size_t n_cl = 0;
        for (size_t i = 0; i < inc->n_findings; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = !strcmp(inc->findings[j].clause, inc->findings[i].clause);
            if (!seen && n_cl < sizeof clauses)
                n_cl += (size_t)snprintf(clauses + n_cl, sizeof clauses - n_cl, "%s%s",
                                         n_cl ? "," : "", inc->findings[i].clause);
        }
        char semi[40];
        snprintf(semi, sizeof semi, "%.1f", inc->semi_major_m);
        struct store_incident si = {
            .id = inc->id,
            .t_start_ms = inc->t_start_ms,
            .t_end_ms = inc->t_end_ms,
            .region = region >= 0 ? a->regions[region].id : NULL,
            .count = inc->count,
            .party = inc->party,
            .grade = FUSION_GRADE_NAMES[inc->grade],
            .origin_method = FUSION_ORIGIN_NAMES[inc->origin_method],
            .loc_method = FUSION_LOC_NAMES[inc->loc_method],
            .lon = inc->location.lon_deg,
            .lat = inc->location.lat_deg,
            .json = json.p,
            .counts = counts,
            .finding_party = inc->n_findings ? inc->findings[0].party : NULL,
            .clauses = clauses,
            .semi_major_m = isfinite(inc->semi_major_m) ? strtod(semi, NULL) : NAN,
            .agreement_version = inc->agreement_version,
            .n_evidence = inc->n_evidence,
            .evidence = inc->evidence_ids,
        };
        bool logged;
        struct store_log_record r;
        rc = store_incident_put(s, &si, &logged, &r, e);
        if (!rc && logged) {
            if (changed)
                (*changed)++;
            rc = log_version(log, &r, e);
        }
    }
    buf_reset(&json);
    free(inc);
    return rc;
}

int fusion_store_incident(struct fusion *f, struct store *s, struct truce_log *log, int64_t id,
                          const int64_t *merged, size_t n_merged, struct errbuf *e)
{
    for (size_t i = 0; i < n_merged; i++) {
        int rc = tombstone(f, s, log, merged[i], id, NULL, e);
        if (rc)
            return rc;
    }
    return put(f, s, log, id, NULL, e);
}

int fusion_ingest(struct fusion *f, const struct obs *o, const struct placement *p, int64_t id,
                  struct errbuf *e)
{
    struct fusion_obs fo;
    if (!fusion_obs_from(o, p, id, &fo))
        return 0;
    int64_t inc, merged[FUSION_MAX_MERGED];
    size_t n_merged;
    struct errbuf fe;
    int rc = fusion_add(f, &fo, &inc, merged, FUSION_MAX_MERGED, &n_merged, &fe);
    if (rc == ERR_INVAL) {
        /* no usable region or window: stored, not fused (the engine is unchanged) */
        fusion_count_skipped(f);
        return 0;
    }
    if (rc)
        return errf(e, rc, "%s", fe.msg);
    /* what changed is noted; fusion_flush summarises, stores and logs it before the commit */
    int64_t also[FUSION_MAX_CHANGED];
    size_t n_also = fusion_also_changed(f, also, FUSION_MAX_CHANGED);
    for (size_t i = 0; i < n_also && !rc; i++)
        rc = fusion_note_dirty(f, also[i]);
    for (size_t i = 0; i < n_merged && !rc; i++)
        rc = fusion_note_dirty(f, merged[i]);
    if (!rc)
        rc = fusion_note_dirty(f, inc);
    return rc ? errf(e, rc, "fusion: out of memory") : 0;
}

int fusion_flush(struct fusion *f, struct store *s, struct truce_log *log, long long *n_written,
                 struct errbuf *e)
{
    long long written = 0;
    int rc = 0;
    if (f->n_dirty) {
        qsort(f->dirty, f->n_dirty, sizeof *f->dirty, cmp_id);
        size_t n = 0;
        for (size_t i = 0; i < f->n_dirty; i++)
            if (!n || f->dirty[n - 1] != f->dirty[i])
                f->dirty[n++] = f->dirty[i];
        f->n_dirty = n;
        /* first the tombstones of incidents that ceased (merged into the one their first report
         * is in now), so their evidence rows are gone before the survivors write theirs ... */
        for (size_t i = 0; i < n && !rc; i++) {
            int64_t now = fusion_incident_of(f, f->dirty[i]);
            if (now != f->dirty[i])
                rc = tombstone(f, s, log, f->dirty[i], now, &written, e);
        }
        /* ... then each changed incident, summarised once, stored and logged when it differs */
        for (size_t i = 0; i < n && !rc; i++)
            if (fusion_incident_of(f, f->dirty[i]) == f->dirty[i])
                rc = put(f, s, log, f->dirty[i], &written, e);
    }
    f->n_dirty = 0;
    if (n_written)
        *n_written = written;
    return rc;
}

struct id_list {
    int64_t *v;
    size_t n, cap;
};

static int collect_id(void *ctx, int64_t id)
{
    struct id_list *l = ctx;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 1024;
        int64_t *p = realloc(l->v, nc * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        l->v = p;
        l->cap = nc;
    }
    l->v[l->n++] = id;
    return 0;
}

int fusion_rebuild(struct store *s, const struct store_agreements *ag, struct truce_log *log,
                   long long *n_obs, long long *n_incidents, long long *n_changed,
                   long long *n_skipped, struct errbuf *e)
{
    struct fusion *f;
    *n_changed = 0;
    int rc = fusion_load(s, ag, &f, e);
    if (rc)
        return rc;
    *n_obs = (long long)fusion_obs_count(f);
    *n_skipped = (long long)fusion_skipped(f);
    const int64_t *ids;
    size_t n = fusion_incident_ids(f, &ids);
    /* the ids array is reused by summaries: copy it */
    struct id_list fresh = {0}, old = {0};
    for (size_t i = 0; i < n && !rc; i++)
        if (collect_id(&fresh, ids[i]))
            rc = errf(e, ERR_NOMEM, "fusion: out of memory");
    bool in_tx = false;
    if (!rc && !(rc = store_begin(s, e)))
        in_tx = true;
    if (!rc) {
        e->msg[0] = 0;
        int lrc = store_incident_ids(s, collect_id, &old, e);
        if (lrc)
            rc = e->msg[0] ? lrc : errf(e, ERR_NOMEM, "fusion: out of memory");
    }
    /* stored incidents that no longer exist (both lists ascending) */
    for (size_t i = 0, j = 0; i < old.n && !rc; i++) {
        while (j < fresh.n && fresh.v[j] < old.v[i])
            j++;
        if (j == fresh.n || fresh.v[j] != old.v[i])
            rc = tombstone(f, s, log, old.v[i], -1, n_changed, e);
    }
    for (size_t i = 0; i < fresh.n && !rc; i++)
        rc = put(f, s, log, fresh.v[i], n_changed, e);
    if (!rc && log)
        rc = log_sync(log, e);
    if (!rc && in_tx)
        rc = store_commit(s, e);
    if (rc && in_tx) {
        store_rollback(s);
        if (log && log_rewind(log, s, NULL))
            fputs("truce: the log could not be rewound; it is repaired when next opened\n",
                  stderr);
    }
    *n_incidents = (long long)fresh.n;
    free(fresh.v);
    free(old.v);
    fusion_free(f);
    return rc;
}
