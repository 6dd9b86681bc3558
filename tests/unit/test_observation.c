/* test_observation.c: the observation schema on records written the way the SMM wrote them,
 * and every class of bad input with its exact error (malformed JSON, missing fields, impossible
 * coordinates, bearings out of range, unknown places, bad time zones, oversized input), plus the
 * NDJSON, JSON and CSV framing. */
#include <stdlib.h>

#include "agreement/agreement.h"
#include "observation/observation.h"
#include "t.h"

static struct agreement *ag;
static struct obs o;

static int parse(const char *text, struct errbuf *e)
{
    return obs_parse_json(text, strlen(text), ag, ag->time_zone, &o, e);
}

#define FEATURE(props) "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{" props "}}"
#define FIRE_BASE                                                                               \
    "\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00+03:00\",\"means\":\"patrol\","          \
    "\"observer\":{\"place\":\"Svitlodarsk\"},"

static void test_smm_sentence_parses(void)
{
    struct errbuf e;
    int rc = parse(FEATURE(FIRE_BASE "\"client_id\":\"x1\",\"bearings\":[\"SE\",\"south-south-east\"],"
                                     "\"distance_km\":[3,5],\"events\":[{\"type\":"
                                     "\"undetermined_explosion\",\"count\":15},{\"type\":\"burst\","
                                     "\"count\":\"about 20\"}]"),
                   &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    CHECK_STR(o.client_id, "x1");
    CHECK_INT(o.kind, OBS_FIRE);
    CHECK_INT(o.t_start_ms, 1476090000000LL);
    CHECK(o.has_observer);
    CHECK_NEAR(o.observer.lat_deg, 48.43, 0.02);
    CHECK_INT(o.n_bearings, 2);
    CHECK_NEAR(o.bearing_deg[0], 135, 1e-9);
    CHECK_NEAR(o.bearing_deg[1], 157.5, 1e-9);
    CHECK_NEAR(o.bearing_half_width_deg[0], 11.25, 1e-9);
    CHECK_NEAR(o.dist_min_m, 3000, 0);
    CHECK_NEAR(o.dist_max_m, 5000, 0);
    CHECK_INT(o.n_events, 2);
    CHECK_INT(o.events[0].count, 15);
    CHECK_INT(o.events[1].count, 20);
    CHECK_INT(o.events[1].qualifier, OBS_Q_ABOUT);
}

static void test_local_time_uses_tz_then_agreement_zone(void)
{
    struct errbuf e;
    CHECK_INT(parse(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00\",\"means\":\"patrol\","
                            "\"observer\":{\"place\":\"Avdiivka\"},\"event_type\":\"shot\","
                            "\"count\":1"),
                    &e),
              0);
    CHECK_INT(o.t_start_ms, 1476090000000LL); /* Kyiv, +03:00 */
    CHECK_INT(parse(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00\",\"tz\":\"UTC\","
                            "\"means\":\"patrol\",\"observer\":{\"place\":\"Avdiivka\"},"
                            "\"event_type\":\"shot\",\"count\":1"),
                    &e),
              0);
    CHECK_INT(o.t_start_ms, 1476100800000LL);
}

static void test_feature_id_is_the_client_id(void)
{
    struct errbuf e;
    CHECK_INT(parse("{\"type\":\"Feature\",\"id\":42,\"geometry\":{\"type\":\"Point\","
                    "\"coordinates\":[37.75,47.65]},\"properties\":{\"kind\":\"presence\","
                    "\"time\":\"2016-10-10T18:00:00Z\",\"means\":\"uav\",\"armed\":true,"
                    "\"accuracy_m\":100}}",
                    &e),
              0);
    CHECK_STR(o.client_id, "42");
    CHECK(o.has_location);
    CHECK_NEAR(o.accuracy_m, 100, 0);
}

static void check_rejects(const char *text, const char *want)
{
    struct errbuf e;
    e.msg[0] = 0;
    int rc = parse(text, &e);
    CHECK(rc != 0);
    CHECK_STR(e.msg, want);
}

static void test_bad_input_exact_errors(void)
{
    check_rejects("{\"type\":\"Feature\",", "record: malformed JSON at column 18: string or '}' expected near end of file");
    check_rejects("[1]", "record: must be a GeoJSON Feature object");
    check_rejects("{\"type\":\"Point\"}", "type: must be \"Feature\" (an observation is a GeoJSON Feature)");
    check_rejects(FEATURE("\"time\":\"2016-10-10T12:00:00Z\""),
                  "kind: missing (fire, detection, sighting, presence, uav_flight, allegation)");
    check_rejects(FEATURE("\"kind\":\"rumour\""),
                  "kind: unknown kind \"rumour\" (fire, detection, sighting, presence, uav_flight, allegation)");
    check_rejects(FEATURE("\"kind\":\"fire\",\"means\":\"patrol\""),
                  "time: missing (an RFC 3339 time or {\"start\", \"end\"})");
    check_rejects(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00\",\"tz\":\"Europe/Donetsk\","
                          "\"means\":\"patrol\""),
                  "tz: unknown time zone \"Europe/Donetsk\" (use an IANA name such as Europe/Kyiv)");
    check_rejects(FEATURE("\"kind\":\"fire\",\"time\":{\"start\":\"2016-10-10T12:00:00Z\",\"end\":"
                          "\"2016-10-10T11:00:00Z\"},\"means\":\"patrol\""),
                  "time: end is before start");
    check_rejects(FEATURE(FIRE_BASE "\"bearings\":[400],\"event_type\":\"shot\",\"count\":1"),
                  "bearings[0]: 400 is not a bearing in degrees (0 to 360)");
    check_rejects(FEATURE(FIRE_BASE "\"bearings\":[\"NXE\"],\"event_type\":\"shot\",\"count\":1"),
                  "bearings[0]: \"NXE\" is not a compass direction (N, NNE, north-north-east, ...)");
    check_rejects(FEATURE(FIRE_BASE "\"distance_km\":[7,2],\"event_type\":\"shot\",\"count\":1"),
                  "distance_km: [7, 2] is not a range from 0 to 100 km with min <= max");
    check_rejects(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00Z\",\"means\":\"patrol\","
                          "\"observer\":{\"place\":\"Atlantis\"},\"event_type\":\"shot\",\"count\":1"),
                  "observer.place: \"Atlantis\" is not in the gazetteer (check the spelling or give \"coordinates\")");
    check_rejects(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00Z\",\"means\":\"patrol\","
                          "\"observer\":{\"coordinates\":[37.8,148.1]},\"event_type\":\"shot\",\"count\":1"),
                  "observer.coordinates: [37.8, 148.1] is not a position on Earth (longitude -180..180, "
                  "latitude -90..90; GeoJSON puts longitude first)");
    check_rejects(FEATURE(FIRE_BASE "\"events\":[{\"type\":\"explosion\",\"count\":3}]"),
                  "events[0].type: unknown event type \"explosion\" (undetermined_explosion, impact, "
                  "airburst, outgoing, projectile_in_flight, illumination_flare, muzzle_flash, burst, shot)");
    check_rejects(FEATURE(FIRE_BASE "\"events\":[{\"type\":\"impact\",\"count\":\"many\"}]"),
                  "events[0].count: \"many\" is not a count (a number, \"about N\", \"at least N\" or \"uncountable\")");
    check_rejects(FEATURE(FIRE_BASE "\"events\":[{\"type\":\"impact\"}]"),
                  "events[0].count: missing (a number, \"about N\", \"at least N\" or \"uncountable\")");
    check_rejects(FEATURE(FIRE_BASE "\"bearing\":\"N\""),
                  "bearing: unknown property (see docs/observation-format.md; extensions start with x_)");
    check_rejects(FEATURE("\"kind\":\"sighting\",\"time\":\"2016-10-10T12:00:00Z\",\"means\":\"uav\","
                          "\"count\":2,\"weapon\":\"tank\""),
                  "geometry: a sighting needs the weapons' location, or an observer with bearings");
    check_rejects(FEATURE("\"kind\":\"allegation\",\"time\":\"2016-10-10T12:00:00Z\",\"party\":\"ua\","
                          "\"against\":\"nato\",\"observer\":{\"place\":\"Avdiivka\"}"),
                  "against: unknown party \"nato\" (ua, af or unknown)");
    check_rejects(FEATURE("\"kind\":\"presence\",\"time\":\"2016-10-10T12:00:00Z\",\"means\":\"uav\","
                          "\"observer\":{\"place\":\"Avdiivka\"},\"bearings\":[\"N\"],\"distance_km\":1"),
                  "armed: say whether the people or vehicles were armed (true or false)");
}

static void test_swapped_coordinates_are_caught_when_impossible(void)
{
    /* [48.1, 37.8] is a valid position (in Iran), so it is accepted; placement then finds it
     * outside every region. Only impossible positions are refused here. */
    struct errbuf e;
    CHECK_INT(parse(FEATURE("\"kind\":\"fire\",\"time\":\"2016-10-10T12:00:00Z\",\"means\":\"patrol\","
                            "\"observer\":{\"coordinates\":[48.1,37.8]},\"event_type\":\"shot\","
                            "\"count\":1"),
                    &e),
              0);
}

static void test_oversized_record_is_refused(void)
{
    size_t n = LIMIT_RECORD_BYTES + 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = 0;
    struct errbuf e;
    CHECK_INT(obs_parse_json(big, n, ag, ag->time_zone, &o, &e), ERR_TOOBIG);
    CHECK_STR(e.msg, "record: larger than 1048576 bytes");
    free(big);
}

static void test_format_detection(void)
{
    CHECK_INT(obs_detect_format("{\"a\":1}\n{\"a\":2}\n", 16), OBS_FMT_NDJSON);
    CHECK_INT(obs_detect_format("[{\"a\":1}]", 9), OBS_FMT_JSON);
    CHECK_INT(obs_detect_format("{\n \"type\": \"FeatureCollection\"}", 31), OBS_FMT_JSON);
    CHECK_INT(obs_detect_format("kind,time_start\nfire,x\n", 23), OBS_FMT_CSV);
}

/* Reads every record of text in the given format, returning the count of framed records and
 * the last error. */
static int read_all(const char *text, enum obs_format fmt, int *n_ok, int *n_bad, char *last_err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct obs_reader *r;
    struct errbuf e;
    int rc = obs_reader_open(f, fmt, "test", &r, &e);
    *n_ok = *n_bad = 0;
    if (rc) {
        strcpy(last_err, e.msg);
        fclose(f);
        return rc;
    }
    const char *t;
    size_t len;
    bool fatal;
    int got;
    while ((got = obs_reader_next(r, &t, &len, &fatal, &e)) != 0) {
        if (got < 0) {
            (*n_bad)++;
            strcpy(last_err, e.msg);
            if (fatal)
                break;
            continue;
        }
        struct errbuf pe;
        if (obs_parse_json(t, len, ag, ag->time_zone, &o, &pe) == 0)
            (*n_ok)++;
        else {
            (*n_bad)++;
            strcpy(last_err, pe.msg);
        }
    }
    obs_reader_free(r);
    fclose(f);
    return 0;
}

static void test_csv_rows_become_observations(void)
{
    const char *csv =
        "client_id,kind,time_start,time_end,means,observer_place,bearings,distance_min_km,"
        "distance_max_km,event_type,count,qualifier,remarks\n"
        "c1,fire,2016-10-10T08:00:00+03:00,2016-10-10T16:00:00+03:00,patrol,Svitlodarsk,SE;SSE,3,5,"
        "undetermined_explosion,15,,\"15 explosions, heard \"\"3-5 km SE\"\"\"\n"
        "c2,fire,2016-10-10T08:00:00+03:00,,patrol,Avdiivka,E,1,2,burst,uncountable,,\n"
        "c3,fire,2016-10-10T08:00:00+03:00,,patrol,Avdiivka,E,1,2,burst\n";
    int ok, bad;
    char err[1024] = "";
    CHECK_INT(read_all(csv, OBS_FMT_CSV, &ok, &bad, err), 0);
    CHECK_INT(ok, 2);
    CHECK_INT(bad, 1);
    CHECK_STR(err, "row has 10 fields, the header has 13");
}

static void test_csv_header_errors(void)
{
    int ok, bad;
    char err[1024] = "";
    CHECK_INT(read_all("kind,colour\nfire,red\n", OBS_FMT_CSV, &ok, &bad, err), ERR_INVAL);
    CHECK_STR(err, "test: line 1: unknown CSV column \"colour\" (see docs/observation-format.md)");
    CHECK_INT(read_all("client_id,time_start\n", OBS_FMT_CSV, &ok, &bad, err), ERR_INVAL);
    CHECK_STR(err, "test: line 1: the CSV header needs a \"kind\" column");
}

static void test_ndjson_keeps_going_after_a_bad_line(void)
{
    const char *nd = FEATURE(FIRE_BASE "\"event_type\":\"shot\",\"count\":1") "\n"
                                                                              "{broken\n\n" FEATURE(
                                                                                  FIRE_BASE "\"event_type\":\"shot\",\"count\":2") "\n";
    int ok, bad;
    char err[1024] = "";
    CHECK_INT(read_all(nd, OBS_FMT_AUTO, &ok, &bad, err), 0);
    CHECK_INT(ok, 2);
    CHECK_INT(bad, 1);
    CHECK_CONTAINS(err, "record: malformed JSON");
}

static void test_feature_collection_is_read_element_by_element(void)
{
    const char *fc = "{\"type\":\"FeatureCollection\",\n\"features\":[" FEATURE(
        FIRE_BASE "\"event_type\":\"shot\",\"count\":1") "," FEATURE("\"kind\":\"fire\"") "]}";
    int ok, bad;
    char err[1024] = "";
    CHECK_INT(read_all(fc, OBS_FMT_AUTO, &ok, &bad, err), 0);
    CHECK_INT(ok, 1);
    CHECK_INT(bad, 1);
}

static void test_every_shipped_sample_parses(void)
{
    const char *files[] = {"examples/minsk-2015/observations.ndjson",
                           "examples/donetsk-dmz/observations.ndjson"};
    for (size_t i = 0; i < 2; i++) {
        char *text;
        size_t len;
        struct errbuf e;
        CHECK_INT(file_read(files[i], LIMIT_FILE_BYTES, &text, &len, &e), 0);
        int ok, bad;
        char err[1024] = "";
        struct agreement *keep = ag;
        if (i == 1 && agr_load_file("examples/donetsk-dmz/agreement.json", &ag, &e))
            ag = keep;
        CHECK_INT(read_all(text, OBS_FMT_NDJSON, &ok, &bad, err), 0);
        CHECK_INT(bad, 0);
        CHECK_INT(ok, i == 0 ? 25 : 10);
        if (ag != keep) {
            agr_free(ag);
            ag = keep;
        }
        free(text);
    }
}

int main(void)
{
    struct errbuf e;
    if (agr_load_file("examples/minsk-2015/agreement.json", &ag, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    static const struct t_case tests[] = {
        T(test_smm_sentence_parses),
        T(test_local_time_uses_tz_then_agreement_zone),
        T(test_feature_id_is_the_client_id),
        T(test_bad_input_exact_errors),
        T(test_swapped_coordinates_are_caught_when_impossible),
        T(test_oversized_record_is_refused),
        T(test_format_detection),
        T(test_csv_rows_become_observations),
        T(test_csv_header_errors),
        T(test_ndjson_keeps_going_after_a_bad_line),
        T(test_feature_collection_is_read_element_by_element),
        T(test_every_shipped_sample_parses),
    };
    int rc = T_RUN(tests);
    agr_free(ag);
    return rc;
}
