/* test_agreement.c: loading the shipped agreements, validation errors that name the file, the
 * JSON pointer and the reason, weapon class matching, the gazetteer and the report window. */
#include <stdlib.h>
#include <unistd.h>

#include "agreement/agreement.h"
#include "t.h"

static struct agreement *minsk(void)
{
    static struct agreement *a;
    struct errbuf e;
    if (!a && agr_load_file("examples/minsk-2015/agreement.json", &a, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return NULL;
    }
    return a;
}

static void test_minsk_loads_with_real_terms(void)
{
    struct agreement *a = minsk();
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK_STR(a->id, "minsk-2015");
    CHECK_INT(a->n_parties, 2);
    CHECK_INT(a->n_regions, 2);
    CHECK_INT(a->n_zones, 3);
    CHECK_INT(a->n_places, 430);
    CHECK_INT(a->cutoff_minutes, 19 * 60 + 30);
    CHECK_STR(a->time_zone, "Europe/Kyiv");
    CHECK_INT(a->effective_ms, 1423951200000LL); /* 2015-02-15 00:00 Kyiv = 22:00Z on the 14th */
    double want_km[] = {0, 25, 35, 70, 15, 15, 15, 0};
    for (size_t i = 0; i < a->n_rules && i < 8; i++)
        if (a->rules[i].kind == AGR_RULE_WEAPON_WITHDRAWAL)
            CHECK_NEAR(a->rules[i].distance_km, want_km[i], 0);
    CHECK_INT(geo_line_vertex_count(a->lines[0].line), 76);
}

static void test_resolved_json_is_self_contained(void)
{
    struct agreement *a = minsk(), *b = NULL;
    struct errbuf e;
    if (!a)
        return;
    CHECK(strstr(a->resolved_json, "\"file\"") == NULL);
    CHECK_INT(agr_load_json(a->resolved_json, strlen(a->resolved_json), "stored", &b, &e), 0);
    if (b) {
        CHECK_INT(b->n_places, a->n_places);
        CHECK_INT(b->n_zones, a->n_zones);
        agr_free(b);
    }
}

static void test_weapon_classes_match_models_then_categories(void)
{
    struct agreement *a = minsk();
    if (!a)
        return;
    int grad = agr_weapon_class_match(a, "mlrs", "BM-21 Grad", 122);
    CHECK(grad >= 0 && !strcmp(a->classes[grad].id, "mlrs"));
    int smerch = agr_weapon_class_match(a, "mlrs", "BM-30 Smerch", 300);
    CHECK(smerch >= 0 && !strcmp(a->classes[smerch].id, "heavy-mlrs-missiles"));
    int how = agr_weapon_class_match(a, "howitzer", NULL, 152);
    CHECK(how >= 0 && !strcmp(a->classes[how].id, "artillery-100"));
    int gun = agr_weapon_class_match(a, "artillery", NULL, 85);
    CHECK(gun >= 0 && !strcmp(a->classes[gun].id, "artillery-under-100"));
    int mortar = agr_weapon_class_match(a, "mortar", NULL, 120);
    CHECK(mortar >= 0 && !strcmp(a->classes[mortar].id, "mortars-120"));
    CHECK_INT(agr_weapon_class_match(a, "artillery", NULL, NAN), -1); /* calibre decides */
    CHECK_INT(agr_weapon_class_match(a, "small_arms", NULL, 7.62), -1);
}

static void test_gazetteer_finds_alternative_spellings(void)
{
    struct agreement *a = minsk();
    if (!a)
        return;
    int i = agr_place_find(a, "Svitlodarsk"), j = agr_place_find(a, "Svetlodarsk");
    CHECK(i >= 0);
    CHECK_INT(i, j);
    int k = agr_place_find(a, "mar'inka"), l = agr_place_find(a, "Marinka");
    CHECK(k >= 0);
    CHECK_INT(k, l);
    int m = agr_place_find(a, "Kirovsk");
    CHECK(m >= 0 && !strcmp(a->places[m].name, "Holubivka"));
    CHECK_INT(agr_place_find(a, "Atlantis"), -1);
}

static void test_place_grid_matches_the_full_scan(void)
{
    struct agreement *a = minsk();
    if (!a)
        return;
    unsigned seed = 12345;
    int mismatches = 0;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        double u = (seed >> 8) / 16777216.0;
        seed = seed * 1103515245u + 12345u;
        double v = (seed >> 8) / 16777216.0;
        /* the two oblasts and a margin around them, where most points fall, and beyond */
        struct geo_point p = {35.5 + u * 5.5, 46.5 + v * 4.0};
        mismatches += agr_place_nearest(a, p) != agr_place_nearest_slow(a, p);
    }
    CHECK_INT(mismatches, 0);
    struct geo_point far = {24.0, 49.8}; /* Lviv: far outside the gazetteer */
    CHECK_INT(agr_place_nearest(a, far), agr_place_nearest_slow(a, far));
}

static void test_control_and_regions_on_real_towns(void)
{
    struct agreement *a = minsk();
    if (!a)
        return;
    struct geo_point donetsk = {37.803, 48.016}, mariupol = {37.543, 47.097},
                     kramatorsk = {37.556, 48.739}, luhansk = {39.307, 48.574},
                     kyiv = {30.52, 50.45};
    CHECK_STR(agr_control_at(a, donetsk), "af");
    CHECK_STR(agr_control_at(a, luhansk), "af");
    CHECK_STR(agr_control_at(a, mariupol), "ua");
    CHECK_STR(agr_control_at(a, kramatorsk), "ua");
    CHECK(agr_control_at(a, kyiv) == NULL);
    CHECK_STR(a->regions[agr_region_at(a, donetsk)].id, "donetsk");
    CHECK_STR(a->regions[agr_region_at(a, luhansk)].id, "luhansk");
    CHECK_INT(agr_region_at(a, kyiv), -1);
}

static void test_report_window_is_the_day_to_the_cutoff(void)
{
    struct agreement *a = minsk();
    if (!a)
        return;
    int64_t from, to;
    CHECK_INT(agr_report_window(a, 2016, 10, 10, &from, &to), 0);
    CHECK_INT(to, 1476117000000LL); /* 2016-10-10T19:30+03:00 */
    CHECK_INT(to - from, 86400000LL);
    CHECK_INT(agr_report_window(a, 2016, 10, 30, &from, &to), 0);
    CHECK_INT(to - from, 25LL * 3600000); /* the day clocks go back */
}

/* Writes text to a temp file next to the examples so relative references still resolve. */
static int load_text(const char *text, struct errbuf *e, struct agreement **out)
{
    char path[] = "examples/minsk-2015/.test-agreement-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -99;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = agr_load_file(path, out, e);
    unlink(path);
    return rc;
}

#define MINIMAL_HEAD                                                                             \
    "{\"format\":\"truce-agreement/1\",\"id\":\"t\",\"version\":1,\"title\":\"T\","            \
    "\"time_zone\":\"Europe/Kyiv\",\"effective\":\"2020-01-01T00:00:00\","                      \
    "\"parties\":[{\"id\":\"a\",\"name\":\"A\"},{\"id\":\"b\",\"name\":\"B\"}],"

#define MINIMAL_GEO                                                                              \
    "\"geography\":{\"regions\":[{\"id\":\"r\",\"name\":\"R\",\"geometry\":{\"type\":"         \
    "\"Polygon\",\"coordinates\":[[[37,47],[39,47],[39,49],[37,49],[37,47]]]}}],"               \
    "\"lines\":[{\"id\":\"l\",\"name\":\"L\",\"geometry\":{\"type\":\"LineString\","            \
    "\"coordinates\":[[38,47],[38,49]]},\"right_party\":\"b\",\"left_party\":\"a\"}],"         \
    "\"reference_lines\":{\"a\":\"l\",\"b\":\"l\"}},"

static void check_error(const char *text, const char *want)
{
    struct errbuf e;
    struct agreement *a = NULL;
    int rc = load_text(text, &e, &a);
    CHECK(rc != 0);
    if (rc == 0) {
        agr_free(a);
        return;
    }
    CHECK_CONTAINS(e.msg, want);
    CHECK_CONTAINS(e.msg, "examples/minsk-2015/.test-agreement-");
}

static void test_minimal_agreement_loads(void)
{
    struct errbuf e;
    struct agreement *a = NULL;
    CHECK_INT(load_text(MINIMAL_HEAD MINIMAL_GEO "\"rules\":[{\"clause\":\"c1\",\"kind\":"
                                                 "\"fire_prohibited\",\"text\":\"no fire\"}]}",
                        &e, &a),
              0);
    if (a) {
        CHECK_INT(a->n_rules, 1);
        CHECK_STR(a->rules[0].severity, "major");
        agr_free(a);
    }
}

static void test_errors_point_at_the_offending_value(void)
{
    check_error("{\"format\": ", "line 1 column");
    check_error("[1,2]", ": /: an agreement is a JSON object");
    check_error("{\"format\":\"truce-agreement/9\"}", "/format: unsupported format");
    check_error(MINIMAL_HEAD MINIMAL_GEO "\"rules\":[{\"clause\":\"c1\",\"kind\":\"teleport\","
                                         "\"text\":\"x\"}]}",
                "/rules/0: unknown rule kind \"teleport\"");
    check_error(MINIMAL_HEAD MINIMAL_GEO
                "\"rules\":[{\"clause\":\"c1\",\"kind\":\"fire_prohibited\",\"text\":\"x\"},"
                "{\"clause\":\"c1\",\"kind\":\"fire_prohibited\",\"text\":\"y\"}]}",
                "/rules/1: duplicate clause id \"c1\"");
    check_error(MINIMAL_HEAD MINIMAL_GEO
                "\"rules\":[{\"clause\":\"c1\",\"kind\":\"weapon_withdrawal\",\"text\":\"x\","
                "\"weapon_class\":\"nukes\",\"distance_km\":5}]}",
                "/rules/0: unknown weapon class \"nukes\"");
    check_error(MINIMAL_HEAD MINIMAL_GEO
                "\"rules\":[{\"clause\":\"c1\",\"kind\":\"armed_presence\",\"text\":\"x\","
                "\"zones\":[\"nowhere\"]}]}",
                "/rules/0: unknown zone \"nowhere\"");
    check_error("{\"format\":\"truce-agreement/1\",\"id\":\"t\",\"version\":1,\"title\":\"T\","
                "\"time_zone\":\"Europe/Atlantis\"}",
                "/time_zone: unknown time zone \"Europe/Atlantis\"");
    check_error(MINIMAL_HEAD
                "\"geography\":{\"regions\":[{\"id\":\"r\",\"name\":\"R\",\"geometry\":{\"type\":"
                "\"Polygon\",\"coordinates\":[[[37,47],[39,47],[39,95],[37,47]]]}}],\"lines\":[]},"
                "\"rules\":[]}",
                "/geography/regions/0/geometry/coordinates/0/2: position [39, 95] is not on Earth");
    check_error(MINIMAL_HEAD
                "\"geography\":{\"regions\":[{\"id\":\"r\",\"name\":\"R\",\"geometry\":{\"type\":"
                "\"Polygon\",\"coordinates\":[[[37,47],[39,47],[39,49],[37,48]]]}}],\"lines\":[]},"
                "\"rules\":[]}",
                "/geography/regions/0/geometry/coordinates/0: polygon ring is not closed");
    check_error(MINIMAL_HEAD
                "\"geography\":{\"regions\":[{\"id\":\"r\",\"name\":\"R\",\"file\":"
                "\"../../data/geo/missing.geojson\"}],\"lines\":[]},\"rules\":[]}",
                "/geography/regions/0/file:");
    check_error(MINIMAL_HEAD
                "\"geography\":{\"regions\":[],\"lines\":[{\"id\":\"l\",\"name\":\"L\",\"file\":"
                "\"../../data/geo/contact-line-2015.geojson\",\"right_party\":\"zz\"}]},"
                "\"rules\":[]}",
                "/geography/lines/0: unknown party \"zz\"");
    check_error(MINIMAL_HEAD
                "\"geography\":{\"regions\":[],\"lines\":[]},\"zones\":[{\"id\":\"z\",\"name\":"
                "\"Z\",\"kind\":\"dmz\",\"include\":[{\"file\":"
                "\"../../data/geo/disengagement-areas.geojson\"}]}],\"rules\":[]}",
                "the FeatureCollection has 3 features");
}

static void test_dmz_zone_excludes_the_ngca(void)
{
    struct errbuf e;
    struct agreement *a = NULL;
    CHECK_INT(agr_load_file("examples/donetsk-dmz/agreement.json", &a, &e), 0);
    if (!a)
        return;
    CHECK(a->illustrative);
    int z = agr_zone_index(a, "dmz");
    CHECK(z >= 0);
    struct geo_point kramatorsk = {37.556, 48.739}, donetsk = {37.803, 48.016},
                     luhansk = {39.307, 48.574};
    CHECK(agr_zone_contains(&a->zones[z], kramatorsk));
    CHECK(!agr_zone_contains(&a->zones[z], donetsk));
    CHECK(!agr_zone_contains(&a->zones[z], luhansk));
    agr_free(a);
}

int main(void)
{
    static const struct t_case tests[] = {
        T(test_minsk_loads_with_real_terms),
        T(test_resolved_json_is_self_contained),
        T(test_weapon_classes_match_models_then_categories),
        T(test_gazetteer_finds_alternative_spellings),
        T(test_place_grid_matches_the_full_scan),
        T(test_control_and_regions_on_real_towns),
        T(test_report_window_is_the_day_to_the_cutoff),
        T(test_minimal_agreement_loads),
        T(test_errors_point_at_the_offending_value),
        T(test_dmz_zone_excludes_the_ngca),
    };
    int rc = T_RUN(tests);
    agr_free(minsk());
    return rc;
}
