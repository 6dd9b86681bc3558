/* test_util.c: time parsing and formatting with real time zones, buffers and error text. */
#include "t.h"
#include <stdlib.h>

#include "util/util.h"

static void test_time_parse_offsets_and_zulu(void)
{
    int64_t t;
    struct errbuf e;
    CHECK_INT(time_parse("2016-09-10T18:00:00+03:00", NULL, &t, &e), 0);
    CHECK_INT(t, 1473519600000LL);
    CHECK_INT(time_parse("2016-09-10T15:00:00Z", NULL, &t, &e), 0);
    CHECK_INT(t, 1473519600000LL);
    CHECK_INT(time_parse("2016-09-10T15:00:00.250Z", NULL, &t, &e), 0);
    CHECK_INT(t, 1473519600250LL);
    CHECK_INT(time_parse("2016-09-10T15:00Z", NULL, &t, &e), 0);
    CHECK_INT(t, 1473519600000LL);
}

static void test_time_parse_local_in_kyiv_summer_and_winter(void)
{
    int64_t t;
    struct errbuf e;
    /* EEST (+03:00) in September, EET (+02:00) in February. */
    CHECK_INT(time_parse("2016-09-10T18:00:00", "Europe/Kyiv", &t, &e), 0);
    CHECK_INT(t, 1473519600000LL);
    CHECK_INT(time_parse("2015-02-15T00:00:00", "Europe/Kyiv", &t, &e), 0);
    CHECK_INT(t, 1423951200000LL);
    CHECK_INT(time_parse("2015-02-15", "Europe/Kyiv", &t, &e), 0);
    CHECK_INT(t, 1423951200000LL);
}

static void test_time_parse_errors_name_the_problem(void)
{
    int64_t t;
    struct errbuf e;
    CHECK_INT(time_parse("2016-09-10 18:00", NULL, &t, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "has no UTC offset and no time zone");
    CHECK_INT(time_parse("2016-09-10T18:00:00", "Mars/Olympus", &t, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "unknown time zone \"Mars/Olympus\"");
    CHECK_INT(time_parse("2016-02-30T10:00:00Z", NULL, &t, &e), ERR_INVAL);
    CHECK_CONTAINS(e.msg, "out of range");
    CHECK_INT(time_parse("yesterday", NULL, &t, &e), ERR_PARSE);
    CHECK_INT(time_parse("2016-09-10T18:00:00+3", NULL, &t, &e), ERR_PARSE);
    CHECK_INT(time_parse("2016-09-10T18:00:00Zjunk", NULL, &t, &e), ERR_PARSE);
}

static void test_time_zone_validation_refuses_paths(void)
{
    CHECK(time_zone_valid("Europe/Kyiv"));
    CHECK(time_zone_valid("UTC"));
    CHECK(!time_zone_valid("../../etc/passwd"));
    CHECK(!time_zone_valid("/etc/localtime"));
    CHECK(!time_zone_valid(""));
    CHECK(!time_zone_valid("Europe/Nowhere"));
}

static void test_time_format_round_trip(void)
{
    char buf[40];
    time_format_utc(1473519600000LL, buf, sizeof buf);
    CHECK_STR(buf, "2016-09-10T15:00:00Z");
    time_format_local(1473519600000LL, "Europe/Kyiv", buf, sizeof buf);
    CHECK_STR(buf, "2016-09-10T18:00:00+03:00");
    time_format_local(1423951200000LL, "Europe/Kyiv", buf, sizeof buf);
    CHECK_STR(buf, "2015-02-15T00:00:00+02:00");
}

static void test_format_local_at_the_dst_change(void)
{
    char buf[40];
    /* Kyiv left summer time at 01:00 UTC on 2016-10-30: a second before and at the change,
     * in both orders so the offset cache is exercised both ways. */
    int64_t before = 1477789199000LL, at = 1477789200000LL;
    time_format_local(before, "Europe/Kyiv", buf, sizeof buf);
    CHECK_STR(buf, "2016-10-30T03:59:59+03:00");
    time_format_local(at, "Europe/Kyiv", buf, sizeof buf);
    CHECK_STR(buf, "2016-10-30T03:00:00+02:00");
    time_format_local(before, "Europe/Kyiv", buf, sizeof buf);
    CHECK_STR(buf, "2016-10-30T03:59:59+03:00");
    time_format_local(at, "UTC", buf, sizeof buf);
    CHECK_STR(buf, "2016-10-30T01:00:00+00:00");
    time_format_local(-1000, "UTC", buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31T23:59:59+00:00");
}

static void test_repeated_hour_is_read_the_same_way_every_time(void)
{
    /* 03:30 on 2016-10-30 happened twice in Kyiv (00:30Z in summer time, 01:30Z after); the
     * earlier is taken whatever was parsed before. */
    int64_t t, winter;
    struct errbuf e;
    CHECK_INT(time_parse("2016-12-01T12:00:00", "Europe/Kyiv", &winter, &e), 0);
    CHECK_INT(time_parse("2016-10-30T03:30:00", "Europe/Kyiv", &t, &e), 0);
    CHECK_INT(t, 1477787400000LL);
    CHECK_INT(time_parse("2016-07-01T12:00:00", "Europe/Kyiv", &winter, &e), 0);
    CHECK_INT(time_parse("2016-10-30T03:30:00", "Europe/Kyiv", &t, &e), 0);
    CHECK_INT(t, 1477787400000LL);
}

static void test_local_to_utc_across_dst(void)
{
    int64_t a, b;
    /* 2016-10-30 is the autumn change in Kyiv: 19:30 on the 29th is +03, on the 30th +02, so
     * the day between the two cut-offs is 25 hours long. */
    CHECK_INT(time_local_to_utc(2016, 10, 29, 19, 30, "Europe/Kyiv", &a), 0);
    CHECK_INT(time_local_to_utc(2016, 10, 30, 19, 30, "Europe/Kyiv", &b), 0);
    CHECK_INT(b - a, 25LL * 3600 * 1000);
    CHECK_INT(time_local_to_utc(2016, 2, 30, 19, 30, "Europe/Kyiv", &a), ERR_INVAL);
}

static void test_buf_json_escapes(void)
{
    struct buf b;
    buf_init(&b);
    CHECK_INT(buf_json_str(&b, "a\"b\\c\n\x01"), 0);
    CHECK_STR(b.p, "\"a\\\"b\\\\c\\n\\u0001\"");
    buf_reset(&b);
}

static void test_str_numbers_are_strict(void)
{
    double d;
    long long n;
    CHECK_INT(str_to_double("12.5", &d), 0);
    CHECK_NEAR(d, 12.5, 0);
    CHECK_INT(str_to_double("12.5km", &d), -1);
    CHECK_INT(str_to_double("", &d), -1);
    CHECK_INT(str_to_ll(" 5", &n), -1);
    CHECK_INT(str_to_ll("99999999999999999999", &n), -1);
    CHECK_INT(str_to_ll("-7", &n), 0);
    CHECK_INT(n, -7);
}

static void test_file_read_enforces_limit(void)
{
    char *p;
    size_t n;
    struct errbuf e;
    CHECK_INT(file_read("data/geo/ukraine.geojson", 1000, &p, &n, &e), ERR_TOOBIG);
    CHECK_CONTAINS(e.msg, "larger than the limit of 1000 bytes");
    CHECK_INT(file_read("data/geo/contact-line-2015.geojson", LIMIT_FILE_BYTES, &p, &n, &e), 0);
    CHECK_INT(n, 9327);
    free(p);
    CHECK_INT(file_read("no/such/file", 10, &p, &n, &e), ERR_IO);
    CHECK_CONTAINS(e.msg, "no/such/file: cannot open");
}

int main(void)
{
    static const struct t_case tests[] = {
        T(test_time_parse_offsets_and_zulu),
        T(test_time_parse_local_in_kyiv_summer_and_winter),
        T(test_time_parse_errors_name_the_problem),
        T(test_time_zone_validation_refuses_paths),
        T(test_time_format_round_trip),
        T(test_format_local_at_the_dst_change),
        T(test_repeated_hour_is_read_the_same_way_every_time),
        T(test_local_to_utc_across_dst),
        T(test_buf_json_escapes),
        T(test_str_numbers_are_strict),
        T(test_file_read_enforces_limit),
    };
    return T_RUN(tests);
}
