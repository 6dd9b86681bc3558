/* test_pipeline.c: placement, rules, the store and the daily report on the shipped minsk-2015
 * scenario: the demo's report counts are asserted, the event-type breakdown adds up, client ids
 * make resubmission a no-op, --atomic refuses a whole file, amendments are judged by the version
 * in force. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "ingest/ingest.h"
#include "placement/placement.h"
#include "report/report.h"
#include "rules/rules.h"
#include "store/store.h"
#include "t.h"

static char dir[64];
static struct store *st;
static struct store_agreements ag;

static int ingest_text(const char *text, bool atomic, struct ingest_stats *stats)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .atomic = atomic, .name = "test"};
    struct errbuf e;
    int rc = ingest_stream(st, &ag, f, &o, stats, &e);
    fclose(f);
    return rc;
}

static int ingest_file(const char *path, struct ingest_stats *stats)
{
    FILE *f = fopen(path, "r");
    struct ingest_opts o = {.format = OBS_FMT_AUTO, .name = path};
    struct errbuf e;
    int rc = ingest_stream(st, &ag, f, &o, stats, &e);
    fclose(f);
    return rc;
}

static void test_sample_ingests_and_judges(void)
{
    struct ingest_stats s;
    CHECK_INT(ingest_file("examples/minsk-2015/observations.ndjson", &s), 0);
    CHECK_INT(s.records, 25);
    CHECK_INT(s.accepted, 25);
    CHECK_INT(s.rejected, 0);
    CHECK_INT(s.findings, 21);
}

static void test_resubmission_is_a_no_op(void)
{
    struct ingest_stats s;
    long long before, after;
    struct errbuf e;
    CHECK_INT(store_obs_count(st, &before, &e), 0);
    CHECK_INT(ingest_file("examples/minsk-2015/observations.ndjson", &s), 0);
    CHECK_INT(s.duplicates, 25);
    CHECK_INT(s.accepted, 0);
    CHECK_INT(store_obs_count(st, &after, &e), 0);
    CHECK_INT(after, before);
}

#define REC(id, extra)                                                                          \
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\",\"client_id\":\"" \
    id "\",\"time\":\"2016-10-12T12:00:00+03:00\",\"means\":\"patrol\",\"observer\":{\"place\":" \
    "\"Avdiivka\"},\"event_type\":\"shot\",\"count\":1" extra "}}\n"

static void test_atomic_refuses_the_whole_file(void)
{
    struct ingest_stats s;
    long long before, after;
    struct errbuf e;
    CHECK_INT(store_obs_count(st, &before, &e), 0);
    CHECK_INT(ingest_text(REC("atomic-1", "") REC("atomic-2", ",\"bearings\":[999]"), true, &s), 0);
    CHECK_INT(s.rejected, 1);
    CHECK_INT(s.accepted, 0);
    CHECK_INT(store_obs_count(st, &after, &e), 0);
    CHECK_INT(after, before);
    /* without --atomic the good record is kept */
    CHECK_INT(ingest_text(REC("atomic-1", "") REC("atomic-2", ",\"bearings\":[999]"), false, &s), 0);
    CHECK_INT(s.accepted, 1);
    CHECK_INT(s.rejected, 1);
    CHECK_INT(store_obs_count(st, &after, &e), 0);
    CHECK_INT(after, before + 1);
}

static const char *json_field(const char *json, const char *path_key, char *out, size_t n)
{
    const char *p = strstr(json, path_key);
    if (!p)
        return NULL;
    p += strlen(path_key);
    size_t i = 0;
    while (p[i] && p[i] != ',' && p[i] != '}' && i + 1 < n) {
        out[i] = p[i];
        i++;
    }
    out[i] = 0;
    return out;
}

static void test_daily_report_counts(void)
{
    struct buf b;
    buf_init(&b);
    struct errbuf e;
    const struct agreement *a = ag.v[ag.n - 1];
    CHECK_INT(report_daily(st, a, 2016, 10, 10, REPORT_TEXT, &b, &e), 0);
    CHECK_CONTAINS(b.p, "In Donetsk region, the mission recorded 115 ceasefire violations, including "
                        "101 explosions. In the previous reporting period, it recorded 30 ceasefire "
                        "violations in the region.");
    CHECK_CONTAINS(b.p, "In Luhansk region, the mission recorded 9 ceasefire violations, including 9 "
                        "explosions. In the previous reporting period, it recorded 4 ceasefire "
                        "violations in the region.");
    CHECK_CONTAINS(b.p, "uncountable bursts 2 km E of Marinka");
    CHECK_CONTAINS(b.p, "Petrivske disengagement area: 2 reports inside");
    CHECK_CONTAINS(b.p, "Zolote disengagement area: 0 reports inside (0 events), 1 possibly inside");
    CHECK_CONTAINS(b.p, "[minsk2-2-art100, violation] 2 weapons of the class \"artillery of 100 mm "
                        "calibre and over\" (2S1 Gvozdika) seen 15 km WSW of Shcherbynivka, 22.8 km "
                        "from ua's reference line");
    CHECK_CONTAINS(b.p, "[addendum-2015-tanks, violation] 3 weapons of the class \"tanks\" (T-72)");
    CHECK_CONTAINS(b.p, "- tcg-2016-disengagement: 1");
    b.len = 0;
    CHECK_INT(report_daily(st, a, 2016, 10, 10, REPORT_JSON, &b, &e), 0);
    /* Donetsk region's current tally: the parts add up to the whole */
    const char *don = strstr(b.p, "\"region\":\"donetsk\"");
    CHECK(don != NULL);
    if (!don)
        goto out;
    char v[32];
    long long total = atoll(json_field(don, "\"ceasefire_violations\":", v, sizeof v));
    long long expl = atoll(json_field(don, "\"explosions\":", v, sizeof v));
    long long imp = atoll(json_field(don, "\"impact\":", v, sizeof v));
    long long air = atoll(json_field(don, "\"airburst\":", v, sizeof v));
    long long outg = atoll(json_field(don, "\"outgoing\":", v, sizeof v));
    long long und = atoll(json_field(don, "\"undetermined_explosion\":", v, sizeof v));
    long long proj = atoll(json_field(don, "\"projectile_in_flight\":", v, sizeof v));
    long long fl = atoll(json_field(don, "\"illumination_flare\":", v, sizeof v));
    long long mz = atoll(json_field(don, "\"muzzle_flash\":", v, sizeof v));
    long long bu = atoll(json_field(don, "\"burst\":", v, sizeof v));
    long long sh = atoll(json_field(don, "\"shot\":", v, sizeof v));
    CHECK_INT(total, 115);
    CHECK_INT(expl, 101);
    CHECK_INT(imp, 6);
    CHECK_INT(air, 2);
    CHECK_INT(outg, 3);
    CHECK_INT(und, 90);
    CHECK_INT(expl, imp + air + outg + und);
    CHECK_INT(total, expl + proj + fl + mz + bu + sh);
out:
    buf_reset(&b);
}

static int count_cb(void *ctx, const char *json)
{
    (void)json;
    (*(int *)ctx)++;
    return 0;
}

static void test_findings_filters(void)
{
    struct store_filter f;
    struct errbuf e;
    int n = 0;
    store_filter_init(&f);
    f.clause = "minsk2-1";
    CHECK_INT(store_findings_list(st, &f, count_cb, &n, &e), 0);
    CHECK_INT(n, 18); /* 16 fire reports and 1 detection in the sample, plus atomic-1 */
    n = 0;
    store_filter_init(&f);
    f.party = "af";
    CHECK_INT(store_findings_list(st, &f, count_cb, &n, &e), 0);
    CHECK_INT(n, 2); /* tanks near Horlivka, a mortar near Zolote */
    n = 0;
    store_filter_init(&f);
    f.kind = "sighting";
    CHECK_INT(store_obs_list(st, &f, count_cb, &n, &e), 0);
    CHECK_INT(n, 5);
    n = 0;
    store_filter_init(&f);
    f.region = "luhansk";
    CHECK_INT(time_parse("2016-10-11T00:00:00Z", NULL, &f.from_ms, &e), 0);
    CHECK_INT(store_obs_list(st, &f, count_cb, &n, &e), 0);
    CHECK_INT(n, 2); /* Stanytsia Luhanska fire and the mortar near Zolote on the 11th */
}

static void test_placement_of_a_sector(void)
{
    const struct agreement *a = ag.v[0];
    struct obs *o = calloc(1, sizeof *o);
    struct errbuf e;
    const char *rec = "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"kind\":\"fire\","
                      "\"time\":\"2016-10-10T12:00:00+03:00\",\"means\":\"patrol\",\"observer\":"
                      "{\"place\":\"Svitlodarsk\"},\"bearings\":[\"SE\",\"SSE\"],\"distance_km\":[3,5],"
                      "\"event_type\":\"undetermined_explosion\",\"count\":15}}";
    CHECK_INT(obs_parse_json(rec, strlen(rec), a, a->time_zone, o, &e), 0);
    struct placement p;
    CHECK_INT(place_observation(a, o, &p, &e), 0);
    CHECK_INT(p.how, PLACE_SECTOR);
    CHECK_STR(a->regions[p.region].id, "donetsk");
    double d = geo_distance_m(o->observer, p.centre);
    CHECK(d > 3000 && d < 5000);
    /* The Svitlodarsk bulge: 3-5 km SE of the town reaches across the line of contact. */
    CHECK(p.control_uncertain);
    CHECK_CONTAINS(p.phrase, "of Svitlodarsk");
    free(o);
}

static void test_unknown_owner_is_inferred_from_control(void)
{
    const struct agreement *a = ag.v[0];
    struct obs *o = calloc(1, sizeof *o);
    struct errbuf e;
    /* a 122 mm howitzer of unreported owner 5 km inside the NGCA near Horlivka */
    const char *rec = "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                      "[38.06,48.30]},\"properties\":{\"kind\":\"sighting\",\"time\":"
                      "\"2016-10-10T12:00:00+03:00\",\"means\":\"uav\",\"accuracy_m\":100,"
                      "\"count\":1,\"weapon\":{\"category\":\"howitzer\",\"calibre_mm\":122}}}";
    CHECK_INT(obs_parse_json(rec, strlen(rec), a, a->time_zone, o, &e), 0);
    struct placement p;
    CHECK_INT(place_observation(a, o, &p, &e), 0);
    struct finding f[RULES_MAX_FINDINGS];
    size_t n;
    rules_judge(a, o, &p, f, &n);
    CHECK_INT(n, 1);
    if (n) {
        CHECK_STR(f[0].party, "af");
        CHECK_INT(f[0].result, RULE_VIOLATION);
        CHECK_STR(a->rules[f[0].rule].clause, "minsk2-2-art100");
        CHECK_CONTAINS(f[0].reasons, "inferred from the location in the area controlled by af");
    }
    /* before the withdrawal deadline the same sighting breaks nothing */
    CHECK_INT(time_parse("2015-02-20T12:00:00+02:00", NULL, &o->t_start_ms, &e), 0);
    rules_judge(a, o, &p, f, &n);
    CHECK_INT(n, 0);
    free(o);
}

static void test_amendment_versions(void)
{
    struct errbuf e;
    struct agreement *a1 = NULL;
    CHECK_INT(agr_load_file("examples/minsk-2015/agreement.json", &a1, &e), 0);
    if (!a1)
        return;
    /* the same version again is refused */
    CHECK_INT(store_agreement_add(st, a1, &e), ERR_CONFLICT);
    CHECK_STR(e.msg, "version 1 is not above the stored version 1");
    /* a version 2 in force from 2016-10-11: an amended copy of the stored text */
    struct buf v2;
    buf_init(&v2);
    const char *j = a1->resolved_json;
    const char *eff = strstr(j, "\"effective\":\"2015-02-15T00:00:00\"");
    const char *ver = strstr(j, "\"version\":1");
    CHECK(eff && ver && eff < ver);
    if (!eff || !ver || eff > ver) {
        agr_free(a1);
        return;
    }
    CHECK_INT(buf_append(&v2, j, (size_t)(eff - j)), 0);
    CHECK_INT(buf_printf(&v2, "\"effective\":\"2016-10-11T00:00:00\""), 0);
    const char *after_eff = eff + strlen("\"effective\":\"2015-02-15T00:00:00\"");
    CHECK_INT(buf_append(&v2, after_eff, (size_t)(ver - after_eff)), 0);
    CHECK_INT(buf_printf(&v2, "\"version\":2%s", ver + strlen("\"version\":1")), 0);
    struct agreement *a2 = NULL;
    CHECK_INT(agr_load_json(v2.p, v2.len, "v2", &a2, &e), 0);
    buf_reset(&v2);
    if (!a2) {
        agr_free(a1);
        return;
    }
    CHECK_INT(store_agreement_add(st, a2, &e), 0);
    agr_free(a2);
    struct store_agreements l;
    CHECK_INT(store_agreements_load(st, &l, &e), 0);
    CHECK_INT(l.n, 2);
    int64_t t;
    CHECK_INT(time_parse("2016-10-10T12:00:00Z", NULL, &t, &e), 0);
    CHECK_INT(store_agreement_at(&l, t)->version, 1);
    CHECK_INT(time_parse("2016-10-11T12:00:00Z", NULL, &t, &e), 0);
    CHECK_INT(store_agreement_at(&l, t)->version, 2);
    store_agreements_free(&l);
    free(a1->id);
    a1->id = xstrdup("other");
    a1->version = 3;
    CHECK_INT(store_agreement_add(st, a1, &e), ERR_CONFLICT);
    CHECK_STR(e.msg, "this store holds agreement \"minsk-2015\", not \"other\"");
    agr_free(a1);
}

/* A store written by a newer truce (a higher schema version) is refused, not misread; the
 * current one reopens at its version. */
static void test_store_schema_version_is_checked(void)
{
    char d2[96], db[128];
    snprintf(d2, sizeof d2, "%s-schema", dir);
    snprintf(db, sizeof db, "%s/" STORE_DB_NAME, d2);
    struct store *s2;
    struct errbuf e;
    CHECK_INT(store_open(d2, true, &s2, &e), 0);
    store_close(s2);
    sqlite3 *raw;
    CHECK_INT(sqlite3_open(db, &raw), SQLITE_OK);
    sqlite3_stmt *q;
    CHECK_INT(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(q), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    CHECK_INT(sqlite3_exec(raw, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    CHECK_INT(store_open(d2, false, &s2, &e), ERR_DB);
    char want[96];
    snprintf(want, sizeof want, "schema version 99 is newer than this truce (%d); upgrade truce",
             STORE_SCHEMA_VERSION);
    CHECK_CONTAINS(e.msg, want);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d2);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d2);
}

static void test_store_refuses_double_init_and_missing_dir(void)
{
    struct store *s2;
    struct errbuf e;
    CHECK_INT(store_open(dir, true, &s2, &e), ERR_CONFLICT);
    CHECK_CONTAINS(e.msg, "a truce store already exists here");
    CHECK_INT(store_open("/nonexistent/truce", false, &s2, &e), ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "no truce store here");
}

int main(void)
{
    struct errbuf e;
    snprintf(dir, sizeof dir, "/tmp/truce-test-pipeline-%ld", (long)getpid());
    struct agreement *a;
    if (agr_load_file("examples/minsk-2015/agreement.json", &a, &e) ||
        store_open(dir, true, &st, &e) || store_agreement_add(st, a, &e) ||
        store_agreements_load(st, &ag, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return 1;
    }
    agr_free(a);
    static const struct t_case tests[] = {
        T(test_sample_ingests_and_judges),
        T(test_resubmission_is_a_no_op),
        T(test_atomic_refuses_the_whole_file),
        T(test_daily_report_counts),
        T(test_findings_filters),
        T(test_placement_of_a_sector),
        T(test_unknown_owner_is_inferred_from_control),
        T(test_amendment_versions),
        T(test_store_schema_version_is_checked),
        T(test_store_refuses_double_init_and_missing_dir),
    };
    int rc = T_RUN(tests);
    store_agreements_free(&ag);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
