/* RFC 3339 formatting and strict parsing, without the process time zone. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/rfc3339.h"
#include "icms/util.h"

struct known {
    int64_t ms;
    const char *text;
};

static const struct known known_values[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {-1, "1969-12-31T23:59:59.999Z"},
    {1795692037123LL, "2026-11-26T11:20:37.123Z"},
    {951782400000LL, "2000-02-29T00:00:00.000Z"},
    {1709251199999LL, "2024-02-29T23:59:59.999Z"},
    {-2203891200000LL, "1900-03-01T00:00:00.000Z"},
    {-14182940000LL, "1969-07-20T20:17:40.000Z"},
    {ICMS_TIME_MIN_MS, "0001-01-01T00:00:00.000Z"},
    {ICMS_TIME_MAX_MS, "9999-12-31T23:59:59.999Z"},
};

static void test_format_known_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < ICMS__ARRAY_LEN(known_values); i++) {
        char text[ICMS_TIME_STRING_SIZE];
        assert_icms_ok(icms_time_format(known_values[i].ms, text, sizeof text));
        assert_string_equal(text, known_values[i].text);
        int64_t ms = 0;
        assert_icms_ok(icms_time_parse(known_values[i].text, &ms));
        assert_int_equal(ms, known_values[i].ms);
    }
}

static void test_format_errors(void **state)
{
    (void)state;
    char text[ICMS_TIME_STRING_SIZE];
    assert_int_equal(icms_time_format(ICMS_TIME_MAX_MS + 1, text, sizeof text), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message,
                        "time 253402300800000 ms is outside "
                        "0001-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z");
    assert_int_equal(icms_time_format(ICMS_TIME_MIN_MS - 1, text, sizeof text), ICMS_EINVALID);
    assert_int_equal(icms_time_format(INT64_MIN, text, sizeof text), ICMS_EINVALID);
    assert_int_equal(icms_time_format(0, text, sizeof text - 1), ICMS_EBUFS);
    assert_int_equal(icms_time_format(0, NULL, 100), ICMS_EINVALID);
}

/* Every day from 1969 to 2101 formats and parses back, and the date advances by one. */
static void test_round_trip_every_day(void **state)
{
    (void)state;
    const int64_t day = 86400000;
    char prev[ICMS_TIME_STRING_SIZE] = "";
    for (int64_t ms = -365 * day + 12345; ms < 48000 * day; ms += day) {
        char text[ICMS_TIME_STRING_SIZE];
        assert_icms_ok(icms_time_format(ms, text, sizeof text));
        int64_t back;
        assert_icms_ok(icms_time_parse(text, &back));
        assert_int_equal(back, ms);
        assert_true(strcmp(prev, text) < 0); /* the text sorts as the time does */
        strcpy(prev, text);
    }
}

/* The arithmetic agrees with the C library's UTC conversion (gmtime_r reads no time zone). */
static void test_agrees_with_gmtime(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 20000; i++) {
        int64_t ms = ((int64_t)rand() << 31 ^ rand()) % (ICMS_TIME_MAX_MS - ICMS_TIME_MIN_MS) +
                     ICMS_TIME_MIN_MS;
        char text[ICMS_TIME_STRING_SIZE];
        assert_icms_ok(icms_time_format(ms, text, sizeof text));
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        char expect[40];
        snprintf(expect, sizeof expect, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_memory_equal(text, expect, 19);
    }
}

struct parsed {
    const char *text;
    int64_t ms;
};

static void test_parse_accepts(void **state)
{
    (void)state;
    static const struct parsed cases[] = {
        {"2026-11-26T11:20:37Z", 1795692037000LL},
        {"2026-11-26T11:20:37.1Z", 1795692037100LL},
        {"2026-11-26T11:20:37.12Z", 1795692037120LL},
        {"2026-11-26T11:20:37.123456789Z", 1795692037123LL}, /* truncated, not rounded */
        {"2026-11-26T11:20:37.999999999Z", 1795692037999LL},
        {"2026-11-26T12:20:37.123+01:00", 1795692037123LL},
        {"2026-11-26T05:50:37.123-05:30", 1795692037123LL},
        {"2026-11-26T11:20:37.123-00:00", 1795692037123LL},
        {"2026-11-26t11:20:37.123z", 1795692037123LL}, /* RFC 3339 5.6 allows lowercase */
        {"2026-11-27T00:20:37.123+13:00", 1795692037123LL},
        {"1970-01-01T00:59:59+01:00", -1000},
        {"2000-02-29T00:00:00Z", 951782400000LL},
        {"1600-02-29T00:00:00Z", -11670998400000LL},
        {"0001-01-01T01:00:00+01:00", ICMS_TIME_MIN_MS},
        {"9999-12-31T22:59:59.999-01:00", ICMS_TIME_MAX_MS},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++) {
        int64_t ms = 0;
        int rc = icms_time_parse(cases[i].text, &ms);
        if (rc)
            fail_msg("%s: %s", cases[i].text, icms_error_last()->message);
        if (ms != cases[i].ms)
            fail_msg("%s: got %lld, expected %lld", cases[i].text, (long long)ms,
                     (long long)cases[i].ms);
    }
}

struct refused {
    const char *text;
    const char *why;
};

static void test_parse_refuses(void **state)
{
    (void)state;
    static const struct refused cases[] = {
        {"", "expected a date YYYY-MM-DD at the start"},
        {"2026-11-26", "expected 'T' between the date and the time"},
        {"2026-11-26 11:20:37Z", "expected 'T' between the date and the time"},
        {"26-11-26T11:20:37Z", "expected a date YYYY-MM-DD at the start"},
        {"+2026-11-26T11:20:37Z", "expected a date YYYY-MM-DD at the start"},
        {"2026-1-26T11:20:37Z", "expected a date YYYY-MM-DD at the start"},
        {"2026-11-26T11:20Z", "expected a time HH:MM:SS after 'T'"},
        {"2026-11-26T11:20:37", "expected 'Z' or an offset like +01:00 after the time"},
        {"2026-11-26T11:20:37.Z", "expected digits after '.'"},
        {"2026-11-26T11:20:37.1234567890Z", "the fraction of a second has more than 9 digits"},
        {"2026-11-26T11:20:37+0100", "expected an offset +hh:mm or -hh:mm"},
        {"2026-11-26T11:20:37+01", "expected an offset +hh:mm or -hh:mm"},
        {"2026-11-26T11:20:37+24:00", "offset hour 24 is out of range"},
        {"2026-11-26T11:20:37+01:60", "offset minute 60 is out of range"},
        {"2026-11-26T11:20:37ZZ", "unexpected characters after the time zone"},
        {"2026-11-26T11:20:37Z ", "unexpected characters after the time zone"},
        {"0000-01-01T00:00:00Z", "year 0000 is out of range (0001-9999)"},
        {"2026-00-26T11:20:37Z", "month 00 is out of range"},
        {"2026-13-26T11:20:37Z", "month 13 is out of range"},
        {"2026-02-30T11:20:37Z", "day 30 does not exist in 2026-02"},
        {"2023-02-29T11:20:37Z", "day 29 does not exist in 2023-02"},
        {"1900-02-29T11:20:37Z", "day 29 does not exist in 1900-02"},
        {"2026-04-31T11:20:37Z", "day 31 does not exist in 2026-04"},
        {"2026-04-00T11:20:37Z", "day 00 does not exist in 2026-04"},
        {"2026-11-26T24:00:00Z", "hour 24 is out of range"},
        {"2026-11-26T11:60:37Z", "minute 60 is out of range"},
        {"2016-12-31T23:59:60Z", "leap seconds (second 60) are not supported"},
        {"2026-11-26T11:20:61Z", "second 61 is out of range"},
        {"0001-01-01T00:00:00+00:01", "the instant falls outside the years 0001-9999 in UTC"},
        {"9999-12-31T23:59:59.999-00:01", "the instant falls outside the years 0001-9999 in UTC"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++) {
        int64_t ms = 42;
        int rc = icms_time_parse(cases[i].text, &ms);
        if (rc != ICMS_EINVALID)
            fail_msg("\"%s\" returned %d", cases[i].text, rc);
        char expect[200];
        snprintf(expect, sizeof expect, "invalid RFC 3339 timestamp: %s", cases[i].why);
        assert_string_equal(icms_error_last()->message, expect);
        assert_int_equal(ms, 42); /* nothing written on failure */
    }
}

static void test_parse_is_length_bounded(void **state)
{
    (void)state;
    /* The internal parser reads only len bytes: no NUL needed, trailing bytes ignored. */
    const char text[] = "2026-11-26T11:20:37.123Zgarbage";
    int64_t ms;
    assert_icms_ok(icms__time_parse(text, 24, &ms));
    assert_int_equal(ms, 1795692037123LL);
    assert_int_equal(icms__time_parse(text, 23, &ms), ICMS_EINVALID);
    assert_int_equal(icms__time_parse(text, 0, &ms), ICMS_EINVALID);
    assert_int_equal(icms_time_parse(NULL, &ms), ICMS_EINVALID);
    assert_int_equal(icms_time_parse("2026-11-26T11:20:37Z", NULL), ICMS_EINVALID);
}

/* The process time zone must not matter. */
static void test_time_zone_is_ignored(void **state)
{
    (void)state;
    setenv("TZ", "Pacific/Kiritimati", 1);
    tzset();
    char text[ICMS_TIME_STRING_SIZE];
    assert_icms_ok(icms_time_format(0, text, sizeof text));
    assert_string_equal(text, "1970-01-01T00:00:00.000Z");
    int64_t ms;
    assert_icms_ok(icms_time_parse("1970-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, 0);
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known_values),     cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_round_trip_every_day),    cmocka_unit_test(test_agrees_with_gmtime),
        cmocka_unit_test(test_parse_accepts),           cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_parse_is_length_bounded), cmocka_unit_test(test_time_zone_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
